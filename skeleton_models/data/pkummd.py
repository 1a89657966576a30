"""PKU-MMD Phase I and II: untrimmed Kinect v2 sequences cut into action clips by their label files (`ntu25`).

Expected under `data_dir` (the layout of the official release as used by MAMP's ``pku_gendata.py``):

- ``skeleton/`` (or ``PKU_Skeleton_Renew/``): one ``<video>.txt`` per sequence, one frame per line of 150 numbers
  (2 bodies x 25 joints x x, y, z; the second body is zero when absent);
- ``label/`` (or ``Train_Label_PKU_final/``): one ``<video>.txt`` per sequence, one action per line,
  ``action_id,start_frame,end_frame,confidence`` with action ids 1..51 and confidence 1 or 2; a clip is
  ``sequence[start:end]``;
- the split files anywhere below: ``cross-subject.txt`` and ``cross-view.txt`` (Phase I),
  ``cross_subject_v2.txt`` and ``cross_view_v2.txt`` (Phase II); line 2 lists the training videos and line 4
  the test videos, comma separated.

Video names: ``0002-L`` (Phase I) and ``A01N02-L`` (Phase II, N = subject); L, M, R are the views (cameras 1-3).

What is reported (the build report; rows + ``skipped`` entries = the labelled segments of the videos that are cut
+ the videos left out whole):

- a whole video, one entry: a skeleton or label file without its counterpart (kind "error" for a video of the
  split; a video listed in the split file with neither file too), a video of another phase or not in the split
  ("excluded"), an unreadable skeleton file, and an unreadable label file -- any malformed line, including a
  fractional frame number or a confidence other than 1 or 2, makes the file an error naming the line
  (`read_pkummd_labels` says why);
- a segment, one entry (`cut_clips`): no frame inside the sequence or an all-zero skeleton ("error"), a duplicate
  of an earlier segment ("excluded", the first is kept);
- a note on a row (kind "kept", in ``notes``): a reversed segment, swapped; a segment running past the end of the
  sequence, cut there.
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
    ALL_ZERO,
    KEPT,
    SkeletonParseError,
    SkipRecorder,
    find_files,
    is_all_zero,
    parse_float_lines,
    read_numbered_lines,
    read_text_lines,
    require_data_dir,
    unique_by_name,
)

VIDEO = re.compile(r"^(?:(?P<phase1>\d{4})|A(?P<group>\d{2})N(?P<subject>\d{2}))-(?P<view>[LMR])$")
VIEWS = {"L": 1, "M": 2, "R": 3}
NUM_CLASSES = 51
SKELETON_DIRS = ("skeleton", "PKU_Skeleton_Renew")
LABEL_DIRS = ("label", "Train_Label_PKU_final")
SPLIT_FILES = {
    1: {"xsub": "cross-subject.txt", "xview": "cross-view.txt"},
    2: {"xsub": "cross_subject_v2.txt", "xview": "cross_view_v2.txt"},
}


def _resources() -> dict:
    return json.loads(resources.files("skeleton_models.data").joinpath("resources/pkummd.json").read_text())


def parse_video_name(name: str) -> dict | None:
    """``0002-L`` / ``A01N02-L`` -> phase, subject (Phase II only, else None), camera; None if no match."""
    match = VIDEO.match(name)
    if match is None:
        return None
    subject = int(match["subject"]) if match["subject"] else None
    return {"phase": 1 if match["phase1"] else 2, "subject": subject, "camera": VIEWS[match["view"]]}


def read_pkummd_skeleton(path) -> np.ndarray:
    """A skeleton txt -> (T, 2, 25, 3) float32. Raises `SkeletonParseError`."""
    values = parse_float_lines(path, read_numbered_lines(path), 150)
    return values.reshape(len(values), 2, 25, 3).astype(np.float32)


def read_pkummd_labels(path) -> list[tuple[int, int, int, int]]:
    """A label file -> [(action_id, start, end, confidence)], one per non-empty line.

    Raises `SkeletonParseError`, naming the line, for a line that is not four whole numbers
    ``action,start,end,confidence`` with an action id in 1..51, frames >= 0 and a confidence of 1 or 2. A
    fractional number (``12.5``, which ``int(float(x))`` used to truncate silently) or another confidence is an
    error for the whole file, as every malformed line of a label file is in this module: a label file that breaks
    the format in one line (an edit, a shifted column) is not trusted for its other lines, and the report names the
    line to fix. Whole numbers written as ``12.0`` are read as 12.
    """
    actions = []
    for number, line in read_numbered_lines(path):
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 4:
            raise SkeletonParseError(path, f"expected 'action,start,end,confidence', got {line[:60]!r}", number)
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise SkeletonParseError(path, f"expected four integers, got {line[:60]!r}", number) from None
        if not all(value.is_integer() for value in values):
            raise SkeletonParseError(
                path, f"expected four integers 'action,start,end,confidence', got a fraction in {line[:60]!r}", number
            )
        action, start, end, confidence = (int(value) for value in values)
        if not 1 <= action <= NUM_CLASSES or start < 0 or end < 0:
            raise SkeletonParseError(path, f"action id must be 1..{NUM_CLASSES} and frames >= 0, got {line!r}", number)
        if confidence not in (1, 2):
            raise SkeletonParseError(path, f"confidence must be 1 or 2, got {confidence} in {line!r}", number)
        actions.append((action, start, end, confidence))
    return actions


def read_split_file(path) -> tuple[list[str], list[str]]:
    """A PKU-MMD split file -> (training videos, test videos)."""
    lines = read_text_lines(path)
    heads = [i for i, line in enumerate(lines) if line.rstrip(":").lower().startswith(("training", "validat", "test"))]
    if len(heads) != 2 or heads[0] + 1 >= len(lines) or heads[1] + 1 >= len(lines):
        raise SkeletonParseError(path, "expected 'Training videos:' and 'Validation videos:' each followed by a list")
    videos = [[v.strip() for v in lines[h + 1].split(",") if v.strip()] for h in heads]
    return videos[0], videos[1]


def cut_clips(sequence: np.ndarray, labels, path=None) -> tuple[list[dict], list[dict]]:
    """Cut a sequence into clips ``sequence[start:end]``, one per segment (label line) of `labels`.

    Returns the clips (dicts with index, skeleton, label, start, end, confidence) and the build report records of
    the segments (dicts with ``reason`` and ``kind``; the reason names the segment by index and its label values):

    - no clip, kind "error": no frame of the segment is inside the sequence, or its skeleton is all zero;
    - no clip, kind "excluded": the same action and frames as an earlier segment (a duplicated line, which would
      be a second identical row); the first is kept;
    - a clip *and* a note, kind "kept": a reversed segment (start > end) is kept with start and end swapped; a
      segment running past the end of the sequence is kept, cut at the end -- as the slice
      ``sequence[start:end]`` of the reference preprocessing (MAMP's ``pku_gendata.py``) cuts it, so that the
      clips are the published protocol's; the note says it was cut.

    Every segment is a clip or an "error"/"excluded" record; "kept" records are notes on clips. (`path`, the label
    file, is not used.)
    """
    clips, records = [], []
    first: dict[tuple[int, int, int], int] = {}
    for index, (action, start, end, confidence) in enumerate(labels):
        segment = f"segment {index} ({action},{start},{end},{confidence})"
        low, high = min(start, end), max(start, end)
        if (action, low, high) in first:
            reason = f"{segment}: duplicate of segment {first[action, low, high]} (same action and frames)"
            records.append({"reason": reason, "kind": "excluded"})
            continue
        first[action, low, high] = index
        cut = min(high, len(sequence))
        skeleton = sequence[low:cut]
        if len(skeleton) == 0:
            reason = f"{segment}: no frames inside the sequence of {len(sequence)} frames"
            records.append({"reason": reason, "kind": "error"})
        elif is_all_zero(skeleton):
            records.append({"reason": f"{segment}: {ALL_ZERO}", "kind": "error"})
        else:
            clips.append(
                {
                    "index": index,
                    "skeleton": skeleton,
                    "label": action - 1,
                    "start": low,
                    "end": cut,
                    "confidence": confidence,
                }
            )
            if start > end:
                records.append({"reason": f"{segment}: kept, start and end swapped ({low},{high})", "kind": KEPT})
            if high > cut:
                reason = (
                    f"{segment}: kept, cut at the end of the sequence: frames {low}-{cut}, as the sequence has "
                    f"{len(sequence)} frames (the segment ends at {high})"
                )
                records.append({"reason": reason, "kind": KEPT})
    return clips, records


@dataclass
class PKUMMDConfig(datasets.BuilderConfig):
    protocol: str = "xsub"
    skeleton_dir: str | None = None  # relative to data_dir; default: the first of SKELETON_DIRS that exists
    label_dir: str | None = None  # relative to data_dir; default: the first of LABEL_DIRS that exists


class PKUMMD1(SkeletonDatasetBuilder):
    """PKU-MMD Phase I (configs ``xsub``, ``xview``), 51 classes."""

    PHASE = 1
    VERSION = datasets.Version("1.0.0")
    BUILDER_CONFIG_CLASS = PKUMMDConfig
    BUILDER_CONFIGS = [PKUMMDConfig(name="xsub", protocol="xsub"), PKUMMDConfig(name="xview", protocol="xview")]
    DEFAULT_CONFIG_NAME = "xsub"
    LAYOUT = "ntu25"

    def _info(self) -> datasets.DatasetInfo:
        features = skeleton_features(
            _resources()["classes"],
            num_persons=2,
            num_joints=25,
            num_channels=3,
            metadata={
                "video": datasets.Value("string"),
                "subject": datasets.Value("int32"),
                "camera": datasets.Value("int32"),
                "start_frame": datasets.Value("int32"),
                "end_frame": datasets.Value("int32"),
                "confidence": datasets.Value("int32"),
            },
        )
        return self._skeleton_info(features, self.__doc__)

    def _folder(self, root: Path, option: str | None, candidates: tuple[str, ...], what: str, expected: str) -> Path:
        for name in [option] if option else candidates:
            if (root / name).is_dir():
                return root / name
        names = [option] if option else list(candidates)
        raise ValueError(
            f"pkummd{self.PHASE}: no {what} folder ({' or '.join(names)}) under {str(root)!r}; expected {expected}"
        )

    def _split_generators(self, dl_manager):
        cfg, name = self.config, f"pkummd{self.PHASE}"
        if cfg.protocol not in SPLIT_FILES[self.PHASE]:
            raise ValueError(f"{name} has no protocol {cfg.protocol!r}; protocols: {list(SPLIT_FILES[self.PHASE])}")
        split_name = SPLIT_FILES[self.PHASE][cfg.protocol]
        expected = f"skeleton/ and label/ folders of <video>.txt files and the split file {split_name}"
        root = require_data_dir(cfg.data_dir, name, expected)
        skeleton_dir = self._folder(root, cfg.skeleton_dir, SKELETON_DIRS, "skeleton", expected)
        label_dir = self._folder(root, cfg.label_dir, LABEL_DIRS, "label", expected)
        split_files = sorted(root.rglob(split_name))
        if not split_files:
            raise ValueError(f"{name}: the split file {split_name} is not under {str(root)!r}; expected {expected}")
        train, test = read_split_file(split_files[0])
        membership = {**{v: "test" for v in test}, **{v: "train" for v in train}}
        recorder = SkipRecorder(self.report_dir)
        skeletons = unique_by_name(find_files(skeleton_dir, [".txt"], recursive=False), recorder)
        labels = unique_by_name(find_files(label_dir, [".txt"], recursive=False), recorder)
        videos: dict[str, list] = {"train": [], "test": []}
        for video in sorted({*skeletons, *labels, *membership}):  # every file, and every video of the split file
            skeleton, label, split = skeletons.get(video), labels.get(video), membership.get(video)
            path = skeleton or label or skeleton_dir / f"{video}.txt"
            info = parse_video_name(video)
            if info is None or info["phase"] != self.PHASE:
                recorder.skip(path, f"not a Phase {self.PHASE} video name", kind="excluded")
            elif split is None:
                recorder.skip(path, f"not listed in {split_name}", kind="excluded")
            elif skeleton is None and label is None:
                reason = f"listed in {split_name}, but neither {path} nor {label_dir / path.name} exists"
                recorder.skip(path, reason, split)
            elif skeleton is None:
                recorder.skip(label, f"no skeleton file {skeleton_dir / label.name} for this label file", split)
            elif label is None:
                recorder.skip(skeleton, f"no label file {label_dir / skeleton.name}", split)
            else:
                videos[split].append((str(skeleton), str(label)))
        if not videos["train"] and not videos["test"]:
            raise ValueError(f"{name}: no usable <video>.txt files in {str(skeleton_dir)!r}; expected {expected}")
        return [
            datasets.SplitGenerator(
                name=split, gen_kwargs={"videos": items, "split": split, "report_dir": self.report_dir}
            )
            for split, items in videos.items()
        ]

    def _generate_examples(self, videos, split, report_dir):
        recorder = SkipRecorder(report_dir)
        for skeleton_path, label_path in videos:
            try:
                sequence = read_pkummd_skeleton(skeleton_path)
                clips, records = cut_clips(sequence, read_pkummd_labels(label_path), label_path)
            except SkeletonParseError as err:
                recorder.error(err, split)
                continue
            for record in records:
                recorder.skip(label_path, record["reason"], split, kind=record["kind"])
            video = Path(skeleton_path).stem
            info = parse_video_name(video)
            for clip in clips:
                sample_id = f"{video}_{clip['index']}"
                skeleton = clip["skeleton"]
                yield (
                    sample_id,
                    {
                        "sample_id": sample_id,
                        "skeleton": skeleton,
                        "label": clip["label"],
                        "num_frames": len(skeleton),
                        "num_persons": 1 + int(np.abs(skeleton[:, 1]).max() > 0),
                        "video": video,
                        "subject": info["subject"],
                        "camera": info["camera"],
                        "start_frame": clip["start"],
                        "end_frame": clip["end"],
                        "confidence": clip["confidence"],
                    },
                )


class PKUMMD2(PKUMMD1):
    """PKU-MMD Phase II (configs ``xsub``, ``xview``), 51 classes."""

    PHASE = 2
