"""NTU RGB+D 60 and 120 from the raw `.skeleton` files (Kinect v2, `ntu25` layout).

- `read_ntu_skeleton`: an exact parser of the official text format (body ids kept as integers: they exceed 2^53;
  CRLF tolerant); frames without bodies are dropped, as in CTR-GCN's ``get_raw_skes_data.py``.
- `select_actors`: CTR-GCN's ``get_raw_denoised_data.py``: with several bodies, drop those seen in <= 11 frames and
  those whose x/y spread marks them as noise (ratio >= 0.69754 of frames with x-spread > 0.8 y-spread), sort the
  rest by motion, and fill two actor slots with non-overlapping bodies; frames where both actors are missing
  are removed.
- Builders `NTU60` (configs ``xsub``, ``xview``) and `NTU120` (``xsub``, ``xset``): the official missing-skeleton
  samples are excluded and reported, so are unreadable files and all-zero skeletons (skipped); split rules as
  CTR-GCN / pyskl. Files are found as ``*.skeleton`` in any case (``*.SKELETON`` too).
- Hands (BHaRNet): with ``hands_dir=``, each sample's ``<hands_dir>/<sample_id>.npy`` -- hand keypoints extracted
  from its RGB video by ``examples/extract_hands.py``, one entry per video frame -- is joined as a ``hands`` column
  of per-person hands (T, 2, 2, 21, 3) (`skeleton_models.hands`), frame by frame with the skeleton's kept frames.
  A sample without a readable hands file of the right length is skipped and reported.
- RGB (BHaRNet-M): with ``rgb_dir=``, each sample's ``<rgb_dir>/<sample_id>.npy`` -- the ROI mosaic cropped from
  its RGB video by ``examples/extract_rgb_rois.py`` (`skeleton_models.rgb`), (5 x `rgb_patch_size`,
  `rgb_frames` x `rgb_patch_size`, 3) uint8 -- is joined as an ``rgb_rois`` column. A sample without a readable
  mosaic of that shape is skipped and reported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import datasets
import numpy as np

from ..rgb import MMNET_ROI_JOINTS, RGB_ROIS_COLUMN
from .base import SkeletonDatasetBuilder
from .features import HANDS_FEATURE_SPEC, hands_feature, skeleton_features
from .parsing import (
    SkeletonParseError,
    SkipRecorder,
    find_files,
    parse_float_lines,
    parse_int,
    read_hands_file,
    read_numbered_lines,
    read_rgb_rois_file,
    reject_all_zero,
    require_data_dir,
    unique_by_name,
)

NAME = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$")
NUM_JOINTS = 25
# CTR-GCN get_raw_denoised_data.py constants
NOISE_LENGTH = 11
NOISE_SPREAD_X_OVER_Y = 0.8
NOISE_SPREAD_RATIO = 0.69754


@dataclass
class NTUBody:
    """One tracked body: the (body-bearing) frame indices it appears in and its joints there."""

    body_id: int
    frames: np.ndarray  # (n,) int
    joints: np.ndarray  # (n, 25, 3) camera-space x, y, z in metres
    colour: np.ndarray | None = None  # (n, 25, 2) colorX, colorY: the joints in the 1920 x 1080 RGB video, pixels


def read_ntu_skeleton(path) -> tuple[list[NTUBody], int]:
    """Parse a `.skeleton` file.

    Returns the bodies in order of first appearance and the number of frames that contain at least one body
    (frames without bodies are dropped, and frame indices count only the kept frames).
    Raises `SkeletonParseError` for anything that does not follow the format.
    """
    bodies, kept_frames, _ = _parse_ntu_skeleton(path)
    return bodies, len(kept_frames)


def _parse_ntu_skeleton(path) -> tuple[list[NTUBody], np.ndarray, int]:
    """`read_ntu_skeleton`, plus where the kept frames are in the file: ``(bodies, file frame index of each kept
    frame (K,), number of frames the file declares)``."""
    lines = read_numbered_lines(path)  # (line number in the file, text): errors name the file's line
    num_frames = parse_int(path, lines[0][1], lines[0][0], low=0)
    i, kept = 1, 0
    kept_frames: list[int] = []
    bodies: dict[int, dict] = {}

    def take(count: int) -> list[tuple[int, str]]:
        nonlocal i
        if i + count > len(lines):
            raise SkeletonParseError(path, f"unexpected end of file (frame count {num_frames})", lines[-1][0])
        block = lines[i : i + count]
        i += count
        return block

    for frame in range(num_frames):
        ((number, count_line),) = take(1)
        body_count = parse_int(path, count_line, number, low=0, high=16)
        seen = set()
        for _ in range(body_count):
            ((number, info),) = take(1)
            fields = info.split()
            if len(fields) != 10 or not re.fullmatch(r"\d+", fields[0]):
                raise SkeletonParseError(
                    path, f"expected a body line of 10 fields starting with an integer id, got {info[:60]!r}", number
                )
            body_id = int(fields[0])
            if body_id in seen:
                raise SkeletonParseError(path, f"body {body_id} appears twice in one frame", number)
            seen.add(body_id)
            ((number, joint_line),) = take(1)
            if parse_int(path, joint_line, number, low=0) != NUM_JOINTS:
                raise SkeletonParseError(path, f"expected {NUM_JOINTS} joints, got {joint_line!r}", number)
            values = parse_float_lines(path, take(NUM_JOINTS), 12)
            body = bodies.setdefault(body_id, {"frames": [], "joints": [], "colour": []})
            body["frames"].append(kept)
            body["joints"].append(values[:, :3])
            body["colour"].append(values[:, 5:7])
        if body_count:
            kept += 1
            kept_frames.append(frame)
    if i != len(lines):
        raise SkeletonParseError(path, f"unexpected data after the last of {num_frames} frames", lines[i][0])
    parsed = [
        NTUBody(i, np.asarray(b["frames"]), np.asarray(b["joints"], dtype=np.float64), np.asarray(b["colour"]))
        for i, b in bodies.items()
    ]
    return parsed, np.asarray(kept_frames, dtype=np.int64), num_frames


def _motion(joints: np.ndarray) -> float:
    """CTR-GCN's body motion: summed variance of all joint coordinates (frames x joints) per axis."""
    return float(np.var(joints.reshape(-1, 3), axis=0).sum())


