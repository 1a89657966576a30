"""GFP: masked skeleton modeling with hierarchical feature prediction (Sun et al., ICCV 2025), with its MAMP and
SkeletonMAE baselines as presets."""

from ...processing_skeleton import SkeletonProcessor
from ...registry import Architecture, register_architecture
from . import convert_gfp  # noqa: F401  (registers the conversions "mamp" and "mamp-pretrain")
from .configuration_gfp import GFPConfig
from .modeling_gfp import (
    GFPForPreTraining,
    GFPForSkeletonClassification,
    GFPModel,
    GFPPreTrainedModel,
    variance_covariance_losses,
)

__all__ = [
    "GFPConfig",
    "GFPForPreTraining",
    "GFPForSkeletonClassification",
    "GFPModel",
    "GFPPreTrainedModel",
    "variance_covariance_losses",
]

register_architecture(
    Architecture(
        model_type="gfp",
        config_class=GFPConfig,
        base_model_class=GFPModel,
        task_classes={
            "AutoModelForVideoClassification": GFPForSkeletonClassification,
            "AutoModelForPreTraining": GFPForPreTraining,
        },
        tiny_config=dict(
            num_frames=16,
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            decoder_hidden_size=16,
            pooling_kernels=[2, 2],
            target_size=8,
            projector_hidden_size=16,
            global_hidden_size=32,
            tgn_hidden_size=16,
            tgn_global_hidden_size=32,
            mask_ratio=0.75,
            num_labels=5,
        ),
        processor_class=SkeletonProcessor,
        title="GFP",
        paper="Sun, Zhang, Dong, Cheng, Chang, Wang. Towards efficient general feature prediction in masked skeleton "
        "modeling. ICCV 2025",
    )
)
