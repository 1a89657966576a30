"""Datasets: one entry point over `datasets` builders shipped in the package (datasets 5 has no loading scripts).

`load_skeleton_dataset(name, data_dir=None, config=None, **builder_options)` builds (or reads from the `datasets`
cache) a `DatasetDict` with the protocol's ``train`` and ``test`` splits. Nothing is downloaded: the real
benchmarks are read from the raw files a user obtained under their licences.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import datasets

from . import synthetic
from .base import SkeletonDatasetBuilder, get_skeleton_spec
from .descriptions import add_descriptions, get_class_descriptions, load_class_lists, load_descriptions
from .features import skeleton_features
from .kinetics import KineticsSkeleton, read_kinetics_json
from .model_inputs import ModelInputsDataset
from .ntu import NTU60, NTU120, load_ntu_sample
from .nwucla import NWUCLA, read_nwucla_json
from .parsing import (
    REPORT_NAME,
    SkeletonParseError,
    collect_skipped,
    load_json,
    load_npy,
    log_report,
    to_float32,
    write_report,
)
from .pkummd import PKUMMD1, PKUMMD2, read_pkummd_skeleton
from .pose import PoseExtractor, annotation_to_clip, extract_pose_annotations
from .pyskl import PysklAnnotations, RestrictedUnpickler, UnsafePickleError
from .zero_shot import ZeroShotSplit, list_zero_shot_splits, select_classes, zero_shot_split

# name -> builder class
DATASET_BUILDERS: dict[str, type[SkeletonDatasetBuilder]] = {
    "synthetic": synthetic.SyntheticSkeleton,
    "ntu60": NTU60,
    "ntu120": NTU120,
    "nwucla": NWUCLA,
    "pkummd1": PKUMMD1,
    "pkummd2": PKUMMD2,
    "kinetics_skeleton": KineticsSkeleton,
    "pyskl": PysklAnnotations,
}


def _code_hash() -> str:
    """Hash of the data package's code, subpackages included, so that a change to a parser or to the synthetic
    generator rebuilds the cache."""
    package_dir = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*package_dir.rglob("*.py"), *package_dir.glob("resources/*.json")]):
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
        name: one of `DATASET_BUILDERS`: ``synthetic``, ``ntu60``, ``ntu120``, ``nwucla``, ``pkummd1``,
            ``pkummd2``, ``kinetics_skeleton``, ``pyskl``.
        data_dir: folder with the raw files the user obtained under the dataset's licence (for ``pyskl``, the
            annotation pickle or its folder; not needed for ``synthetic``).
        config: the protocol, e.g. ``"xsub"``, ``"xview"``, ``"xset"``; the builder's default when omitted.
        cache_dir: where the Arrow files go (default: the usual `datasets` cache).
        num_proc: processes that parse files in parallel.
        **builder_options: options of the builder's config (e.g. ``num_subjects=4`` for ``synthetic``,
            ``protocol="xsub", class_names="ntu60"`` for ``pyskl``, ``hands_dir=`` for ``ntu60`` / ``ntu120``: a
            folder of ``<sample_id>.npy`` hand keypoints joined as a ``hands`` column).

    Returns:
        A `DatasetDict` with ``train`` and ``test``; rows follow `skeleton_features`. Files that could not be
        read are skipped, logged, and listed with the reason in ``build_report.json`` next to the Arrow files
        (``skipped``: rows + skipped entries = inputs; ``notes``: rows kept with a change, e.g. cut).
    """
    if name not in DATASET_BUILDERS:
        raise ValueError(f"unknown dataset {name!r}; available: {sorted(DATASET_BUILDERS)}")
    builder_cls = DATASET_BUILDERS[name]
    if data_dir is not None:
        data_dir = str(Path(data_dir).expanduser().resolve())
    if builder_options.get("hands_dir") is not None:
        builder_options["hands_dir"] = str(Path(builder_options["hands_dir"]).expanduser().resolve())
    builder = builder_cls(
        config_name=config,
        data_dir=data_dir,
        cache_dir=str(cache_dir) if cache_dir is not None else None,
        dataset_name=f"skeleton_models_{name}",
        hash=_code_hash(),
        **builder_options,
    )
    report_dir = tempfile.mkdtemp(prefix="skeleton_models_report_")
    builder.report_dir = report_dir
    try:
        builder.download_and_prepare(num_proc=num_proc)
        dataset = builder.as_dataset()
        report_path = Path(builder.cache_dir) / REPORT_NAME
        records = collect_skipped(report_dir)
        if records or not report_path.exists():  # generated now: write the report next to the Arrow files
            counts = {split: len(ds) for split, ds in dataset.items()}
            write_report(builder.cache_dir, name, builder.config.name, records, counts)
        else:  # read from the cache: repeat what was skipped when it was built
            log_report(json.loads(report_path.read_text()), report_path)
    finally:
        shutil.rmtree(report_dir, ignore_errors=True)
    return dataset


def build_report(dataset) -> dict | None:
    """The build report of a dataset returned by `load_skeleton_dataset` (None if it has none)."""
    if isinstance(dataset, datasets.DatasetDict):
        dataset = next(iter(dataset.values()))
    for file in dataset.cache_files:
        path = Path(file["filename"]).parent / REPORT_NAME
        if path.exists():
            return json.loads(path.read_text())
    return None


def read_clip(path: str | os.PathLike):
    """Read one clip of any supported raw format as a (T, M, V, C) float32 array.

    ``.npy`` (an array, no pickles), ``.skeleton`` (NTU, denoised to 2 actors), ``.json`` (NW-UCLA or
    Kinetics-Skeleton), ``.txt`` (a PKU-MMD skeleton sequence). Raises `SkeletonParseError`, also for a number
    that is not finite as float32 (NaN, infinity, |x| > 3.4e38).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        clip = load_npy(path)
        if clip.dtype.kind not in "fiu" or clip.ndim != 4:
            raise SkeletonParseError(path, f"expected a numeric (T, M, V, C) array, got {clip.dtype} {clip.shape}")
        return to_float32(path, clip)
    if suffix == ".skeleton":
        return load_ntu_sample(path)[0]
    if suffix == ".txt":
        return read_pkummd_skeleton(path)
    if suffix == ".json":
        data = load_json(path)
        if isinstance(data, dict) and "skeletons" in data:
            return read_nwucla_json(path)
        if isinstance(data, dict) and "data" in data:
            return read_kinetics_json(path)
        raise SkeletonParseError(path, "a json clip must be NW-UCLA ('skeletons') or Kinetics-Skeleton ('data')")
    raise SkeletonParseError(path, f"unsupported file type {suffix!r}; expected .npy, .skeleton, .json or .txt")


__all__ = [
    "DATASET_BUILDERS",
    "ModelInputsDataset",
    "PoseExtractor",
    "RestrictedUnpickler",
    "SkeletonDatasetBuilder",
    "SkeletonParseError",
    "UnsafePickleError",
    "ZeroShotSplit",
    "add_descriptions",
    "annotation_to_clip",
    "build_report",
    "extract_pose_annotations",
    "get_class_descriptions",
    "get_skeleton_spec",
    "list_zero_shot_splits",
    "load_class_lists",
    "load_descriptions",
    "load_skeleton_dataset",
    "read_clip",
    "select_classes",
    "skeleton_features",
    "zero_shot_split",
]
