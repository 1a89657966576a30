"""Shift-GCN: skeleton-based action recognition with shift graph convolutional networks (Cheng et al., CVPR 2020);
TDSM's skeleton encoder on the SynSE and PURLS zero-shot splits. Official checkpoints convert with
``skeleton-models convert --from shiftgcn`` (`convert_shiftgcn`)."""

from ...processing_skeleton import SkeletonProcessor
from ...registry import Architecture, register_architecture
from .configuration_shiftgcn import ShiftGCNConfig
from .convert_shiftgcn import SHIFTGCN_CONVERSION  # noqa: F401  (registers `skeleton-models convert --from shiftgcn`)
from .modeling_shiftgcn import ShiftGCNForSkeletonClassification, ShiftGCNModel, ShiftGCNPreTrainedModel

__all__ = ["ShiftGCNConfig", "ShiftGCNForSkeletonClassification", "ShiftGCNModel", "ShiftGCNPreTrainedModel"]

register_architecture(
    Architecture(
        model_type="shiftgcn",
        config_class=ShiftGCNConfig,
        base_model_class=ShiftGCNModel,
        task_classes={"AutoModelForVideoClassification": ShiftGCNForSkeletonClassification},
        tiny_config=dict(hidden_sizes=[8, 8, 16], strides=[1, 2, 1], num_labels=5),
        processor_class=SkeletonProcessor,
        title="Shift-GCN",
        paper="Cheng, Zhang, He, Chen, Cheng, Lu. Skeleton-based action recognition with shift graph convolutional "
        "network. CVPR 2020",
    )
)
