"""skeleton-models: a Hugging Face-native model zoo for skeleton-based human action recognition.

Importing the package registers every architecture with transformers' Auto classes.
"""

__version__ = "0.1.0"

from .data import load_skeleton_dataset
from .models import (
    ARCHITECTURES,
    HGLNetConfig,
    HGLNetForSkeletonClassification,
    HGLNetModel,
    HocSLMConfig,
    HocSLMForSkeletonClassification,
    HocSLMModel,
    register_architectures,
)
from .processing_skeleton import SkeletonProcessor
from .skeletons import SkeletonLayout, get_layout, list_layouts, register_layout

register_architectures()

__all__ = [
    "ARCHITECTURES",
    "HGLNetConfig",
    "HGLNetForSkeletonClassification",
    "HGLNetModel",
    "HocSLMConfig",
    "HocSLMForSkeletonClassification",
    "HocSLMModel",
    "SkeletonLayout",
    "SkeletonProcessor",
    "__version__",
    "get_layout",
    "list_layouts",
    "load_skeleton_dataset",
    "register_layout",
]
