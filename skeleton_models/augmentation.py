"""Geometric and temporal transforms on whole batches of skeleton clips.

Arrays are frames-first batches ``(N, T, M, V, C)`` (batch, frames, persons, joints, channels) of float32; the
first `coordinate_dims` channels are coordinates, any further channel (a keypoint score) is left untouched.
Every function is vectorised over the batch; none loops over joints or frames.
"""

from __future__ import annotations

import numpy as np


def person_activity(clips: np.ndarray, coordinate_dims: int = 3) -> np.ndarray:
    """How much each person moves: (N, T, M, V, C) -> (N, M), the summed variance of the person's coordinates over
    the frames in which it is present (CTR-GCN's person ranking). A person absent from every frame gets ``-inf``."""
    clips = np.asarray(clips)
    coords = clips[..., :coordinate_dims]
    present = (np.abs(clips).max(axis=(3, 4)) > 0)[..., None, None]  # (N, T, M, 1, 1)
    count = present.sum(1)  # (N, M, 1, 1)
    mean = (coords * present).sum(1) / np.maximum(count, 1)
    var = (((coords - mean[:, None]) ** 2) * present).sum(1) / np.maximum(count, 1)
    return np.where(count[..., 0, 0] > 0, var.sum(axis=(-1, -2)), -np.inf)


def crop_interval(
    start: np.ndarray,
    length: np.ndarray,
    window: int,
    crop_ratio: float | tuple[float, float],
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The frames each clip keeps (CTR-GCN's ``valid_crop_resize``, first half).

    Args:
        start, length: (N,) first valid frame and number of valid frames of each clip.
        window: output frames (a random crop keeps at least ``min(window, length)`` frames).
        crop_ratio: a fixed ratio p (evaluation: the centred ``p * length`` frames) or an interval ``(lo, hi)``
            (training: a random p in it, at a random offset).
        rng: random generator for the training crop.

    Returns:
        ``first`` (N,) first kept frame and ``kept`` (N,) number of kept frames.
    """
    length = np.maximum(np.asarray(length, dtype=np.int64), 1)
    start = np.asarray(start, dtype=np.int64)
    if np.isscalar(crop_ratio) or len(np.atleast_1d(crop_ratio)) == 1:
        p = float(np.atleast_1d(crop_ratio)[0])
        bias = ((1 - p) * length / 2).astype(np.int64)
        offset, kept = bias, np.maximum(length - 2 * bias, 1)
    else:
        if rng is None:
            raise ValueError("a random crop interval needs `rng`")
        lo, hi = crop_ratio
        p = rng.uniform(lo, hi, size=length.shape)
        kept = np.minimum(np.maximum(np.floor(length * p).astype(np.int64), window), length)
        offset = np.floor(rng.random(size=length.shape) * (length - kept + 1)).astype(np.int64)
    return start + offset, kept


def resample(clips: np.ndarray, first: np.ndarray, kept: np.ndarray, window: int) -> np.ndarray:
    """Resample frames ``first : first + kept`` of each clip to `window` frames (``valid_crop_resize``, second half).

    Args:
        clips: (N, T, M, V, C) zero-padded clips.
        first, kept: (N,) the interval of each clip (see `crop_interval`).
        window: output frames.

    Returns:
        (N, window, M, V, C), linearly interpolated in time exactly like ``F.interpolate(mode="bilinear",
        align_corners=False)`` over the time axis.
    """
    scale = kept / window
    src = (np.arange(window)[None, :] + 0.5) * scale[:, None] - 0.5
    src = np.maximum(src, 0.0)
    i0 = np.floor(src).astype(np.int64)
    i0 = np.minimum(i0, (kept - 1)[:, None])
    i1 = np.minimum(i0 + 1, (kept - 1)[:, None])
    w = (src - i0).astype(np.float32)
    base = first[:, None]
    gather = lambda idx: np.take_along_axis(clips, (base + idx)[:, :, None, None, None], axis=1)  # noqa: E731
    w = w[:, :, None, None, None]
    return (1 - w) * gather(i0) + w * gather(i1)


def crop_resize(
    clips: np.ndarray,
    start: np.ndarray,
    length: np.ndarray,
    window: int,
    crop_ratio: float | tuple[float, float],
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Crop each clip's valid interval and resample it to `window` frames (CTR-GCN's ``valid_crop_resize``):
    `crop_interval` then `resample`. (N, T, M, V, C) -> (N, window, M, V, C)."""
    return resample(clips, *crop_interval(start, length, window, crop_ratio, rng), window)


def rotation_matrices(angles: np.ndarray) -> np.ndarray:
    """(N, 3) rotation angles about x, y, z -> (N, 3, 3) matrices ``Rz @ Ry @ Rx`` (CTR-GCN's ``_rot``)."""
    c, s = np.cos(angles), np.sin(angles)
    one, zero = np.ones(len(angles)), np.zeros(len(angles))
    rx = np.stack(
        [
            np.stack([one, zero, zero], -1),
            np.stack([zero, c[:, 0], s[:, 0]], -1),
            np.stack([zero, -s[:, 0], c[:, 0]], -1),
        ],
        -2,
    )
    ry = np.stack(
        [
            np.stack([c[:, 1], zero, -s[:, 1]], -1),
            np.stack([zero, one, zero], -1),
            np.stack([s[:, 1], zero, c[:, 1]], -1),
        ],
        -2,
    )
    rz = np.stack(
        [
            np.stack([c[:, 2], s[:, 2], zero], -1),
            np.stack([-s[:, 2], c[:, 2], zero], -1),
            np.stack([zero, zero, one], -1),
        ],
        -2,
    )
    return (rz @ ry @ rx).astype(np.float32)


def random_rotation_matrices(num_clips: int, max_angle: float, rng: np.random.Generator) -> np.ndarray:
    """(N, 3, 3) random rotations, angles in [-max_angle, max_angle] about x, y and z (CTR-GCN ``random_rot``)."""
    return rotation_matrices(rng.uniform(-max_angle, max_angle, size=(num_clips, 3)))


def rotate(clips: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """Rotate the 3-D coordinates of each clip (N, T, M, V, C) by its matrix (N, 3, 3), shared by all frames and
    persons; channels beyond the third are kept."""
    out = clips.copy()
    out[..., :3] = np.einsum("nij,ntmvj->ntmvi", rotations, clips[..., :3])
    return out


def random_rotation(clips: np.ndarray, max_angle: float, rng: np.random.Generator) -> np.ndarray:
    """Rotate each 3-D clip by its own random angles in [-max_angle, max_angle] about x, y and z.

    One rotation per clip, shared by all its frames and persons (CTR-GCN ``random_rot``, theta = 0.3).
    """
    return rotate(clips, random_rotation_matrices(len(clips), max_angle, rng))


def rotate_about_axis(clips: np.ndarray, angle: np.ndarray, axis: int) -> np.ndarray:
    """Rotate each 3-D clip about coordinate `axis` by its angle (N,) (right-handed, positive = counter-clockwise)."""
    a, b = [i for i in range(3) if i != axis]
    c, s = np.cos(angle)[:, None, None, None], np.sin(angle)[:, None, None, None]
    out = clips.copy()
    xa, xb = clips[..., a], clips[..., b]
    out[..., a] = c * xa + s * xb
    out[..., b] = -s * xa + c * xb
    return out
