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
from .vit import (
    DropPath,
    SelfAttention,
    SkeletonPatchEmbed,
    TransformerBlock,
    motion_aware_masking,
    patch_motion,
    patchify,
)

__all__ = [
    "AdaptiveTemporalShift",
    "NonLocalSpatialShift",
    "STGCNBlock",
    "ChannelTopologyRefinement",
    "CrossAttention",
    "DeformableTemporalConv",
    "DropPath",
    "GroupedTopologyGraphConv",
    "StaticTopologyGraphConv",
    "gaussian_orthogonal_random_matrix",
    "performer_attention",
    "MultiScaleTemporalConv",
    "SelfAttention",
    "SkeletonPatchEmbed",
    "TemporalConv",
    "TransformerBlock",
    "classifier_init",
    "constant_norm_init",
    "graph_aggregate",
    "kaiming_conv_init",
    "lecun_normal_init",
    "motion_aware_masking",
    "patch_motion",
    "patchify",
    "relation_channels",
    "run_graph_blocks",
    "subset_conv",
]
