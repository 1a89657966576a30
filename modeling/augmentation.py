# Generated from skeleton_models/augmentation.py by utils/write_modeling.py; do not edit.
"""Geometric and temporal transforms on whole batches of skeleton clips.

Arrays are frames-first batches ``(N, T, M, V, C)`` (batch, frames, persons, joints, channels) of float32; the
first `coordinate_dims` channels are coordinates, any further channel (a keypoint score) is left untouched.
Every function is vectorised over the batch; none loops over joints or frames.

SLiM's Skeleton-Aware Augmentations (SAA, section 3.4 and appendix D, Algorithms 2-4) and the "Limited" baselines
they replace (Table 7, Fig. 3 (b)-(d)) are here too: `skeleton_aware_rotation`, `skeleton_aware_mirror`,
`bone_aware_scaling` and `swap_left_right`, `coordinate_scaling`, `random_rotation`, composed by
`skeleton_aware_augment`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .skeletons import SkeletonLayout, get_layout


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


def valid_frames(clips: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The valid frames ``[start, end)`` of (N, T, ...) zero-padded clips: from the first to one past the last frame
    before ``lengths`` (N,) that is not all zero; a clip with no such frame gets ``[0, length)``."""
    n, t = clips.shape[:2]
    frame_valid = np.abs(clips).reshape(n, t, -1).max(-1) > 0 if clips.size else np.zeros((n, t), dtype=bool)
    frame_valid &= np.arange(t)[None, :] < np.asarray(lengths)[:, None]
    any_valid = frame_valid.any(1)
    start = np.where(any_valid, frame_valid.argmax(1), 0).astype(np.int64)
    end = np.where(any_valid, t - frame_valid[:, ::-1].argmax(1), lengths).astype(np.int64)
    return start, end


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


# --- SLiM: Skeleton-Aware Augmentations (SAA) and the "Limited" augmentations they replace ---------------------------
# SLiM (arXiv 2603.10648) section 3.4, appendix D (Algorithms 2-4), Fig. 3 and Table 7. In SLiM's ablation (Table 7)
# each SAA component is replaced by its "Limited" counterpart: uniform limited-angle rotation (Fig. 3 (b),
# `random_rotation`), index swapping (Fig. 3 (c), `swap_left_right`) and naive coordinate scaling (Fig. 3 (d),
# `coordinate_scaling`). `skeleton_aware_augment` selects each by a string, so a config field can choose it.

ROTATION_MODES = ("skeleton_aware", "limited", "none")
MIRRORING_MODES = ("skeleton_aware", "limited", "none")
SCALING_MODES = ("bone_aware", "limited", "none")


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"`rng` must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng)!r}")
    return rng


def _check_clips(clips, min_channels: int, layout: SkeletonLayout | None = None) -> np.ndarray:
    clips = np.asarray(clips)
    if clips.ndim != 5:
        raise ValueError(f"`clips` must have shape (N, T, M, V, C), got an array of shape {clips.shape}")
    if not np.issubdtype(clips.dtype, np.floating):
        raise ValueError(f"`clips` must be a floating-point array, got dtype {clips.dtype}")
    if clips.shape[-1] < min_channels:
        raise ValueError(f"`clips` must have at least {min_channels} channels (last axis), got shape {clips.shape}")
    if layout is not None and clips.shape[-2] != layout.num_joints:
        raise ValueError(
            f"`clips` has {clips.shape[-2]} joints (axis -2) but layout {layout.name!r} has {layout.num_joints}"
        )
    return clips


def _check_range(name: str, value) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a pair (low, high) of numbers, got {value!r}") from None
    if not 0 < lo <= hi:
        raise ValueError(f"`{name}` must satisfy 0 < low <= high, got {value!r}")
    return lo, hi


def _check_angle(name: str, degrees: float) -> float:
    degrees = float(degrees)
    if not 0 <= degrees <= 180:
        raise ValueError(f"`{name}` must be an angle in degrees within [0, 180], got {degrees}")
    return degrees


