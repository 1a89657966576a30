"""Architectures. Importing this package imports every architecture's package, each of which registers itself
(`skeleton_models.registry.register_architecture`) with the registry and transformers' Auto classes."""

from ..registry import ARCHITECTURES, Architecture, get_architecture
from .bharnet import BHaRNetConfig, BHaRNetForSkeletonClassification, BHaRNetModel
from .gfp import GFPConfig, GFPForPreTraining, GFPForSkeletonClassification, GFPModel
from .hglnet import HGLNetConfig, HGLNetForSkeletonClassification, HGLNetModel
from .hocslm import HocSLMConfig, HocSLMForSkeletonClassification, HocSLMModel
from .shiftgcn import ShiftGCNConfig, ShiftGCNForSkeletonClassification, ShiftGCNModel
from .slim import SLiMConfig, SLiMForPreTraining, SLiMForSkeletonClassification, SLiMModel
from .stgcn import STGCNConfig, STGCNForSkeletonClassification, STGCNModel
from .tdsm import TDSMConfig, TDSMForZeroShotSkeletonClassification, TDSMModel

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "BHaRNetConfig",
    "BHaRNetForSkeletonClassification",
    "BHaRNetModel",
    "GFPConfig",
    "GFPForPreTraining",
    "GFPForSkeletonClassification",
    "GFPModel",
    "HGLNetConfig",
    "HGLNetForSkeletonClassification",
    "HGLNetModel",
    "HocSLMConfig",
    "HocSLMForSkeletonClassification",
    "HocSLMModel",
    "ShiftGCNConfig",
    "ShiftGCNForSkeletonClassification",
    "ShiftGCNModel",
    "SLiMConfig",
    "SLiMForPreTraining",
    "SLiMForSkeletonClassification",
    "SLiMModel",
    "STGCNConfig",
    "STGCNForSkeletonClassification",
    "STGCNModel",
    "TDSMConfig",
    "TDSMForZeroShotSkeletonClassification",
    "TDSMModel",
    "get_architecture",
]