def _spread_valid_frames(joints: np.ndarray) -> np.ndarray:
    """Frames in which the body is plausible: x spread <= 0.8 x y spread over the 25 joints."""
    spread = joints.max(axis=1) - joints.min(axis=1)
    return spread[:, 0] <= NOISE_SPREAD_X_OVER_Y * spread[:, 1]


def select_actors(bodies: list[NTUBody], num_frames: int, max_actors: int = 2) -> tuple[np.ndarray, int]:
    """CTR-GCN's denoising and actor selection. Returns ``(skeleton (T, max_actors, 25, 3) float32, actors)``."""
    skeleton, actors = _select_actors(bodies, num_frames, max_actors)[:2]
    return skeleton, actors


def _select_actors(
    bodies: list[NTUBody], num_frames: int, max_actors: int = 2, with_colour: bool = False
) -> tuple[np.ndarray, int, np.ndarray, np.ndarray | None]:
    """`select_actors`, plus which of the `num_frames` input frames the skeleton's frames are (T,), and with
    `with_colour` the actors' colour-camera joints (T, max_actors, 25, 2) (else None)."""
    if not bodies or num_frames == 0:
        raise ValueError("no body in any frame")
    out = np.zeros((num_frames, max_actors, NUM_JOINTS, 3), dtype=np.float32)
    colour = np.zeros((num_frames, max_actors, NUM_JOINTS, 2), dtype=np.float32) if with_colour else None

    def place(body: NTUBody, slot: int) -> None:
        out[body.frames, slot] = body.joints
        if colour is not None:
            colour[body.frames, slot] = body.colour

    if len(bodies) == 1:
        place(bodies[0], 0)
        return out, 1, np.arange(num_frames), colour
    motion = {b.body_id: _motion(b.joints) for b in bodies}
    kept = [b for b in bodies if len(b.frames) > NOISE_LENGTH]  # denoising by length
    if not kept:
        raise ValueError(f"no body is longer than {NOISE_LENGTH} frames")
    if len(kept) > 1:  # denoising by spread, while more than one body remains
        for body in list(kept):
            if len(kept) == 1:
                break
            valid = _spread_valid_frames(body.joints)
            noisy = 1.0 - valid.mean()
            if noisy == 0:
                continue
            if noisy >= NOISE_SPREAD_RATIO:
                kept.remove(body)
            else:
                motion[body.body_id] = min(motion[body.body_id], _motion(body.joints[valid]))
    kept.sort(key=lambda b: motion[b.body_id], reverse=True)  # stable: ties keep file order
    # The most active body is actor 1. Each other body joins actor 1 if its interval does not overlap actor 1's,
    # else actor 2 if it does not overlap actor 2's (which starts as the virtual interval [0, 0]), else is dropped.
    intervals = [(int(kept[0].frames[0]), int(kept[0].frames[-1]))] + [(0, 0)] * (max_actors - 1)
    used = [True] + [False] * (max_actors - 1)
    place(kept[0], 0)
    for body in kept[1:]:
        start, end = int(body.frames[0]), int(body.frames[-1])
        for k, (s, e) in enumerate(intervals):
            if min(e, end) - max(s, start) <= 0:
                place(body, k)
                intervals[k], used[k] = (min(start, s), max(end, e)), True
                break
    present = np.abs(out).reshape(num_frames, -1).max(axis=1) > 0
    return out[present], sum(used), np.flatnonzero(present), None if colour is None else colour[present]