def euler_rotation_matrices(angles: np.ndarray) -> np.ndarray:
    """(N, 3) angles in radians (alpha about x, beta about y, gamma about z) -> (N, 3, 3) float32 matrices
    ``R = Rz(gamma) @ Ry(beta) @ Rx(alpha)`` with right-handed (counter-clockwise) elementary rotations, e.g.
    ``Rx(a) = [[1, 0, 0], [0, cos a, -sin a], [0, sin a, cos a]]`` (SLiM Algorithm 2, step 2).

    `rotation_matrices` (CTR-GCN's ``_rot``) builds the transposed elementary matrices, i.e. rotations by the negated
    angles, so this is ``rotation_matrices(-angles)``.
    """
    angles = np.asarray(angles, dtype=np.float64)
    if angles.ndim != 2 or angles.shape[1] != 3:
        raise ValueError(f"`angles` must have shape (N, 3), got {angles.shape}")
    return rotation_matrices(-angles)


def skeleton_aware_rotation_angles(
    num_clips: int,
    rng: np.random.Generator,
    tilt: float = 30.0,
    vertical: float = 180.0,
    up_axis: int = 1,
) -> np.ndarray:
    """Random angles of SLiM's skeleton-aware rotation (Algorithm 2, step 1), one triple per clip.

    Args:
        num_clips: N.
        rng: random generator.
        tilt: theta_tilt in degrees; the angles about the two non-vertical axes are U(-tilt, tilt) (paper: 30).
        vertical: theta_vert in degrees; the angle about the vertical axis is U(-vertical, vertical) (paper: 180,
            a full turn).
        up_axis: the vertical coordinate axis (`SkeletonLayout.up_axis`; 1 = y for Kinect, the paper's Y).

    Returns:
        (N, 3) float64 angles in radians about x, y, z, for `euler_rotation_matrices`. With ``up_axis=1`` these are
        the paper's (alpha, beta, gamma). Assumed: for a layout whose up axis is not y, the vertical range goes to the
        angle about that axis and the tilt range to the two others (the product order stays Rz Ry Rx).
    """
    rng = _check_rng(rng)
    if up_axis not in (0, 1, 2):
        raise ValueError(f"`up_axis` must be 0, 1 or 2 (x, y or z), got {up_axis!r}")
    if int(num_clips) < 0:
        raise ValueError(f"`num_clips` must be >= 0, got {num_clips}")
    limits = np.full(3, np.deg2rad(_check_angle("tilt", tilt)))
    limits[up_axis] = np.deg2rad(_check_angle("vertical", vertical))
    return rng.uniform(-1.0, 1.0, size=(int(num_clips), 3)) * limits


def skeleton_aware_rotation(
    clips: np.ndarray,
    rng: np.random.Generator,
    tilt: float = 30.0,
    vertical: float = 180.0,
    up_axis: int = 1,
) -> np.ndarray:
    """SLiM's skeleton-aware rotation (section 3.4, appendix D.1, Algorithm 2; Fig. 3 (f)).

    Per clip: alpha ~ U(-tilt, tilt) about X, beta ~ U(-vertical, vertical) about the vertical axis Y, gamma ~
    U(-tilt, tilt) about Z; ``R = Rz(gamma) Ry(beta) Rx(alpha)`` rotates every joint of every frame and person.

    Args:
        clips: (N, T, M, V, C) with C >= 3; channels 0-2 are x, y, z, further channels are kept.
        rng, tilt, vertical, up_axis: see `skeleton_aware_rotation_angles` (degrees; paper: 30 and 180).

    Returns:
        (N, T, M, V, C), the dtype of `clips`. Rotation is about the coordinate origin (Reading: the algorithm has no
        translation; the processor centres clips on the layout's origin joint). Note that because Ry sits between the
        two tilts, the up vector tilts by up to ``|alpha| + |gamma|`` (<= 2 * tilt = 60 deg), not by at most ``tilt``.
        Zero (padded) persons stay zero.
    """
    clips = _check_clips(clips, 3)
    angles = skeleton_aware_rotation_angles(len(clips), rng, tilt, vertical, up_axis)
    return rotate(clips, euler_rotation_matrices(angles).astype(clips.dtype, copy=False))


