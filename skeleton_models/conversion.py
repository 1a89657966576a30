"""Official checkpoints -> this library's models: the registry of conversions and the strict name mapping.

Each architecture whose paper has official code declares, in ``models/<arch>/convert_<arch>.py``, one
`Conversion` per official code base it reads (``register_conversion``): the explicit table from the official
parameter names to ours, how to read the official model's configuration from its state dict, and the processor that
prepares clips as the official preprocessing does. `convert_state_dict` applies a conversion: every official key
must be mapped by exactly one rule and every weight of our model must come from one (missing, unmapped or
differently shaped keys are an error naming them), so a converted model never runs with a random weight.

Official checkpoints are read with ``torch.load(weights_only=True)``: tensors and plain containers only, never
arbitrary pickled objects (and ``argparse.Namespace``, a plain record, which training scripts save beside the weights),
or from a ``.safetensors`` file. ``skeleton-models convert --from <name> CHECKPOINT`` (`skeleton_models.hub.convert`)
writes the converted checkpoint folder; the tests compare each conversion with the official outputs stored in
``tests/fixtures/reference/`` by ``utils/write_fixtures.py``.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from .registry import get_architecture

__all__ = [
    "CONVERSIONS",
    "Conversion",
    "ConversionError",
    "KeyRule",
    "convert_official",
    "convert_state_dict",
    "get_conversion",
    "load_official_state_dict",
    "register_conversion",
]


class ConversionError(ValueError):
    """An official checkpoint cannot be converted: the message names the file or the keys and what was expected."""


@dataclass(frozen=True)
class KeyRule:
    """One row of a name table: official keys matching `pattern` (a full-match regular expression) become
    ``re.sub(pattern, replacement, key)``; `transform`, if given, reshapes the tensor (e.g. a Conv1d weight into
    our Conv2d's).

    With `concat_dim`, several official tensors become one of ours: `pattern` has a group named ``part`` (an
    integer), and the keys that become the same key are its parts 0, 1, ..., n - 1, concatenated along `concat_dim`
    in that order (each transformed first) -- e.g. CTR-GCN's per-subset convolutions ``convs.<part>.conv3`` into
    our one convolution over all subsets. A missing part is an error naming the key.
    """

    pattern: str
    replacement: str
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None
    concat_dim: int | None = None


@dataclass(frozen=True)
class Conversion:
    """How to convert the checkpoints of one official code base.

    Attributes:
        name: the ``--from`` name (``"stgcn"``, ``"ctrgcn"``, ``"mamp"``, ...).
        model_type: our architecture.
        source: the official repository and the commit its keys were read from (``"yysijie/st-gcn@221c0e1"``).
        rules: the name table, official -> ours (`KeyRule`); an official key that no rule matches is an error. Or a
            function of the official state dict giving the table, where a name of ours depends on the checkpoint's
            size (e.g. the layers after a variable number of blocks in one ``nn.Sequential``).
        build_config: (official state dict, options) -> our configuration; options are the official model
            arguments the state dict cannot tell (e.g. ``num_classes`` is read from the classifier's shape, the graph
            layout is not), with the official defaults.
        processor_kwargs: our configuration -> the `SkeletonProcessor` arguments (layout, window_size,
            num_persons, stream, center_joint, ...) that prepare clips as the official preprocessing does.
        model_class: the name of the class built (default: the architecture's classifier).
        ignored: official keys that hold no weight of the model (full-match patterns), dropped with no error.
        notes: what a user of a converted checkpoint must know (shown in its model card).
        options: the `build_config` options and their defaults (the official code's).
        not_in_checkpoint: weights of our model that the official checkpoint does not hold by design (full-match
            patterns; e.g. values the official code computes at start-up), left at the model's initial values;
            `notes` says how to set them. Any other weight that no official key becomes is an error.
    """

    name: str
    model_type: str
    source: str
    rules: tuple[KeyRule, ...] | Callable[[dict[str, torch.Tensor]], tuple[KeyRule, ...]]
    build_config: Callable[..., Any]
    processor_kwargs: Callable[[Any], dict] = lambda config: {"layout": config.layout}
    model_class: str | None = None
    ignored: tuple[str, ...] = ()
    notes: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    not_in_checkpoint: tuple[str, ...] = ()

    def model_class_type(self) -> type:
        arch = get_architecture(self.model_type)
        if self.model_class is None:
            return arch.classification_class
        return {cls.__name__: cls for cls in arch.model_classes}[self.model_class]


CONVERSIONS: dict[str, Conversion] = {}


def register_conversion(conversion: Conversion) -> Conversion:
    if conversion.name in CONVERSIONS and CONVERSIONS[conversion.name] != conversion:
        raise ValueError(f"a conversion named {conversion.name!r} is already registered")
    CONVERSIONS[conversion.name] = conversion
    return conversion


def get_conversion(name: str) -> Conversion:
    if name not in CONVERSIONS:
        raise ConversionError(f"no conversion {name!r}; conversions: {', '.join(sorted(CONVERSIONS))}")
    return CONVERSIONS[name]


# Where training scripts keep the weights inside a saved dict, and the prefix DataParallel adds to every key.
_CONTAINERS = ("state_dict", "model", "model_state_dict", "net")
_PARALLEL_PREFIX = "module."


def load_official_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors of an official ``.pt`` / ``.pth`` checkpoint, or of a ``.safetensors`` file (e.g. the
    ``model.safetensors`` that accelerate's ``save_state`` writes), read with ``torch.load(weights_only=True)``.

    A dict of tensors, or one under ``state_dict`` / ``model`` / ``model_state_dict`` / ``net`` (training
    checkpoints, which may also hold the script's ``argparse.Namespace``, e.g. MAMP's ``util/misc.py::save_model``:
    it is allowed as a plain record); DataParallel's ``module.`` prefix is removed. Errors (`ConversionError`) name
    the file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ConversionError(f"{path}: no such file")
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):  # torch.load reads .safetensors files too
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle.UnpicklingError for an object weights_only refuses; zipfile/EOF errors
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConversionError(
            f"{path}: not a checkpoint torch.load(weights_only=True) can read (tensors and plain containers "
            f"only): {first}"
        ) from None
    for key in _CONTAINERS:
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
            break
    if not isinstance(loaded, dict) or not loaded or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise ConversionError(f"{path}: expected a state dict (parameter name -> tensor), got {type(loaded).__name__}")
    if all(key.startswith(_PARALLEL_PREFIX) for key in loaded):
        loaded = {key[len(_PARALLEL_PREFIX) :]: value for key, value in loaded.items()}
    return dict(loaded)


def _some(keys, shown: int = 5) -> str:
    keys = sorted(keys)
    more = f", ... ({len(keys) - shown} more)" if len(keys) > shown else ""
    return f"{len(keys)}: {', '.join(keys[:shown])}{more}"


def convert_state_dict(
    conversion: Conversion, official: dict[str, torch.Tensor], model: torch.nn.Module
) -> dict[str, torch.Tensor]:
    """The official state dict renamed (and reshaped) for `model` by `conversion`'s table.

    Strict: an official key matched by no rule (and not ``ignored``) or by two, two official keys becoming one of
    ours, a weight of `model` that no official key becomes (unless ``not_in_checkpoint`` names it: it keeps the
    model's value), a key `model` does not have, and a tensor of another shape than ours are a `ConversionError`
    naming the keys.
    """
    rules = conversion.rules(official) if callable(conversion.rules) else conversion.rules
    compiled = [(re.compile(rule.pattern), rule) for rule in rules]
    ignored = [re.compile(pattern) for pattern in conversion.ignored]
    initial = [re.compile(pattern) for pattern in conversion.not_in_checkpoint]
    converted: dict[str, torch.Tensor] = {}
    origin: dict[str, str] = {}
    parts: dict[str, dict[int, tuple[str, torch.Tensor]]] = {}  # our key -> part -> (official key, tensor)
    concat_dims: dict[str, int] = {}
    unmapped, ambiguous, collisions = [], [], []
    for key, tensor in official.items():
        matches = [(regex, rule) for regex, rule in compiled if regex.fullmatch(key)]
        if not matches:
            if not any(regex.fullmatch(key) for regex in ignored):
                unmapped.append(key)
            continue
        if len(matches) > 1:
            ambiguous.append(key)
            continue
        regex, rule = matches[0]
        ours = regex.sub(rule.replacement, key)
        tensor = rule.transform(tensor) if rule.transform else tensor
        if rule.concat_dim is not None:
            part = int(regex.fullmatch(key).group("part"))
            if part in parts.setdefault(ours, {}):
                collisions.append(f"{parts[ours][part][0]} and {key} -> {ours}")
                continue
            parts[ours][part] = (key, tensor)
            concat_dims[ours] = rule.concat_dim
            continue
        if ours in converted:
            collisions.append(f"{origin[ours]} and {key} -> {ours}")
            continue
        converted[ours] = tensor
        origin[ours] = key
    missing_parts = []
    for ours, pieces in parts.items():
        first = pieces[min(pieces)][0]
        if ours in converted:
            collisions.append(f"{origin[ours]} and {first} -> {ours}")
        elif sorted(pieces) != list(range(len(pieces))):
            absent = ", ".join(str(i) for i in range(max(pieces)) if i not in pieces)
            missing_parts.append(f"{ours} has no part {absent} (parts of {first})")
        else:
            converted[ours] = torch.cat([pieces[i][1] for i in range(len(pieces))], dim=concat_dims[ours])
            origin[ours] = " + ".join(pieces[i][0] for i in range(len(pieces)))
    expected = model.state_dict()
    problems = []
    if missing_parts:
        problems.append(f"official keys with a part missing ({_some(missing_parts)})")
    if unmapped:
        problems.append(f"official keys no rule maps ({_some(unmapped)})")
    if ambiguous:
        problems.append(f"official keys two rules map ({_some(ambiguous)})")
    if collisions:
        problems.append(f"official keys mapped to the same key ({_some(collisions)})")
    missing = {key for key in set(expected) - set(converted) if not any(r.fullmatch(key) for r in initial)}
    unexpected = set(converted) - set(expected)
    if missing:
        problems.append(f"weights of the model no official key becomes ({_some(missing)})")
    if unexpected:
        problems.append(f"mapped keys the model does not have ({_some(unexpected)})")
    shapes = [
        f"{origin[key]} {tuple(converted[key].shape)} -> {key} {tuple(expected[key].shape)}"
        for key in set(converted) & set(expected)
        if converted[key].shape != expected[key].shape
    ]
    if shapes:
        problems.append(f"tensors of another shape ({_some(shapes)})")
    if problems:
        raise ConversionError(f"{conversion.name} ({conversion.source}): " + "; ".join(problems))
    return {key: converted[key].to(expected[key].dtype) if key in converted else expected[key] for key in expected}


def convert_official(conversion: Conversion | str, official: dict[str, torch.Tensor], **options) -> torch.nn.Module:
    """Our model (evaluation mode) with the weights of an official state dict. `options`: the official model
    arguments the state dict cannot tell (see `Conversion.build_config`)."""
    conversion = get_conversion(conversion) if isinstance(conversion, str) else conversion
    unknown = set(options) - set(conversion.options)
    if unknown:
        known = ", ".join(f"{k} (default {v!r})" for k, v in conversion.options.items()) or "none"
        raise ConversionError(f"{conversion.name}: unknown options {sorted(unknown)}; options: {known}")
    config = conversion.build_config(official, **{**conversion.options, **options})
    model = conversion.model_class_type()(config)
    model.load_state_dict(convert_state_dict(conversion, official, model))
    return model.eval()
