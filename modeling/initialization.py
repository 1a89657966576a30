# Generated from skeleton_models/layers/initialization.py by utils/write_modeling.py; do not edit.
"""Initialisations shared by the layers and models (all through `transformers.initialization`, which leaves
weights loaded from a checkpoint alone)."""

from __future__ import annotations

from torch import nn
from transformers import initialization as init

__all__ = ["classifier_init", "constant_norm_init", "kaiming_conv_init", "lecun_normal_init"]


def kaiming_conv_init(conv: nn.Module, groups: int = 1, negative_slope: float = 0.0) -> None:
    """CTR-GCN's ``conv_init``: Kaiming-normal (fan_out) weights and zero bias.

    ``groups`` > 1 marks a convolution that fuses that many independent convolutions along its output channels;
    fan_out is then counted per fused convolution, as the separate convolutions would have had it.
    ``negative_slope`` > 0 gives the leaky-ReLU gain ``sqrt(2 / (1 + slope^2))`` (DeGCN's ``init_param``, a = 0.1).
    """
    fan_out = conv.weight.shape[0] // groups * conv.weight[0, 0].numel()
    init.normal_(conv.weight, 0.0, (2.0 / (1.0 + negative_slope**2) / fan_out) ** 0.5)
    if conv.bias is not None:
        init.zeros_(conv.bias)


def classifier_init(linear: nn.Linear) -> None:
    """CTR-GCN's fc init: weights ~ N(0, sqrt(2 / num_classes)), zero bias."""
    init.normal_(linear.weight, 0.0, (2.0 / linear.out_features) ** 0.5)
    init.zeros_(linear.bias)


def constant_norm_init(norm: nn.Module, scale: float) -> None:
    """CTR-GCN's ``bn_init``: constant scale, zero shift."""
    init.constant_(norm.weight, scale)
    init.zeros_(norm.bias)


def lecun_normal_init(layer: nn.Module) -> None:
    """LeCun-normal weights (std = 1 / sqrt(fan_in), fan_in per output unit) and zero bias: a linear map that keeps
    the variance of its input (used where a following softmax or product would saturate with Kaiming's gain)."""
    init.normal_(layer.weight, 0.0, layer.weight[0].numel() ** -0.5)
    if layer.bias is not None:
        init.zeros_(layer.bias)