def load_ntu_sample(path, return_frames: bool = False, return_colour: bool = False):
    """Parse and denoise one file: ``(skeleton (T, 2, 25, 3) float32, number of actors)``.

    With ``return_frames=True``, also ``frames`` (T,) int64, the index of each skeleton frame among the frames the
    file declares (frames without bodies and without actors are dropped), and the number of frames the file
    declares -- which is the number of frames of the sample's RGB video, so that ``video_array[frames]`` is
    aligned with the skeleton. With ``return_colour=True``, last, the same actors' joints in the RGB video
    (T, 2, 25, 2) float32 (colorX, colorY in pixels of the 1920 x 1080 video; zero where an actor is absent).
    """
    bodies, kept_frames, declared = _parse_ntu_skeleton(path)
    try:
        skeleton, actors, rows, colour = _select_actors(bodies, len(kept_frames), with_colour=True)
    except ValueError as err:
        raise SkeletonParseError(path, str(err)) from None
    out = (skeleton, actors) + ((kept_frames[rows], declared) if return_frames else ())
    return out + (colour,) if return_colour else out


def parse_ntu_name(name: str) -> dict[str, int] | None:
    """``S001C002P003R002A013`` -> setup, camera, subject (performer), replication, action; None if no match."""
    match = NAME.match(name)
    if match is None:
        return None
    setup, camera, subject, replication, action = map(int, match.groups())
    return {"setup": setup, "camera": camera, "subject": subject, "replication": replication, "action": action}


def _resources() -> dict:
    return json.loads(resources.files("skeleton_models.data").joinpath("resources/ntu.json").read_text())


@dataclass(frozen=True)
class NTUVariant:
    name: str
    num_classes: int
    max_setup: int
    num_samples: int  # official count, before the missing skeletons are removed
    protocols: tuple[str, ...]


NTU60_VARIANT = NTUVariant("ntu60", 60, 17, 56_880, ("xsub", "xview"))
NTU120_VARIANT = NTUVariant("ntu120", 120, 32, 114_480, ("xsub", "xset"))


