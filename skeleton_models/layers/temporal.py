"""Temporal convolution blocks of the CTR-GCN lineage (inputs are (B, C, T, V))."""

from __future__ import annotations

from collections.abc import Sequence

import torch
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
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 5,
        stride: int = 1,
        dilations: Sequence[int] = (1, 2),
    ):
        super().__init__()
        num_branches = len(dilations) + 2
        if out_channels % num_branches:
            raise ValueError(f"out_channels ({out_channels}) must be a multiple of the {num_branches} branches")
        width = out_channels // num_branches
        branches = [
            nn.Sequential(
                nn.Conv2d(in_channels, width, kernel_size=1),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                TemporalConv(width, width, kernel_size=kernel_size, stride=stride, dilation=dilation),
            )
            for dilation in dilations
        ]
        branches.append(
            nn.Sequential(
                nn.Conv2d(in_channels, width, kernel_size=1),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
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
