"""The architecture registry: what each architecture is made of, declared once by the architecture itself.

Every architecture's package (``skeleton_models/models/<arch>/__init__.py``) ends with one
`register_architecture(Architecture(...))`. Registering records the architecture here and registers its classes
with transformers' Auto classes; everything that works over all architectures (the common model tests,
benchmarks, remote-code export, model cards, the zoo catalog, the CLI) enumerates `ARCHITECTURES`.

This module sits at the bottom of the package: it imports nothing of skeleton_models, so any layer may use it.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import transformers
from transformers import AutoConfig, AutoFeatureExtractor, AutoModel, AutoProcessor, PretrainedConfig, ProcessorMixin

try:  # transformers' weights format, installed with it; inside try: this module is part of the remote-code bundle
    from safetensors import SafetensorError
except ImportError:  # pragma: no cover - transformers requires safetensors
    SafetensorError = OSError

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "CheckpointError",
    "InputSpec",
    "checkpoint_config",
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


class CheckpointError(Exception):
    """A checkpoint cannot be used as it was saved: no such folder, no ``config.json``, a ``model_type`` this library
    does not know, a weights file that cannot be read or whose weights do not match the configuration. The message
    names the folder (or file) and what was expected, in one line.

    Not a ValueError or OSError on purpose: transformers' ``pipeline()`` catches those from a model class's
    ``from_pretrained``, tries other classes and re-raises them as one message of tracebacks; this error reaches the
    caller as it is."""


# Where the transformers loading report (a table of missing / unexpected keys) is logged; `load_checkpoint` raises
# its own one-line error for those instead.
_LOADING_LOGGER = "transformers.modeling_utils"
_HUB_KWARGS = ("cache_dir", "force_download", "local_files_only", "proxies", "revision", "subfolder", "token")


def _looks_like_a_path(name: str) -> bool:
    """Whether `name`, not an existing folder, was meant as a local folder rather than a Hub repo id.

    A Hub id is ``name`` or ``org/name`` (letters, digits, ``-``, ``_``, ``.``; not starting with ``.``). So a path
    is: what starts with ``.``, ``/`` or ``~``, holds a backslash or more than one ``/``, an existing file, or an
    ``a/b`` whose ``a`` is an existing local folder (``outputs/hglnet`` run where ``outputs/`` is). Everything else
    (``hglnet-ntu60`` with no such folder here, ``org/hglnet-ntu60``) is looked up on the Hub."""
    if name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1 or os.path.exists(name):
        return True
    head, slash, _ = name.partition("/")
    return bool(slash) and os.path.isdir(head)


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def checkpoint_config(path: str | PathLike, **kwargs) -> PretrainedConfig:
    """The configuration of a checkpoint folder or Hub repo, checked before transformers reads it.

    Errors (`CheckpointError`, naming `path`): a local path (see `_looks_like_a_path`) that is not a folder, a folder
    without ``config.json``, a Hub id without one, and a ``model_type`` that is not one of `ARCHITECTURES` -- raised
    before transformers would ask, on a terminal, whether to run the checkpoint's remote code. ``kwargs``: Hub
    options (``revision``, ``token``, ``cache_dir``, ...); others are ignored here.
    """
    name = os.fspath(path)
    hub = {key: kwargs[key] for key in _HUB_KWARGS if key in kwargs}
    if os.path.isdir(name):
        if not os.path.isfile(os.path.join(name, hub.get("subfolder", ""), "config.json")):
            raise CheckpointError(
                f"{name}: no config.json in this folder: not a checkpoint (save_pretrained writes one)"
            )
    elif _looks_like_a_path(name):
        what = "is a file, not a checkpoint folder" if os.path.exists(name) else "no such folder"
        raise CheckpointError(f"{name}: {what}")
    try:
        config_dict, _ = PretrainedConfig.get_config_dict(name, **hub)
    except (OSError, ValueError) as error:  # not on the Hub, offline, unreadable json
        raise CheckpointError(f"{name}: cannot read its config.json ({_first_line(error)})") from None
    model_type = config_dict.get("model_type")
    if model_type not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise CheckpointError(f"{name}: config.json has model_type {model_type!r}, not one of this library's: {known}")
    return ARCHITECTURES[model_type].config_class.from_dict(config_dict)


def _not_a_loading_report(record) -> bool:
    """A logging filter: drops transformers' loading report (the level is left alone: transformers reads it to decide
    on other warnings)."""
    return "LOAD REPORT" not in record.getMessage()


def _some(keys, shown: int = 3) -> str:
    keys = sorted(keys)
    more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
    return f"{len(keys)} ({', '.join(keys[:shown])}{more})"


def _weights_file(name: str) -> str:
    """The checkpoint's weights file for messages: the local ``*.safetensors`` file(s), else the folder."""
    files = sorted(Path(name).glob("*.safetensors")) if os.path.isdir(name) else []
    return str(files[0]) if len(files) == 1 else f"{name} (its weights)"


