"""Northwestern-UCLA Multiview Action3D from the `all_sqe` json files (Kinect v1, `nwucla20` layout).

One json per sample, named ``aAA_sSS_eEE_vVV.json`` (action folder, subject, episode, view) with keys
``file_name``, ``skeletons`` ([T][20][3], camera space, metres) and ``label`` (1..10). The ten classes are the
folders a01-a12 without a07 and a10. Protocol (CTR-GCN): views 1 and 2 train, view 3 tests. Unreadable files and
all-zero skeletons are skipped and reported.

Hands (BHaRNet): the body stays ``nwucla20`` (20 joints, 1 person) and is not padded to 25 nodes. BHaRNet's body
and hand experts are separate backbones, each built from its own input's layout, so the two streams may have
different V: a hand stream for NW-UCLA is the same 25-node ``hands2x21`` input as for NTU (21 MediaPipe keypoints +
4 dummy nodes, two hands of the one person). This loader has no ``hands_dir`` option yet (the NTU loaders join
``<sample_id>.npy`` files written by ``examples/extract_hands.py``).
"""

from __future__ import annotations

import json
import re
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

NAME = re.compile(r"^a(\d{2})_s(\d{2})_e(\d{2})_v(\d{2})$")
NUM_JOINTS = 20
TRAIN_VIEWS = (1, 2)


def _resources() -> dict:
    return json.loads(resources.files("skeleton_models.data").joinpath("resources/nwucla.json").read_text())


def parse_nwucla_name(name: str) -> dict[str, int] | None:
    """``a01_s02_e03_v01`` -> action folder, subject, episode, view (None if the name does not match)."""
    match = NAME.match(name)
    if match is None:
        return None
    action, subject, episode, view = map(int, match.groups())
    return {"action": action, "subject": subject, "episode": episode, "view": view}


def label_of(action_folder: int) -> int | None:
    """Class index of an action folder number (1..12 without 7 and 10), None for other folders."""
    folders = [int(f[1:]) for f in _resources()["action_folder_ids"]]
    return folders.index(action_folder) if action_folder in folders else None


def read_nwucla_json(path) -> np.ndarray:
    """One `all_sqe` json -> (T, 1, 20, 3) float32. Raises `SkeletonParseError`."""
    data = load_json(path)
    if not isinstance(data, dict) or "skeletons" not in data:
        raise SkeletonParseError(path, "expected a json object with a 'skeletons' list")
    try:
        skeleton = np.asarray(data["skeletons"], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise SkeletonParseError(path, "'skeletons' is not a [T][20][3] list of numbers") from None
    if skeleton.ndim != 3 or skeleton.shape[1:] != (NUM_JOINTS, 3) or skeleton.shape[0] < 1:
        raise SkeletonParseError(path, f"'skeletons' must have shape [T>=1][20][3], got {list(skeleton.shape)}")
    skeleton = to_float32(path, skeleton, what="'skeletons'")
    info = parse_nwucla_name(Path(path).stem)
    if info is not None and "label" in data and label_of(info["action"]) is not None:
        if data["label"] != label_of(info["action"]) + 1:
            raise SkeletonParseError(
                path, f"label {data['label']!r} disagrees with the file name's action folder a{info['action']:02d}"
            )
    return skeleton[:, None]


def assign_splits(names: list[str]) -> tuple[dict[str, list[str]], list[dict]]:
    """Cross-view split of sample names: ``({"train": [...], "test": [...]}, excluded records)``."""
    splits: dict[str, list[str]] = {"train": [], "test": []}
    excluded = []
    for name in names:
        info = parse_nwucla_name(name)
        if info is None:
            excluded.append({"file": name, "reason": "not an NW-UCLA sample name (aAA_sSS_eEE_vVV)"})
        elif label_of(info["action"]) is None:
            reason = f"action folder a{info['action']:02d} is not one of the 10 classes"
            excluded.append({"file": name, "reason": reason})
        else:
            splits["train" if info["view"] in TRAIN_VIEWS else "test"].append(name)
    return splits, excluded


@dataclass
class NWUCLAConfig(datasets.BuilderConfig):
    pass


class NWUCLA(SkeletonDatasetBuilder):
    """Northwestern-UCLA (config ``xview``: views 1 and 2 train, view 3 tests)."""

    VERSION = datasets.Version("1.0.0")
    BUILDER_CONFIG_CLASS = NWUCLAConfig
    BUILDER_CONFIGS = [NWUCLAConfig(name="xview")]
    DEFAULT_CONFIG_NAME = "xview"
    LAYOUT = "nwucla20"

    def _info(self) -> datasets.DatasetInfo:
        features = skeleton_features(
            _resources()["classes"],
            num_persons=1,
            num_joints=NUM_JOINTS,
            num_channels=3,
            metadata={k: datasets.Value("int32") for k in ("subject", "camera", "replication")},
        )
        return self._skeleton_info(features, __doc__)

    def _split_generators(self, dl_manager):
        expected = "the NW-UCLA all_sqe json files (a01_s01_e00_v01.json, ...), e.g. extracted from all_sqe.zip"
        root = require_data_dir(self.config.data_dir, "nwucla", expected)
        recorder = SkipRecorder(self.report_dir)
        files = unique_by_name(find_files(root, [".json"]), recorder)
        if not any(parse_nwucla_name(name) for name in files):
            raise ValueError(f"nwucla: no aAA_sSS_eEE_vVV.json files under {str(root)!r}; expected {expected}")
        splits, excluded = assign_splits(sorted(files))
        for record in excluded:
            recorder.skip(files[record["file"]], record["reason"], kind="excluded")
        return [
            datasets.SplitGenerator(
                name=split,
                gen_kwargs={"files": [str(files[n]) for n in names], "split": split, "report_dir": self.report_dir},
            )
            for split, names in splits.items()
        ]

    def _generate_examples(self, files, split, report_dir):
        recorder = SkipRecorder(report_dir)
        for file in files:
            try:
                skeleton = read_nwucla_json(file)
                reject_all_zero(file, skeleton)
            except SkeletonParseError as err:
                recorder.error(err, split, file=file)
                continue
            name = Path(file).stem
            info = parse_nwucla_name(name)
            yield (
                name,
                {
                    "sample_id": name,
                    "skeleton": skeleton,
                    "label": label_of(info["action"]),
                    "num_frames": skeleton.shape[0],
                    "num_persons": 1,
                    "subject": info["subject"],
                    "camera": info["view"],
                    "replication": info["episode"],
                },
            )
