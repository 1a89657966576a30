# Generated from skeleton_models/hands.py by utils/write_modeling.py; do not edit.
"""Hand clips for BHaRNet's hand stream (section III-F): per-person hands -> one `hands2x21` clip per sample.

Hand keypoints come from a detector run on the RGB frames (MediaPipe Hands: 21 keypoints per hand, x and y in the
image, z relative to the wrist). Two steps turn them into a clip of the same shape as a body clip:

- `assign_hands_to_persons`: a detector does not know whom a hand belongs to. Each detected hand goes to the person
  whose matching wrist (the body layout's ``left_wrist`` / ``right_wrist``) is nearest, giving per-person hands
  (T, M, 2, 21, C) -- the ``hands`` column of the datasets (the synthetic benchmark has one; the NTU loader joins
  one with ``hands_dir=``).
- `hands_to_clip`: "we choose 2 hands (left, right) from the most active person in the sample" (III-F): the two
  hands of `most_active_person` become the two instances of a (T, 2, 25, C) ``hands2x21`` clip -- the 21 keypoints
  and 4 zero dummy nodes that pad a hand to the body's 25 nodes -- with missing detections filled and flagged.

`SkeletonProcessor` calls `hands_to_clip` itself for a ``hands2x21`` input given per-person hands, so a dataset's
``hands`` column feeds a model directly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .skeletons import SkeletonLayout, get_layout

__all__ = [
    "HANDS_LAYOUT",
    "LEFT",
    "RIGHT",
    "HandAssignment",
    "assign_hands_to_persons",
    "fill_missing_frames",
    "hand_activity",
    "hands_to_clip",
    "is_per_person_hands",
    "most_active_person",
]

HANDS_LAYOUT = "hands2x21"
LEFT, RIGHT = 0, 1  # the hand axis of per-person hands and the instance axis of a hands2x21 clip
NUM_HAND_KEYPOINTS = 21
FILL_MODES = ("interpolate", "zero")


def _check_per_person_hands(hands, name: str = "hands") -> np.ndarray:
    hands = np.asarray(hands)
    if hands.ndim != 5 or hands.shape[2] != 2 or hands.shape[3] != NUM_HAND_KEYPOINTS or hands.shape[4] < 2:
        raise ValueError(
            f"{name} must be per-person hands of shape (T, M, 2 hands (left, right), {NUM_HAND_KEYPOINTS}, C>=2), "
            f"got {hands.shape}"
        )
    if hands.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be numeric, got dtype {hands.dtype}")
    return hands


def is_per_person_hands(array_or_shape) -> bool:
    """Whether an array (or a shape tuple, e.g. a `datasets` feature's, whose frame axis may be None) ends with
    per-person hands ``(..., M, 2, 21, C)`` rather than with clips of 25 nodes."""
    shape = array_or_shape if isinstance(array_or_shape, tuple) else np.shape(array_or_shape)
    return len(shape) >= 5 and shape[-3] == 2 and shape[-2] == NUM_HAND_KEYPOINTS


def _detected(hands: np.ndarray) -> np.ndarray:
    """(..., 21, C) -> (...,) bool: a hand is detected in a frame unless all its values are zero."""
    return np.abs(hands).max(axis=(-1, -2)) > 0


def hand_activity(hands, coordinate_dims: int = 3) -> np.ndarray:
    """How much each person's hands move: (T, M, 2, 21, C) -> (M,) float64.

    Per hand, the variance over the frames in which that hand is detected of each of its 21 x `coordinate_dims`
    coordinates, summed; then summed over the two hands. A person with no detected hand in any frame gets ``-inf``.
    (The body counterpart is the summed coordinate variance CTR-GCN and `SkeletonProcessor` use to rank persons.)
    """
    hands = _check_per_person_hands(hands)
    coords = hands[..., :coordinate_dims].astype(np.float64)
    present = _detected(hands)[..., None, None]  # (T, M, 2, 1, 1)
    count = present.sum(0)  # (M, 2, 1, 1)
    mean = (coords * present).sum(0) / np.maximum(count, 1)
    var = (((coords - mean) ** 2) * present).sum(0) / np.maximum(count, 1)  # (M, 2, 21, D)
    activity = var.sum(axis=(1, 2, 3))
    return np.where(count.sum(axis=(1, 2, 3)) > 0, activity, -np.inf)


def most_active_person(hands, coordinate_dims: int = 3) -> int:
    """Index of the person whose hands move most (`hand_activity`); ties and hand-less clips give the first."""
    return int(np.argmax(hand_activity(hands, coordinate_dims)))


def fill_missing_frames(hand, fill: str = "interpolate") -> tuple[np.ndarray, np.ndarray]:
    """Fill the frames in which a hand was not detected: (T, 21, C) -> (filled (T, 21, C), detected (T,) bool).

    A frame whose values are all zero is a missed detection. ``fill="interpolate"``: a gap between two detected
    frames is interpolated linearly; frames before the first and after the last detection hold the nearest detected
    frame, so that the hand does not jump to the origin (a spurious spike in the motion streams); a hand never
    detected stays zero. ``fill="zero"``: missed frames stay zero. Detected frames are returned unchanged.
    """
    if fill not in FILL_MODES:
        raise ValueError(f"fill must be one of {list(FILL_MODES)}, got {fill!r}")
    hand = np.asarray(hand)
    if hand.ndim != 3 or hand.shape[1] != NUM_HAND_KEYPOINTS:
        raise ValueError(f"hand must have shape (T, {NUM_HAND_KEYPOINTS}, C), got {hand.shape}")
    detected = _detected(hand)
    found = np.flatnonzero(detected)
    if fill == "zero" or len(found) == 0 or detected.all():
        return hand.copy(), detected
    frames = np.arange(len(hand))
    after = np.searchsorted(found, frames)  # first detected frame >= t
    hi = found[np.minimum(after, len(found) - 1)]
    lo = found[np.clip(after - 1, 0, len(found) - 1)]  # last detected frame < t (hi itself before the first)
    weight = np.where(hi > lo, (frames - lo) / np.maximum(hi - lo, 1), 1.0)[:, None, None]
    filled = hand[lo] * (1.0 - weight) + hand[hi] * weight
    filled[detected] = hand[detected]
    return filled.astype(hand.dtype, copy=False), detected


def hands_to_clip(
    hands, coordinate_dims: int = 3, fill: str = "interpolate", person: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The two hands of the most active person as a ``hands2x21`` clip.

    Args:
        hands: per-person hands (T, M, 2, 21, C): hand 0 is the left hand, hand 1 the right; a hand that was not
            detected in a frame is all zero there.
        coordinate_dims: leading channels that are coordinates (for `hand_activity`).
        fill: how missed detections are filled (`fill_missing_frames`): ``"interpolate"`` or ``"zero"``.
        person: take this person's hands instead of the most active person's.

    Returns:
        ``(clip, detected)``: clip (T, 2, 25, C) float32 -- instance 0 the left hand, instance 1 the right, nodes
        0-20 the keypoints in the ``mediapipe_hand21`` order, nodes 21-24 the zero dummy nodes -- and detected
        (T, 2) bool, which frames of each hand hold a detection (the others were filled).
    """
    hands = _check_per_person_hands(hands)
    if person is None:
        person = most_active_person(hands, coordinate_dims)
    elif not 0 <= person < hands.shape[1]:
        raise ValueError(f"person must be in [0, {hands.shape[1]}), got {person}")
    layout = get_layout(HANDS_LAYOUT)
    t, c = hands.shape[0], hands.shape[-1]
    clip = np.zeros((t, 2, layout.num_joints, c), dtype=np.float32)
    detected = np.zeros((t, 2), dtype=bool)
    for side in (LEFT, RIGHT):
        clip[:, side, :NUM_HAND_KEYPOINTS], detected[:, side] = fill_missing_frames(hands[:, person, side], fill)
    return clip, detected


class HandAssignment(NamedTuple):
    """The result of `assign_hands_to_persons`."""

    hands: np.ndarray  # (T, M, 2, 21, C) per-person hands (left, right); all zero where no hand was assigned
    person: np.ndarray  # (T, H) int64: the person each detected hand went to, -1 if it went to none
    side: np.ndarray  # (T, H) int64: LEFT or RIGHT, the wrist it was matched to, -1 if it went to none


def _wrists(layout: SkeletonLayout) -> list[int]:
    try:
        return [layout.joint_index("left_wrist"), layout.joint_index("right_wrist")]
    except KeyError:
        raise ValueError(
            f"assigning hands to persons needs a body layout with 'left_wrist' and 'right_wrist' joints; "
            f"{layout.name!r} has {list(layout.joint_names)}"
        ) from None


def assign_hands_to_persons(
    hands,
    handedness,
    body,
    layout: str | SkeletonLayout = "ntu25",
    coordinate_dims: int = 2,
    use_handedness: bool = True,
    max_distance: float | None = None,
) -> HandAssignment:
    """Give each detected hand to the person whose matching wrist is nearest.

    The distance is between the hand's wrist keypoint (0) and a body wrist, over the first `coordinate_dims`
    channels, so **the hands and the body must be in the same coordinate frame**: e.g. both in pixels of the RGB
    frame (MediaPipe's x, y are normalised to [0, 1]: multiply by the image width and height), or both normalised.
    (MediaPipe's z is relative to the wrist, so the default compares x and y only.) In each frame the pairs (hand,
    person's wrist) are taken greedily by increasing distance, each hand and each wrist at most once, so two hands
    never land on the same wrist; persons absent in a frame (all-zero body) take no hand.

    Args:
        hands: per-frame detections (T, H, 21, C), H the most hands a frame can hold; empty slots are all zero.
        handedness: (T, H) ints, `LEFT` (0) or `RIGHT` (1) as the detector labels each hand (-1 for empty slots):
            a hand only goes to a wrist of its side. Ignored (may be None) when `use_handedness` is False.
        body: the body skeletons of the same frames (T, M, V, C') in the layout `layout`.
        layout: the body layout; its ``left_wrist`` and ``right_wrist`` joints are used.
        coordinate_dims: leading channels compared.
        use_handedness: when False, a hand may go to either wrist of a person, and its side in the output is the
            side of the wrist it went to (for detectors whose handedness labels are unreliable).
        max_distance: hands farther than this from every free wrist go to no one.

    Returns:
        `HandAssignment`: per-person hands (T, M, 2, 21, C) float32 and, per detection, its person and side.
    """
    hands = np.asarray(hands)
    body = np.asarray(body)
    if hands.ndim != 4 or hands.shape[2] != NUM_HAND_KEYPOINTS or hands.shape[3] < coordinate_dims:
        raise ValueError(f"hands must have shape (T, H, {NUM_HAND_KEYPOINTS}, C>={coordinate_dims}), got {hands.shape}")
    layout = get_layout(layout)
    if body.ndim != 4 or body.shape[0] != hands.shape[0] or body.shape[2] != layout.num_joints:
        raise ValueError(
            f"body must have shape (T={hands.shape[0]}, M, V={layout.num_joints}, C>={coordinate_dims}) for layout "
            f"{layout.name!r}, got {body.shape}"
        )
    if body.shape[3] < coordinate_dims:
        raise ValueError(f"body has {body.shape[3]} channels, fewer than coordinate_dims={coordinate_dims}")
    t, h = hands.shape[:2]
    m = body.shape[1]
    sides = np.full((t, h), -1, dtype=np.int64)
    if use_handedness:
        if handedness is None:
            raise ValueError("handedness is required when use_handedness=True")
        sides = np.asarray(handedness, dtype=np.int64)
        if sides.shape != (t, h) or not np.isin(sides, (-1, LEFT, RIGHT)).all():
            raise ValueError(f"handedness must be a ({t}, {h}) array of 0 (left), 1 (right) or -1 (empty)")
    wrists = body[:, :, _wrists(layout), :coordinate_dims].astype(np.float64)  # (T, M, 2, D)
    hand_wrist = hands[:, :, 0, :coordinate_dims].astype(np.float64)  # (T, H, D)
    distance = np.linalg.norm(hand_wrist[:, :, None, None] - wrists[:, None], axis=-1)  # (T, H, M, 2)
    usable = np.isfinite(distance)  # (T, H, M, 2)
    usable &= _detected(hands)[:, :, None, None] & (np.abs(body).max(axis=(2, 3)) > 0)[:, None, :, None]
    if use_handedness:
        usable &= sides[:, :, None, None] == np.arange(2)[None, None, None, :]
    if max_distance is not None:
        usable &= distance <= max_distance
    distance = np.where(usable, distance, np.inf)
    out = np.zeros((t, m, 2, *hands.shape[2:]), dtype=np.float32)
    person = np.full((t, h), -1, dtype=np.int64)
    side = np.full((t, h), -1, dtype=np.int64)
    for frame in np.flatnonzero(np.isfinite(distance).reshape(t, -1).any(1)):
        d = distance[frame].copy()  # (H, M, 2)
        while np.isfinite(d).any():
            k, p, s = np.unravel_index(np.argmin(d), d.shape)
            out[frame, p, s] = hands[frame, k]
            person[frame, k], side[frame, k] = p, s
            d[k] = np.inf
            d[:, p, s] = np.inf
    return HandAssignment(out, person, side)
