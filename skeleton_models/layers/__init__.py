"""Shared building blocks. Architectures import from here; nothing here is specific to one paper."""

from .graph import (
    ChannelTopologyRefinement,
    classifier_init,
    constant_norm_init,
    graph_aggregate,
    kaiming_conv_init,
    relation_channels,
)
from .temporal import MultiScaleTemporalConv, TemporalConv

__all__ = [
    "ChannelTopologyRefinement",
    "MultiScaleTemporalConv",
    "TemporalConv",
    "classifier_init",
    "constant_norm_init",
    "graph_aggregate",
    "kaiming_conv_init",
    "relation_channels",
]
