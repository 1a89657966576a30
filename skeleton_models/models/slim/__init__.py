"""SLiM: decoder-free masked feature modeling with global-local contrastive learning, semantic tube masking and
skeleton-aware augmentations (Do, Chen, Youk, Kim, arXiv 2603.10648)."""

from ...processing_skeleton import SkeletonProcessor
from ...registry import Architecture, register_architecture
from .configuration_slim import SLiMConfig
from .modeling_slim import (
    SLiMForPreTraining,
    SLiMForSkeletonClassification,
    SLiMModel,
    SLiMPreTrainedModel,
    SLiMTeacherCallback,
    TemporalRotaryEmbedding,
)

__all__ = [
    "SLiMConfig",
    "SLiMForPreTraining",
    "SLiMForSkeletonClassification",
    "SLiMModel",
    "SLiMPreTrainedModel",
    "SLiMTeacherCallback",
    "TemporalRotaryEmbedding",
]

register_architecture(
    Architecture(
        model_type="slim",
        config_class=SLiMConfig,
        base_model_class=SLiMModel,
        task_classes={
            "AutoModelForVideoClassification": SLiMForSkeletonClassification,
            "AutoModelForPreTraining": SLiMForPreTraining,
        },
        tiny_config=dict(
            num_frames=16,
            temporal_patch=4,
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_register_tokens=2,
            head_hidden_size=32,
            head_bottleneck_size=8,
            num_prototypes=64,
            mask_min_area=2,
            num_labels=5,
        ),
        processor_class=SkeletonProcessor,
        title="SLiM",
        paper="Do, Chen, Youk, Kim. Skeleton Less is More: decoder-free masked modeling with global-local "
        "contrastive learning for skeleton-based action recognition. arXiv 2603.10648",
    )
)
