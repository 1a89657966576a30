"""TDSM: zero-shot skeleton action recognition by text-conditioned one-step diffusion (Do et al., ICCV 2025).

The denoiser follows the official code (KAIST-VICLab/TDSM ``model/dit.py``, read in ../shared/research/methods.md
section 1.3) where the supplement's equations are silent or differ, and says so: the global-text embedder is
Linear -> SiLU -> Linear (Eq. 16 writes one Linear); the skeleton token gets no position embedding (Eq. 16's PE_x);
the modulation chunks are DiT's (shift, scale, gate) for attention and MLP of each stream.

Shapes: N clips, M_x skeleton tokens of C_x = ``feature_size`` channels, M_l text tokens of C_c =
``condition_size`` channels, D = ``hidden_size``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from transformers import initialization as init
from transformers.utils import ModelOutput
from transformers.utils.generic import can_return_tuple

from ...modeling_utils import SkeletonPreTrainedModel
from .configuration_tdsm import TDSMConfig

__all__ = [
    "TDSMForZeroShotSkeletonClassification",
    "TDSMModel",
    "TDSMPreTrainedModel",
    "alphas_cumprod",
    "encode_class_texts",
]


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

    def forward(self, x: torch.Tensor, text: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        skeleton, words = self.streams["skeleton"], self.streams["text"]
        mod_x, mod_l = skeleton.modulation(c).chunk(6, dim=-1), words.modulation(c).chunk(6, dim=-1)
        # (shift, scale, gate) for attention, then for the MLP (DiT's order)
        h = torch.cat([skeleton.attention_input(x, *mod_x[:2]), words.attention_input(text, *mod_l[:2])], dim=1)
        q, k, v = rearrange(h, "n l (three heads d) -> three n heads l d", three=3, heads=self.num_heads)
        attended = rearrange(F.scaled_dot_product_attention(q, k, v), "n heads l d -> n l (heads d)")  # Eq. 19
        out_x, out_l = attended.split([x.shape[1], text.shape[1]], dim=1)
        x = skeleton.update(x, out_x, mod_x)
        text = words.update(text, out_l, mod_l)
        return x, text


class CrossDiTStream(nn.Module):
    """The parameters of one stream of a `CrossDiTBlock`."""

    def __init__(self, dim: int, mlp_ratio: float):
        super().__init__()
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))  # adaLN (Eq. 17), zero-initialised
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

    def _reset_parameters(self):
        init.zeros_(self.modulation[1].weight)
        init.zeros_(self.modulation[1].bias)


class TDSMPreTrainedModel(SkeletonPreTrainedModel):
    config_class = TDSMConfig
    base_model_prefix = "tdsm"
    main_input_name = "features"
    _no_split_modules = ["CrossDiTBlock"]

    def _init_weights(self, module: nn.Module):
        super()._init_weights(module)
        if isinstance(module, nn.Linear):  # DiT: xavier-uniform weights, zero biases (parents' resets come later)
            init.xavier_uniform_(module.weight)
            if module.bias is not None:
                init.zeros_(module.bias)


@dataclass
class TDSMDenoiserOutput(ModelOutput):
    """
    Args:
        sample: (N, M_x, C_x) the predicted noise (``prediction_type="epsilon"``) or clean feature (``"sample"``).
    """

    sample: torch.Tensor | None = None


class TDSMModel(TDSMPreTrainedModel):
    """TDSM's diffusion transformer: (noisy feature, t, z_g, z_l) -> predicted noise (supplement D.2, Eq. 16)."""

    def __init__(self, config: TDSMConfig):
        super().__init__(config)
        d, cond = config.hidden_size, config.condition_size
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
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        sample: torch.Tensor,
        timesteps: torch.Tensor,
        text_global: torch.Tensor,
        text_local: torch.Tensor,
    ) -> TDSMDenoiserOutput:
        """
        Args:
            sample: (N, M_x, C_x) noisy skeleton features z_x,t.
            timesteps: (N,) diffusion steps t (integers or floats).
            text_global: (N, C_c) global text condition z_g.
            text_local: (N, M_l, C_c) local text tokens z_l.

        Returns:
            `TDSMDenoiserOutput` with ``sample`` (N, M_x, C_x).
        """
        x = self.feature_embed(sample)
        c = self.timestep_embed(timestep_features(timesteps, self.config.timestep_embedding_size).to(x.dtype))
        c = c + self.global_text_embed(text_global)  # f_c (Eq. 16)
        text = self.local_text_embed(text_local) + self.local_text_position
        for block in self.blocks:
            x, text = block(x, text, c)
        shift, scale = self.final_modulation(c).chunk(2, dim=-1)
        return TDSMDenoiserOutput(sample=self.final_projection(modulate(self.final_norm(x), shift, scale)))

    def _reset_parameters(self):
        init.normal_(self.local_text_position, 0.0, 0.02)
        for layer in (self.timestep_embed[0], self.timestep_embed[2]):
            init.normal_(layer.weight, 0.0, 0.02)
        for layer in (self.final_modulation[1], self.final_projection):  # adaLN-Zero: the output starts at zero
            init.zeros_(layer.weight)
            init.zeros_(layer.bias)


