"""Architectures. Each entry of `ARCHITECTURES` is registered with transformers' Auto classes on import."""

from __future__ import annotations

from dataclasses import dataclass

from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModel,
    AutoModelForVideoClassification,
    PretrainedConfig,
    PreTrainedModel,
)

from ..processing_skeleton import SkeletonProcessor
from .hglnet import HGLNetConfig, HGLNetForSkeletonClassification, HGLNetModel


@dataclass(frozen=True)
class Architecture:
    """One registered architecture: its config, its feature model (AutoModel) and its task models."""

    model_type: str
    config_class: type[PretrainedConfig]
    base_model_class: type[PreTrainedModel]
    classification_class: type[PreTrainedModel] | None = None


ARCHITECTURES: dict[str, Architecture] = {
    "hglnet": Architecture("hglnet", HGLNetConfig, HGLNetModel, HGLNetForSkeletonClassification),
}


def register_architectures() -> None:
    """Register every architecture with AutoConfig, AutoModel, AutoModelForVideoClassification and (for its
    `SkeletonProcessor`) AutoFeatureExtractor. Idempotent."""
    for arch in ARCHITECTURES.values():
        AutoConfig.register(arch.model_type, arch.config_class, exist_ok=True)
        AutoFeatureExtractor.register(arch.config_class, SkeletonProcessor, exist_ok=True)
        AutoModel.register(arch.config_class, arch.base_model_class, exist_ok=True)
        if arch.classification_class is not None:
            AutoModelForVideoClassification.register(arch.config_class, arch.classification_class, exist_ok=True)


__all__ = ["ARCHITECTURES", "Architecture", "HGLNetConfig", "HGLNetForSkeletonClassification", "HGLNetModel",
           "register_architectures"]  # fmt: skip
