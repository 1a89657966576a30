"""BHaRNet: body-hand modality expertized networks with cross-attention (Cho & Kim, IROS 2025)."""

from ...processing_skeleton import SkeletonProcessor
from ...registry import Architecture, register_architecture
from . import convert_bharnet  # noqa: F401  (registers the 'degcn' conversion of official checkpoints)
from .configuration_bharnet import BHaRNetConfig
from .modeling_bharnet import BHaRNetForSkeletonClassification, BHaRNetModel, BHaRNetPreTrainedModel

__all__ = ["BHaRNetConfig", "BHaRNetForSkeletonClassification", "BHaRNetModel", "BHaRNetPreTrainedModel"]

register_architecture(
    Architecture(
        model_type="bharnet",
        config_class=BHaRNetConfig,
        base_model_class=BHaRNetModel,
        task_classes={"AutoModelForVideoClassification": BHaRNetForSkeletonClassification},
        tiny_config=dict(
            hidden_sizes=[8, 8, 16],
            strides=[1, 2, 1],
            num_scales=1,
            attention_heads=2,
            num_labels=5,
            # a two-stage ResNet on 8-px tiles for the RGB presets (BHaRNet-M)
            rgb_backbone={"layer_type": "basic", "depths": [1, 1], "hidden_sizes": [8, 16], "embedding_size": 8},
            rgb_patch_size=8,
        ),
        processor_class=SkeletonProcessor,
        title="BHaRNet",
        paper="Cho, Kim. Body-Hand Modality Expertized Networks with Cross-attention for Fine-grained Skeleton "
        "Action Recognition. IROS 2025, arXiv:2503.14960",
    )
)