def swap_left_right(clips: np.ndarray, layout: SkeletonLayout | str) -> np.ndarray:
    """Index swapping, the "Limited" mirroring of SLiM's Table 7 (Fig. 3 (c); SkateFormer/AimCLR ``spatial_flip``):
    every joint takes the values of its bilateral counterpart ``layout.mirror[j]``, no coordinate is negated.

    (N, T, M, V, C) -> (N, T, M, V, C); all channels (scores included) move with their joint.
    """
    layout = get_layout(layout)
    clips = _check_clips(clips, 1, layout)
    return clips[..., np.asarray(layout.mirror, dtype=np.int64), :]


def skeleton_aware_mirror(clips: np.ndarray, layout: SkeletonLayout | str, lateral_axis: int = 0) -> np.ndarray:
    """SLiM's skeleton-aware mirroring (section 3.4, appendix D.2, Algorithm 3; Fig. 3 (g)): swap the bilateral joints
    by ``layout.mirror`` (Algorithm 3 step 1, ``X_swap[j] = X[I_swap(j)]``) and negate the lateral coordinate
    (step 2, channel 0 = X).

    For ``ntu25`` ``layout.mirror`` is the paper's I_swap (1-based pairs (5, 9) ... (23, 25)). The mirror is an
    involution: applying it twice gives the clips back.

    Args:
        clips: (N, T, M, V, C).
        layout: the joint layout (or its registered name).
        lateral_axis: the channel that is negated (paper: 0, X).

    Returns:
        (N, T, M, V, C), the dtype of `clips`. Reading: for a layout whose mirror map is the identity (a single hand,
        ``hands2x21``) this only negates x; swapping left and right hand instances is not done here.
    """
    layout = get_layout(layout)
    clips = _check_clips(clips, 1, layout)
    if not 0 <= lateral_axis < min(3, clips.shape[-1]):
        last = min(3, clips.shape[-1]) - 1
        raise ValueError(f"`lateral_axis` must be a coordinate channel (0..{last}), got {lateral_axis!r}")
    out = swap_left_right(clips, layout)
    out[..., lateral_axis] = -out[..., lateral_axis]
    return out


def coordinate_scaling(
    clips: np.ndarray,
    rng: np.random.Generator,
    scale_range: tuple[float, float] = (0.85, 1.15),
    per_axis: bool = True,
    coordinate_dims: int = 3,
) -> np.ndarray:
    """Naive scaling of the joint coordinates, the "Limited" scaling of SLiM's Table 7 (Fig. 3 (d): "the naive scaling
    of joint coordinates [4, 11] can disrupt the structure of the skeleton").

    Args:
        clips: (N, T, M, V, C).
        rng: random generator.
        scale_range: factors are U(low, high). Assumed: the SAA range (0.85, 1.15) so that the ablation changes only
            the kind of scaling (SkateFormer's ``feeders/tools.py::scale`` uses 1 + U(-0.2, 0.2)).
        per_axis: Reading: one factor per clip and per coordinate axis (default), as SkateFormer's ``scale`` (SLiM's
            code base), which is what distorts the skeleton's proportions; False draws one factor per clip for all axes.
        coordinate_dims: the first channels that are coordinates; further channels are kept.

    Returns:
        (N, T, M, V, C), the dtype of `clips`, scaled about the coordinate origin.
    """
    clips = _check_clips(clips, coordinate_dims)
    rng = _check_rng(rng)
    lo, hi = _check_range("scale_range", scale_range)
    factors = rng.uniform(lo, hi, size=(len(clips), coordinate_dims if per_axis else 1))
    out = clips.copy()
    out[..., :coordinate_dims] = clips[..., :coordinate_dims] * factors[:, None, None, None, :].astype(clips.dtype)
    return out


