# Generated from skeleton_models/layers/graph.py by utils/write_modeling.py; do not edit.
"""Graph-convolution building blocks of the CTR-GCN lineage.

The K subsets of a spatial graph (CTR-GCN: identity, inward, outward) are computed together: one convolution
with K groups of outputs instead of K convolutions, and one contraction over (subset, joint) instead of K
aggregations and a sum. Parameter counts and multiply-adds are those of the per-subset formulation.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from .initialization import kaiming_conv_init


def relation_channels(in_channels: int, reduction: int = 8) -> int:
    """CTR-GC's relation width: 8 for the raw-coordinate input layer (C in {3, 9}), else ``in_channels // 8``.

    Generalised to every small input (2-D keypoints, keypoints + score) so that no layer ends up with 0 channels.
    """
    return 8 if in_channels < 2 * reduction else in_channels // reduction


class ChannelTopologyRefinement(nn.Module):
    """The topology-refinement half of CTR-GC (Chen et al., ICCV 2021, Eqs. 4-5), for K subsets at once.

    Shapes: ``x`` (B, C_in, T, V) -> channel-wise joint relations (B, K, C_out, V, V), computed per subset as
    ``conv4(tanh(conv1(x)_u - conv2(x)_v))`` on temporally averaged features. The official code applies conv1 and
    conv2 before the temporal mean; the two orders give the same result (the convs are affine) and this one
    saves (T - 1) / T of their multiply-adds. The caller scales the result (CTR-GC's alpha) and adds a topology.
    """

    def __init__(self, in_channels: int, out_channels: int, num_subsets: int = 1, reduction: int = 8):
        super().__init__()
        rel = relation_channels(in_channels, reduction)
        self.num_subsets = num_subsets
        self.conv1 = nn.Conv2d(in_channels, num_subsets * rel, kernel_size=1)
        self.conv2 = nn.Conv2d(in_channels, num_subsets * rel, kernel_size=1)
        self.conv4 = nn.Conv2d(num_subsets * rel, num_subsets * out_channels, kernel_size=1, groups=num_subsets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.mean(dim=2, keepdim=True)  # (B, C_in, 1, V)
        x1 = rearrange(self.conv1(x), "b r 1 u -> b r u 1")
        x2 = rearrange(self.conv2(x), "b r 1 v -> b r 1 v")
        relations = self.conv4(torch.tanh(x1 - x2))  # (B, K * C_out, V, V)
        return rearrange(relations, "b (k c) u v -> b k c u v", k=self.num_subsets)

    def _reset_parameters(self):
        for conv in (self.conv1, self.conv2, self.conv4):
            kaiming_conv_init(conv, groups=self.num_subsets)


def graph_aggregate(topology: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """Sum over subsets of per-channel graph aggregation.

    Args:
        topology: (B, K, C, V, V), or one shared over channels (B, K, 1, V, V) or over the batch too (K, 1, V, V);
            ``topology[..., u, v]`` is the weight of joint v in joint u's output.
        features: (B, K, C, T, V) per-subset features.

    Returns:
        (B, C, T, V): ``sum_k sum_v topology[b, k, c, u, v] * features[b, k, c, t, v]``.

    Batched matrix products against the transposed topology (a strided view, never copied): per channel when the
    topology is channel-wise, else one product per subset with the channels and frames folded into the rows. No
    (B, K, C, V, V) or (B, K, C, T, V) operand is permuted or expanded into a copy.
    """
    b, k, c, t, v = features.shape
    if topology.shape[-3] == 1:  # shared by the channels: (B*K | K, C*T, V) @ (.., V, U)
        out = torch.matmul(features.reshape(b, k, c * t, v), topology.squeeze(-3).transpose(-1, -2))
        return out.view(b, k, c, t, v).sum(1)
    return torch.matmul(features, topology.transpose(-1, -2)).sum(1)
