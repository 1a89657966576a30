"""SLiM's hierarchical multi-view temporal sampling (section 3, "Multi-view generation strategy"; appendix B).

From each clip, two global views X_G1, X_G2 of 64 frames and, for every local scale, two local views (X_L1: 32 frames,
X_L2: 16, X_L3: 8) are cut; every view is an interval of frames resampled to the view's length by linear
interpolation, optionally followed by the Skeleton-Aware Augmentations (section 3.4, `skeleton_aware_augment`).

- Global views: each of the two has its own interval whose duration is a U(0.5, 1.0) fraction of the clip's valid
  frames, placed uniformly at random among them (appendix B, "Global view sampling").
- Local views: for each scale, two independent intervals whose duration is a U(p_min, p_max) fraction of the anchor
  global view's interval (G1's, appendix B: "re-sampled from the specific temporal interval [t_start^1, t_end^1]
  assigned to the primary global anchor X_G1"), placed uniformly at random *inside* that interval.

Arrays are numpy, frames first ``(N, T, M, V, C)`` like `skeleton_models.augmentation`; everything is vectorised over
the batch (the only loops run over the few views), and every random draw comes from the `numpy.random.Generator`
passed in.

Reading: an interval is a run of whole frames ``[start, end)`` (``end`` exclusive, so ``end - start`` frames are
    kept), drawn and resampled exactly like CTR-GCN's/MAMP's ``valid_crop_resize`` (`crop_interval` then `resample`
    from `skeleton_models.augmentation`, the same code the fine-tuning processor uses): the kept duration is
    ``floor(p * length)`` frames (at least 1), its offset a uniform integer, and resampling is ``F.interpolate``'s
    linear interpolation with ``align_corners=False``. The paper's "uniform sampling within that segment" followed by
    "linear temporal interpolation" when the segment is shorter than the view is therefore one operation: frame
    ``i`` of a view of ``W`` frames is read at position ``start + (i + 0.5) * (end - start) / W - 0.5`` (fractional
    positions are linearly interpolated between the two neighbouring frames), clamped to ``[start, end - 1]``.
Reading: a view whose interval is at least as long as the view (downsampling) therefore starts and ends half a
    "cell" inside its interval (it averages neighbouring frames, never reads outside); a view whose interval is
    shorter (upsampling) starts and ends exactly on the interval's first and last frames, repeated where the clamp
    applies.
Assumed: fractions are of whole frames, so a duration fraction is within ``[p_min - 1 / length, p_max]``
    (``floor``), and an interval never shorter than one frame (so an anchor of fewer than ``1 / p_max`` frames gives
    one-frame local intervals). No minimum duration of ``window`` frames is imposed (unlike ``crop_interval``'s
    training crop, which keeps at least the window; appendix B defines durations by the ratios alone and interpolates
    shorter segments).
Assumed: local intervals never leave the anchor's interval (the paper's "strictly re-sampling from the same
    temporal interval"), and the local crops of different scales and of the same scale are drawn independently
    (they may overlap).
Reading: the valid part of a clip is found like `SkeletonProcessor` does it: frames before ``valid_lengths`` (all
    frames when ``None``) that are not all zero; the interval runs from the first to the last such frame. A clip with
    no valid frame keeps its first ``max(valid_length, 1)`` frames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .augmentation import _check_rng, crop_interval, resample, skeleton_aware_augment, valid_frames
from .skeletons import SkeletonLayout

__all__ = [
    "AUGMENT_VIEWS",
    "GLOBAL_FRAMES",
    "GLOBAL_RANGE",
    "LOCAL_PER_SCALE",
    "LOCAL_SPECS",
    "NUM_GLOBAL_VIEWS",
    "VIEW_LENGTHS",
    "MultiViewSample",
    "check_view_lengths",
    "cut_views",
    "sample_global_intervals",
    "sample_local_intervals",
    "sample_views",
    "valid_frame_range",
    "view_lengths",
]

GLOBAL_FRAMES = 64
"""Frames of a global view (appendix B: "uniformly sampled to T = 64 frames")."""
GLOBAL_RANGE = (0.5, 1.0)
"""Fraction of the valid sequence a global interval covers (appendix B: 50 % to 100 %)."""
LOCAL_SPECS: tuple[tuple[int, tuple[float, float]], ...] = ((32, (0.35, 0.7)), (16, (0.15, 0.4)), (8, (0.05, 0.2)))
"""(frames, fraction of the anchor's interval) of each local scale X_L1, X_L2, X_L3 (appendix B)."""
LOCAL_PER_SCALE = 2
"""Local crops per scale (appendix B: "For each resolution, we extract two independent crops")."""
NUM_GLOBAL_VIEWS = 2
"""X_G1 and X_G2."""
AUGMENT_VIEWS = ("none", "all", "global", "local")
"""Which views `sample_views` passes through `skeleton_aware_augment` (the paper: every view, ``"all"``)."""


def view_lengths(global_frames: int = GLOBAL_FRAMES, local_specs=LOCAL_SPECS) -> tuple[int, ...]:
    """The frame counts of the views `sample_views` produces, global first: ``(64, 32, 16, 8)`` by default."""
    return (int(global_frames), *(int(frames) for frames, _ in local_specs))


VIEW_LENGTHS = view_lengths()
"""``(64, 32, 16, 8)``: SLiM's view lengths."""


def check_view_lengths(temporal_patch: int, lengths: Sequence[int] = VIEW_LENGTHS) -> tuple[int, ...]:
    """The number of temporal tokens of each view length for a patch embedding of `temporal_patch` frames (what a
    temporal RoPE must cover), or a ``ValueError`` when a view length is not a multiple of `temporal_patch`."""
    temporal_patch = int(temporal_patch)
    if temporal_patch < 1:
        raise ValueError(f"`temporal_patch` must be a positive number of frames, got {temporal_patch}")
    bad = [int(n) for n in lengths if int(n) % temporal_patch]
    if bad:
        raise ValueError(
            f"view lengths {bad} are not multiples of the temporal patch ({temporal_patch} frames); view lengths: "
            f"{tuple(int(n) for n in lengths)}"
        )
    return tuple(int(n) // temporal_patch for n in lengths)


@dataclass(frozen=True)
class MultiViewSample:
    """The views of a batch of N clips and the intervals they were cut from.

    Attributes:
        global_views: (N, 2, global_frames, M, V, C), X_G1 then X_G2; dtype of the clips.
        global_intervals: (N, 2, 2) int64 ``[start, end)`` frame interval of each global view (end exclusive).
        local_views: frames -> (N, local_per_scale, frames, M, V, C), one entry per local scale (``32``, ``16``,
            ``8`` by default, in `local_specs` order).
        local_intervals: frames -> (N, local_per_scale, 2) int64 ``[start, end)``, every one inside
            ``global_intervals[:, anchor]``.
        valid_intervals: (N, 2) int64 ``[start, end)`` valid frames of each clip the global intervals lie in.
        anchor: the global view (0: X_G1, 1: X_G2) whose interval the local views were cut from.
    """

    global_views: np.ndarray
    global_intervals: np.ndarray
    local_views: dict[int, np.ndarray] = field(default_factory=dict)
    local_intervals: dict[int, np.ndarray] = field(default_factory=dict)
    valid_intervals: np.ndarray | None = None
    anchor: int = 0

    @property
    def anchor_interval(self) -> np.ndarray:
        """(N, 2) ``[start, end)`` of the anchor global view."""
        return self.global_intervals[:, self.anchor]


def _check_batch(clips) -> np.ndarray:
    clips = np.asarray(clips)
    if clips.ndim != 5:
        raise ValueError(f"`clips` must have shape (N, T, M, V, C), got an array of shape {clips.shape}")
    if not np.issubdtype(clips.dtype, np.floating):
        raise ValueError(f"`clips` must be a floating-point array, got dtype {clips.dtype}")
    if clips.shape[1] < 1:
        raise ValueError(f"`clips` must have at least one frame (axis 1), got shape {clips.shape}")
    return clips


def _check_fraction(name: str, value) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a pair (low, high) of fractions, got {value!r}") from None
    if not 0 < lo <= hi <= 1:
        raise ValueError(f"`{name}` must satisfy 0 < low <= high <= 1, got {value!r}")
    return lo, hi


def _check_frames(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer number of frames, got {value!r}")
    return int(value)


def valid_frame_range(clips: np.ndarray, valid_lengths: np.ndarray | Sequence[int] | None = None):
    """The valid frames ``[start, end)`` of each clip, as `SkeletonProcessor` finds them.

    Args:
        clips: (N, T, M, V, C) zero-padded clips.
        valid_lengths: (N,) frames of each clip before its padding, or ``None`` (every frame may be valid).

    Returns:
        ``start`` and ``end`` (N,) int64: from the first to one past the last frame before ``valid_lengths`` that is
        not all zero; a clip with no such frame gets ``[0, valid_length)``.
    """
    clips = _check_batch(clips)
    n, t = clips.shape[:2]
    if valid_lengths is None:
        lengths = np.full(n, t, dtype=np.int64)
    else:
        raw = np.asarray(valid_lengths)
        whole = np.issubdtype(raw.dtype, np.integer) or (
            np.issubdtype(raw.dtype, np.floating) and bool((raw == np.round(raw)).all())
        )
        if raw.shape != (n,) or not whole:
            raise ValueError(f"`valid_lengths` must be {n} whole numbers of frames (one per clip), got {raw!r}")
        lengths = raw.astype(np.int64)
        if (lengths < 0).any() or (lengths > t).any():
            raise ValueError(f"`valid_lengths` must lie in [0, {t}] (the clips' frames), got {lengths.tolist()}")
    return valid_frames(clips, lengths)


def _draw_intervals(start, end, count: int, ratio: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """`count` random sub-intervals of each ``[start, end)``, each ``floor(p * length)`` (at least 1) frames with
    p ~ U(ratio) at a uniform integer offset: (N, count, 2) ``[start, end)``."""
    start = np.repeat(np.asarray(start, dtype=np.int64)[:, None], count, axis=1)
    length = np.repeat((np.asarray(end, dtype=np.int64) - start[:, 0])[:, None], count, axis=1)
    # window=1: no minimum duration beyond one frame (crop_interval's training crop keeps >= min(window, length)).
    first, kept = crop_interval(start, length, 1, tuple(ratio), rng)
    return np.stack([first, first + kept], axis=-1)


def sample_global_intervals(
    start: np.ndarray,
    end: np.ndarray,
    rng: np.random.Generator,
    global_range: tuple[float, float] = GLOBAL_RANGE,
    count: int = NUM_GLOBAL_VIEWS,
) -> np.ndarray:
    """(N, count, 2) ``[start, end)`` global intervals, each covering a U(global_range) fraction of the valid frames
    ``[start, end)`` of its clip (see `valid_frame_range`), placed uniformly at random among them."""
    count, global_range = _check_frames("count", count), _check_fraction("global_range", global_range)
    return _draw_intervals(start, end, count, global_range, rng)


def sample_local_intervals(
    anchor: np.ndarray,
    rng: np.random.Generator,
    ratio: tuple[float, float],
    count: int = LOCAL_PER_SCALE,
) -> np.ndarray:
    """(N, count, 2) ``[start, end)`` local intervals inside each anchor interval ``anchor`` (N, 2), each a
    U(ratio) fraction of the anchor's duration, placed uniformly at random inside it."""
    anchor = np.asarray(anchor, dtype=np.int64)
    return _draw_intervals(
        anchor[:, 0], anchor[:, 1], _check_frames("count", count), _check_fraction("ratio", ratio), rng
    )


def cut_views(clips: np.ndarray, intervals: np.ndarray, frames: int) -> np.ndarray:
    """Resample each interval (N, K, 2) ``[start, end)`` of each clip (N, T, M, V, C) to `frames` frames with
    `skeleton_models.augmentation.resample` (linear interpolation, ``align_corners=False``): (N, K, frames, M, V, C)
    in the dtype of `clips`."""
    clips = _check_batch(clips)
    intervals = np.asarray(intervals, dtype=np.int64)
    frames = _check_frames("frames", frames)
    views = [
        resample(clips, intervals[:, k, 0], intervals[:, k, 1] - intervals[:, k, 0], frames)
        for k in range(intervals.shape[1])
    ]
    return np.stack(views, axis=1).astype(clips.dtype, copy=False)


def _augment(views: np.ndarray, layout, rng: np.random.Generator, kwargs: Mapping[str, Any]) -> np.ndarray:
    """`skeleton_aware_augment` on every view of (N, K, T, M, V, C), each with its own draws."""
    flat = views.reshape(-1, *views.shape[2:])
    return skeleton_aware_augment(flat, layout, rng, **kwargs).reshape(views.shape).astype(views.dtype, copy=False)


def sample_views(
    clips: np.ndarray,
    valid_lengths: np.ndarray | Sequence[int] | None,
    rng: np.random.Generator,
    global_frames: int = GLOBAL_FRAMES,
    global_range: tuple[float, float] = GLOBAL_RANGE,
    local_specs: Sequence[tuple[int, tuple[float, float]]] = LOCAL_SPECS,
    local_per_scale: int = LOCAL_PER_SCALE,
    anchor: int = 0,
    augment_views: str = "none",
    layout: SkeletonLayout | str | None = None,
    augment_kwargs: Mapping[str, Any] | None = None,
) -> MultiViewSample:
    """SLiM's hierarchical multi-view temporal sampling (appendix B) of a batch of clips.

    Args:
        clips: (N, T, M, V, C) float clips, zero-padded in time.
        valid_lengths: (N,) frames of each clip before its padding, or ``None`` (the valid part is then found from
            the all-zero frames alone; see `valid_frame_range`).
        rng: random generator; every draw comes from it (the intervals first: the two global ones, then each local
            scale in `local_specs` order; then the augmentations, global views first).
        global_frames: frames of each global view (paper: 64).
        global_range: fraction (low, high) of the valid frames a global interval covers (paper: 0.5 to 1.0).
        local_specs: (frames, (p_min, p_max)) of each local scale: its view length and the fraction of the anchor's
            interval its intervals cover (paper: (32, (0.35, 0.7)), (16, (0.15, 0.4)), (8, (0.05, 0.2))).
        local_per_scale: local crops per scale (paper: 2).
        anchor: the global view whose interval the local views are cut from: 0 (X_G1, the paper's primary anchor) or
            1 (X_G2). Reading: the paper "symmetrize[s] the training objective by repeating this multi-view generation
            process with X_G2 as the anchor"; ``anchor=1`` gives that pass's local views (the global intervals are
            drawn the same way whatever the anchor, so two calls with one seed share their global views).
        augment_views: which views go through `skeleton_aware_augment`: ``"none"`` (default: sampling only),
            ``"all"`` (the paper: "All views are subsequently processed by the skeleton-aware augmentations"),
            ``"global"`` or ``"local"``. Assumed: every augmented view gets its own draws (rotation, mirroring,
            scaling and whether each is applied), so the two views of a pair are augmented independently.
        layout: the joint layout (or its name) `skeleton_aware_augment` needs; required unless ``augment_views`` is
            ``"none"``.
        augment_kwargs: further keyword arguments of `skeleton_aware_augment` (``rotation``, ``mirroring`` and
            ``scaling`` modes such as ``"skeleton_aware"``/``"limited"``/``"none"``, ``probability``, ...).

    Returns:
        A `MultiViewSample`: ``global_views`` (N, 2, global_frames, M, V, C), ``local_views[frames]``
        (N, local_per_scale, frames, M, V, C), their ``[start, end)`` intervals and the valid intervals.
    """
    clips = _check_batch(clips)
    rng = _check_rng(rng)
    global_frames = _check_frames("global_frames", global_frames)
    global_range = _check_fraction("global_range", global_range)
    local_per_scale = _check_frames("local_per_scale", local_per_scale)
    specs = []
    for spec in local_specs:
        try:
            frames, ratio = spec
        except (TypeError, ValueError):
            raise ValueError(f"`local_specs` must hold (frames, (p_min, p_max)) pairs, got {spec!r}") from None
        specs.append((_check_frames("local_specs frames", frames), _check_fraction("local_specs ratio", ratio)))
    if len({frames for frames, _ in specs}) != len(specs):
        raise ValueError(f"local scales must have distinct frame counts, got {[f for f, _ in specs]}")
    if isinstance(anchor, bool) or anchor not in range(NUM_GLOBAL_VIEWS):
        raise ValueError(f"`anchor` must be 0 (X_G1) or 1 (X_G2), got {anchor!r}")
    if augment_views not in AUGMENT_VIEWS:
        raise ValueError(f"`augment_views` must be one of {AUGMENT_VIEWS}, got {augment_views!r}")
    augment_kwargs = dict(augment_kwargs or {})
    reserved = {"clips", "layout", "rng"} & set(augment_kwargs)
    if reserved:
        raise ValueError(f"`augment_kwargs` must not set {sorted(reserved)}: pass `layout` and `rng` directly")
    if augment_views != "none" and layout is None:
        raise ValueError(f"`augment_views={augment_views!r}` needs the joint `layout` for skeleton_aware_augment")

    start, end = valid_frame_range(clips, valid_lengths)
    global_intervals = sample_global_intervals(start, end, rng, global_range)
    local_intervals = {
        frames: sample_local_intervals(global_intervals[:, anchor], rng, ratio, local_per_scale)
        for frames, ratio in specs
    }
    global_views = cut_views(clips, global_intervals, global_frames)
    local_views = {frames: cut_views(clips, local_intervals[frames], frames) for frames in local_intervals}
    if augment_views in ("all", "global"):
        global_views = _augment(global_views, layout, rng, augment_kwargs)
    if augment_views in ("all", "local"):
        local_views = {frames: _augment(views, layout, rng, augment_kwargs) for frames, views in local_views.items()}
    return MultiViewSample(
        global_views=global_views,
        global_intervals=global_intervals,
        local_views=local_views,
        local_intervals=local_intervals,
        valid_intervals=np.stack([start, end], axis=-1),
        anchor=anchor,
    )
