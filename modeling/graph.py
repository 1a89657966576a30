# Generated from skeleton_models/layers/graph.py by utils/write_modeling.py; do not edit.
"""Graph-convolution building blocks of the CTR-GCN lineage.

The K subsets of a spatial graph (CTR-GCN: identity, inward, outward) keep their weights in one convolution each
(K groups of outputs; a grouped convolution where the inputs are per subset too), so that a checkpoint holds one
tensor per layer, but they are *computed* one subset at a time (`subset_conv`): every per-subset tensor is then
contiguous and every aggregation is a plain batched matrix product. Measured on the CPU (torch 2.13), this is ~1.7x
faster for a training step of the graph unit than one grouped convolution and one contraction over (subset, joint):
grouped 1x1 convolutions are 3-6x slower than K plain ones, and a contraction over K materialises its operands.
On a GPU the same layers are bound by kernel launches instead (every slice and product is a kernel, and the
backward of a slice two more): `GroupedTopologyGraphConv`, whose per-group loop multiplies them, runs a fused form
there (``fused``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from transformers import initialization as init

from .initialization import kaiming_conv_init


def relation_channels(in_channels: int, reduction: int = 8) -> int:
    """CTR-GC's relation width: 8 for the raw-coordinate input layer (C in {3, 9}), else ``in_channels // 8``.

    Generalised to every small input (2-D keypoints, keypoints + score) so that no layer ends up with 0 channels.
    """
    return 8 if in_channels < 2 * reduction else in_channels // reduction


class ChannelTopologyRefinement(nn.Module):
    """The topology-refinement half of CTR-GC (Chen et al., ICCV 2021, Eqs. 4-5), for K subsets.

    Shapes: ``x`` (B, C_in, T, V) -> K channel-wise joint relations, each (B, C_out, V, V), computed per subset as
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

    def forward(self, x: torch.Tensor, scale: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        """K relations (B, C_out, V, V), multiplied by `scale` (CTR-GC's alpha) when given."""
        x = x.mean(dim=2, keepdim=True)  # (B, C_in, 1, V)
        x1 = rearrange(self.conv1(x), "b r 1 u -> b r u 1")
        x2 = rearrange(self.conv2(x), "b r 1 v -> b r 1 v")
        return subset_conv(self.conv4, torch.tanh(x1 - x2), self.num_subsets, scale)

    def _reset_parameters(self):
        for conv in (self.conv1, self.conv2, self.conv4):
            kaiming_conv_init(conv, groups=self.num_subsets)


def subset_conv(
    conv: nn.Conv2d, x: torch.Tensor, num_subsets: int, scale: torch.Tensor | None = None
) -> tuple[torch.Tensor, ...]:
    """A 1x1 convolution that fuses `num_subsets` convolutions along its outputs (and, when grouped by subset,
    its inputs), computed one subset at a time: a tuple of K contiguous outputs, each (B, C_out / K, ...).

    ``scale`` (a one-element tensor) multiplies the outputs by scaling the weights and biases instead, so that no
    extra pass over the outputs is made in the forward or the backward.
    """
    out = conv.out_channels // num_subsets
    grouped = conv.groups == num_subsets > 1
    inp = conv.in_channels // num_subsets
    weight, bias = conv.weight, conv.bias
    if scale is not None:
        weight = weight * scale
        bias = None if bias is None else bias * scale
    return tuple(
        F.conv2d(
            x[:, k * inp : (k + 1) * inp] if grouped else x,
            weight[k * out : (k + 1) * out],
            None if bias is None else bias[k * out : (k + 1) * out],
        )
        for k in range(num_subsets)
    )


def graph_aggregate(topologies, features) -> torch.Tensor:
    """Sum over subsets of per-channel graph aggregation.

    Args:
        topologies: K topologies, each (B, C, V, V), or shared by the channels (B, 1, V, V) or by the batch too
            (V, V); ``topology[..., u, v]`` is the weight of joint v in joint u's output.
        features: K per-subset features, each (B, C, T, V).

    Returns:
        (B, C, T, V): ``sum_k sum_v topology_k[b, c, u, v] * features_k[b, c, t, v]``.

    Each subset is one batched matrix product against its transposed topology (a strided view, never copied):
    per channel when the topology is channel-wise, else with the channels and frames folded into the rows.
    """
    out = None
    for topology, feature in zip(topologies, features):
        b, c, t, v = feature.shape
        if topology.dim() == 2 or topology.shape[-3] == 1:  # shared by the channels: (B, C*T, V) @ (B, V, U)
            shared = topology if topology.dim() == 2 else topology.squeeze(-3)
            rows, right = feature.reshape(b, c * t, v), shared.transpose(-1, -2).expand(b, v, v)
        else:  # per channel: (B*C, T, V) @ (B*C, V, U)
            rows, right = feature.reshape(b * c, t, v), topology.reshape(b * c, v, v).transpose(-1, -2)
        # the first subset's product, then the others accumulated into it (no separate additions)
        out = torch.bmm(rows, right) if out is None else torch.baddbmm(out.view(rows.shape[0], -1, v), rows, right)
    return out.view(b, c, t, v)


class StaticTopologyGraphConv(nn.Module):
    """Graph convolution with one learnable topology per subset, shared by all samples and channels:
    ``sum_k A_k (W_k x)`` then BatchNorm. (B, C_in, T, V) -> (B, C_out, T, V).

    - ``topology="additive"``: A_k is a free parameter initialised to the graph (DeGCN's ``ST_GC``, the input layer
      of every DeGCN block stack).
    - ``topology="masked"``: A_k = graph_k * M_k with an edge-importance mask M initialised to ones, so absent
      edges stay absent (ST-GCN's ``edge_importance``, Yan et al., AAAI 2018).
    """

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor, topology: str = "additive"):
        super().__init__()
        if topology not in ("additive", "masked"):
            raise ValueError(f"topology must be 'additive' or 'masked', got {topology!r}")
        self.num_subsets = adjacency.shape[0]
        self.topology_kind = topology
        self.features = nn.Conv2d(in_channels, self.num_subsets * out_channels, kernel_size=1)
        if topology == "additive":
            self.topology = nn.Parameter(adjacency.clone())
        else:
            self.register_buffer("graph", adjacency.clone(), persistent=False)
            self.edge_importance = nn.Parameter(torch.empty_like(adjacency))
        self._adjacency_init = adjacency.clone()
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.topology_kind == "additive":
            topologies = self.topology.unbind(0)
        else:
            topologies = (self.graph * self.edge_importance).unbind(0)
        return self.bn(graph_aggregate(topologies, subset_conv(self.features, x, self.num_subsets)))

    def _reset_parameters(self):
        if self.topology_kind == "additive":
            init.copy_(self.topology, self._adjacency_init)
        else:
            init.copy_(self.graph, self._adjacency_init)
            init.ones_(self.edge_importance)


