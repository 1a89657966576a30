"""Skeleton vision-transformer blocks (the MAMP encoder lineage that GFP and SLiM build on): skeletal-temporal patch
embedding, pre-norm transformer blocks with attention through SDPA, stochastic depth, patchified motion and
MAMP's motion-aware masking.

Shapes: N sequences (clips x persons, as MAMP flattens them), T frames, V joints, C coordinates; T' = T / P_T
temporal patches, V' = V / P_J joint patches, L = T' V' tokens (t-major, joints fastest), D channels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from transformers.modeling_layers import GradientCheckpointingLayer

__all__ = [
    "TokenBatchNorm",
    "mlp",
    "person_sequences",
    "DropPath",
    "SelfAttention",
    "SkeletonPatchEmbed",
    "TransformerBlock",
    "motion_aware_masking",
    "patch_motion",
    "patchify",
]


class DropPath(nn.Module):
    """Stochastic depth: in training, each sample's residual branch is dropped with probability `p` and the kept
    ones are scaled by 1 / (1 - p); the identity in evaluation (timm's ``DropPath``)."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class SelfAttention(nn.Module):
    """Multi-head self-attention (B, L, D) -> (B, L, D): one qkv projection, `F.scaled_dot_product_attention`
    (softmax(q k^T / sqrt(d)) v, the fused kernel where the device has one), an output projection. ``rotary``, when
    given, is applied to the (B, H, L, d) queries and keys before attending (e.g. SLiM's temporal RoPE)."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True, attention_dropout: float = 0.0):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim ({dim}) must be divisible by num_heads ({num_heads})")
        self.num_heads = num_heads
        self.attention_dropout = attention_dropout
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, rotary=None, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        q, k, v = rearrange(self.qkv(x), "b l (three h d) -> three b h l d", three=3, h=self.num_heads)
        if rotary is not None:
            q, k = rotary(q), rotary(k)
        dropout = self.attention_dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attention_mask, dropout_p=dropout)
        return self.proj(rearrange(out, "b h l d -> b l (h d)"))


class TransformerBlock(GradientCheckpointingLayer):
    """Pre-norm ViT block: x + DropPath(Attention(LN(x))), then x + DropPath(MLP(LN(x))), the MLP Linear -> GELU ->
    Linear of hidden ``mlp_ratio`` x D (MAMP's / timm's ``Block``; LayerNorm eps 1e-5 as torch's default, which
    MAMP uses)."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path: float = 0.0,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        norm_eps: float = 1e-5,
    ):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = SelfAttention(dim, num_heads, qkv_bias, attention_dropout)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim), nn.Dropout(dropout)
        )
        self.dropout = nn.Dropout(dropout)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, rotary=None, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.drop_path(self.dropout(self.attn(self.norm1(x), rotary, attention_mask)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class SkeletonPatchEmbed(nn.Module):
    """Skeletal-temporal patches: a Conv2d with kernel = stride = (P_T frames, P_J joints) over (N, C, T, V) ->
    (N, T', V', D) tokens (MAMP's ``SkeleEmbed``: P_T = 4, P_J = 1)."""

    def __init__(self, in_channels: int, dim: int, temporal_patch: int, joint_patch: int = 1):
        super().__init__()
        self.temporal_patch, self.joint_patch = temporal_patch, joint_patch
        kernel = (temporal_patch, joint_patch)
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=kernel, stride=kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t, v = x.shape[-2:]
        if t % self.temporal_patch or v % self.joint_patch:
            raise ValueError(
                f"frames ({t}) and joints ({v}) must be multiples of the patch size "
                f"({self.temporal_patch} frames x {self.joint_patch} joints)"
            )
        return rearrange(self.proj(x), "n d t v -> n t v d")


class TokenBatchNorm(nn.BatchNorm1d):
    """BatchNorm1d over the last dimension of (..., C) features: every leading position is a row of the batch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)


def mlp(sizes: list[int], norm: str = "none") -> nn.Sequential:
    """Linear layers of the given sizes with GELU between them and ``norm`` (``"none"``, ``"batch"`` or ``"layer"``)
    after every hidden linear layer: GFP's projectors and target networks (Assumed GELU: the paper gives depths and
    widths only), the MLP of the DINO heads (no norm, as DINOv2)."""
    if norm not in ("none", "batch", "layer"):
        raise ValueError(f"norm must be 'none', 'batch' or 'layer', got {norm!r}")
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            if norm != "none":
                layers.append(TokenBatchNorm(sizes[i + 1]) if norm == "batch" else nn.LayerNorm(sizes[i + 1]))
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


def person_sequences(skeletons: torch.Tensor) -> torch.Tensor:
    """(N, C, T, V, M) clips -> (N M, T, V, C) per-person sequences, person-major within a clip (MAMP's flattening;
    the skeleton ViTs treat every person as its own sequence)."""
    return rearrange(skeletons, "n c t v m -> (n m) t v c")


def present_persons(sequences: torch.Tensor) -> torch.Tensor:
    """(B, T, V, C) person sequences -> (B,) bool, False for padding: a sequence whose every value is exactly zero
    (the processor fills absent persons with zeros and keeps them zero through centring and the augmentations).
    Reading: a person who is all zero in the model's input carries no signal, so treating them as absent loses
    nothing."""
    return sequences.flatten(1).ne(0).any(dim=1)


def restore_rows(values: torch.Tensor | None, present: torch.Tensor) -> torch.Tensor | None:
    """(B', ...) per-sequence values of the present sequences (`present_persons`' True rows) -> (B, ...) in every
    sequence's row, zero for the padding ones; None stays None."""
    if values is None:
        return None
    rows = values.new_zeros(present.shape[0], *values.shape[1:])
    rows[present.to(values.device)] = values
    return rows


def patchify(x: torch.Tensor, temporal_patch: int) -> torch.Tensor:
    """(N, T, V, C) -> (N, T', V, P_T C): each joint's P_T consecutive frames as one patch, features ordered
    [frame 0 coordinates, frame 1 coordinates, ...] (MAMP's ``patchify`` with P_J = 1)."""
    return rearrange(x, "n (t p) v c -> n t v (p c)", p=temporal_patch)


def patch_motion(patches: torch.Tensor) -> torch.Tensor:
    """MAMP's masking saliency of (N, T', V, P) patches: the mean absolute difference between each patch and the
    previous temporal patch of the same joint (the first temporal patch copies the second) -> (N, T' V)."""
    motion = (patches[:, 1:] - patches[:, :-1]).abs()
    motion = torch.cat([motion[:, :1], motion], dim=1)
    return motion.mean(-1).flatten(1)


def motion_aware_masking(
    patches: torch.Tensor, mask_ratio: float, tau: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """MAMP's motion-aware masking (Mao et al., ICCV 2023): which of the L = T' V tokens stay visible.

    Each sequence's token motion (`patch_motion`) is divided by tau times its maximum, turned into a distribution
    p by a softmax over the L tokens, and ranked by the Gumbel-perturbed score log p - log(-log U) (U uniform, both
    logs with MAMP's eps 1e-10); the int(L (1 - mask_ratio)) lowest scores stay visible, so high-motion tokens are
    masked more often. ``tau <= 0`` is uniform random masking (MAE: ranking by U). As in MAMP's code the count is
    truncated in floating point: 750 tokens at ratio 0.9 keep int(74.99999999999999) = 74, not 75.

    Args:
        patches: (N, T', V, P) patchified input coordinates (`patchify`).
        mask_ratio: the fraction of tokens masked (MAMP: 0.9).
        tau: the temperature (MAMP: 0.80 for NTU-60 and PKU-MMD, 0.75 for NTU-120).

    Returns:
        ``ids_keep`` (N, L_keep) visible token indices, in ranking order; ``mask`` (N, L), 1 where masked;
        ``ids_restore`` (N, L), the inverse permutation of the ranking (to put tokens back in place).
    """
    n, length = patches.shape[0], patches.shape[1] * patches.shape[2]
    keep = int(length * (1 - mask_ratio))
    device = generator.device if generator is not None else patches.device
    uniform = torch.rand(n, length, generator=generator, device=device).to(patches.device)
    if tau > 0:
        motion = patch_motion(patches.float())
        motion = motion / (motion.amax(dim=-1, keepdim=True) * tau + 1e-10)
        scores = F.log_softmax(motion, dim=-1) - torch.log(-torch.log(uniform + 1e-10) + 1e-10)
    else:
        scores = uniform
    ids_shuffle = scores.argsort(dim=1)
    ids_restore = ids_shuffle.argsort(dim=1)
    mask = torch.ones(n, length, device=patches.device)
    mask[:, :keep] = 0
    return ids_shuffle[:, :keep], torch.gather(mask, 1, ids_restore), ids_restore
