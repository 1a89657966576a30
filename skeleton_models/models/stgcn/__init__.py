"""ST-GCN: spatial temporal graph convolutional networks (Yan et al., AAAI 2018); TDSM's skeleton encoder on the
SMIE-style zero-shot splits."""

from ...processing_skeleton import SkeletonProcessor
from ...registry import Architecture, register_architecture
from . import convert_stgcn  # noqa: F401  (registers the conversion "stgcn" of official checkpoints)
from .configuration_stgcn import STGCNConfig
from .modeling_stgcn import STGCNForSkeletonClassification, STGCNModel, STGCNPreTrainedModel

__all__ = ["STGCNConfig", "STGCNForSkeletonClassification", "STGCNModel", "STGCNPreTrainedModel"]

register_architecture(
    Architecture(
        model_type="stgcn",
        config_class=STGCNConfig,
        base_model_class=STGCNModel,
        task_classes={"AutoModelForVideoClassification": STGCNForSkeletonClassification},
        tiny_config=dict(hidden_sizes=[8, 8, 16], strides=[1, 2, 1], num_labels=5, temporal_kernel_size=3),
        processor_class=SkeletonProcessor,
        title="ST-GCN",
        paper="Yan, Xiong, Lin. Spatial temporal graph convolutional networks for skeleton-based action "
        "recognition. AAAI 2018",
    )
)
