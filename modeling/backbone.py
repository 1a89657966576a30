# Generated from skeleton_models/layers/backbone.py by utils/write_modeling.py; do not edit.
"""The frame of a graph-convolutional skeleton network (ST-GCN / CTR-GCN lineage): input BatchNorm over persons,
joints and channels, then a stack of blocks on (batch x persons, C, T, V) tensors; and ST-GCN's block."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from transformers.modeling_layers import GradientCheckpointingLayer

from .graph import StaticTopologyGraphConv
from .temporal import TemporalConv

__all__ = ["STGCNBlock", "run_graph_blocks"]


class STGCNBlock(GradientCheckpointingLayer):
    """ST-GCN's ``st_gcn`` block (Yan et al., AAAI 2018): graph conv with edge-importance weighting, then BN ->
    ReLU -> (k x 1) temporal conv -> BN -> dropout, plus a residual, ReLU. (B, C_in, T, V) -> (B, C_out, T', V).

    Assumed: the 3-subset graph of the layout (identity, inward, outward; CTR-GCN's) stands in for ST-GCN's
    "spatial" partition (root, centripetal, centrifugal), which differ only for joints equidistant to the centre.

    Args:
        adjacency: (K, V, V) the layout's subsets (`SkeletonLayout.adjacency`).
        stride: temporal stride of the temporal convolution (and of the residual).
        kernel_size: the temporal kernel (ST-GCN: 9).
        residual: ST-GCN's input block has none.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        adjacency: torch.Tensor,
        stride: int = 1,
        kernel_size: int = 9,
        dropout: float = 0.0,
        residual: bool = True,
    ):
        super().__init__()
        self.gcn = StaticTopologyGraphConv(in_channels, out_channels, adjacency, topology="masked")  # ends in the BN
        self.tcn = TemporalConv(out_channels, out_channels, kernel_size, stride=stride)
        self.dropout = nn.Dropout(dropout)
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = TemporalConv(in_channels, out_channels, kernel_size=1, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dropout(self.tcn(F.relu(self.gcn(x))))
        if self.residual is not None:
            y = y + self.residual(x)
        return F.relu(y)


def run_graph_blocks(
    data_bn: nn.BatchNorm1d, blocks: nn.ModuleList, skeletons: torch.Tensor, output_hidden_states: bool = False
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """(N, C, T, V, M) skeletons -> `data_bn` over the (M V C) features of each frame (CTR-GCN) -- or over the
    (V C) features of each person's frame, shared by the persons, when `data_bn` has V * C features (ST-GCN) ->
    `blocks` with the persons folded into the batch -> (N, C', T', V, M), and every block's output
    (N, C_i, T_i, V, M) when `output_hidden_states` (else an empty tuple)."""
    c, m, v = skeletons.shape[1], skeletons.shape[-1], skeletons.shape[-2]
    if data_bn.num_features == v * c:
        x = data_bn(rearrange(skeletons, "n c t v m -> (n m) (v c) t"))
        x = rearrange(x, "(n m) (v c) t -> (n m) c t v", m=m, v=v)
    else:
        x = data_bn(rearrange(skeletons, "n c t v m -> n (m v c) t"))
        x = rearrange(x, "n (m v c) t -> (n m) c t v", m=m, v=v)
    hidden_states = []
    for block in blocks:
        x = block(x)
        if output_hidden_states:
            hidden_states.append(rearrange(x, "(n m) c t v -> n c t v m", m=m))
    return rearrange(x, "(n m) c t v -> n c t v m", m=m), tuple(hidden_states)
