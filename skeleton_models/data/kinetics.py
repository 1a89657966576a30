"""Kinetics-Skeleton (the ST-GCN release): OpenPose 2-D keypoints of Kinetics-400 videos (`openpose18`, C = 3).

Expected under `data_dir`: ``kinetics_train/`` and ``kinetics_val/`` with one ``<video_id>.json`` per video, and
``kinetics_train_label.json`` / ``kinetics_val_label.json`` mapping video ids to ``{"has_skeleton", "label_index"}``.
A video json is ``{"data": [{"frame_index", "skeleton": [{"pose": [x0, y0, ..., x17, y17], "score": [s0..s17]}]}]}``
with coordinates normalised to [0, 1] by the frame size.

Channels are (x, y, score). As ST-GCN's feeder: up to `max_persons` (5) skeletons per frame are read, x and y are
zeroed where the score is 0, and the persons of each frame are sorted by their summed score. Frames are placed by
their ``frame_index`` (missing frames stay zero). Centring is left to the processor. Unreadable files and videos
whose positions are all zero (nobody detected with a non-zero confidence) are skipped and reported.
"""

from __future__ import annotations

import json
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
    load_json,
    reject_all_zero,
    require_data_dir,
    to_float32,
    unique_by_name,
)

NUM_JOINTS = 18
MAX_FRAMES = 10_000  # a frame index beyond this marks a corrupt file, not a long video
SPLIT_FOLDERS = {"train": "kinetics_train", "test": "kinetics_val"}


def _resources() -> dict:
    return json.loads(resources.files("skeleton_models.data").joinpath("resources/kinetics400.json").read_text())


def read_kinetics_json(path, max_persons: int = 5) -> np.ndarray:
    """A video json -> (T, max_persons, 18, 3) float32 (x, y, score). Raises `SkeletonParseError`."""
    data = load_json(path)
    frames = data.get("data") if isinstance(data, dict) else None
    if not isinstance(frames, list):
        raise SkeletonParseError(path, "expected a json object with a 'data' list of frames")
    if not frames:
        raise SkeletonParseError(path, "no frames")
    try:
        indices = [int(frame["frame_index"]) for frame in frames]
    except (KeyError, TypeError, ValueError, OverflowError):
        raise SkeletonParseError(path, "every frame needs an integer 'frame_index'") from None
    first = min(indices)
    length = max(indices) - first + 1
    if first < 0 or length > MAX_FRAMES:
        raise SkeletonParseError(path, f"frame indices {first}..{max(indices)} are out of range")
    out = np.zeros((length, max_persons, NUM_JOINTS, 3))  # float64 until the checked cast below
    for frame, index in zip(frames, indices):
        people = frame.get("skeleton", []) if isinstance(frame, dict) else None
        if not isinstance(people, list):
            raise SkeletonParseError(path, f"frame {index}: 'skeleton' must be a list")
        for m, person in enumerate(people[:max_persons]):
            try:
                pose = np.asarray(person["pose"], dtype=np.float64).reshape(NUM_JOINTS, 2)
                score = np.asarray(person["score"], dtype=np.float64).reshape(NUM_JOINTS)
            except (KeyError, TypeError, ValueError, OverflowError):
                raise SkeletonParseError(
                    path, f"frame {index}: each skeleton needs 36 'pose' and 18 'score' numbers"
                ) from None
            out[index - first, m, :, :2] = pose
            out[index - first, m, :, 2] = score
    out = to_float32(path, out)
    out[..., :2] *= out[..., 2:] != 0  # ST-GCN: no position where OpenPose gave no confidence
    order = np.argsort(-out[..., 2].sum(axis=2), axis=1, kind="stable")  # per frame, by summed score
    return np.take_along_axis(out, order[:, :, None, None], axis=1)


@dataclass
class KineticsConfig(datasets.BuilderConfig):
    max_persons: int = 5  # ST-GCN's num_person_in


class KineticsSkeleton(SkeletonDatasetBuilder):
    """Kinetics-Skeleton: train = kinetics_train, test = kinetics_val, 400 classes."""

    VERSION = datasets.Version("1.0.0")
    BUILDER_CONFIG_CLASS = KineticsConfig
    BUILDER_CONFIGS = [KineticsConfig(name="default")]
    DEFAULT_CONFIG_NAME = "default"
    LAYOUT = "openpose18"
    COORDINATE_DIMS = 2

    def _info(self) -> datasets.DatasetInfo:
        features = skeleton_features(
            _resources()["classes"], num_persons=self.config.max_persons, num_joints=NUM_JOINTS, num_channels=3
        )
        return self._skeleton_info(features, __doc__)

    def _split_generators(self, dl_manager):
        expected = (
            "kinetics_train/ and kinetics_val/ folders of <video_id>.json files and "
            "kinetics_train_label.json / kinetics_val_label.json (the ST-GCN Kinetics-Skeleton release)"
        )
        root = require_data_dir(self.config.data_dir, "kinetics_skeleton", expected)
        recorder = SkipRecorder(self.report_dir)
        generators = []
        for split, folder in SPLIT_FOLDERS.items():
            label_file = root / f"{folder}_label.json"
            if not (root / folder).is_dir() or not label_file.is_file():
                raise ValueError(
                    f"kinetics_skeleton: {folder}/ or {label_file.name} missing under {str(root)!r}; "
                    f"expected {expected}"
                )
            labels = load_json(label_file)
            if not isinstance(labels, dict):
                raise ValueError(f"{label_file}: expected a json object mapping video ids to their labels")
            files, items = unique_by_name(find_files(root / folder, [".json"], recursive=False), recorder, split), []
            for video, path in sorted(files.items()):
                entry = labels.get(video)
                if not isinstance(entry, dict) or not isinstance(entry.get("label_index"), int):
                    recorder.skip(path, f"no label_index for this video in {label_file.name}", split, "excluded")
                elif entry.get("has_skeleton") is False:
                    recorder.skip(path, f"has_skeleton is false in {label_file.name}", split, "excluded")
                else:
                    items.append((str(path), entry["label_index"]))
            for video in sorted(set(labels) - set(files)):
                recorder.skip(
                    root / folder / f"{video}.json", f"listed in {label_file.name} but missing", split, "excluded"
                )
            generators.append(
                datasets.SplitGenerator(
                    name=split, gen_kwargs={"items": items, "split": split, "report_dir": self.report_dir}
                )
            )
        return generators

    def _generate_examples(self, items, split, report_dir):
        recorder = SkipRecorder(report_dir)
        num_classes = len(_resources()["classes"])
        for path, label in items:
            try:
                if not 0 <= label < num_classes:
                    raise SkeletonParseError(path, f"label_index {label} is not in 0..{num_classes - 1}")
                skeleton = read_kinetics_json(path, self.config.max_persons)
                reject_all_zero(path, skeleton[..., :2])  # x, y: no position with a non-zero confidence
            except SkeletonParseError as err:
                recorder.error(err, split, file=path)
                continue
            video = Path(path).stem
            yield (
                video,
                {
                    "sample_id": video,
                    "skeleton": skeleton,
                    "label": label,
                    "num_frames": skeleton.shape[0],
                    "num_persons": int((np.abs(skeleton).max(axis=(0, 2, 3)) > 0).sum()),
                },
            )