def split_of(info: dict[str, int], variant: NTUVariant, protocol: str, train_subjects: set[int]) -> str:
    """``"train"`` or ``"test"`` of one sample under a protocol (CTR-GCN ``seq_transformation.py`` / pyskl)."""
    if protocol == "xsub":
        return "train" if info["subject"] in train_subjects else "test"
    if protocol == "xview":
        return "train" if info["camera"] in (2, 3) else "test"
    if protocol == "xset":
        return "train" if info["setup"] % 2 == 0 else "test"
    raise ValueError(f"{variant.name} has no protocol {protocol!r}; protocols: {list(variant.protocols)}")


def assign_splits(names: list[str], variant: NTUVariant, protocol: str) -> tuple[dict[str, list[str]], list[dict]]:
    """Split sample names by a protocol; returns ``({"train": [...], "test": [...]}, excluded records)``.

    Excluded: names that are not NTU sample names, samples of the other NTU variant (e.g. S018+ for NTU-60),
    and the official samples with missing skeletons.
    """
    res = _resources()
    missing = set(res["missing_skeletons"])
    train_subjects = set(res[f"xsub_train_subjects_{variant.name}"])
    splits: dict[str, list[str]] = {"train": [], "test": []}
    excluded = []
    for name in names:
        info = parse_ntu_name(name)
        if info is None:
            excluded.append({"file": name, "reason": "not an NTU sample name (SsssCcccPpppRrrrAaaa)"})
        elif info["setup"] > variant.max_setup or info["action"] > variant.num_classes:
            excluded.append({"file": name, "reason": f"not part of {variant.name} (setup/action out of range)"})
        elif name in missing:
            excluded.append({"file": name, "reason": "listed in the official samples with missing skeletons"})
        else:
            splits[split_of(info, variant, protocol, train_subjects)].append(name)
    return splits, excluded


@dataclass
class NTUConfig(datasets.BuilderConfig):
    """``protocol``: ``xsub``, ``xview`` (NTU-60) or ``xset`` (NTU-120). ``hands_dir``: a folder of
    ``<sample_id>.npy`` hand keypoints (``examples/extract_hands.py``) to join as a ``hands`` column. ``rgb_dir``:
    a folder of ``<sample_id>.npy`` RGB ROI mosaics (``examples/extract_rgb_rois.py``) of `rgb_frames` frames and
    `rgb_patch_size`-pixel tiles (MMNet's 5 and 45) to join as an ``rgb_rois`` column."""

    protocol: str = "xsub"
    hands_dir: str | None = None
    rgb_dir: str | None = None
    rgb_frames: int = 5
    rgb_patch_size: int = 45

    @property
    def rgb_shape(self) -> tuple[int, int, int]:
        return (len(MMNET_ROI_JOINTS) * self.rgb_patch_size, self.rgb_frames * self.rgb_patch_size, 3)


