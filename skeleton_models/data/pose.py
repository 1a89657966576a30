"""From RGB videos to skeleton clips with transformers' own pose models: a person detector (e.g. RT-DETR) and a
top-down keypoint estimator (VitPose, COCO-17), batched over frames, with the people tracked across frames.

`PoseExtractor` turns one video into a pyskl annotation (``keypoint`` (M, T, 17, 2) in pixels, ``keypoint_score``
(M, T, 17), ``img_shape``, ``total_frames``) -- the format `load_skeleton_dataset("pyskl", ...)` reads and
`annotation_to_clip` turns into the (T, M, 17, 3) ``coco17`` clip (x, y, score; PreNormalize2D) a checkpoint's
processor takes. `extract_pose_annotations` does a folder of videos (``<root>/<class>/<video>``) into one annotation
pickle with train / val splits::

    from skeleton_models.data import PoseExtractor, extract_pose_annotations, load_skeleton_dataset

    extractor = PoseExtractor.from_pretrained()  # RT-DETR (COCO) + VitPose-B, see DEFAULT_DETECTOR / DEFAULT_POSE_MODEL
    extract_pose_annotations("my_videos/", "my_videos.pkl", extractor)
    dataset = load_skeleton_dataset("pyskl", data_dir="my_videos.pkl")  # coco17 clips, class names from the folders

Video files are decoded with PyAV; folders of frame images and ``.npy`` frame arrays work too (`read_frames`). The
image processors use their PIL backends where torchvision is absent (VitPose's needs SciPy): the ``[video]`` extra.

Tracking (Assumed: pyskl's extraction script tracks by keypoint distance; boxes are the simpler, equivalent cue for
a few people): each frame's people are matched to the live tracks by box IoU, greedily, the best overlapping pair
first, as SORT-style trackers do (a match needs ``track_iou``); a track not matched for ``max_gap`` frames ends; the
``max_persons`` tracks with the highest summed keypoint score are kept, best first (person 0 is the main actor, as in
pyskl's annotations).
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import AutoImageProcessor, AutoModelForObjectDetection, AutoModelForPoseEstimation

from .parsing import SkeletonParseError
from .pyskl import convert_annotation, write_annotation_file
from .video import VIDEO_SUFFIXES, read_frames, video_sources

__all__ = [
    "DEFAULT_DETECTOR",
    "DEFAULT_POSE_MODEL",
    "PoseExtractor",
    "annotation_to_clip",
    "box_iou",
    "extract_pose_annotations",
    "track_people",
]

logger = logging.getLogger(__name__)

# The checkpoints a user passes to `PoseExtractor.from_pretrained` (the ones transformers' VitPose docs pair):
DEFAULT_DETECTOR = "PekingU/rtdetr_r50vd_coco_o365"  # RT-DETR R50, COCO + Objects365; label "person"
DEFAULT_POSE_MODEL = "usyd-community/vitpose-base-simple"  # VitPose-B, COCO-17 keypoints
NUM_KEYPOINTS = 17  # COCO-17: the coco17 layout of skeleton_models.skeletons


def _area(boxes: np.ndarray) -> np.ndarray:
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes ``(x0, y0, x1, y1)``: (N, 4) x (K, 4) -> (N, K)."""
    a, b = np.asarray(a, np.float32).reshape(-1, 4), np.asarray(b, np.float32).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = _area(a)[:, None] + _area(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)


def track_people(boxes: Sequence[np.ndarray], iou_threshold: float = 0.3, max_gap: int = 10) -> list[np.ndarray]:
    """Track ids for the people detected in each frame.

    Args:
        boxes: per frame, an (N_t, 4) array of ``(x0, y0, x1, y1)`` boxes (N_t may be 0).
        iou_threshold: the least IoU between a box and a track's last box for them to be matched.
        max_gap: frames a track may go unmatched before it ends (a person hidden for a moment keeps its id).

    Returns:
        Per frame, an (N_t,) int array: the track of each box (0, 1, ... in order of first appearance).
    """
    live: dict[int, tuple[np.ndarray, int]] = {}  # track -> (last box, frame it was last seen)
    next_id, ids = 0, []
    for t, frame_boxes in enumerate(boxes):
        frame_boxes = np.asarray(frame_boxes, np.float32).reshape(-1, 4)
        live = {k: v for k, v in live.items() if t - v[1] <= max_gap}
        frame_ids = np.full(len(frame_boxes), -1, np.int64)
        if live and len(frame_boxes):
            tracks = list(live)
            iou = box_iou(np.stack([live[k][0] for k in tracks]), frame_boxes)
            taken = set()
            for flat in np.argsort(-iou, axis=None, kind="stable"):  # greedy: the best overlapping pair first
                r, c = divmod(int(flat), iou.shape[1])
                if iou[r, c] < iou_threshold:
                    break
                if r not in taken and frame_ids[c] < 0:
                    frame_ids[c] = tracks[r]
                    taken.add(r)
        for c in np.flatnonzero(frame_ids < 0):
            frame_ids[c], next_id = next_id, next_id + 1
        for c, track in enumerate(frame_ids):
            live[int(track)] = (frame_boxes[c], t)
        ids.append(frame_ids)
    return ids


