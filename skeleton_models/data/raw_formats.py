"""Synthetic files in the raw benchmark formats, for tests, benchmarks and trying a loader without the real data.

The motion comes from the synthetic benchmark's generator, so the files hold plausible skeletons; the writers
follow each format exactly as the loaders' docstrings describe it. `write_pyskl_annotations` is also the way to
export your own data to the pyskl format.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

from ..skeletons import get_layout
from . import synthetic

_NTU = get_layout("ntu25")


def synthetic_clip(label: int, seed: int = 0, camera: int = 1) -> np.ndarray:
    """A synthetic clip (T, 2, 25, 3) in Kinect camera space (persons beyond the performers are zero)."""
    return synthetic.generate_example(label, 1 + seed % 7, 1 + seed // 7 % 3, camera, num_subjects=8, seed=seed)[
        "skeleton"
    ]


# -- NTU RGB+D -----------------------------------------------------------------------------------------------------
def write_ntu_skeleton(path, frames: list[list[tuple[int, np.ndarray]]], crlf: bool = False) -> Path:
    """Write a `.skeleton` file: `frames` lists, per frame, the (body id, (25, 3) joints) of its bodies."""
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for body_id, joints in bodies:
            lines.append(f"{body_id} 0 1 1 1 1 0 0.02764709 0.05745083 2")
            lines.append("25")
            for x, y, z in joints:
                depth, color = "0 0", "0 0"  # a joint at z = 0 (all zero: not tracked) projects nowhere
                if z:
                    depth = f"{256 + 300 * x / z:.4f} {212 - 300 * y / z:.4f}"
                    color = f"{960 + 1000 * x / z:.4f} {540 - 1000 * y / z:.4f}"
                lines.append(f"{x:.7g} {y:.7g} {z:.7g} {depth} {color} 0 0 0 0 2")
    path = Path(path)
    path.write_bytes(("\r\n" if crlf else "\n").join(lines).encode() + (b"\r\n" if crlf else b"\n"))
    return path


def ntu_frames_from_clip(clip: np.ndarray, first_id: int = 72057594037931101) -> list[list[tuple[int, np.ndarray]]]:
    """(T, M, 25, 3) clip -> per-frame body lists (one body id per person, absent persons left out)."""
    frames = []
    for t in range(clip.shape[0]):
        frames.append([(first_id + m, clip[t, m]) for m in range(clip.shape[1]) if np.abs(clip[t, m]).max() > 0])
    return frames


def write_ntu_folder(root, names: list[str], seed: int = 0) -> list[Path]:
    """One `.skeleton` file per NTU sample name, with a synthetic motion of a matching kind (mutual actions,
    A050-A060 and A106-A120, get two performers)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    interactions, singles = synthetic.CLASS_GROUPS["interaction"], synthetic.CLASS_GROUPS["body"]
    paths = []
    for i, name in enumerate(names):
        action = int(name[-3:])
        mutual = 50 <= action <= 60 or action >= 106
        group = interactions if mutual else singles
        clip = synthetic_clip(group[(action + i) % len(group)], seed=seed + i, camera=int(name[5:8]))
        paths.append(write_ntu_skeleton(root / f"{name}.skeleton", ntu_frames_from_clip(clip)))
    return paths


# -- NW-UCLA -------------------------------------------------------------------------------------------------------
def write_nwucla_json(path, skeleton: np.ndarray, label: int) -> Path:
    """Write an `all_sqe` json: `skeleton` (T, 20, 3), `label` the class index (written 1-based)."""
    path = Path(path)
    path.write_text(
        json.dumps({"file_name": path.stem, "skeletons": np.round(skeleton, 6).tolist(), "label": label + 1})
    )
    return path


def ntu_to_nwucla(clip: np.ndarray) -> np.ndarray:
    """Kinect v2 (T, 25, 3) -> Kinect v1 (T, 20, 3): the 20 joints both layouts share."""
    ucla = get_layout("nwucla20")
    mapping = {"hip_center": "spine_base", "spine": "spine_mid", "shoulder_center": "spine_shoulder"}
    return clip[:, [_NTU.joint_index(mapping.get(name, name)) for name in ucla.joint_names]]


