"""The body frame (x left, y up, z forward of a body at yaw 0) and the rotations the other modules share."""

from __future__ import annotations

import numpy as np

SIDES = ("left", "right")
SIGN = {"left": 1.0, "right": -1.0}  # body-frame x sign of each side

LEFT = np.array([1.0, 0.0, 0.0])
UP = np.array([0.0, 1.0, 0.0])
FWD = np.array([0.0, 0.0, 1.0])


def medial(side: str) -> np.ndarray:
    """Body-frame direction from the `side` towards the body's mid-line, (3,)."""
    return -SIGN[side] * LEFT


def normalize(v: np.ndarray) -> np.ndarray:
    """Unit vectors along the last axis."""
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def rot_x(angle: np.ndarray) -> np.ndarray:
    """(T,) -> (T, 3, 3) rotations about the left axis; positive angles tilt +y towards +z (bend forward)."""
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(angle: np.ndarray) -> np.ndarray:
    """(T,) -> (T, 3, 3) rotations about the vertical axis; positive angles turn +z towards +x."""
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)
