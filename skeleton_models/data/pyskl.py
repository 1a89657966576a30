"""pyskl / mmaction2 annotation pickles: the format most 2-D pose pipelines export, and the way in for your own data.

The file is ``dict(split={name: [frame_dir, ...]}, annotations=[{...}, ...])``; each annotation has
``frame_dir`` (the sample id), ``label`` (int), ``keypoint`` (M, T, V, C) and, for 2-D data, ``keypoint_score``
(M, T, V) and ``img_shape`` (h, w). 3-D files (``ntu60_3danno.pkl``) have C = 3 and no scores.

Pickles can run arbitrary code when loaded, so they are read with `RestrictedUnpickler`, which admits only
numpy arrays, numpy scalars and dtypes, and plain containers; anything else raises `UnsafePickleError` before a
single object is built from it.

Rows: ``skeleton`` (T, M, V, C) with the score appended as the last channel for 2-D data (x, y, score). 2-D
coordinates are normalised to [-1, 1] by the image size as pyskl's ``PreNormalize2D`` does (``normalize_2d``).
Annotations that cannot be converted, and those whose keypoints are all zero, are skipped and reported.
"""

from __future__ import annotations

import io
import json
import pickle
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import datasets
import numpy as np

from .base import SkeletonDatasetBuilder
from .features import skeleton_features
from .parsing import (
    SkeletonParseError,
    SkipRecorder,
    find_files,
    read_text_lines,
    reject_all_zero,
    require_data_dir,
    to_float32,
)

LAYOUT_BY_JOINTS = {25: "ntu25", 20: "nwucla20", 18: "openpose18", 17: "coco17", 21: "mediapipe_hand21"}
DEFAULT_IMG_SHAPE = (1080, 1920)  # pyskl PreNormalize2D's default (h, w)


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for something other than numpy arrays and plain containers."""


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays, numpy scalars, dtypes and plain Python containers -- nothing else."""

    ALLOWED = frozenset(
        (module, name)
        for core in ("numpy.core", "numpy._core")
        for module, name in (
            (f"{core}.multiarray", "_reconstruct"),
            (f"{core}.multiarray", "scalar"),
            (f"{core}.numeric", "_frombuffer"),
        )
    ) | {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("collections", "OrderedDict"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "complex"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"refusing to load the global {module}.{name}: annotation pickles may only contain numpy arrays and "
            "plain containers (this file may be unsafe to load)"
        )


def load_pickle(path) -> object:
    """Load a pickle with `RestrictedUnpickler`; raises `SkeletonParseError` naming the file and the reason."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise SkeletonParseError(path, f"cannot read the file ({err.strerror or err})") from None
    try:
        return RestrictedUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError as err:
        raise SkeletonParseError(path, str(err)) from None
    except Exception as err:  # noqa: BLE001 -- a damaged pickle can make numpy raise anything, even SystemError
        raise SkeletonParseError(path, f"not a readable pickle ({type(err).__name__}: {err})") from None


def read_annotation_file(path) -> tuple[dict[str, list[str]], list[dict], list[str] | None]:
    """A pyskl pickle -> (split dict, annotation list, class names or None), with the structure checked. Class names
    are an addition of ours (``class_names``, written by `extract_pose_annotations`); pyskl's files have none."""
    data = load_pickle(path)
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise SkeletonParseError(path, "expected dict(split=..., annotations=[...]) (the pyskl format)")
    split = data.get("split", {})
    if not isinstance(split, dict) or not all(isinstance(v, (list, tuple)) for v in split.values()):
        raise SkeletonParseError(path, "'split' must map split names to lists of frame_dir")
    names = data.get("class_names")
    if names is not None and not (isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names)):
        raise SkeletonParseError(path, "'class_names' must be a list of strings")
    split = {str(k): [str(x) for x in v] for k, v in split.items()}
    return split, data["annotations"], None if names is None else list(names)


def write_annotation_file(
    path, split: dict[str, list[str]], annotations: list[dict], class_names: list[str] | None = None
) -> None:
    """Write a pyskl annotation pickle (`read_annotation_file`'s inverse); numpy arrays and plain containers only,
    so that `RestrictedUnpickler` reads it back. Written through a ``.partial`` file: complete or absent."""
    data = {"split": {str(k): [str(x) for x in v] for k, v in split.items()}, "annotations": list(annotations)}
    if class_names is not None:
        data["class_names"] = [str(n) for n in class_names]
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as f:
        pickle.dump(data, f, protocol=4)
    partial.replace(path)


