"""The cameras: a performance seen by a Kinect-like sensor, with noise, tracking glitches and dropped frames."""

from __future__ import annotations

import numpy as np

from .geometry import rot_x, rot_y
from .performance import Performance

CAMERA_AZIMUTHS = {1: 0.0, 2: np.pi / 4, 3: -np.pi / 4}  # camera id -> azimuth around the scene (NTU: -45, 0, 45 deg)


def record(
    performance: Performance, camera: int, num_persons: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """View a performance from a camera: Kinect camera-space joints and hands, noisy, with dropped frames.

    Returns ``(skeleton (T', M, 25, 3), hands (T', M, 2, 21, 3))`` float32 with M = `num_persons`; persons that
    are not in the performance are all zero.
    """
    azimuth = CAMERA_AZIMUTHS[camera] + rng.uniform(-0.15, 0.15)
    tilt = rng.uniform(-0.12, 0.12)
    height, distance = rng.uniform(0.7, 1.3), rng.uniform(2.6, 4.0)
    # World -> camera: turn the scene by the camera's azimuth, look along -z from +z (R_y(pi)), tilt, translate.
    view = rot_x(np.array([tilt]))[0] @ np.diag([-1.0, 1.0, -1.0]) @ rot_y(np.array([-azimuth]))[0]
    origin = np.array([0.0, -height, distance])

    def to_camera(points: np.ndarray, sigma: float) -> np.ndarray:
        out = points @ view.T + origin
        return out + sigma * rng.standard_normal(out.shape)

    joints = to_camera(performance.joints, 0.012)
    hands = to_camera(performance.hands, 0.004)
    if rng.random() < 0.3:  # a tracking glitch: an extremity jumps away for a few frames
        joint = rng.choice([7, 11, 15, 19, 21, 23])
        start = rng.integers(0, joints.shape[0] - 6)
        joints[start : start + rng.integers(2, 7), :, joint] += rng.normal(0.0, 0.06, size=3)
    keep = np.ones(joints.shape[0], dtype=bool)
    if rng.random() < 0.3:  # the sensor occasionally drops a few frames
        keep[rng.choice(np.arange(1, joints.shape[0] - 1), size=rng.integers(1, 5), replace=False)] = False
    t, p = int(keep.sum()), joints.shape[1]
    skeleton = np.zeros((t, num_persons, 25, 3), dtype=np.float32)
    hand_out = np.zeros((t, num_persons, 2, 21, 3), dtype=np.float32)
    skeleton[:, :p] = joints[keep]
    hand_out[:, :p] = hands[keep]
    return skeleton, hand_out
