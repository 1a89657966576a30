# Generated from skeleton_models/layers/__init__.py by utils/write_modeling.py; do not edit.
"""Shared building blocks. Architectures import from here; nothing here is specific to one paper."""

from .attention import CrossAttention, gaussian_orthogonal_random_matrix, performer_attention
from .backbone import STGCN_PARTITIONS, STGCNBlock, run_graph_blocks, stgcn_spatial_graph
from .graph import ChannelTopologyRefinement, GroupedTopologyGraphConv, StaticTopologyGraphConv, graph_aggregate, relation_channels, subset_conv
from .initialization import classifier_init, constant_norm_init, kaiming_conv_init, lecun_normal_init
from .masking import MASK_KINDS, motion_token_mask, random_token_mask, semantic_groups, semantic_tube_mask, token_mask
from .self_distillation import TEACHER_CENTERINGS, DINOHead, PrototypeLinear, SoftmaxCenter, cosine_schedule, dino_cross_entropy, ema_update_, ibot_patch_loss, koleo_loss, sinkhorn_knopp, teacher_momentum_schedule, teacher_temperature_schedule
from .shift import AdaptiveTemporalShift, NonLocalSpatialShift
from .temporal import DeformableTemporalConv, MultiScaleTemporalConv, TemporalConv
from .vit import DropPath, SelfAttention, SkeletonPatchEmbed, TokenBatchNorm, TransformerBlock, mlp, motion_aware_masking, patch_motion, patchify, person_sequences, present_persons, restore_rows

__all__ = [
    "MASK_KINDS",
    "TEACHER_CENTERINGS",
    "DINOHead",
    "PrototypeLinear",
    "SoftmaxCenter",
    "cosine_schedule",
    "dino_cross_entropy",
    "ema_update_",
    "ibot_patch_loss",
    "koleo_loss",
    "motion_token_mask",
    "random_token_mask",
    "semantic_groups",
    "semantic_tube_mask",
    "sinkhorn_knopp",
    "teacher_momentum_schedule",
    "teacher_temperature_schedule",
    "token_mask",
    "AdaptiveTemporalShift",
    "NonLocalSpatialShift",
    "STGCN_PARTITIONS",
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
    "TokenBatchNorm",
    "TransformerBlock",
    "classifier_init",
    "constant_norm_init",
    "graph_aggregate",
    "kaiming_conv_init",
    "lecun_normal_init",
    "mlp",
    "motion_aware_masking",
    "patch_motion",
    "patchify",
    "person_sequences",
    "present_persons",
    "restore_rows",
    "relation_channels",
    "run_graph_blocks",
    "stgcn_spatial_graph",
    "subset_conv",
]