def convert_annotation(annotation, max_persons: int, normalize_2d: bool, source: str = "annotation") -> np.ndarray:
    """One annotation -> (T, max_persons, V, C) float32 (2-D: x, y, score). Raises ValueError; for a number that
    is not finite as float32 (NaN, infinity, |x| > 3.4e38), `SkeletonParseError` naming `source` (e.g.
    ``<file>#<frame_dir>``)."""
    if not isinstance(annotation, dict) or "keypoint" not in annotation:
        raise ValueError("annotation has no 'keypoint' array (kpfile-based annotations are not supported)")
    keypoint = np.asarray(annotation["keypoint"])
    if keypoint.dtype.kind not in "fiu" or keypoint.ndim != 4 or min(keypoint.shape) < 1:
        raise ValueError(f"'keypoint' must be a numeric (M, T, V, C) array, got {keypoint.dtype} {keypoint.shape}")
    keypoint = to_float32(source, keypoint, what="'keypoint'")
    if keypoint.shape[-1] == 2:
        score = annotation.get("keypoint_score")
        score = np.ones(keypoint.shape[:3], np.float32) if score is None else np.asarray(score)
        if score.dtype.kind not in "fiu" or score.shape != keypoint.shape[:3]:
            raise ValueError(
                f"'keypoint_score' must be a numeric array of shape {keypoint.shape[:3]}, got {score.dtype} "
                f"{score.shape}"
            )
        score = to_float32(source, score, what="'keypoint_score'")
        if normalize_2d:
            h, w = annotation.get("img_shape", DEFAULT_IMG_SHAPE)
            keypoint = (keypoint - np.array([w / 2, h / 2], np.float32)) / np.array([w / 2, h / 2], np.float32)
            keypoint = to_float32(source, keypoint, what=f"'keypoint' normalised by img_shape {(h, w)}")
        keypoint = np.concatenate([keypoint, score[..., None]], axis=-1)
    elif keypoint.shape[-1] != 3:
        raise ValueError(f"'keypoint' must have 2 (x, y) or 3 (x, y, z) channels, got {keypoint.shape[-1]}")
    m, t, v, c = keypoint.shape
    out = np.zeros((t, max_persons, v, c), dtype=np.float32)
    out[:, : min(m, max_persons)] = keypoint[:max_persons].transpose(1, 0, 2, 3)
    return out


def resolve_class_names(class_names, num_classes: int) -> list[str]:
    """Class names from a list, a text file (one per line), a known dataset name, or generic names."""
    if class_names is None:
        return [f"class_{i}" for i in range(num_classes)]
    if isinstance(class_names, str):
        known = {
            "ntu60": ("ntu.json", 60),
            "ntu120": ("ntu.json", 120),
            "nwucla": ("nwucla.json", None),
            "pkummd": ("pkummd.json", None),
            "kinetics400": ("kinetics400.json", None),
        }
        if class_names in known:
            file, count = known[class_names]
            names = json.loads(resources.files("skeleton_models.data").joinpath(f"resources/{file}").read_text())
            return names["classes"][:count]
        return read_text_lines(class_names)
    return [str(name) for name in class_names]


@dataclass
class PysklConfig(datasets.BuilderConfig):
    annotation_file: str | None = None  # the .pkl; default: the only .pkl in data_dir (or data_dir itself)
    protocol: str | None = None  # split prefix: <protocol>_train / <protocol>_val (or _test); None: train / val
    class_names: str | list | None = None  # list, text file, "ntu60", ...; None: the pickle's class_names or class_<i>
    layout: str | None = None  # default: from the number of joints (17 coco17, 25 ntu25, 18 openpose18, ...)
    max_persons: int = 2  # pyskl FormatGCNInput's num_person; persons beyond it are dropped
    normalize_2d: bool = True  # pyskl PreNormalize2D on 2-D coordinates


