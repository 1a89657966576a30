from .configuration_hglnet import HGLNET_PRESETS, HGLNetConfig
from .modeling_hglnet import HGLNetForSkeletonClassification, HGLNetModel, HGLNetPreTrainedModel

__all__ = [
    "HGLNET_PRESETS",
    "HGLNetConfig",
    "HGLNetForSkeletonClassification",
    "HGLNetModel",
    "HGLNetPreTrainedModel",
]
