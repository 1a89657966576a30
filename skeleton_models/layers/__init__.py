"""Shared building blocks. Architectures import from here; nothing here is specific to one paper."""

from .graph import ChannelTopologyRefinement, graph_aggregate, relation_channels, subset_conv
from .initialization import classifier_init, constant_norm_init, kaiming_conv_init, lecun_normal_init
from .temporal import MultiScaleTemporalConv, TemporalConv

__all__ = [
    "ChannelTopologyRefinement",
    "MultiScaleTemporalConv",
    "TemporalConv",
    "classifier_init",
    "constant_norm_init",
    "graph_aggregate",
    "kaiming_conv_init",
    "lecun_normal_init",
    "relation_channels",
    "subset_conv",
]
