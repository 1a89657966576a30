"""skeleton-models: a Hugging Face-native model zoo for skeleton-based human action recognition.

Importing the package registers every architecture with transformers' Auto classes.
"""

__version__ = "0.1.0"

from .data import load_skeleton_dataset
from .models import (
    BHaRNetConfig,
    BHaRNetForSkeletonClassification,
    BHaRNetModel,
    GFPConfig,
    GFPForPreTraining,
    GFPForSkeletonClassification,
    GFPModel,
    HGLNetConfig,
    HGLNetForSkeletonClassification,
    HGLNetModel,
    HocSLMConfig,
    HocSLMForSkeletonClassification,
    HocSLMModel,
    ShiftGCNConfig,
    ShiftGCNForSkeletonClassification,
    ShiftGCNModel,
    SLiMConfig,
    SLiMForPreTraining,
    SLiMForSkeletonClassification,
    SLiMModel,
    STGCNConfig,
    STGCNForSkeletonClassification,
    STGCNModel,
    TDSMConfig,
    TDSMForZeroShotSkeletonClassification,
    TDSMModel,
)
from .pipelines import SkeletonActionRecognitionPipeline
from .processing_skeleton import SkeletonProcessor, SkeletonTextProcessor
from .registry import ARCHITECTURES, Architecture, CheckpointError, InputSpec, get_architecture, load_checkpoint
from .skeletons import SkeletonLayout, get_layout, list_layouts, register_layout

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "BHaRNetConfig",
    "BHaRNetForSkeletonClassification",
    "BHaRNetModel",
    "CheckpointError",
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
    "InputSpec",
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
    "SkeletonLayout",
    "SkeletonActionRecognitionPipeline",
    "SkeletonProcessor",
    "SkeletonTextProcessor",
    "__version__",
    "get_architecture",
    "get_layout",
    "list_layouts",
    "load_checkpoint",
    "load_skeleton_dataset",
    "register_layout",
]
