"""Shift operations of Shift-GCN (Cheng et al., CVPR 2020), in plain PyTorch (the official code,
kchengiva/Shift-GCN @ 20276b6, runs its temporal shift as a CUDA extension; the spatial shift is an index select).

Inputs are (B, C, T, V) feature maps.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers import initialization as init

__all__ = ["AdaptiveTemporalShift", "NonLocalSpatialShift"]


def _take(x: torch.Tensor, dim: int, positions: torch.Tensor, size_out: int) -> torch.Tensor:
    """x gathered along `dim` (2 = frames, 3 = joints) at per-channel integer positions (C, size_out), zero where
    a position falls outside."""
    valid = (positions >= 0) & (positions < x.shape[dim])
    index = positions.clamp(0, x.shape[dim] - 1)
    b, c = x.shape[:2]
    if dim == 2:
        shape = (b, c, size_out, x.shape[3])
        index, valid = index[:, :, None], valid[:, :, None]
    else:
        shape = (b, c, x.shape[2], size_out)
        index, valid = index[:, None, :], valid[:, None, :]
    return x.gather(dim, index.expand(shape)) * valid


class AdaptiveTemporalShift(nn.Module):
    """Shift-GCN's adaptive temporal shift: every channel moved by its own learnable, real-valued offset along the
    frames (and, as the official ``Shift``, along the joints), bilinearly interpolated with zeros outside;
    (B, C, T, V) -> (B, C, ceil(T / stride), V).

    Output frame h of channel c reads frame ``h * stride + ypos[c]`` (+ 0.5 when strided, as the official code)
    and joint ``w + xpos[c]``. Initialisation as the official: ypos ~ U(-init_scale, init_scale), xpos ~
    U(-1e-8, 1e-8). Gradients reach the offsets through the interpolation weights, as the official backward.
    (The official kernel writes floor(T / stride) frames; for the even window sizes used, the same.)
    """

    def __init__(self, channels: int, stride: int = 1, init_scale: float = 1.0):
        super().__init__()
        self.stride, self.init_scale = stride, init_scale
        self.xpos = nn.Parameter(torch.empty(channels))
        self.ypos = nn.Parameter(torch.empty(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t, v = x.shape[2], x.shape[3]
        t_out = math.ceil(t / self.stride)
        y = self.ypos + (0.5 if self.stride > 1 else 0.0)
        y0, x0 = torch.floor(y).detach(), torch.floor(self.xpos).detach()
        wy, wx = (y - y0).to(x.dtype), (self.xpos - x0).to(x.dtype)
        rows = torch.arange(t_out, device=x.device) * self.stride
        top = rows[None] + y0.long()[:, None]  # (C, T_out)
        shifted = _take(x, 2, top, t_out) * (1 - wy)[:, None, None] + _take(x, 2, top + 1, t_out) * wy[:, None, None]
        left = torch.arange(v, device=x.device)[None] + x0.long()[:, None]  # (C, V)
        return _take(shifted, 3, left, v) * (1 - wx)[:, None, None] + _take(shifted, 3, left + 1, v) * wx[:, None, None]

    def _reset_parameters(self):
        init.uniform_(self.xpos, -1e-8, 1e-8)
        init.uniform_(self.ypos, -self.init_scale, self.init_scale)


class NonLocalSpatialShift(nn.Module):
    """Shift-GCN's non-local spatial shift: channel c of joint i takes the value of joint (i + c) mod V
    (``direction=+1``, the "shift in") or (i - c) mod V (``-1``, the "shift out"). (B, C, T, V) -> same shape."""

    def __init__(self, channels: int, num_joints: int, direction: int = 1):
        super().__init__()
        if direction not in (1, -1):
            raise ValueError(f"direction must be 1 or -1, got {direction}")
        joints, offsets = torch.arange(num_joints, device="cpu"), torch.arange(channels, device="cpu")
        source = (joints[None, :] + direction * offsets[:, None]) % num_joints  # CPU, also under a meta-device init
        self.register_buffer("source", source, persistent=False)  # (C, V) joint read by each channel and joint
        self._source_init = source

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, v = x.shape
        return x.gather(3, self.source[:, None, :].expand(b, c, t, v))

    def _reset_parameters(self):
        init.copy_(self.source, self._source_init)