def scaling_groups(
    layout: SkeletonLayout | str,
    groups: Mapping[str, Sequence[int]] | Sequence[Sequence[int]] | None = None,
) -> dict[str, tuple[int, ...]]:
    """The disjoint joint groups of bone-aware scaling (SLiM Algorithm 4, "semantic joint groups G").

    Args:
        layout: the joint layout (or its registered name).
        groups: explicit groups (name -> joints, or a sequence of joint lists named ``group_0``, ...); they must be
            disjoint. None derives a partition from ``layout.groups``.

    Returns:
        name -> joint indices, pairwise disjoint. Derived partition (Assumed): keep the layout groups that are not a
        subset of another group (a group equal to an earlier one is dropped too), then give each joint to the first
        kept group that contains it. For ``ntu25`` this drops ``left_fingers``/``right_fingers`` and gives the paper's
        five groups: torso, left arm, right arm, left leg, right leg. Joints in no group keep their bone lengths.
    """
    layout = get_layout(layout)
    v = layout.num_joints
    if groups is None:
        items = [(name, set(joints)) for name, joints in layout.groups.items()]
        kept = [
            (name, joints)
            for i, (name, joints) in enumerate(items)
            if not any(joints < other or (joints == other and k < i) for k, (_, other) in enumerate(items) if k != i)
        ]
        partition, assigned = {}, set()
        for name, joints in kept:
            own = tuple(j for j in layout.groups[name] if j not in assigned)
            assigned |= joints
            if own:
                partition[name] = own
        return partition
    named = groups.items() if isinstance(groups, Mapping) else ((f"group_{i}", g) for i, g in enumerate(groups))
    partition, seen = {}, set()
    for name, joints in named:
        try:
            joints = tuple(int(j) for j in joints)
        except (TypeError, ValueError):
            raise ValueError(f"`groups` must hold sequences of joint indices, got {joints!r} for {name!r}") from None
        bad = [j for j in joints if not 0 <= j < v]
        if bad:
            raise ValueError(f"`groups`: group {name!r} has joints {bad} outside 0..{v - 1} of layout {layout.name!r}")
        shared = sorted(seen & set(joints))
        if shared:
            raise ValueError(f"`groups` must be disjoint; joints {shared} of group {name!r} are in an earlier group")
        seen |= set(joints)
        partition[str(name)] = joints
    return partition