def annotation_to_clip(annotation: dict, max_persons: int = 2) -> np.ndarray:
    """A pyskl annotation of 2-D keypoints -> the (T, max_persons, V, 3) clip (x, y, score) that the pyskl loader
    gives for it (pixel coordinates scaled to [-1, 1] by the image size: pyskl's PreNormalize2D)."""
    return convert_annotation(annotation, max_persons, normalize_2d=True)


@dataclass
class _Detections:
    boxes: list[np.ndarray] = field(default_factory=list)  # per frame (N, 4) x0, y0, x1, y1 pixels
    keypoints: list[np.ndarray] = field(default_factory=list)  # per frame (N, 17, 2) pixels
    scores: list[np.ndarray] = field(default_factory=list)  # per frame (N, 17)


class PoseExtractor:
    """Video -> people's COCO-17 keypoints per frame, with a transformers object detector and VitPose.

    Args:
        detector: an object-detection model (`AutoModelForObjectDetection`, e.g. RT-DETR) whose labels include
            ``person_label``.
        detector_processor: its image processor (`post_process_object_detection` gives boxes in pixels).
        pose_model: a top-down pose model (`AutoModelForPoseEstimation`, e.g. `VitPoseForPoseEstimation`: keypoints
            inside each person box) predicting the 17 COCO keypoints.
        pose_processor: its image processor (e.g. `VitPoseImageProcessor`: takes the boxes, post-processes the
            heatmaps into keypoints in pixels).
        person_label: the detector's class name for people.
        detection_threshold: the least detection score of a person box.
        max_persons: people kept per video (the tracks with the highest summed keypoint score); 2 as NTU / pyskl.
        max_detections: person boxes per frame passed to the pose model (the highest-scoring ones).
        batch_size: frames per forward pass of the detector (the pose model takes all their boxes at once).
        track_iou, max_gap: see `track_people`.
        dataset_index: VitPose++'s expert index (0: COCO); None for single-dataset VitPose models.
    """

    def __init__(
        self,
        detector,
        detector_processor,
        pose_model,
        pose_processor,
        *,
        person_label: str = "person",
        detection_threshold: float = 0.5,
        max_persons: int = 2,
        max_detections: int = 8,
        batch_size: int = 8,
        track_iou: float = 0.3,
        max_gap: int = 10,
        dataset_index: int | None = None,
    ):
        labels = {str(name).lower(): int(i) for i, name in detector.config.id2label.items()}
        if person_label.lower() not in labels:
            raise ValueError(
                f"the detector has no class {person_label!r} (its classes: {sorted(labels)[:10]}...); pass "
                "person_label= or a detector trained on people (e.g. an RT-DETR COCO checkpoint)"
            )
        num_keypoints = pose_model.config.num_labels
        if num_keypoints != NUM_KEYPOINTS:
            raise ValueError(f"the pose model predicts {num_keypoints} keypoints; the coco17 layout needs 17")
        self.detector, self.detector_processor = detector.eval(), detector_processor
        self.pose_model, self.pose_processor = pose_model.eval(), pose_processor
        self.person_id = labels[person_label.lower()]
        self.detection_threshold = float(detection_threshold)
        self.max_persons, self.max_detections, self.batch_size = int(max_persons), int(max_detections), int(batch_size)
        self.track_iou, self.max_gap, self.dataset_index = float(track_iou), int(max_gap), dataset_index

    @classmethod
    def from_pretrained(
        cls,
        detector: str | os.PathLike = DEFAULT_DETECTOR,
        pose_model: str | os.PathLike = DEFAULT_POSE_MODEL,
        *,
        device: str | torch.device | None = None,
        **kwargs,
    ) -> PoseExtractor:
        """Load a detector (`AutoModelForObjectDetection`) and a top-down pose model (`AutoModelForPoseEstimation`:
        VitPose) from Hub ids or folders, with their image processors; `kwargs` go to the constructor."""
        detector_model = AutoModelForObjectDetection.from_pretrained(detector)
        pose = AutoModelForPoseEstimation.from_pretrained(pose_model)
        if device is not None:
            detector_model, pose = detector_model.to(device), pose.to(device)
        return cls(
            detector_model,
            AutoImageProcessor.from_pretrained(detector),
            pose,
            AutoImageProcessor.from_pretrained(pose_model),
            **kwargs,
        )

    @property
    def device(self) -> torch.device:
        return self.detector.device

    @torch.no_grad()
    def detect_people(self, frames: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Person boxes of each frame: ``(boxes (N, 4) x0, y0, x1, y1 in pixels, scores (N,))``, best first."""
        inputs = self.detector_processor(images=list(frames), return_tensors="pt").to(self.device)
        outputs = self.detector(**inputs)
        sizes = torch.tensor([frame.shape[:2] for frame in frames])
        results = self.detector_processor.post_process_object_detection(
            outputs, target_sizes=sizes, threshold=self.detection_threshold
        )
        people = []
        for result in results:
            keep = result["labels"] == self.person_id
            scores, boxes = result["scores"][keep].float().cpu(), result["boxes"][keep].float().cpu()
            order = scores.argsort(descending=True)[: self.max_detections]
            people.append((boxes[order].numpy(), scores[order].numpy()))
        return people

    @torch.no_grad()
    def estimate_poses(self, frames: Sequence[np.ndarray], boxes: Sequence[np.ndarray]):
        """Keypoints of the people in `boxes` (per frame (N, 4) x0, y0, x1, y1): per frame ``(keypoints (N, 17, 2)
        in pixels, scores (N, 17))``."""
        out = [(np.zeros((0, NUM_KEYPOINTS, 2), np.float32), np.zeros((0, NUM_KEYPOINTS), np.float32))] * len(frames)
        busy = [i for i, b in enumerate(boxes) if len(b)]
        if not busy:
            return out
        coco_boxes = [np.concatenate([boxes[i][:, :2], boxes[i][:, 2:] - boxes[i][:, :2]], 1) for i in busy]  # x,y,w,h
        inputs = self.pose_processor([frames[i] for i in busy], boxes=coco_boxes, return_tensors="pt").to(self.device)
        kwargs = {}
        if self.dataset_index is not None:
            count = sum(len(b) for b in coco_boxes)
            kwargs["dataset_index"] = torch.full((count,), self.dataset_index, device=self.device)
        outputs = self.pose_model(**inputs, **kwargs)
        outputs.heatmaps = outputs.heatmaps.float().cpu()
        results = self.pose_processor.post_process_pose_estimation(outputs, boxes=coco_boxes)
        for i, people in zip(busy, results):
            keypoints = np.stack([p["keypoints"].numpy() for p in people]).astype(np.float32)
            scores = np.stack([p["scores"].numpy() for p in people]).astype(np.float32)
            out[i] = (keypoints, scores)
        return out

    def _detections(self, frames: Iterable[np.ndarray]) -> tuple[_Detections, tuple[int, int], int]:
        found, shape, count, batch = _Detections(), None, 0, []

        def flush():
            people = self.detect_people(batch)
            boxes = [b for b, _ in people]
            for b, (keypoints, scores) in zip(boxes, self.estimate_poses(batch, boxes)):
                found.boxes.append(b)
                found.keypoints.append(keypoints)
                found.scores.append(scores)
            batch.clear()

        for frame in frames:
            frame = np.asarray(frame)
            if frame.ndim != 3 or frame.shape[-1] != 3 or frame.dtype != np.uint8:
                raise ValueError(f"frames must be RGB (H, W, 3) uint8 arrays, got {frame.dtype} {frame.shape}")
            if shape is None:
                shape = frame.shape[:2]
            elif frame.shape[:2] != shape:
                raise ValueError(f"frame {count} is {frame.shape[:2]}, the video's first frame {shape}")
            batch.append(frame)
            count += 1
            if len(batch) == self.batch_size:
                flush()
        if batch:
            flush()
        if count == 0:
            raise ValueError("the video has no frames")
        return found, shape, count

    def __call__(self, video, frame_dir: str | None = None, label: int | None = None) -> dict:
        """One video -> a pyskl annotation.

        Args:
            video: a video file, a folder of frame images or a ``.npy`` (T, H, W, 3) array (`read_frames`), or the
                frames themselves: a (T, H, W, 3) uint8 array or a sequence of (H, W, 3) arrays.
            frame_dir: the annotation's sample id (default: the file's stem, or ``"video"``).
            label: the class index to record (omitted when None).

        Returns:
            ``{"frame_dir", "total_frames", "img_shape", "original_shape", "keypoint": (M, T, 17, 2) float32
            pixels, "keypoint_score": (M, T, 17) float32[, "label"]}`` with M = the people kept (at least 1; a video
            where nobody was detected gives one all-zero person).
        """
        if isinstance(video, (str, os.PathLike)):
            path = Path(video)
            frame_dir = frame_dir or path.stem
            try:
                found, shape, total = self._detections(read_frames(path))
            except ValueError as err:
                message = str(err)
                raise ValueError(message if message.startswith(str(path)) else f"{path}: {message}") from None
        else:
            found, shape, total = self._detections(video)
        ids = track_people(found.boxes, self.track_iou, self.max_gap)
        totals: dict[int, float] = {}
        for frame_ids, scores in zip(ids, found.scores):
            for track, score in zip(frame_ids, scores.sum(-1)):
                totals[int(track)] = totals.get(int(track), 0.0) + float(score)
        kept = sorted(totals, key=lambda k: (-totals[k], k))[: self.max_persons]
        persons = max(len(kept), 1)
        keypoint = np.zeros((persons, total, NUM_KEYPOINTS, 2), np.float32)
        keypoint_score = np.zeros((persons, total, NUM_KEYPOINTS), np.float32)
        slot = {track: m for m, track in enumerate(kept)}
        for t, frame_ids in enumerate(ids):
            for c, track in enumerate(frame_ids):
                if int(track) in slot:
                    keypoint[slot[int(track)], t] = found.keypoints[t][c]
                    keypoint_score[slot[int(track)], t] = found.scores[t][c]
        annotation = {
            "frame_dir": frame_dir or "video",
            "total_frames": total,
            "img_shape": tuple(shape),
            "original_shape": tuple(shape),
            "keypoint": keypoint,
            "keypoint_score": keypoint_score,
        }
        if label is not None:
            annotation["label"] = int(label)
        return annotation

    def extract_clip(self, video) -> np.ndarray:
        """One video -> its (T, max_persons, 17, 3) ``coco17`` clip (x, y in [-1, 1], score), as the pyskl loader
        gives it."""
        return annotation_to_clip(self(video), self.max_persons)


def _videos_by_class(root: Path) -> dict[str, list[tuple[str, Path]]]:
    """``{class folder: [(video name, path), ...]}`` for the class folders under `root` that hold videos."""
    classes = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        videos = video_sources(folder, id_pattern=r"^(.*)$")  # names kept whole (no NTU "_rgb" stripping)
        if videos:
            classes[folder.name] = videos
    return classes


def extract_pose_annotations(
    root: str | os.PathLike,
    output: str | os.PathLike,
    extractor: PoseExtractor,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> dict:
    """A folder of videos -> one pyskl annotation pickle that ``load_skeleton_dataset("pyskl", data_dir=output)``
    reads.

    Layouts: ``<root>/<class>/<video>`` (a split of ``val_fraction`` of each class, drawn with ``seed``, goes to
    ``val``), or ``<root>/train/<class>/<video>`` with ``<root>/val/...`` (or ``test``). A video is a file PyAV
    decodes (``.mp4``, ``.avi``, ...), a folder of frame images or a ``.npy`` frame array. Classes are numbered in
    sorted order of their folder names, which the pickle also records (``class_names``, read by the loader).
    Videos that cannot be read are skipped, logged and listed under ``skipped`` in the returned summary.

    Returns:
        ``{"output", "class_names", "splits": {name: count}, "skipped": [(path, reason), ...]}``.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: expected a folder of <class>/<video> (or train/ and val/ folders of them)")
    split_dirs = {name: root / name for name in ("train", "val", "test") if (root / name).is_dir()}
    if "train" in split_dirs and len(split_dirs) > 1:
        by_split = {name: _videos_by_class(path) for name, path in split_dirs.items()}
    else:
        by_class, rng = _videos_by_class(root), random.Random(seed)
        by_split = {"train": {}, "val": {}}
        for name, videos in by_class.items():
            videos = list(videos)
            rng.shuffle(videos)
            n_val = round(len(videos) * val_fraction)
            by_split["val"][name], by_split["train"][name] = sorted(videos[:n_val]), sorted(videos[n_val:])
    class_names = sorted({name for classes in by_split.values() for name in classes})
    if not class_names:
        raise ValueError(f"{root}: no videos found in <class>/ folders ({', '.join(sorted(VIDEO_SUFFIXES))})")
    label_of = {name: i for i, name in enumerate(class_names)}
    annotations, split, skipped = [], {}, []
    for split_name, classes in by_split.items():
        split[split_name] = []
        for class_name, videos in classes.items():
            for name, video in videos:
                sample_id = f"{class_name}/{name}" if split_name == "train" else f"{split_name}/{class_name}/{name}"
                try:
                    annotation = extractor(video, frame_dir=sample_id, label=label_of[class_name])
                except (ValueError, SkeletonParseError) as err:
                    logger.warning("skipped %s: %s", video, err)
                    skipped.append((str(video), str(err)))
                    continue
                annotations.append(annotation)
                split[split_name].append(sample_id)
    write_annotation_file(output, split, annotations, class_names=class_names)
    counts = {name: len(ids) for name, ids in split.items()}
    return {"output": str(output), "class_names": class_names, "splits": counts, "skipped": skipped}
