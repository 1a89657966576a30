"""The frame of a graph-convolutional skeleton network (ST-GCN / CTR-GCN lineage): input BatchNorm over persons,
joints and channels, then a stack of blocks on (batch x persons, C, T, V) tensors; ST-GCN's block and its graph."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from transformers.modeling_layers import GradientCheckpointingLayer

from ..skeletons import SkeletonLayout, get_layout
from .graph import StaticTopologyGraphConv
from .temporal import TemporalConv

__all__ = ["STGCN_PARTITIONS", "STGCNBlock", "run_graph_blocks", "stgcn_spatial_graph"]

# ST-GCN's "spatial" graph: as the official code computes it (the default), or with exact distances to the centre.
STGCN_PARTITIONS = ("official", "geometric")
# net/utils/graph.py: `Graph(max_hop=1)`, the default; no official config or model passes another value.
_OFFICIAL_MAX_HOP = 1


def stgcn_spatial_graph(layout: str | SkeletonLayout, partition: str = "official") -> np.ndarray:
    """ST-GCN's spatial-configuration graph of a layout (Yan et al., AAAI 2018, section 3.6): float32 (3, V, V).

    ``A[k, u, v]`` is the weight of joint v in joint u's output in subset k, the orientation `graph_aggregate` reads;
    the official ``Graph.A`` stores the transpose (``A[k, v, u]``: its einsum ``'nkctv,kvw->nctw'`` sums over the
    middle index). Written from our reading of yysijie/st-gcn@221c0e1 ``net/utils/graph.py`` (``Graph.get_edge``,
    ``get_hop_distance``, ``Graph.get_adjacency`` with ``strategy="spatial"``, ``normalize_digraph``):

    - the neighbourhood of joint u is u itself and the joints one bone away; every neighbour weighs 1 / (size of the
      neighbourhood), so that u's weights over the three subsets sum to 1 (``normalize_digraph``: A D^-1 with D the
      degrees, self-link included);
    - each neighbour v is put in a subset by comparing r_v and r_u, the joints' distances to the layout's centre
      joint: subset 0 holds u itself, subset 2 the neighbours closer to the centre (r_v < r_u, centripetal), subset 1
      all others (r_v >= r_u: centrifugal, and the neighbours at the same distance, which the official code adds to
      this subset).

    `partition` says what r is:

    - ``"official"`` (default): what the official code computes. ``get_hop_distance`` keeps distances up to
      ``max_hop`` only (the default 1, which no official configuration changes) and leaves the others infinite, so r
      is 0 at the centre, 1 for its neighbours and infinite for every other joint; two neighbours that are both more
      than one bone from the centre are "at the same distance", and the edge between them is in subset 1 both ways.
      ``ntu25``: 25 / 40 / 8 non-zero weights per subset, the official ``Graph("ntu-rgb+d", "spatial").A``;
      ``openpose18``: 18 / 25 / 9, the official ``Graph("openpose", "spatial").A``. The centres are the official
      ones: ``ntu25`` joint 21 (1-based; index 20), ``openpose18`` index 1 (neck).
    - ``"geometric"``: r the exact number of bones to the centre, the partition the paper describes (with the centre
      joint for its gravity centre). In a tree every bone is in subset 1 one way and in subset 2 the other
      (``ntu25``: 25 / 24 / 24). Same neighbourhoods and weights.

    The official code has graphs for ``ntu-rgb+d`` and ``openpose`` only; other layouts get the same rule from their
    bones and centre joint. Isolated joints (padding nodes without bones) have only themselves, with weight 1.
    """
    if partition not in STGCN_PARTITIONS:
        raise ValueError(f"partition must be one of {STGCN_PARTITIONS}, got {partition!r}")
    layout = get_layout(layout)
    v = layout.num_joints
    neighbours = [{joint} for joint in range(v)]
    for child, parent in layout.bones:
        neighbours[child].add(parent)
        neighbours[parent].add(child)
    # In a tree rooted at the centre joint the hop distance to the centre is the number of bones up to it.
    distance = layout.depth().astype(np.float64)
    distance[list(layout.isolated)] = np.inf
    if partition == "official":
        distance[distance > _OFFICIAL_MAX_HOP] = np.inf
    graph = np.zeros((3, v, v), dtype=np.float64)
    for u in range(v):
        weight = 1.0 / len(neighbours[u])
        for w in neighbours[u]:
            subset = 0 if w == u else 2 if distance[w] < distance[u] else 1
            graph[subset, u, w] = weight
    return graph.astype(np.float32)


class STGCNBlock(GradientCheckpointingLayer):
    """ST-GCN's ``st_gcn`` block (Yan et al., AAAI 2018): graph conv with edge-importance weighting, then BN ->
    ReLU -> (k x 1) temporal conv -> BN -> dropout, plus a residual, ReLU. (B, C_in, T, V) -> (B, C_out, T', V).

    Args:
        adjacency: (K, V, V) the graph's subsets, ``adjacency[k, u, v]`` the weight of joint v in joint u's output
            (ST-GCN: `stgcn_spatial_graph`).
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
