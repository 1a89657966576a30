# Generated from skeleton_models/layers/backbone.py by utils/write_modeling.py; do not edit.
"""The frame of a graph-convolutional skeleton network (ST-GCN / CTR-GCN lineage): input BatchNorm over persons,
joints and channels, then a stack of blocks on (batch x persons, C, T, V) tensors."""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

__all__ = ["run_graph_blocks"]


def run_graph_blocks(
    data_bn: nn.BatchNorm1d, blocks: nn.ModuleList, skeletons: torch.Tensor, output_hidden_states: bool = False
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """(N, C, T, V, M) skeletons -> `data_bn` over the (M V C) features of each frame -> `blocks` with the persons
    folded into the batch -> (N, C', T', V, M), and every block's output (N, C_i, T_i, V, M) when
    `output_hidden_states` (else an empty tuple)."""
    m, v = skeletons.shape[-1], skeletons.shape[-2]
    x = data_bn(rearrange(skeletons, "n c t v m -> n (m v c) t"))
    x = rearrange(x, "n (m v c) t -> (n m) c t v", m=m, v=v)
    hidden_states = []
    for block in blocks:
        x = block(x)
        if output_hidden_states:
            hidden_states.append(rearrange(x, "(n m) c t v -> n c t v m", m=m))
    return rearrange(x, "(n m) c t v -> n c t v m", m=m), tuple(hidden_states)