# -- PKU-MMD -------------------------------------------------------------------------------------------------------
def write_pkummd_sequence(path, sequence: np.ndarray) -> Path:
    """Write a skeleton txt: `sequence` (T, 2, 25, 3), one frame of 150 numbers per line."""
    path = Path(path)
    rows = sequence.reshape(len(sequence), -1)
    path.write_text("".join(" ".join(f"{v:.6f}" for v in frame) + "\n" for frame in rows))
    return path


def write_pkummd_labels(path, actions: list[tuple[int, int, int, int]]) -> Path:
    """Write a label file of (action_id 1..51, start, end, confidence) lines."""
    path = Path(path)
    path.write_text("".join(f"{a},{s},{e},{c}\n" for a, s, e, c in actions))
    return path


def write_pkummd_split(path, train: list[str], test: list[str]) -> Path:
    """Write a split file in the official format (including its trailing commas and the "Validataion" typo)."""
    path = Path(path)
    path.write_text(f"Training videos: \n{', '.join(train)}, \nValidataion videos: \n{', '.join(test)}, \n")
    return path


# -- 2-D keypoints (Kinetics-Skeleton, pyskl COCO) -----------------------------------------------------------------
_FROM_NTU = {"neck": "spine_shoulder"}
_FACE = {
    "nose": (0.0, 0.0),
    "left_eye": (0.03, 0.03),
    "right_eye": (-0.03, 0.03),
    "left_ear": (0.07, 0.0),
    "right_ear": (-0.07, 0.0),
}


def project_2d(clip: np.ndarray, layout: str, image_size=(1080, 1920), focal: float = 1000.0) -> np.ndarray:
    """Kinect-space (T, M, 25, 3) -> pixel coordinates (T, M, V, 2) of a 2-D layout (``coco17``/``openpose18``);
    face points are placed around the head. Absent persons stay zero."""
    target = get_layout(layout)
    h, w = image_size
    points = np.zeros((*clip.shape[:2], target.num_joints, 3))
    for v, name in enumerate(target.joint_names):
        if name in _FACE:
            dx, dy = _FACE[name]
            points[:, :, v] = clip[:, :, _NTU.joint_index("head")] + np.array([-dx, dy, 0.0])
        else:
            points[:, :, v] = clip[:, :, _NTU.joint_index(_FROM_NTU.get(name, name))]
    z = np.maximum(points[..., 2], 1e-3)
    pixels = np.stack([w / 2 - focal * points[..., 0] / z, h / 2 - focal * points[..., 1] / z], axis=-1)
    present = (np.abs(clip).max(axis=(2, 3)) > 0)[:, :, None, None]
    return (pixels * present).astype(np.float32)


def write_kinetics_json(
    path, keypoints: np.ndarray, scores: np.ndarray, label_index: int, first_frame: int = 0, image_size=(1080, 1920)
) -> Path:
    """Write an ST-GCN Kinetics-Skeleton json from pixel keypoints (T, M, 18, 2) and scores (T, M, 18)."""
    h, w = image_size
    frames = []
    for t in range(keypoints.shape[0]):
        people = []
        for m in range(keypoints.shape[1]):
            if scores[t, m].max() <= 0:
                continue
            pose = (keypoints[t, m] / np.array([w, h])).round(3).reshape(-1).tolist()
            people.append({"pose": pose, "score": scores[t, m].round(3).tolist()})
        frames.append({"frame_index": first_frame + t, "skeleton": people})
    path = Path(path)
    path.write_text(json.dumps({"data": frames, "label": f"class {label_index}", "label_index": label_index}))
    return path


def write_pyskl_annotations(path, annotations: list[dict], split: dict[str, list[str]]) -> Path:
    """Write a pyskl annotation pickle: ``dict(split=split, annotations=annotations)``.

    Each annotation: ``frame_dir`` (str), ``label`` (int), ``keypoint`` (M, T, V, C) and, for 2-D keypoints,
    ``keypoint_score`` (M, T, V) and ``img_shape`` (h, w); ``total_frames`` is filled in when missing.
    """
    annotations = [
        {**a, "total_frames": a.get("total_frames", np.asarray(a["keypoint"]).shape[1])} for a in annotations
    ]
    path = Path(path)
    with open(path, "wb") as f:
        pickle.dump({"split": split, "annotations": annotations}, f, protocol=4)
    return path
