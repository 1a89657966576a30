# Generated from skeleton_models/layers/temporal.py by utils/write_modeling.py; do not edit.
"""Temporal convolution blocks of the CTR-GCN lineage (inputs are (B, C, T, V))."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init

from .initialization import constant_norm_init, kaiming_conv_init


class TemporalConv(nn.Module):
    """A (k x 1) convolution over frames followed by BatchNorm: (B, C_in, T, V) -> (B, C_out, ceil(T / stride), V)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, dilation: int = 1):
        super().__init__()
        pad = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=(kernel_size, 1),
            padding=(pad, 0),
            stride=(stride, 1),
            dilation=(dilation, 1),
        )
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))

    def _reset_parameters(self):
        kaiming_conv_init(self.conv)
        constant_norm_init(self.bn, 1.0)


class MultiScaleTemporalConv(nn.Module):
    """CTR-GCN's multi-scale temporal convolution (MS-TCN): (B, C_in, T, V) -> (B, C_out, ceil(T / stride), V).

    ``len(dilations)`` branches of 1x1 conv -> BN -> ReLU -> (k x 1) dilated conv -> BN, one 1x1 -> max-pool(3)
    branch and one strided 1x1 branch, concatenated on channels. With ``kernel_size=5, dilations=(1, 2)`` this is
    also HocSLM's LTC (Eq. 9: k=5 d=1, k=5 d=2, max-pool k=3, 1x1).

    DeGCN's ``MultiScale_TemporalModeling`` is the same module with ``negative_slope=0.1`` (leaky ReLUs) and
    ``num_offsets=4`` (its dilated branches are `DeformableTemporalConv`s).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 5,
        stride: int = 1,
        dilations: Sequence[int] = (1, 2),
        negative_slope: float = 0.0,
        num_offsets: int | None = None,
    ):
        super().__init__()
        num_branches = len(dilations) + 2
        if out_channels % num_branches:
            raise ValueError(f"out_channels ({out_channels}) must be a multiple of the {num_branches} branches")
        width = out_channels // num_branches
        self.negative_slope = negative_slope

        def activation():
            return nn.LeakyReLU(negative_slope, inplace=True) if negative_slope else nn.ReLU(inplace=True)

        def temporal(dilation):
            if num_offsets is None:
                return TemporalConv(width, width, kernel_size=kernel_size, stride=stride, dilation=dilation)
            return DeformableTemporalConv(width, width, num_offsets, kernel_size, stride=stride, dilation=dilation)

        branches = [
            nn.Sequential(
                nn.Conv2d(in_channels, width, kernel_size=1),
                nn.BatchNorm2d(width),
                activation(),
                temporal(dilation),
            )
            for dilation in dilations
        ]
        branches.append(
            nn.Sequential(
                nn.Conv2d(in_channels, width, kernel_size=1),
                nn.BatchNorm2d(width),
                activation(),
                nn.MaxPool2d(kernel_size=(3, 1), stride=(stride, 1), padding=(1, 0)),
                nn.BatchNorm2d(width),
            )
        )
        branches.append(
            nn.Sequential(nn.Conv2d(in_channels, width, kernel_size=1, stride=(stride, 1)), nn.BatchNorm2d(width))
        )
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)

    def _reset_parameters(self):
        # CTR-GCN's `weights_init` for this module: Kaiming convs, BatchNorm scale ~ N(1, 0.02).
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                kaiming_conv_init(module)
            elif isinstance(module, nn.BatchNorm2d):
                init.normal_(module.weight, 1.0, 0.02)
                init.zeros_(module.bias)


class DeformableTemporalConv(nn.Module):
    """DeGCN's deformable temporal convolution (DeTGC; Myung et al., TIP 2024, as its public code has it):
    (B, C_in, T, V) -> (B, C_out, ceil(T / stride), V).

    Instead of the k taps of a (k x 1) convolution, each output frame t0 (every `stride`-th input frame) reads
    `num_offsets` frames at t0 + offset_i, with learnable real offsets shared by all channels and joints
    (initialised evenly over the receptive field of the dilated kernel it replaces, ``linspace(-r, r, eta)``);
    frames between integer positions are linearly interpolated (positions clamped to the clip), so the offsets get
    gradients through the interpolation weights. The sampled frames are mixed by a (eta x 1 x 1) convolution and
    BatchNorm. The gather is one ``index_select`` over all offsets; no host synchronisation.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_offsets: int = 4,
        kernel_size: int = 5,
        stride: int = 1,
        dilation: int = 1,
    ):
        super().__init__()
        self.num_offsets, self.stride = num_offsets, stride
        self.reach = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.offsets = nn.Parameter(torch.empty(num_offsets))
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size=(num_offsets, 1, 1))
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, v = x.shape
        start = torch.arange(0, t, self.stride, device=x.device, dtype=self.offsets.dtype)  # (T',)
        position = start + self.offsets.unsqueeze(1)  # (eta, T')
        below = position.detach().floor()
        frac = (position - below).to(x.dtype).view(1, 1, self.num_offsets, -1, 1)
        lo = below.long().clamp(0, t - 1).flatten()
        hi = (below.long() + 1).clamp(0, t - 1).flatten()
        t_out = start.numel()
        sampled = torch.lerp(
            x.index_select(2, lo).view(b, c, self.num_offsets, t_out, v),
            x.index_select(2, hi).view(b, c, self.num_offsets, t_out, v),
            frac,
        )  # (B, C, eta, T', V)
        weight = self.conv.weight.reshape(self.conv.out_channels, c * self.num_offsets, 1, 1)
        return self.bn(F.conv2d(sampled.reshape(b, c * self.num_offsets, t_out, v), weight, self.conv.bias))

    def _reset_parameters(self):
        init.copy_(self.offsets, torch.linspace(-self.reach, self.reach, self.num_offsets))
        kaiming_conv_init(self.conv)
        constant_norm_init(self.bn, 1.0)