def load_checkpoint(path: str | PathLike, task: str | None = None, **kwargs):
    """Load a skeleton_models checkpoint as the class it was saved from (``config.architectures[0]``), every weight
    of the model from the checkpoint.

    The one loading path of inference and export (the pipeline, the CLI, `export`). Besides `checkpoint_config`'s
    checks, a weight of the model missing from the checkpoint (other than those the class declares absent:
    ``_keys_to_ignore_on_load_missing``, non-persistent buffers, tied weights), a checkpoint weight the model does
    not have, or one of another shape is a `CheckpointError` naming the folder and the keys (count and first few):
    such a model would run with random weights. So is a weights file that cannot be read (truncated, empty).

    Args:
        path: a checkpoint folder or Hub repo id.
        task: the transformers Auto class (e.g. ``"AutoModelForVideoClassification"``) the saved class must be
            registered under; a checkpoint of another class (e.g. the base model, without a classifier) is an error.
        kwargs: `from_pretrained` options (``dtype``, ``revision``, ...).
    """
    name = os.fspath(path)
    config = checkpoint_config(name, **kwargs)
    arch = get_architecture(config.model_type)
    classes = {cls.__name__: cls for cls in arch.model_classes}
    saved = (config.architectures or [arch.base_model_class.__name__])[0]
    if saved not in classes:
        raise CheckpointError(
            f"{name}: unknown architecture class {saved!r}; {config.model_type} has {sorted(classes)}"
        )
    cls = classes[saved]
    if task is not None and arch.task_classes.get(task) is not cls:
        wanted = arch.task_classes.get(task)
        expected = wanted.__name__ if wanted else f"a model registered under {task} ({config.model_type} has none)"
        raise CheckpointError(f"{name}: holds a {saved}, not {expected}")
    options = {**kwargs, "output_loading_info": True, "ignore_mismatched_sizes": True}
    report = transformers.logging.get_logger(_LOADING_LOGGER)
    report.addFilter(_not_a_loading_report)
    try:
        model, info = cls.from_pretrained(name, **options)
    except SafetensorError as error:
        raise CheckpointError(f"{_weights_file(name)}: cannot read the weights: {error}") from None
    except OSError as error:  # e.g. no weights file
        raise CheckpointError(f"{name}: {_first_line(error)}") from None
    finally:
        report.removeFilter(_not_a_loading_report)
    problems = []
    if info["missing_keys"]:
        problems.append(f"missing {_some(info['missing_keys'])}")
    if info["unexpected_keys"]:
        problems.append(f"unexpected {_some(info['unexpected_keys'])}")
    if info["mismatched_keys"]:
        shapes = {
            f"{key} {tuple(stored)} in the file vs {tuple(built)} in the model"
            for key, stored, built in info["mismatched_keys"]
        }
        problems.append(f"of another shape {_some(shapes)}")
    if problems:
        raise CheckpointError(f"{name}: the weights do not match config.json ({cls.__name__}): {'; '.join(problems)}")
    return model


def load_processor(path: str | PathLike, **kwargs):
    """Load the processor saved with a checkpoint: its architecture's processor class, or only the skeleton
    feature extractor when the checkpoint has no tokenizer for a text processor."""
    arch = get_architecture(checkpoint_config(path, **kwargs).model_type)
    processor_class = arch.processor_class
    if issubclass(processor_class, ProcessorMixin):
        try:
            return processor_class.from_pretrained(path, **kwargs)
        except (OSError, ValueError, TypeError):
            processor_class = processor_class.feature_extractor_class_type
    return processor_class.from_pretrained(path, **kwargs)
