"""HGLNet: HocSLM's hierarchical global-local skeleton network (Wang et al., arXiv 2603.27103)."""

from ...processing_skeleton import SkeletonProcessor
from ...registry import Architecture, register_architecture
from . import convert_hglnet  # noqa: F401  (registers the 'ctrgcn' conversion of official checkpoints)
from .configuration_hglnet import HGLNetConfig
from .modeling_hglnet import HGLNetForSkeletonClassification, HGLNetModel, HGLNetPreTrainedModel

__all__ = ["HGLNetConfig", "HGLNetForSkeletonClassification", "HGLNetModel", "HGLNetPreTrainedModel"]

register_architecture(
    Architecture(
        model_type="hglnet",
        config_class=HGLNetConfig,
        base_model_class=HGLNetModel,
        task_classes={"AutoModelForVideoClassification": HGLNetForSkeletonClassification},
        tiny_config=dict(hidden_sizes=[8, 8, 16], strides=[1, 2, 1], num_labels=5, lse_hidden_size=4),
        processor_class=SkeletonProcessor,
        title="HGLNet",
        paper="Wang, Zuo, Li, Xia. HocSLM: a hierarchical global-local skeleton-language model for "
        "skeleton-based action recognition. arXiv:2603.27103",
    )
)