class NTU60(SkeletonDatasetBuilder):
    """NTU RGB+D 60 from the raw `.skeleton` files (``nturgbd_skeletons_s001_to_s017.zip``)."""

    VARIANT = NTU60_VARIANT
    VERSION = datasets.Version("1.0.0")
    BUILDER_CONFIG_CLASS = NTUConfig
    BUILDER_CONFIGS = [NTUConfig(name=p, protocol=p) for p in NTU60_VARIANT.protocols]
    DEFAULT_CONFIG_NAME = "xsub"
    LAYOUT = "ntu25"

    def column_specs(self) -> dict[str, dict]:
        specs = super().column_specs()
        if self.config.hands_dir is not None:
            specs["hands"] = dict(HANDS_FEATURE_SPEC)
        return specs

    def _info(self) -> datasets.DatasetInfo:
        names = _resources()["classes"][: self.VARIANT.num_classes]
        features = skeleton_features(
            names,
            num_persons=2,
            num_joints=NUM_JOINTS,
            num_channels=3,
            metadata={k: datasets.Value("int32") for k in ("subject", "camera", "setup", "replication")},
            extra={
                **({"hands": hands_feature(2)} if self.config.hands_dir is not None else {}),
                **(
                    {RGB_ROIS_COLUMN: datasets.Array3D(shape=self.config.rgb_shape, dtype="uint8")}
                    if self.config.rgb_dir is not None
                    else {}
                ),
            },
        )
        return self._skeleton_info(features, self.__doc__)

    def _split_generators(self, dl_manager):
        if self.config.protocol not in self.VARIANT.protocols:
            raise ValueError(
                f"{self.VARIANT.name} has no protocol {self.config.protocol!r}; "
                f"protocols: {list(self.VARIANT.protocols)}"
            )
        expected = (
            "the NTU RGB+D .skeleton files (S001C001P001R001A001.skeleton, ...), e.g. extracted from "
            "nturgbd_skeletons_s001_to_s017.zip"
            + (" and nturgbd_skeletons_s018_to_s032.zip" if self.VARIANT.max_setup > 17 else "")
        )
        root = require_data_dir(self.config.data_dir, self.VARIANT.name, expected)
        hands_dir, rgb_dir = self.config.hands_dir, self.config.rgb_dir
        for option, folder, what in (
            ("hands_dir", hands_dir, "hand keypoints written by examples/extract_hands.py"),
            ("rgb_dir", rgb_dir, "RGB ROI mosaics written by examples/extract_rgb_rois.py"),
        ):
            if folder is not None and not Path(folder).expanduser().is_dir():
                raise ValueError(
                    f"{self.VARIANT.name}: {option} {folder!r} is not a folder; expected the <sample_id>.npy {what} "
                    "there"
                )
        files = find_files(root, [".skeleton"])
        if not files:
            raise ValueError(f"{self.VARIANT.name}: no .skeleton files under {str(root)!r}; expected {expected}")
        recorder = SkipRecorder(self.report_dir)
        by_name = unique_by_name(files, recorder)
        splits, excluded = assign_splits(sorted(by_name), self.VARIANT, self.config.protocol)
        for record in excluded:
            recorder.skip(by_name[record["file"]], record["reason"], kind="excluded")
        return [
            datasets.SplitGenerator(
                name=split,
                gen_kwargs={
                    "files": [str(by_name[n]) for n in names],
                    "split": split,
                    "report_dir": self.report_dir,
                    "hands_dir": None if hands_dir is None else str(Path(hands_dir).expanduser()),
                    "rgb_dir": None if rgb_dir is None else str(Path(rgb_dir).expanduser()),
                },
            )
            for split, names in splits.items()
        ]

    def _generate_examples(self, files, split, report_dir, hands_dir=None, rgb_dir=None):
        recorder = SkipRecorder(report_dir)
        for file in files:
            name = Path(file).stem
            try:
                skeleton, actors, frames, declared = load_ntu_sample(file, return_frames=True)
                reject_all_zero(file, skeleton)
                if hands_dir is not None:
                    hands = read_hands_file(Path(hands_dir) / f"{name}.npy", declared, num_persons=2)[frames]
                if rgb_dir is not None:
                    rois = read_rgb_rois_file(Path(rgb_dir) / f"{name}.npy", self.config.rgb_shape)
            except SkeletonParseError as err:
                recorder.error(err, split, file=file)
                continue
            info = parse_ntu_name(name)
            example = {
                "sample_id": name,
                "skeleton": skeleton,
                "label": info["action"] - 1,
                "num_frames": skeleton.shape[0],
                "num_persons": actors,
                "subject": info["subject"],
                "camera": info["camera"],
                "setup": info["setup"],
                "replication": info["replication"],
            }
            if hands_dir is not None:
                example["hands"] = hands
            if rgb_dir is not None:
                example[RGB_ROIS_COLUMN] = rois
            yield name, example


class NTU120(NTU60):
    """NTU RGB+D 120 from the raw `.skeleton` files (both zips: setups S001-S032)."""

    VARIANT = NTU120_VARIANT
    BUILDER_CONFIGS = [NTUConfig(name=p, protocol=p) for p in NTU120_VARIANT.protocols]
