"""Architectures. Each entry of `ARCHITECTURES` is registered with transformers' Auto classes on import."""

from __future__ import annotations

from dataclasses import dataclass, field

import transformers
from transformers import AutoConfig, AutoFeatureExtractor, AutoModel, PretrainedConfig, PreTrainedModel

from ..processing_skeleton import SkeletonProcessor
from .hglnet import HGLNetConfig, HGLNetForSkeletonClassification, HGLNetModel
from .hocslm import HocSLMConfig, HocSLMForSkeletonClassification, HocSLMModel


@dataclass(frozen=True)
class Architecture:
    """One registered architecture: its config, its feature model (under AutoModel) and its task models, each
    under a transformers Auto class (e.g. ``{"AutoModelForVideoClassification": ...ForSkeletonClassification}``)."""

    model_type: str
    config_class: type[PretrainedConfig]
    base_model_class: type[PreTrainedModel]
    task_classes: dict[str, type[PreTrainedModel]] = field(default_factory=dict)

    @property
    def classification_class(self) -> type[PreTrainedModel] | None:
        return self.task_classes.get("AutoModelForVideoClassification")


ARCHITECTURES: dict[str, Architecture] = {
    "hglnet": Architecture(
        "hglnet", HGLNetConfig, HGLNetModel, {"AutoModelForVideoClassification": HGLNetForSkeletonClassification}
    ),
    "hocslm": Architecture(
        "hocslm", HocSLMConfig, HocSLMModel, {"AutoModelForVideoClassification": HocSLMForSkeletonClassification}
    ),
}


def register_architectures() -> None:
    """Register every architecture with AutoConfig, AutoModel, its task Auto classes and (for its
    `SkeletonProcessor`) AutoFeatureExtractor. Idempotent."""
    for arch in ARCHITECTURES.values():
        AutoConfig.register(arch.model_type, arch.config_class, exist_ok=True)
        AutoFeatureExtractor.register(arch.config_class, SkeletonProcessor, exist_ok=True)
        AutoModel.register(arch.config_class, arch.base_model_class, exist_ok=True)
        for auto_class, model_class in arch.task_classes.items():
            getattr(transformers, auto_class).register(arch.config_class, model_class, exist_ok=True)


__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "HGLNetConfig",
    "HGLNetForSkeletonClassification",
    "HGLNetModel",
    "HocSLMConfig",
    "HocSLMForSkeletonClassification",
    "HocSLMModel",
    "register_architectures",
]
