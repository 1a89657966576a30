# Generated from skeleton_models/registry.py by utils/write_modeling.py; do not edit.
"""The architecture registry: what each architecture is made of, declared once by the architecture itself.

Every architecture's package (``skeleton_models/models/<arch>/__init__.py``) ends with one
`register_architecture(Architecture(...))`. Registering records the architecture here and registers its classes
with transformers' Auto classes; everything that works over all architectures (the common model tests,
benchmarks, remote-code export, model cards, the zoo catalog, the CLI) enumerates `ARCHITECTURES`.

This module sits at the bottom of the package: it imports nothing of skeleton_models, so any layer may use it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from os import PathLike
from typing import Any

import transformers
from transformers import AutoConfig, AutoFeatureExtractor, AutoModel, AutoProcessor, ProcessorMixin

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "InputSpec",
    "get_architecture",
    "load_checkpoint",
    "load_processor",
    "register_architecture",
]


INPUT_KINDS = ("skeleton", "text", "image", "video", "features")


@dataclass(frozen=True)
class InputSpec:
    """One named input of a model, as its configuration determines it.

    Attributes:
        name: the ``forward`` argument (``"skeletons"``, ``"hands"``, ``"pixel_values"``); for text inputs the stem
            of ``<name>_ids`` / ``<name>_mask`` (``"description"``).
        kind: ``"skeleton"`` (N, C, T, V, M) float, ``"text"`` (N, L) token ids + mask, ``"image"`` (N, C, H, W)
            float (e.g. BHaRNet-M's RGB ROI mosaic), ``"video"`` (N, T, 3, H, W), ``"features"`` (N, C) float
            features of a frozen encoder, precomputed (e.g. TDSM's skeleton features, cached as a dataset column).
        layout: skeleton layout name (see `skeleton_models.skeletons`).
        channels: C, channels per joint (skeletons), per pixel (video) or of the feature vector (features).
        persons: M, the number of persons (skeleton instances) the model expects; None for any.
        frames: T when the model needs a fixed number of frames (e.g. patch-embedded ViTs); None for any.
        vocab_size: size of the token vocabulary (text).
        size: (H, W) when the model needs a fixed image size (images).
        optional: the model runs without this input (e.g. HocSLM's descriptions, used for a training loss).
    """

    name: str
    kind: str
    layout: str | None = None
    channels: int | None = None
    persons: int | None = None
    frames: int | None = None
    vocab_size: int | None = None
    size: tuple[int, int] | None = None
    optional: bool = False

    def __post_init__(self):
        if self.kind not in INPUT_KINDS:
            raise ValueError(f"input {self.name!r}: kind must be one of {INPUT_KINDS}, got {self.kind!r}")
        if self.kind == "skeleton" and (self.layout is None or self.channels is None):
            raise ValueError(f"skeleton input {self.name!r} needs a layout and channels")
        if self.kind == "features" and self.channels is None:
            raise ValueError(f"features input {self.name!r} needs channels")


@dataclass(frozen=True)
class Architecture:
    """One registered architecture.

    Attributes:
        model_type: the ``config.model_type``.
        config_class: its `SkeletonConfig` subclass (presets: ``config_class.presets``; inputs:
            ``config.input_specs``).
        base_model_class: the feature model, registered under ``AutoModel``.
        task_classes: task models by the transformers Auto class they are registered under, e.g.
            ``{"AutoModelForVideoClassification": HGLNetForSkeletonClassification}``.
        tiny_config: keyword arguments of `config_class` for a model small enough for tests (built in well under a
            second, forward in milliseconds).
        processor_class: the class that prepares this architecture's inputs (a feature extractor, or a
            `ProcessorMixin` pairing it with a tokenizer); registered under ``AutoFeatureExtractor`` /
            ``AutoProcessor``.
        title: a human-readable name for tables and cards (e.g. ``"HGLNet"``).
        paper: citation of the method.
    """

    model_type: str
    config_class: type
    base_model_class: type
    task_classes: dict[str, type]
    tiny_config: dict[str, Any]
    processor_class: type
    title: str
    paper: str = ""

    @property
    def classification_class(self) -> type | None:
        """The task model under ``AutoModelForVideoClassification``, if the architecture has one."""
        return self.task_classes.get("AutoModelForVideoClassification")

    @property
    def model_classes(self) -> list[type]:
        """The base model and every task model."""
        return list(dict.fromkeys([self.base_model_class, *self.task_classes.values()]))

    @property
    def presets(self) -> dict[str, dict]:
        return dict(self.config_class.presets)

    def tiny(self, **overrides):
        """The tiny test configuration, with overrides."""
        return self.config_class(**{**copy.deepcopy(self.tiny_config), **overrides})


ARCHITECTURES: dict[str, Architecture] = {}


def register_architecture(architecture: Architecture) -> Architecture:
    """Record an architecture and register its classes with transformers' Auto classes. Idempotent."""
    arch = architecture
    if arch.config_class.model_type != arch.model_type:
        raise ValueError(f"{arch.config_class.__name__}.model_type is not {arch.model_type!r}")
    for cls in arch.model_classes:
        if cls.config_class is not arch.config_class:
            raise ValueError(f"{cls.__name__}.config_class must be {arch.config_class.__name__}")
    ARCHITECTURES[arch.model_type] = arch
    AutoConfig.register(arch.model_type, arch.config_class, exist_ok=True)
    AutoModel.register(arch.config_class, arch.base_model_class, exist_ok=True)
    for auto_class, model_class in arch.task_classes.items():
        getattr(transformers, auto_class).register(arch.config_class, model_class, exist_ok=True)
    if issubclass(arch.processor_class, ProcessorMixin):
        AutoProcessor.register(arch.config_class, arch.processor_class, exist_ok=True)
        feature_extractor = getattr(arch.processor_class, "feature_extractor_class_type", None)
        if feature_extractor is not None:
            AutoFeatureExtractor.register(arch.config_class, feature_extractor, exist_ok=True)
    else:
        AutoFeatureExtractor.register(arch.config_class, arch.processor_class, exist_ok=True)
    return arch


def get_architecture(model_type: str) -> Architecture:
    """The registered architecture of a ``model_type``; a clear error for an unknown one."""
    if model_type not in ARCHITECTURES:
        raise ValueError(f"unknown model_type {model_type!r}; registered: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[model_type]


def load_checkpoint(path: str | PathLike, **kwargs):
    """Load a skeleton_models checkpoint as the class it was saved from (``config.architectures[0]``)."""
    config = AutoConfig.from_pretrained(path)
    arch = get_architecture(config.model_type)
    classes = {cls.__name__: cls for cls in arch.model_classes}
    name = (config.architectures or [arch.base_model_class.__name__])[0]
    if name not in classes:
        raise ValueError(f"{path}: unknown architecture class {name!r}; {config.model_type} has {sorted(classes)}")
    return classes[name].from_pretrained(path, **kwargs)


def load_processor(path: str | PathLike, **kwargs):
    """Load the processor saved with a checkpoint: its architecture's processor class, or only the skeleton
    feature extractor when the checkpoint has no tokenizer for a text processor."""
    arch = get_architecture(AutoConfig.from_pretrained(path).model_type)
    processor_class = arch.processor_class
    if issubclass(processor_class, ProcessorMixin):
        try:
            return processor_class.from_pretrained(path, **kwargs)
        except (OSError, ValueError, TypeError):
            processor_class = processor_class.feature_extractor_class_type
    return processor_class.from_pretrained(path, **kwargs)