@dataclass
class TDSMOutput(ModelOutput):
    """
    Args:
        loss: lambda_diff * loss_diff + lambda_td * loss_td, when labels were given.
        logits: (N, num_labels) class scores: minus the summed prediction error of each candidate class over the
            fixed noises; -inf for classes that are not candidates.
        loss_diff: L_diff, the denoising MSE under the true class's text.
        loss_td: L_TD, the triplet diffusion loss against a random other seen class's text.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    loss_diff: torch.Tensor | None = None
    loss_td: torch.Tensor | None = None


class TDSMForZeroShotSkeletonClassification(TDSMPreTrainedModel):
    """TDSM for zero-shot classification of skeleton features: the denoiser, the classes' text conditions (a
    buffer saved with the checkpoint: `set_class_embeddings` / `encode_class_texts`) and the one-step scoring."""

    loss_input_names = ("labels",)

    def __init__(self, config: TDSMConfig):
        super().__init__(config)
        self.tdsm = TDSMModel(config)
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

    # -- diffusion -----------------------------------------------------------------------------------------------
    def add_noise(self, features: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """Forward diffusion: sqrt(a_t) z_x + sqrt(1 - a_t) eps, with a_t the cumulative alpha of each row's t."""
        a = self.alphas_cumprod.to(features.device)[timesteps.long()].to(features.dtype).view(-1, 1, 1)
        return a.sqrt() * features + (1 - a).sqrt() * noise

    def denoise(self, noisy: torch.Tensor, timesteps: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """The denoiser's prediction for (N, M_x, C_x) noisy features under the texts of (N,) classes."""
        text = self.class_embeddings[classes].to(noisy.dtype)
        return self.tdsm(noisy, timesteps, text[:, -1], text[:, :-1]).sample

    def _target(self, features: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return noise if self.config.prediction_type == "epsilon" else features

    def training_losses(self, features: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """L_diff and L_TD of a batch (the code's ``Trainer.train``): one noise and one t per clip, shared by the
        true-class and a random-negative-class pass; negatives drawn uniformly from the seen classes with
        replacement, so a negative can be the true class -- those rows count as zero and the mean still divides by
        the batch size, as the code does."""
        n = features.shape[0]
        noise = torch.randn_like(features)
        timesteps = torch.randint(0, self.config.num_train_timesteps, (n,), device=features.device)
        seen = self._seen_classes(features.device)
        negatives = seen[torch.randint(0, len(seen), (n,), device=features.device)]
        noisy = self.add_noise(features, noise, timesteps)
        predicted = self.denoise(noisy.repeat(2, 1, 1), timesteps.repeat(2), torch.cat([labels, negatives]))
        target = self._target(features, noise)
        errors = (predicted.float() - target.repeat(2, 1, 1).float()).pow(2).flatten(1).mean(1)  # (2N,) per-clip MSE
        positive, negative = errors[:n], errors[n:]
        loss_diff = positive.mean()  # = F.mse_loss over all elements (equal sizes)
        hinge = F.relu(positive - negative + self.config.margin) * (labels != negatives)
        return loss_diff, hinge.mean()

    def _seen_classes(self, device) -> torch.Tensor:
        seen = self.config.seen_classes
        if seen is None:
            seen = [c for c in range(self.config.num_labels) if c not in set(self.config.candidate_classes)]
        if not seen:
            raise ValueError("training needs seen classes: set seen_classes (or unseen_classes) in the config")
        return torch.tensor(seen, dtype=torch.long, device=device)

    def class_errors(self, features: torch.Tensor, classes: list[int] | torch.Tensor | None = None) -> torch.Tensor:
        """(N, K) one-step prediction errors of each clip under each of K candidate classes' texts, summed over the
        fixed noises at t = ``inference_timestep`` (the code's ``Trainer.test``); batched over classes and noises."""
        classes = torch.as_tensor(
            self.config.candidate_classes if classes is None else classes, dtype=torch.long, device=features.device
        )
        n, k, s = features.shape[0], len(classes), self.config.num_inference_noises
        noise = self.inference_noise.to(features.device, features.dtype)  # (S, M_x, C_x)
        t = torch.full((n * s,), self.config.inference_timestep, device=features.device)
        clean = features.repeat_interleave(s, dim=0)  # (N*S, M_x, C_x): clip-major, noise-minor
        noises = noise.repeat(n, 1, 1)
        noisy = self.add_noise(clean, noises, t)
        target = self._target(clean, noises)
        # (N*S*K, ...) rows: clip, then noise, then class fastest
        predicted = self.denoise(noisy.repeat_interleave(k, 0), t.repeat_interleave(k, 0), classes.repeat(n * s))
        errors = (predicted.float() - target.repeat_interleave(k, 0).float()).pow(2).flatten(1).mean(1)
        return errors.view(n, s, k).sum(1)

    @can_return_tuple
    def forward(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> TDSMOutput:
        """
        Args:
            features: (N, C_x) or (N, M_x, C_x) skeleton features z_x of a frozen skeleton encoder.
            labels: optional (N,) class indices (seen classes): the training losses.

        Returns:
            `TDSMOutput`: in training mode the losses only (no scoring); in evaluation mode also ``logits``
            (N, num_labels): minus each candidate's summed error (seen candidates, in generalised zero-shot, with
            ``seen_class_calibration`` added to their errors), -inf elsewhere.
        """
        if features.dim() == 2:
            features = features.unsqueeze(1)
        expected = (self.config.num_feature_tokens, self.config.feature_size)
        if features.dim() != 3 or tuple(features.shape[1:]) != expected or not features.is_floating_point():
            raise ValueError(
                f"`features` must be a float tensor of shape (N, {expected[1]}) or (N, {expected[0]}, {expected[1]}), "
                f"got {tuple(features.shape)}"
            )
        loss = loss_diff = loss_td = None
        if labels is not None:
            loss_diff, loss_td = self.training_losses(features, labels.to(features.device).long())
            loss = self.config.lambda_diff * loss_diff + self.config.lambda_td * loss_td
        logits = None
        if not self.training:
            candidates = self.config.candidate_classes
            errors = self.class_errors(features, candidates)
            seen = set(self.config.seen_classes or ())
            calibration = torch.tensor(
                [self.config.seen_class_calibration if c in seen else 0.0 for c in candidates], device=errors.device
            )
            logits = torch.full((features.shape[0], self.config.num_labels), float("-inf"), device=errors.device)
            logits[:, candidates] = -(errors + calibration)
        return TDSMOutput(loss=loss, logits=logits, loss_diff=loss_diff, loss_td=loss_td)


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
