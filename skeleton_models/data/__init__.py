"""Datasets: one entry point over `datasets` builders shipped in the package (datasets 5 has no loading scripts)."""

from __future__ import annotations

import hashlib
import inspect
import os
from pathlib import Path

import datasets

from . import synthetic
from .collator import SkeletonClassificationDataset
from .features import skeleton_features

# name -> builder class. The real-benchmark loaders register here too.
DATASET_BUILDERS: dict[str, type[datasets.DatasetBuilder]] = {
    "synthetic": synthetic.SyntheticSkeleton,
}

# name -> per-class text: a short label (the ClassLabel name) and a one-sentence motion description.
CLASS_DESCRIPTIONS: dict[str, list[dict[str, str]]] = {
    "synthetic": [
        {"label": name, "description": text}
        for name, text in zip(synthetic.CLASS_NAMES, synthetic.CLASS_DESCRIPTIONS)
    ],
}


def _code_hash(builder_cls: type) -> str:
    """Hash of the builder's module and its package siblings, so that a code change rebuilds the cache."""
    package_dir = Path(inspect.getfile(builder_cls)).parent
    digest = hashlib.sha256()
    for path in sorted(package_dir.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_skeleton_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    config: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    num_proc: int | None = None,
    **builder_options,
) -> datasets.DatasetDict:
    """Build (or read from the `datasets` cache) a skeleton dataset and return its `DatasetDict`.

    Args:
        name: one of `DATASET_BUILDERS` (``"synthetic"``, ...).
        data_dir: folder with the raw files the user obtained under the dataset's licence (not needed for
            ``"synthetic"``).
        config: the protocol, e.g. ``"xsub"`` or ``"xview"``; the builder's default when omitted.
        cache_dir: where the Arrow files go (default: the usual `datasets` cache).
        num_proc: parallel processes for parsing/generation.
        **builder_options: options of the builder's config, e.g. ``num_subjects=4, seed=1`` for ``"synthetic"``.

    Returns:
        A `DatasetDict` with the protocol's ``train`` and ``test`` splits; rows follow `skeleton_features`.
    """
    if name not in DATASET_BUILDERS:
        raise ValueError(f"unknown dataset {name!r}; available: {sorted(DATASET_BUILDERS)}")
    builder_cls = DATASET_BUILDERS[name]
    builder = builder_cls(
        config_name=config,
        data_dir=str(data_dir) if data_dir is not None else None,
        cache_dir=str(cache_dir) if cache_dir is not None else None,
        dataset_name=f"skeleton_models_{name}",
        hash=_code_hash(builder_cls),
        **builder_options,
    )
    builder.download_and_prepare(num_proc=num_proc)
    return builder.as_dataset()


def get_class_descriptions(name: str) -> list[dict[str, str]]:
    """Two texts per class of a dataset: ``{"label": short label, "description": one-sentence motion}``."""
    if name not in CLASS_DESCRIPTIONS:
        raise ValueError(f"no class descriptions for {name!r}; available: {sorted(CLASS_DESCRIPTIONS)}")
    return CLASS_DESCRIPTIONS[name]


def dataset_layout(name: str) -> str:
    """The skeleton layout of a dataset's ``skeleton`` column."""
    return DATASET_BUILDERS[name].LAYOUT


__all__ = [
    "CLASS_DESCRIPTIONS",
    "DATASET_BUILDERS",
    "SkeletonClassificationDataset",
    "dataset_layout",
    "get_class_descriptions",
    "load_skeleton_dataset",
    "skeleton_features",
]
