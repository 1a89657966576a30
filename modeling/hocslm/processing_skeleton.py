# Generated from skeleton_models/processing_skeleton.py by `skeleton-models write-modeling`; do not edit.
"""`SkeletonProcessor`: raw skeleton clips -> model inputs, saved next to every checkpoint."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import BatchFeature, FeatureExtractionMixin

from .augmentation import crop_resize, random_rotation, rotate_about_axis
from .skeletons import SkeletonLayout, get_layout

_STREAM = re.compile(r"^(?P<base>joint|bone(?P<order>\d*))(?P<motion>_motion)?$")
_SPEC = re.compile(r"^skeleton_models: (\{.*\})$", flags=re.M)


def format_skeleton_spec(layout: str, coordinate_dims: int) -> str:
    """The line a dataset built by this library carries in its description: its layout and coordinate channels."""
    return "skeleton_models: " + json.dumps({"layout": layout, "coordinate_dims": coordinate_dims}, sort_keys=True)


def get_skeleton_spec(dataset) -> dict:
    """``{"layout": ..., "coordinate_dims": ...}`` of a dataset (or DatasetDict) built by this library."""
    if not hasattr(dataset, "info"):  # a DatasetDict
        dataset = next(iter(dataset.values()))
    match = _SPEC.search(dataset.info.description or "")
    if match is None:
        raise ValueError(
            "this dataset does not say which skeleton layout it holds (it was not built by "
            "skeleton_models.data.load_skeleton_dataset, or lost its description on the way); pass layout= and "
            "coordinate_dims= yourself"
        )
    return json.loads(match.group(1))


def parse_stream(stream: str) -> tuple[int, bool]:
    """``"joint"`` -> (0, False); ``"bone"`` -> (1, False); ``"bone2_motion"`` -> (2, True).

    The first number is the bone order k (0 = joints themselves), the flag says whether frame differences are taken.
    """
    match = _STREAM.match(stream)
    if match is None:
        raise ValueError(
            f"unknown stream {stream!r}; expected 'joint', 'bone' or 'bone<k>', optionally followed by "
            "'_motion' (e.g. 'joint_motion', 'bone2')"
        )
    order = 0 if match["base"] == "joint" else int(match["order"] or 1)
    if match["base"] != "joint" and order < 1:
        raise ValueError(f"bone order must be >= 1 in stream {stream!r}")
    return order, match["motion"] is not None


def compute_stream(clips: np.ndarray, layout: SkeletonLayout, stream: str, coordinate_dims: int = 3) -> np.ndarray:
    """Joint, bone, k-th order bone and motion streams of (N, T, M, V, C) clips.

    - bone of order k: each joint minus its k-th ancestor (zero at the centre joint; k = 1 gives CTR-GCN's bones,
      k = 2 the second-order "long bone" stream of HocSLM's 6-stream ensemble, Fig. 5);
    - motion: the difference to the next frame, zero at the last frame (CTR-GCN's ``vel``).
    Score channels beyond `coordinate_dims` are averaged over the two joints of a bone and kept by motion.
    """
    order, motion = parse_stream(stream)
    out = clips
    if order > 0:
        ancestors = layout.ancestors(order)
        out = clips.copy()
        out[..., :coordinate_dims] = clips[..., :coordinate_dims] - clips[..., ancestors, :coordinate_dims]
        if clips.shape[-1] > coordinate_dims:
            out[..., coordinate_dims:] = (clips[..., coordinate_dims:] + clips[..., ancestors, coordinate_dims:]) / 2
    if motion:
        moved = out.copy()
        moved[:, :-1, ..., :coordinate_dims] = out[:, 1:, ..., :coordinate_dims] - out[:, :-1, ..., :coordinate_dims]
        moved[:, -1, ..., :coordinate_dims] = 0.0
        out = moved
    return out


class SkeletonProcessor(FeatureExtractionMixin):
    r"""Turns skeleton clips into model inputs ``skeletons`` of shape (N, C, T, V, M).

    Steps, all vectorised over the batch (ARCHITECTURE section 4): keep the `num_persons` most active persons,
    centre on the layout's centre joint (of the first person, at its first valid frame, as CTR-GCN's
    ``seq_translation``), optionally rotate to a frontal view, crop the valid frames (random interval in
    training, centred in evaluation) and resample them to `window_size` frames, randomly rotate (training only), and
    compute the stream.

    Args:
        layout: skeleton layout name (``"ntu25"``, ``"nwucla20"``, ``"openpose18"``, ``"coco17"``, ...).
        window_size: output frames (CTR-GCN / HocSLM: 64). (Not `window`: transformers drops an attribute of that
            name when it saves a feature extractor.)
        num_persons: persons M per sample; extra persons are dropped by activity, missing ones are zero.
        stream: ``"joint"``, ``"bone"``, ``"bone2"`` or any of them + ``"_motion"`` (see `compute_stream`).
        coordinate_dims: leading channels that are coordinates (3 for x, y, z; 2 for x, y [+ score]).
        p_interval: training crop ratio interval (CTR-GCN: [0.5, 1]).
        eval_crop: evaluation crop ratio, centred (CTR-GCN's test ``p_interval=[0.95]``).
        random_rotation: maximum random rotation in radians about each axis in training, 0 to disable
            (CTR-GCN ``random_rot``, theta 0.3); only applied to 3-D coordinates.
        align_view: rotate each clip about the layout's up axis so that the first person's shoulders are parallel
            to the x axis at the first frame (3-D only; needs a layout with shoulders).
    """

    model_input_names = ["skeletons"]

    def __init__(
        self,
        layout: str = "ntu25",
        window_size: int = 64,
        num_persons: int = 2,
        stream: str = "joint",
        coordinate_dims: int = 3,
        p_interval: Sequence[float] = (0.5, 1.0),
        eval_crop: float = 0.95,
        random_rotation: float = 0.3,
        align_view: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.layout = get_layout(layout).name
        self.window_size = int(window_size)
        self.num_persons = int(num_persons)
        self.stream = stream
        self.coordinate_dims = int(coordinate_dims)
        self.p_interval = [float(p) for p in p_interval]
        self.eval_crop = float(eval_crop)
        self.random_rotation = float(random_rotation)
        self.align_view = bool(align_view)
        parse_stream(stream)
        if self.window_size < 1 or self.num_persons < 1:
            raise ValueError(f"window_size and num_persons must be >= 1, got {self.window_size} and {self.num_persons}")
        if len(self.p_interval) != 2 or not 0 < self.p_interval[0] <= self.p_interval[1] <= 1:
            raise ValueError(f"p_interval must be [lo, hi] with 0 < lo <= hi <= 1, got {self.p_interval}")
        if not 0 < self.eval_crop <= 1:
            raise ValueError(f"eval_crop must be in (0, 1], got {self.eval_crop}")
        if self.coordinate_dims not in (2, 3):
            raise ValueError(f"coordinate_dims must be 2 or 3, got {self.coordinate_dims}")
        if self.align_view and get_layout(self.layout).shoulders is None:
            raise ValueError(f"align_view needs a layout with shoulders; {self.layout!r} has none")


    @classmethod
    def for_dataset(cls, dataset, **kwargs) -> SkeletonProcessor:
        """A processor for a dataset built by `load_skeleton_dataset`: its layout, coordinate channels and persons
        per clip, with any other option (``window_size``, ``stream``, ...) given as keyword arguments. For a
        dataset without the library's description (e.g. read back from Parquet), pass ``layout`` and
        ``coordinate_dims``."""
        split = dataset if hasattr(dataset, "info") else next(iter(dataset.values()))
        defaults = {"num_persons": split.features["skeleton"].shape[1]}
        if not {"layout", "coordinate_dims"} <= set(kwargs):
            defaults.update(get_skeleton_spec(split))
        return cls(**{**defaults, **kwargs})

    def __call__(
        self,
        skeletons,
        labels=None,
        training: bool = False,
        rng: np.random.Generator | None = None,
        return_tensors: str | None = "pt",
    ) -> BatchFeature:
        """Process one clip or a batch of clips.

        Args:
            skeletons: one clip (T, M, V, C), a batch (N, T, M, V, C), or a sequence of clips with different T and
                M (numpy arrays or tensors) -- e.g. ``dataset["skeleton"]`` read with ``.with_format("numpy")``.
            labels: optional class indices, returned as ``labels``.
            training: apply the random crop and augmentation instead of the centred crop.
            rng: random generator for training; a fresh one when omitted.
            return_tensors: ``"pt"`` for torch tensors, ``None`` for numpy arrays.

        Returns:
            `BatchFeature` with ``skeletons`` (N, C, window_size, V, num_persons) float32 and optionally
            ``labels`` (N,).
        """
        clips = self._as_clip_list(skeletons)
        batch, lengths = self._pad(clips)
        out = self.process_batch(batch, lengths, training=training, rng=rng)
        data = {"skeletons": np.ascontiguousarray(out.transpose(0, 4, 1, 3, 2))}  # (N, C, T, V, M)
        if labels is not None:
            data["labels"] = np.asarray(labels, dtype=np.int64).reshape(-1)
            if len(data["labels"]) != len(clips):
                raise ValueError(f"got {len(data['labels'])} labels for {len(clips)} clips")
        return BatchFeature(data, tensor_type=return_tensors)

    def process_batch(
        self, batch: np.ndarray, lengths: np.ndarray, training: bool = False, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """The processing steps on a zero-padded (N, T, M, V, C) batch with true lengths (N,).

        Returns (N, window_size, num_persons, V, C) float32, frames first.
        """
        layout = get_layout(self.layout)
        if training and rng is None:
            rng = np.random.default_rng()
        frame_valid = np.abs(batch).reshape(*batch.shape[:2], -1).max(-1) > 0  # (N, T)
        frame_valid &= np.arange(batch.shape[1])[None, :] < lengths[:, None]
        batch = self._select_persons(batch)
        person_valid = np.abs(batch).max(axis=(3, 4)) > 0  # (N, T, M)
        any_valid = frame_valid.any(1)
        start = np.where(any_valid, frame_valid.argmax(1), 0)
        end = np.where(any_valid, batch.shape[1] - frame_valid[:, ::-1].argmax(1), lengths)
        batch = self._centre(batch, person_valid, layout)
        if self.align_view and self.coordinate_dims == 3:
            batch = self._align(batch, person_valid, layout)
        crop = tuple(self.p_interval) if training else self.eval_crop
        batch = crop_resize(batch, start, end - start, self.window_size, crop, rng if training else None)
        if training and self.random_rotation > 0 and self.coordinate_dims == 3:
            batch = random_rotation(batch, self.random_rotation, rng)
        return compute_stream(batch, layout, self.stream, self.coordinate_dims).astype(np.float32, copy=False)

    # -- steps ----------------------------------------------------------------------------------------------------
    def _as_clip_list(self, skeletons) -> list[np.ndarray]:
        if isinstance(skeletons, torch.Tensor):
            skeletons = skeletons.detach().cpu().numpy()
        if isinstance(skeletons, np.ndarray) and skeletons.dtype != object:
            if skeletons.ndim == 4:
                skeletons = [skeletons]
            elif skeletons.ndim != 5:
                raise ValueError(
                    "skeletons must be one clip (T, M, V, C), a batch (N, T, M, V, C) or a list of "
                    f"clips, got an array of shape {skeletons.shape}"
                )
        if not isinstance(skeletons, (list, tuple, np.ndarray)) or len(skeletons) == 0:
            raise ValueError(f"skeletons must be a non-empty clip or sequence of clips, got {type(skeletons).__name__}")
        layout = get_layout(self.layout)
        clips = []
        for i, clip in enumerate(skeletons):
            clip = clip.detach().cpu().numpy() if isinstance(clip, torch.Tensor) else np.asarray(clip)
            if clip.ndim != 4 or clip.shape[2] != layout.num_joints or clip.shape[3] < self.coordinate_dims:
                raise ValueError(
                    f"clip {i}: expected shape (T, M, V={layout.num_joints}, C>={self.coordinate_dims}) for layout "
                    f"{self.layout!r}, got {clip.shape}"
                )
            if clip.shape[0] < 1 or clip.shape[1] < 1:
                raise ValueError(f"clip {i}: needs at least one frame and one person, got shape {clip.shape}")
            if not np.isfinite(clip).all():
                raise ValueError(f"clip {i}: contains NaN or infinite values")
            clips.append(clip.astype(np.float32, copy=False))
        if len({c.shape[3] for c in clips}) > 1:
            channels = sorted({c.shape[3] for c in clips})
            raise ValueError(f"all clips must have the same number of channels, got {channels}")
        return clips

    @staticmethod
    def _pad(clips: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        lengths = np.array([c.shape[0] for c in clips], dtype=np.int64)
        persons = max(c.shape[1] for c in clips)
        if all(c.shape == clips[0].shape for c in clips):
            return np.stack(clips), lengths
        batch = np.zeros((len(clips), lengths.max(), persons, *clips[0].shape[2:]), dtype=np.float32)
        for i, clip in enumerate(clips):
            batch[i, : clip.shape[0], : clip.shape[1]] = clip
        return batch, lengths

    def _select_persons(self, batch: np.ndarray) -> np.ndarray:
        """Keep the `num_persons` most active persons (largest summed coordinate variance over their frames)."""
        n, t, m = batch.shape[:3]
        coords = batch[..., : self.coordinate_dims]
        present = (np.abs(batch).max(axis=(3, 4)) > 0)[..., None, None]  # (N, T, M, 1, 1)
        count = present.sum(1)  # (N, M, 1, 1)
        mean = (coords * present).sum(1) / np.maximum(count, 1)
        var = (((coords - mean[:, None]) ** 2) * present).sum(1) / np.maximum(count, 1)
        energy = np.where(count[..., 0, 0] > 0, var.sum(axis=(-1, -2)), -np.inf)  # (N, M)
        order = np.argsort(-energy, axis=1, kind="stable")[:, : self.num_persons]
        selected = np.take_along_axis(batch, order[:, None, :, None, None], axis=2)
        if selected.shape[2] < self.num_persons:
            pad = np.zeros((n, t, self.num_persons - selected.shape[2], *batch.shape[3:]), dtype=batch.dtype)
            selected = np.concatenate([selected, pad], axis=2)
        return selected

    def _centre(self, batch: np.ndarray, person_valid: np.ndarray, layout: SkeletonLayout) -> np.ndarray:
        """Subtract the centre joint of person 0 at its first valid frame; missing persons stay zero."""
        first = person_valid[:, :, 0].argmax(1)  # (N,)
        origin = batch[np.arange(len(batch)), first, 0, layout.center, : self.coordinate_dims]  # (N, D)
        out = batch.copy()
        out[..., : self.coordinate_dims] -= origin[:, None, None, None, :]
        out *= person_valid[..., None, None]
        return out

    def _align(self, batch: np.ndarray, person_valid: np.ndarray, layout: SkeletonLayout) -> np.ndarray:
        """Rotate about the up axis so that person 0's left-to-right shoulder vector points along +x (frontal)."""
        first = person_valid[:, :, 0].argmax(1)
        left, right = layout.shoulders
        idx = np.arange(len(batch))
        across = batch[idx, first, 0, right, :3] - batch[idx, first, 0, left, :3]  # (N, 3)
        a, b = [i for i in range(3) if i != layout.up_axis]
        angle = np.arctan2(across[:, b], across[:, a])
        return rotate_about_axis(batch, angle, layout.up_axis) * person_valid[..., None, None]
