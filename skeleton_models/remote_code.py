"""Remote code: flat bundles of the library's sources for ``trust_remote_code``.

transformers loads custom code from a checkpoint folder (or a Hub repo) by copying a module file and its
*same-folder* relative imports. The library is a package with layers (``from ...layers import ...``), so the code
that travels with a checkpoint is generated: a **bundle** is the flat set of files an architecture needs -- its
configuration and modeling files, the shared modules they import and its processor -- each relative import
rewritten to a sibling module (``from .graph import ...``). The flat file name of a module is the last part of its
dotted name, so every module of the package that can be bundled has a unique last name.

- `write_remote_code` is called by every ``save_pretrained`` of the library's models and processors: it writes
  the architecture's bundle next to the weights and returns the ``auto_map`` to put in the saved configuration.
  A model or processor that was itself loaded as remote code is saved by transformers' own mechanism
  (``custom_object_save`` copies its flat module files), which gives the same folder.
- `modeling_files` is the bundle of every registered architecture, each shared module once: the repository's
  ``modeling/`` folder, which can be published as one Hub code repository that checkpoints point at with
  transformers' ``"<repo>--<module>.<Class>"`` form of ``auto_map`` (`remote_code_auto_map` with ``code_repo=``).

Layer: this module knows source files and the registry, nothing above them.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
from pathlib import Path

from .clip_pipeline import REMOTE_TASK, SkeletonClipPipeline
from .registry import ARCHITECTURES, get_architecture

__all__ = [
    "modeling_files",
    "processor_auto_map",
    "remote_code_auto_map",
    "remote_code_custom_pipelines",
    "remote_code_files",
    "write_modeling",
    "write_remote_code",
]

LIBRARY = "skeleton_models"
LIBRARY_ROOT = Path(__file__).resolve().parent
HEADER = "# Generated from {path} by utils/write_modeling.py; do not edit.\n"


def is_remote_code(cls: type) -> bool:
    """Whether a class was loaded from a remote-code bundle (by transformers, with ``trust_remote_code``) rather
    than imported from the library or from code that uses it (e.g. a user's own architecture)."""
    return cls.__module__.startswith("transformers_modules")


def _is_library(module_name: str) -> bool:
    return module_name == LIBRARY or module_name.startswith(LIBRARY + ".")


def flat_name(module_name: str) -> str:
    """The bundle module a library module becomes: its last dotted name (``skeleton_models.layers.graph`` ->
    ``graph``)."""
    return module_name.rsplit(".", 1)[-1]


def _flatten(module_name: str) -> tuple[str, list[str]]:
    """The source of a module with every import from the library (relative, or absolute in code outside it)
    pointing at flat siblings, and the library modules those imports come from."""
    module = importlib.import_module(module_name)
    source = inspect.getsource(module)
    lines = source.splitlines(keepends=True)
    package = module_name if hasattr(module, "__path__") else module_name.rpartition(".")[0]
    edits, needed = [], []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(_is_library(a.name) for a in node.names):
            raise ValueError(f"{module_name}:{node.lineno}: bundled code must import names from the library's modules")
        if not isinstance(node, ast.ImportFrom) or (node.level == 0 and not _is_library(node.module or "")):
            continue
        if node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
        else:  # an absolute import of the library (from code outside it, e.g. a user's own architecture)
            target = node.module
        target_module = importlib.import_module(target)
        by_module: dict[str, list[str]] = {}
        for alias in node.names:
            owner = target
            if hasattr(target_module, "__path__"):  # a package: import from the module that defines the name
                obj = getattr(target_module, alias.name)
                owner = obj.__name__ if inspect.ismodule(obj) else getattr(obj, "__module__", target)
            name = alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"
            by_module.setdefault(owner, []).append(name)
        indent = " " * node.col_offset
        replacement = "".join(
            f"{indent}from .{flat_name(owner)} import {', '.join(names)}\n" for owner, names in by_module.items()
        )
        edits.append((node.lineno, node.end_lineno, replacement))
        needed += list(by_module)
    for start, end, replacement in sorted(edits, reverse=True):
        lines[start - 1 : end] = [replacement]
    return "".join(lines), needed


def bundle(modules: list[str]) -> dict[str, str]:
    """The flat bundle of library modules and everything they import from the library: file name -> source."""
    files: dict[str, str] = {}
    origins: dict[str, str] = {}
    queue = list(modules)
    while queue:
        name = queue.pop(0)
        flat = flat_name(name) + ".py"
        if flat in origins:
            if origins[flat] != name:
                raise RuntimeError(f"two modules would share the file {flat} in a bundle: {origins[flat]}, {name}")
            continue
        source, needed = _flatten(name)
        path = Path(inspect.getfile(importlib.import_module(name))).resolve()
        shown = path.relative_to(LIBRARY_ROOT.parent) if path.is_relative_to(LIBRARY_ROOT.parent) else path.name
        files[flat], origins[flat] = HEADER.format(path=Path(shown).as_posix()) + source, name
        queue += needed
    return dict(sorted(files.items()))


def _architecture_classes(model_type: str) -> list[type]:
    """The configuration and models of an architecture, and for a classifier the clip pipeline (`custom_pipelines`)."""
    arch = get_architecture(model_type)
    pipeline = [SkeletonClipPipeline] if arch.classification_class is not None else []
    return [arch.config_class, *arch.model_classes, *pipeline]


def _processor_classes(model_type: str) -> list[type]:
    processor = get_architecture(model_type).processor_class
    return [processor, *[c for c in [getattr(processor, "feature_extractor_class_type", None)] if c is not None]]


def remote_code_files(model_type: str) -> dict[str, str]:
    """The bundle of one architecture: its configuration, models and processor with what they import."""
    classes = _architecture_classes(model_type) + _processor_classes(model_type)
    return bundle(list(dict.fromkeys(cls.__module__ for cls in classes)))


def modeling_files() -> dict[str, str]:
    """The bundle of every registered architecture, each shared module once (the ``modeling/`` folder)."""
    modules = []
    for model_type in sorted(ARCHITECTURES):
        modules += [cls.__module__ for cls in _architecture_classes(model_type) + _processor_classes(model_type)]
    return bundle(list(dict.fromkeys(modules)))


def _entry(cls: type, code_repo: str | None) -> str:
    entry = f"{flat_name(cls.__module__)}.{cls.__name__}"
    return f"{code_repo}--{entry}" if code_repo else entry


def remote_code_auto_map(model_type: str, code_repo: str | None = None) -> dict[str, str]:
    """The ``auto_map`` of an architecture's configuration: AutoConfig, AutoModel and its task Auto classes.

    With ``code_repo`` (a Hub repo id or a local folder holding the ``modeling/`` bundle) the entries point at
    that repository (``"<code_repo>--<module>.<Class>"``) instead of files next to the weights.
    """
    arch = get_architecture(model_type)
    auto_map = {
        "AutoConfig": _entry(arch.config_class, code_repo),
        "AutoModel": _entry(arch.base_model_class, code_repo),
    }
    auto_map.update({auto: _entry(cls, code_repo) for auto, cls in arch.task_classes.items()})
    return auto_map


def remote_code_custom_pipelines(model_type: str, code_repo: str | None = None) -> dict[str, dict]:
    """The ``custom_pipelines`` of a classifier's configuration (empty for other models): the clip pipeline under
    `REMOTE_TASK`, so that ``pipeline(model=checkpoint, trust_remote_code=True)`` works without the library."""
    if get_architecture(model_type).classification_class is None:
        return {}
    entry = {"impl": _entry(SkeletonClipPipeline, code_repo), "pt": ["AutoModelForVideoClassification"]}
    return {REMOTE_TASK: {**entry, "type": "multimodal"}}


def processor_auto_map(processor_class: type, code_repo: str | None = None) -> dict[str, str]:
    """The ``auto_map`` of a saved processor: AutoProcessor for a `ProcessorMixin`, else AutoFeatureExtractor."""
    auto_class = "AutoProcessor" if hasattr(processor_class, "get_attributes") else "AutoFeatureExtractor"
    return {auto_class: _entry(processor_class, code_repo)}


def write_remote_code(obj, folder: str | os.PathLike) -> dict[str, str] | None:
    """Write the bundle that loads `obj` (a model or a processor of the library) into `folder` and return the
    ``auto_map`` its saved configuration needs.

    Returns None for an object loaded as remote code: transformers saves that one itself (``custom_object_save``
    copies its flat files and keeps its ``auto_map``).
    """
    cls = type(obj)
    if is_remote_code(cls):
        return None
    if hasattr(obj, "config"):  # a model
        files = remote_code_files(obj.config.model_type)
        auto_map = remote_code_auto_map(obj.config.model_type)
    else:  # a processor: its own module and what it imports
        files = bundle([cls.__module__])
        auto_map = processor_auto_map(cls)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        (folder / name).write_text(source)
    return auto_map


def write_modeling(root: str | os.PathLike, check: bool = False) -> list[str]:
    """Make ``root`` hold exactly `modeling_files`; with `check`, change nothing and list what differs."""
    root = Path(root)
    expected = modeling_files()
    present = {p.name for p in root.glob("*.py")} if root.exists() else set()
    stale = []
    for name in sorted(present | set(expected)):
        path = root / name
        if name in expected and path.exists() and path.read_text() == expected[name]:
            continue
        stale.append(str(path))
        if check:
            continue
        if name in expected:
            root.mkdir(parents=True, exist_ok=True)
            path.write_text(expected[name])
        else:
            path.unlink()
    return stale