class PysklAnnotations(SkeletonDatasetBuilder):
    """A pyskl annotation pickle (2-D or 3-D keypoints, any registered layout)."""

    VERSION = datasets.Version("1.0.0")
    BUILDER_CONFIG_CLASS = PysklConfig
    BUILDER_CONFIGS = [PysklConfig(name="default")]
    DEFAULT_CONFIG_NAME = "default"

    def _annotations(self):
        if getattr(self, "_loaded", None) is None:
            cfg = self.config
            expected = "a pyskl annotation pickle (.pkl), or a folder with exactly one"
            if cfg.annotation_file:
                path = Path(cfg.annotation_file).expanduser()
            else:
                root = require_data_dir(cfg.data_dir, "pyskl", expected)
                candidates = [root] if root.is_file() else find_files(root, [".pkl"], recursive=False)
                if len(candidates) != 1:
                    raise ValueError(
                        f"pyskl: expected {expected} at {str(root)!r}, found {len(candidates)} .pkl "
                        "files; pass annotation_file="
                    )
                path = candidates[0]
            split, annotations, self._class_names = read_annotation_file(path)
            self._loaded = (path, split, annotations)
        return self._loaded

    def _shape(self) -> tuple[int, int, int]:
        """(V, C, number of classes) from the first annotation that has keypoints, and the largest label."""
        path, _, annotations = self._annotations()
        sample = next((a for a in annotations if isinstance(a, dict) and "keypoint" in a), None)
        if sample is None:
            raise ValueError(f"{path}: no annotation has a 'keypoint' array")
        keypoint = np.asarray(sample["keypoint"])
        labels = [a.get("label") for a in annotations if isinstance(a, dict) and isinstance(a.get("label"), int)]
        channels = 3 if keypoint.shape[-1] in (2, 3) else keypoint.shape[-1]
        return keypoint.shape[-2], channels, max(labels) + 1 if labels else 1

    def skeleton_spec(self) -> dict:
        path, _, annotations = self._annotations()
        num_joints, _, _ = self._shape()
        layout = self.config.layout or LAYOUT_BY_JOINTS.get(num_joints)
        if layout is None:
            raise ValueError(f"{path}: no known layout has {num_joints} joints; pass layout=")
        sample = next(a for a in annotations if isinstance(a, dict) and "keypoint" in a)
        return {"layout": layout, "coordinate_dims": int(np.asarray(sample["keypoint"]).shape[-1])}

    def _info(self) -> datasets.DatasetInfo:
        num_joints, channels, num_classes = self._shape()
        self._annotations()
        class_names = self.config.class_names if self.config.class_names is not None else self._class_names
        names = resolve_class_names(class_names, num_classes)
        if len(names) < num_classes:
            raise ValueError(f"pyskl: labels go up to {num_classes - 1} but only {len(names)} class names were given")
        features = skeleton_features(
            names,
            num_persons=self.config.max_persons,
            num_joints=num_joints,
            num_channels=channels,
            metadata={"total_frames": datasets.Value("int32")},
        )
        return self._skeleton_info(features, __doc__)

    def _split_generators(self, dl_manager):
        path, split, annotations = self._annotations()
        prefix = f"{self.config.protocol}_" if self.config.protocol else ""
        names = {
            "train": f"{prefix}train",
            "test": next((f"{prefix}{s}" for s in ("val", "test") if f"{prefix}{s}" in split), f"{prefix}val"),
        }
        missing = [n for n in names.values() if n not in split]
        if missing:
            raise ValueError(
                f"{path}: no split {missing} in the pickle; its splits: {sorted(split)} (choose them with protocol=)"
            )
        by_id = {}
        recorder = SkipRecorder(self.report_dir)
        for index, annotation in enumerate(annotations):
            key = annotation.get("frame_dir") if isinstance(annotation, dict) else None
            if not isinstance(key, str):
                recorder.skip(f"{path}#{index}", "annotation without a frame_dir string")
            elif key in by_id:
                recorder.skip(f"{path}#{key}", "duplicate frame_dir", kind="excluded")
            else:
                by_id[key] = index
        generators = []
        for split_name, pickle_name in names.items():
            indices = []
            for key in split[pickle_name]:
                if key in by_id:
                    indices.append(by_id[key])
                else:
                    recorder.skip(f"{path}#{key}", f"listed in split {pickle_name} without an annotation", split_name)
            kwargs = {"indices": indices, "split": split_name, "report_dir": self.report_dir}
            generators.append(datasets.SplitGenerator(name=split_name, gen_kwargs=kwargs))
        used = {key for pickle_name in names.values() for key in split[pickle_name]}
        for key in sorted(set(by_id) - used):  # annotations this protocol's two splits do not list
            recorder.skip(f"{path}#{key}", f"in neither split {names['train']} nor {names['test']}", kind="excluded")
        return generators

    def _generate_examples(self, indices, split, report_dir):
        path, _, annotations = self._annotations()
        recorder = SkipRecorder(report_dir)
        num_classes = self.info.features["label"].num_classes
        shape = self.info.features["skeleton"].shape[2:]  # (V, C)
        for index in indices:
            annotation = annotations[index]
            key = annotation["frame_dir"]
            try:
                label = annotation.get("label")
                if not isinstance(label, (int, np.integer)) or not 0 <= label < num_classes:
                    raise ValueError(f"label {label!r} is not a class index in 0..{num_classes - 1}")
                skeleton = convert_annotation(
                    annotation, self.config.max_persons, self.config.normalize_2d, source=f"{path}#{key}"
                )
                if skeleton.shape[2:] != shape:
                    raise ValueError(f"keypoints of shape (V, C) = {skeleton.shape[2:]} differ from the file's {shape}")
                reject_all_zero(f"{path}#{key}", np.asarray(annotation["keypoint"])[: self.config.max_persons])
            except SkeletonParseError as err:
                recorder.error(err, split)
                continue
            except ValueError as err:
                recorder.skip(f"{path}#{key}", str(err), split)
                continue
            yield (
                key,
                {
                    "sample_id": key,
                    "skeleton": skeleton,
                    "label": int(label),
                    "num_frames": skeleton.shape[0],
                    "num_persons": int(np.asarray(annotation["keypoint"]).shape[0]),
                    "total_frames": int(annotation.get("total_frames", skeleton.shape[0])),
                },
            )
