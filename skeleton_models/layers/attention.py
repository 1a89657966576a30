"""Attention blocks: multi-head cross-attention with a softmax (SDPA) or a Performer (FAVOR+) kernel.

Inputs are token sequences (B, L, D). The Performer kernel follows Choromanski et al., "Rethinking attention with
Performers" (ICLR 2021): positive orthogonal random features approximate the softmax kernel, and the non-causal
attention is computed in time linear in the number of tokens,
``out = phi(q) (phi(k)^T v) / (phi(q) sum_j phi(k_j))`` -- as lucidrains' performer-pytorch implements it
(data scaled by d^-1/4, phi(x) = m^-1/2 (exp(x W^T - |x|^2 / 2 - max) + 1e-4), the max taken per query row and
over all keys). The random projection is a persistent buffer, so a saved model reloads with the same features.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from transformers import initialization as init

__all__ = ["CrossAttention", "gaussian_orthogonal_random_matrix", "performer_attention"]


def gaussian_orthogonal_random_matrix(
    num_rows: int, num_columns: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(num_rows, num_columns) random features: stacked orthogonal blocks (QR of Gaussian matrices) whose rows are
    rescaled to the norms of Gaussian rows (FAVOR+'s "orthogonal random features")."""
    blocks = []
    for _ in range(math.ceil(num_rows / num_columns)):
        q, _ = torch.linalg.qr(torch.randn(num_columns, num_columns, generator=generator))
        blocks.append(q.T)
    matrix = torch.cat(blocks)[:num_rows]
    norms = torch.randn(num_rows, num_columns, generator=generator).norm(dim=1)
    return norms.unsqueeze(1) * matrix


def _softmax_features(x: torch.Tensor, projection: torch.Tensor, is_query: bool, eps: float = 1e-4) -> torch.Tensor:
    """FAVOR+ positive features of (B, H, L, d) queries or keys: (B, H, L, m)."""
    normalizer = x.shape[-1] ** -0.25
    projected = (x * normalizer) @ projection.to(x.dtype).T  # (B, H, L, m)
    diag = (x * normalizer).pow(2).sum(-1, keepdim=True) / 2
    if is_query:
        stabiliser = projected.amax(dim=-1, keepdim=True).detach()
    else:
        stabiliser = projected.amax(dim=(-1, -2), keepdim=True).detach()
    return projection.shape[0] ** -0.5 * (torch.exp(projected - diag - stabiliser) + eps)


def performer_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, projection: torch.Tensor) -> torch.Tensor:
    """Non-causal FAVOR+ attention of (B, H, Lq, d) queries over (B, H, Lk, d) keys and values -> (B, H, Lq, d)."""
    q_prime = _softmax_features(q, projection, is_query=True)
    k_prime = _softmax_features(k, projection, is_query=False)
    context = k_prime.transpose(-1, -2) @ v  # (B, H, m, d)
    normaliser = q_prime @ k_prime.sum(dim=-2, keepdim=True).transpose(-1, -2)  # (B, H, Lq, 1)
    return (q_prime @ context) / normaliser


class CrossAttention(nn.Module):
    """Multi-head attention of `x`'s tokens over `context`'s tokens: (B, Lq, D), (B, Lk, D) -> (B, Lq, D).

    Args:
        dim: token width D (queries and context).
        num_heads: heads; D must divide by it.
        kernel: ``"softmax"`` (exact, through ``F.scaled_dot_product_attention``) or ``"performer"`` (FAVOR+).
        num_features: random features m of the Performer kernel; default ``int(d ln d)`` for head width d, as
            performer-pytorch.
        seed: seed of the Performer's random projection (a buffer saved with the model).

    There is no residual connection: the output is the attended context only (BHaRNet-E's interactive branches,
    Introduction: "without using residual connections"); a caller adds one where it wants it (BHaRNet-P's
    ``cross_attention_residual``).
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        kernel: str = "softmax",
        num_features: int | None = None,
        seed: int = 0,
    ):
        super().__init__()
        if kernel not in ("softmax", "performer"):
            raise ValueError(f"kernel must be 'softmax' or 'performer', got {kernel!r}")
        if dim % num_heads:
            raise ValueError(f"dim ({dim}) must be divisible by num_heads ({num_heads})")
        self.num_heads, self.kernel = num_heads, kernel
        head_dim = dim // num_heads
        self.query = nn.Linear(dim, dim)
        self.key_value = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)
        if kernel == "performer":
            self.num_features = num_features or int(head_dim * math.log(head_dim))
            self.seed = seed
            self.register_buffer("projection", torch.empty(self.num_features, head_dim))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        q = rearrange(self.query(x), "b l (h d) -> b h l d", h=self.num_heads)
        k, v = rearrange(self.key_value(context), "b l (two h d) -> two b h l d", two=2, h=self.num_heads)
        if self.kernel == "softmax":
            out = F.scaled_dot_product_attention(q, k, v)
        else:
            out = performer_attention(q, k, v, self.projection)
        return self.out(rearrange(out, "b h l d -> b l (h d)"))

    def _reset_parameters(self):
        if self.kernel == "performer":
            generator = torch.Generator().manual_seed(self.seed)
            init.copy_(self.projection, gaussian_orthogonal_random_matrix(*self.projection.shape, generator=generator))
