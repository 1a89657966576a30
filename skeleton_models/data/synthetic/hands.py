"""The hand model: named finger configurations and the 21 joints of the `mediapipe_hand21` layout."""

from __future__ import annotations

import numpy as np

from .geometry import normalize

# Finger configurations: (curl of thumb, index, middle, ring, pinky; 0 open, 1 curled), spread.
HAND_SHAPES: dict[str, tuple[tuple[float, ...], float]] = {
    "relaxed": ((0.25, 0.25, 0.3, 0.35, 0.4), 0.3),
    "open_palm": ((0.0, 0.0, 0.0, 0.0, 0.0), 1.0),
    "fist": ((0.85, 1.0, 1.0, 1.0, 1.0), 0.0),
    "thumbs_up": ((0.0, 1.0, 1.0, 1.0, 1.0), 0.0),
    "victory": ((0.85, 0.0, 0.0, 1.0, 1.0), 1.0),
    "ok_sign": ((0.55, 0.6, 0.05, 0.05, 0.05), 0.5),
    "pointing": ((0.8, 0.0, 1.0, 1.0, 1.0), 0.0),
}


def hand_points(
    wrist: np.ndarray,
    along: np.ndarray,
    palm_dir: np.ndarray,
    thumb_side: np.ndarray,
    curl: np.ndarray,
    spread: np.ndarray,
    palm: float,
    finger: float,
) -> np.ndarray:
    """MediaPipe-21 hand joints (T, 21, 3).

    Args:
        wrist: (T, 3) wrist position.
        along, palm_dir, thumb_side: (T, 3) unit vectors: the finger axis, the palm normal, towards the thumb.
        curl: (T, 5) curl of thumb, index, middle, ring, pinky; spread: (T,) how far the fingers fan out.
        palm, finger: lengths of the palm (wrist to middle-finger knuckle) and of the middle finger, metres.
    """
    t = wrist.shape[0]
    points = np.zeros((t, 21, 3))
    points[:, 0] = wrist
    # Thumb: CMC next to the wrist; segments leave towards the thumb side and curl across the palm.
    cmc = wrist + 0.3 * palm * along + 0.35 * palm * thumb_side + 0.1 * palm * palm_dir
    base = normalize(0.55 * along + 0.8 * thumb_side + 0.2 * palm_dir)
    across = normalize(0.7 * palm_dir - 0.8 * thumb_side + 0.3 * along)
    joint, angle = cmc, np.zeros(t)
    points[:, 1] = cmc
    for j, (length, max_flex) in enumerate(((0.45, 0.5), (0.35, 0.8), (0.3, 0.8))):
        angle = angle + curl[:, 0] * max_flex
        direction = np.cos(angle)[:, None] * base + np.sin(angle)[:, None] * across
        joint = joint + length * finger * direction
        points[:, 2 + j] = joint
    # Fingers: knuckles across the palm, three phalanges curling towards the palm normal.
    offsets = (0.36, 0.12, -0.12, -0.34)
    reach = (0.95, 1.0, 0.95, 0.85)
    lengths = ((0.5, 0.3, 0.25), (0.55, 0.33, 0.27), (0.5, 0.32, 0.25), (0.4, 0.25, 0.22))
    fan = (0.12, 0.03, -0.05, -0.14)
    for f in range(4):
        knuckle = wrist + reach[f] * palm * along + offsets[f] * palm * thumb_side
        points[:, 5 + 4 * f] = knuckle
        spread_angle = spread * fan[f]
        straight = np.cos(spread_angle)[:, None] * along + np.sin(spread_angle)[:, None] * thumb_side
        joint, angle = knuckle, np.zeros(t)
        for j, (length, max_flex) in enumerate(zip(lengths[f], (1.4, 1.7, 1.2))):
            angle = angle + curl[:, 1 + f] * max_flex
            direction = np.cos(angle)[:, None] * straight + np.sin(angle)[:, None] * palm_dir
            joint = joint + length * finger * direction
            points[:, 6 + 4 * f + j] = joint
    return points