def _rooted_tree(layout: SkeletonLayout, root: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The layout's joint tree rooted at `root` (default: its centre joint).

    Returns ``parent`` (V,) (a joint's own index at the root and at isolated joints), ``top`` (V,) (the root for
    joints of the tree, the joint itself for isolated joints) and ``path`` (V, V) float64, ``path[j, k] = 1`` when the
    bone of joint k lies on the path from the root to joint j.
    """
    v = layout.num_joints
    if root is None:
        root = layout.center
    if not isinstance(root, (int, np.integer)) or not 0 <= root < v or root in layout.isolated:
        raise ValueError(
            f"`root` must be a joint of layout {layout.name!r}'s tree (0..{v - 1}, not isolated), got {root!r}"
        )
    neighbours = [[] for _ in range(v)]
    for child, parent in layout.bones:
        neighbours[child].append(parent)
        neighbours[parent].append(child)
    parent = np.arange(v, dtype=np.int64)
    top = np.arange(v, dtype=np.int64)
    order, visited = [int(root)], {int(root)}
    for node in order:  # breadth-first: a topological order from the root
        for other in neighbours[node]:
            if other not in visited:
                visited.add(other)
                parent[other] = node
                order.append(other)
    path = np.zeros((v, v), dtype=np.float64)
    for j in order:
        top[j] = root
        if j != root:
            path[j] = path[parent[j]]
            path[j, j] = 1.0
    return parent, top, path


def scale_bones(
    clips: np.ndarray,
    layout: SkeletonLayout | str,
    factors: np.ndarray,
    root: int | None = None,
    coordinate_dims: int = 3,
) -> np.ndarray:
    """Scale each bone by a given factor and rebuild the joints from the root trajectory (SLiM Algorithm 4, steps 1,
    3 and 4).

    Bones ``B_j = X_j - X_parent(j)`` (zero at the root and at isolated joints) are multiplied by ``factors[:, j]``
    (the factor of the bone's child joint j), then ``X'_root = X_root`` and ``X'_j = X'_parent(j) + s_j B_j`` in
    topological order, computed at once as ``X_root + sum over the bones on the root-to-j path`` (a (V, V) path matrix,
    no loop over clips, frames or joints). Directions of bones are kept; lengths are multiplied by the factors.

    Args:
        clips: (N, T, M, V, C).
        layout: the joint layout (or its registered name).
        factors: (N, V) positive factor per clip and joint (the root's factor is unused).
        root: the joint whose trajectory is kept; None = ``layout.center`` (ntu25: spine_shoulder, 20). Reading:
            Algorithm 4 keeps joint 0 (Kinect v2's spine base), so ``root=0`` reproduces it exactly for ntu25; any
            joint re-roots the layout's (undirected) bone tree there.
        coordinate_dims: the first channels that are coordinates; further channels are kept.

    Returns:
        (N, T, M, V, C), the dtype of `clips` (computed in float64). A person-frame whose joints are all zero (padding)
        stays zero. Isolated joints (no bones) are unchanged.
    """
    layout = get_layout(layout)
    clips = _check_clips(clips, coordinate_dims, layout)
    factors = np.asarray(factors, dtype=np.float64)
    if factors.shape != (len(clips), layout.num_joints):
        raise ValueError(f"`factors` must have shape (N, V) = {(len(clips), layout.num_joints)}, got {factors.shape}")
    parent, top, path = _rooted_tree(layout, root)
    coords = clips[..., :coordinate_dims].astype(np.float64)
    bones = (coords - coords[..., parent, :]) * factors[:, None, None, :, None]
    out = clips.copy()
    out[..., :coordinate_dims] = coords[..., top, :] + np.einsum("vk,ntmkc->ntmvc", path, bones)
    return out


def bone_aware_scaling(
    clips: np.ndarray,
    layout: SkeletonLayout | str,
    rng: np.random.Generator,
    scale_range: tuple[float, float] = (0.85, 1.15),
    groups: Mapping[str, Sequence[int]] | Sequence[Sequence[int]] | None = None,
    root: int | None = None,
    coordinate_dims: int = 3,
) -> np.ndarray:
    """SLiM's bone-aware scaling (section 3.4, appendix D.3, Algorithm 4; Fig. 3 (h)).

    Per clip, one factor ``s_G ~ U(s_min, s_max)`` per joint group G (Algorithm 4 step 2); the bone of joint j (from
    its parent to j) is scaled by the factor of j's group, keeping its direction, and the joints are rebuilt from the
    root trajectory (`scale_bones`).

    Args:
        clips: (N, T, M, V, C).
        layout: the joint layout (or its registered name).
        rng: random generator.
        scale_range: (s_min, s_max) (paper: 0.85, 1.15).
        groups: the joint groups, see `scaling_groups` (default: the partition derived from ``layout.groups``; joints
            in no group keep their bone lengths).
        root: the joint whose trajectory is kept, see `scale_bones` (default: ``layout.center``).
        coordinate_dims: the first channels that are coordinates; further channels are kept.

    Returns:
        (N, T, M, V, C), the dtype of `clips`. Reading: one draw per clip, shared by its frames and persons (as the
        rotation); Algorithm 4 takes a single sequence.
    """
    layout = get_layout(layout)
    clips = _check_clips(clips, coordinate_dims, layout)
    rng = _check_rng(rng)
    lo, hi = _check_range("scale_range", scale_range)
    partition = scaling_groups(layout, groups)
    group_of = np.full(layout.num_joints, -1, dtype=np.int64)
    for g, joints in enumerate(partition.values()):
        group_of[list(joints)] = g
    draws = rng.uniform(lo, hi, size=(len(clips), len(partition)))
    factors = np.ones((len(clips), layout.num_joints))
    if partition:
        factors = np.where(group_of >= 0, draws[:, np.maximum(group_of, 0)], 1.0)
    return scale_bones(clips, layout, factors, root=root, coordinate_dims=coordinate_dims)


def skeleton_aware_augment(
    clips: np.ndarray,
    layout: SkeletonLayout | str,
    rng: np.random.Generator,
    rotation: str = "skeleton_aware",
    mirroring: str = "skeleton_aware",
    scaling: str = "bone_aware",
    probability: float = 0.5,
    tilt: float = 30.0,
    vertical: float = 180.0,
    limited_angle: float = 30.0,
    scale_range: tuple[float, float] = (0.85, 1.15),
    groups: Mapping[str, Sequence[int]] | Sequence[Sequence[int]] | None = None,
    root: int | None = None,
    coordinate_dims: int = 3,
) -> np.ndarray:
    """SLiM's Skeleton-Aware Augmentations (SAA, section 3.4 and appendix D) or their "Limited" counterparts
    (Table 7), each applied independently to each clip with `probability` (paper: p = 0.5).

    Args:
        clips: (N, T, M, V, C).
        layout: the joint layout (or its registered name); its ``up_axis`` is the rotation's vertical axis.
        rng: random generator (every draw comes from it).
        rotation: ``"skeleton_aware"`` (`skeleton_aware_rotation`, Algorithm 2), ``"limited"`` (uniform rotation with
            all three angles U(-limited_angle, limited_angle), Fig. 3 (b), `random_rotation`) or ``"none"``.
        mirroring: ``"skeleton_aware"`` (`skeleton_aware_mirror`, Algorithm 3), ``"limited"`` (index swap without
            negation, Fig. 3 (c), `swap_left_right`) or ``"none"``.
        scaling: ``"bone_aware"`` (`bone_aware_scaling`, Algorithm 4), ``"limited"`` (naive per-axis coordinate
            scaling with factors in `scale_range`, Fig. 3 (d), `coordinate_scaling`) or ``"none"``.
        probability: chance in [0, 1] that each augmentation is applied to a clip.
        tilt, vertical: skeleton-aware rotation limits in degrees (paper: 30, 180).
        limited_angle: the limited rotation's limit in degrees. Assumed: 30, the paper's "small angle" (section 3.4:
            "previous works restrict all axes"; CTR-GCN's ``random_rot`` uses 0.3 rad).
        scale_range: scaling factors (paper: 0.85, 1.15), used by both scalings.
        groups, root: bone-aware scaling's groups and kept joint (`bone_aware_scaling`).
        coordinate_dims: the first channels that are coordinates (rotation needs 3).

    Returns:
        (N, T, M, V, C), the dtype of `clips`. Assumed: the augmentations are applied in the paper's order (rotation,
        mirroring, scaling); the draws of every clip are made whether or not it is augmented.
    """
    for name, value, modes in (
        ("rotation", rotation, ROTATION_MODES),
        ("mirroring", mirroring, MIRRORING_MODES),
        ("scaling", scaling, SCALING_MODES),
    ):
        if value not in modes:
            raise ValueError(f"`{name}` must be one of {modes}, got {value!r}")
    try:
        probability = float(probability)
    except (TypeError, ValueError):
        raise ValueError(f"`probability` must be a number in [0, 1], got {probability!r}") from None
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"`probability` must be a number in [0, 1], got {probability!r}")
    layout = get_layout(layout)
    rng = _check_rng(rng)
    clips = _check_clips(clips, coordinate_dims, layout)
    if rotation != "none" and coordinate_dims != 3:
        raise ValueError(f"`rotation={rotation!r}` needs 3-D clips (`coordinate_dims=3`), got {coordinate_dims}")
    limited_angle = _check_angle("limited_angle", limited_angle)

    def maybe(augmented: np.ndarray, current: np.ndarray) -> np.ndarray:
        apply = rng.random(len(current)) < probability
        return np.where(apply[:, None, None, None, None], augmented, current)

    out = clips
    if rotation == "skeleton_aware":
        out = maybe(skeleton_aware_rotation(out, rng, tilt, vertical, layout.up_axis), out)
    elif rotation == "limited":
        out = maybe(random_rotation(out, np.deg2rad(limited_angle), rng).astype(out.dtype, copy=False), out)
    if mirroring == "skeleton_aware":
        out = maybe(skeleton_aware_mirror(out, layout), out)
    elif mirroring == "limited":
        out = maybe(swap_left_right(out, layout), out)
    if scaling == "bone_aware":
        out = maybe(bone_aware_scaling(out, layout, rng, scale_range, groups, root, coordinate_dims), out)
    elif scaling == "limited":
        out = maybe(coordinate_scaling(out, rng, scale_range, True, coordinate_dims), out)
    return out.copy() if out is clips else out