class GroupedTopologyGraphConv(nn.Module):
    """CTR-GC over channel groups ("scales"), as DeGCN's public ``CTR_GC(num_scale)`` (Myung et al., TIP 2024).

    (B, C_in, T, V) -> (B, C_out, T, V). The channels are split into `num_groups` groups; each group is its own
    CTR-GC with K subsets (``in / G`` -> ``out / G`` channels, relation width ``relation_channels(in) / G``), all
    sharing one learnable topology PA and one refinement weight alpha (init 0); the groups' outputs are
    concatenated and batch-normalised. ``num_groups=1`` is CTR-GCN's graph unit without its residual.
    The grouped weights are kept as grouped convolutions (one tensor per role). On the CPU they are computed per
    group and subset (`subset_conv`), which is faster there (see the module docstring); on other devices in the
    fused form -- one grouped convolution per role and one contraction over (subset, joint) -- which launches ~10x
    fewer kernels (232 instead of 2,474 aten operators for a training step of a 64-channel layer), what a GPU step of
    these small layers is bound by. `fused` (None: by device) picks the form; both compute the same function.
    """

    fused: bool | None = None  # None: the fused form off the CPU, the per-subset form on the CPU

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        adjacency: torch.Tensor,
        num_groups: int = 1,
        reduction: int = 8,
    ):
        super().__init__()
        if in_channels % num_groups or out_channels % num_groups:
            raise ValueError(
                f"in ({in_channels}) and out ({out_channels}) channels must divide into {num_groups} groups"
            )
        k = adjacency.shape[0]
        rel = relation_channels(in_channels, reduction)
        if rel % num_groups:
            raise ValueError(f"relation channels ({rel}) must divide into {num_groups} groups")
        self.num_subsets, self.num_groups = k, num_groups
        self.conv1 = nn.Conv2d(in_channels, k * rel, kernel_size=1, groups=num_groups)  # queries
        self.conv2 = nn.Conv2d(in_channels, k * rel, kernel_size=1, groups=num_groups)  # keys
        self.conv3 = nn.Conv2d(in_channels, k * out_channels, kernel_size=1, groups=num_groups)  # features
        self.conv4 = nn.Conv2d(k * rel, k * out_channels, kernel_size=1, groups=num_groups * k)  # relation -> channels
        self.topology = nn.Parameter(adjacency.clone())  # PA, shared by the groups
        self._adjacency_init = adjacency.clone()
        self.alpha = nn.Parameter(torch.empty(1))
        self.bn = nn.BatchNorm2d(out_channels)

    @staticmethod
    def _group(conv: nn.Conv2d, g: int, num_groups: int) -> tuple[torch.Tensor, torch.Tensor]:
        size = conv.out_channels // num_groups
        return conv.weight[g * size : (g + 1) * size], conv.bias[g * size : (g + 1) * size]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fused = self.fused if self.fused is not None else x.device.type != "cpu"
        return self._forward_fused(x) if fused else self._forward_per_subset(x)

    def _forward_fused(self, x: torch.Tensor) -> torch.Tensor:
        g, k = self.num_groups, self.num_subsets
        b, _, t, v = x.shape
        pooled = x.mean(dim=2, keepdim=True)  # (B, C_in, 1, V)
        q = F.conv2d(pooled, self.conv1.weight, self.conv1.bias, groups=g)  # (B, G*K*R, 1, V): [group][subset][r]
        keys = F.conv2d(pooled, self.conv2.weight, self.conv2.bias, groups=g)
        relation = torch.tanh(q.transpose(-1, -2) - keys)  # (B, G*K*R, V, V): [u, v] = q_u - k_v
        w4, b4 = self.conv4.weight * self.alpha, self.conv4.bias * self.alpha
        topologies = F.conv2d(relation, w4, b4, groups=g * k)  # (B, G*K*C_out/G, V, V)
        out_g = topologies.shape[1] // (g * k)
        topologies = topologies.view(b, g, k, out_g, v, v) + self.topology.view(1, 1, k, 1, v, v)
        features = F.conv2d(x, self.conv3.weight, self.conv3.bias, groups=g).view(b, g, k, out_g, t, v)
        out = torch.einsum("bgkotv,bgkouv->bgotu", features, topologies)  # sum over subsets and joints v
        return self.bn(out.reshape(b, g * out_g, t, v))

    def _forward_per_subset(self, x: torch.Tensor) -> torch.Tensor:
        g_in = x.shape[1] // self.num_groups
        pooled = x.mean(dim=2, keepdim=True)  # (B, C_in, 1, V): the relations use temporal means
        outputs = []
        shared = self.topology.unbind(0)
        for g in range(self.num_groups):
            x_g, pooled_g = x[:, g * g_in : (g + 1) * g_in], pooled[:, g * g_in : (g + 1) * g_in]
            q = F.conv2d(pooled_g, *self._group(self.conv1, g, self.num_groups))  # (B, K*R/G, 1, V)
            k = F.conv2d(pooled_g, *self._group(self.conv2, g, self.num_groups))
            relation = torch.tanh(rearrange(q, "b r 1 u -> b r u 1") - rearrange(k, "b r 1 v -> b r 1 v"))
            w4, b4 = self._group(self.conv4, g, self.num_groups)
            w4, b4 = w4 * self.alpha, b4 * self.alpha  # alpha scales the weights, not the (B, C, V, V) outputs
            rel_k, out_k = relation.shape[1] // self.num_subsets, w4.shape[0] // self.num_subsets
            w3, b3 = self._group(self.conv3, g, self.num_groups)
            topologies, features = [], []
            for s in range(self.num_subsets):
                rows = slice(s * out_k, (s + 1) * out_k)
                refined = F.conv2d(relation[:, s * rel_k : (s + 1) * rel_k], w4[rows], b4[rows])
                topologies.append(refined.add_(shared[s]))
                features.append(F.conv2d(x_g, w3[rows], b3[rows]))
            outputs.append(graph_aggregate(topologies, features))
        out = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=1)
        return self.bn(out)

    def _reset_parameters(self):
        init.copy_(self.topology, self._adjacency_init)
        init.zeros_(self.alpha)
