"""Shared building blocks. Architectures import from here; nothing here is specific to one paper."""

from .attention import CrossAttention, gaussian_orthogonal_random_matrix, performer_attention
from .backbone import STGCNBlock, run_graph_blocks
from .graph import (
    ChannelTopologyRefinement,
    GroupedTopologyGraphConv,
    StaticTopologyGraphConv,
    graph_aggregate,
    relation_channels,
    subset_conv,
)
from .initialization import classifier_init, constant_norm_init, kaiming_conv_init, lecun_normal_init
from .shift import AdaptiveTemporalShift, NonLocalSpatialShift
from .temporal import DeformableTemporalConv, MultiScaleTemporalConv, TemporalConv

__all__ = [
    "AdaptiveTemporalShift",
    "NonLocalSpatialShift",
    "STGCNBlock",
    "ChannelTopologyRefinement",
    "CrossAttention",
    "DeformableTemporalConv",
    "GroupedTopologyGraphConv",
    "StaticTopologyGraphConv",
    "gaussian_orthogonal_random_matrix",
    "performer_attention",
    "MultiScaleTemporalConv",
    "TemporalConv",
    "classifier_init",
    "constant_norm_init",
    "graph_aggregate",
    "kaiming_conv_init",
    "lecun_normal_init",
    "relation_channels",
    "run_graph_blocks",
    "subset_conv",
]
