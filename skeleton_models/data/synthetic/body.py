"""The body model: a subject's segment lengths, per-frame joint angles, and forward kinematics to the `ntu25` joints.

Everything is plain numpy, vectorised over frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .geometry import FWD, LEFT, SIDES, SIGN, UP, medial, normalize, rot_x, rot_y
from .hands import HAND_SHAPES, hand_points


@dataclass(frozen=True)
class Body:
    """Segment lengths of one subject, in metres."""

    height: float
    spine_low: float
    spine_high: float
    neck: float
    head: float
    shoulder_half: float
    upper_arm: float
    forearm: float
    hand: float
    hand_tip: float
    thumb: float
    hip_half: float
    thigh: float
    shin: float
    foot: float
    ankle_height: float
    palm: float  # wrist to middle-finger knuckle
    finger: float  # middle finger length
    habit_amplitude: float = 1.0  # how large this subject's movements are
    habit_speed: float = 1.0  # how fast this subject moves


def sample_body(rng: np.random.Generator) -> Body:
    """A subject: height 1.50-1.90 m and every segment jittered by about 5 %."""
    height = rng.uniform(1.50, 1.90)
    fractions = dict(
        spine_low=0.165,
        spine_high=0.125,
        neck=0.045,
        head=0.075,
        shoulder_half=0.105,
        upper_arm=0.165,
        forearm=0.145,
        hand=0.045,
        hand_tip=0.05,
        thumb=0.035,
        hip_half=0.055,
        thigh=0.235,
        shin=0.225,
        foot=0.075,
        ankle_height=0.04,
        palm=0.055,
        finger=0.05,
    )
    jitter = np.clip(1 + 0.05 * rng.standard_normal(len(fractions)), 0.88, 1.12)
    lengths = {k: float(height * f * j) for (k, f), j in zip(fractions.items(), jitter)}
    habits = np.clip(1 + 0.08 * rng.standard_normal(2), 0.85, 1.15)
    return Body(height=height, **lengths, habit_amplitude=float(habits[0]), habit_speed=float(habits[1]))


@dataclass
class Limb:
    """Angles (radians, one value per frame) of one arm or leg.

    Arm: `elev` lifts the upper arm from hanging (0) towards horizontal (pi/2) and overhead (pi), in the direction
    `azim` (0 = forward, pi/2 = outward, negative = across the body); `flex` bends the elbow towards `bend`, a
    body-frame direction per frame. Leg: the same for the thigh (`elev` = hip flexion) and the knee (`flex`).
    """

    elev: np.ndarray
    azim: np.ndarray
    flex: np.ndarray
    bend: np.ndarray  # (T, 3)

    def set(self, weight: np.ndarray, elev=None, azim=None, flex=None, bend=None) -> None:
        """Move the given angles towards targets (scalars or per-frame arrays) with a per-frame weight in [0, 1]."""
        for name, target in (("elev", elev), ("azim", azim), ("flex", flex)):
            if target is not None:
                setattr(self, name, (1 - weight) * getattr(self, name) + weight * target)
        if bend is not None:
            self.bend = (1 - weight[:, None]) * self.bend + weight[:, None] * np.asarray(bend)


@dataclass
class Pose:
    """Per-frame pose parameters of one person; motion functions add to these arrays."""

    num_frames: int
    root: np.ndarray = field(init=False)  # (T, 3) floor-plane offset in the body's initial frame (+y = lift off floor)
    yaw: np.ndarray = field(init=False)
    pitch: np.ndarray = field(init=False)  # trunk bend forward
    head_pitch: np.ndarray = field(init=False)
    arms: dict[str, Limb] = field(init=False)
    legs: dict[str, Limb] = field(init=False)
    hand_curl: dict[str, np.ndarray] = field(init=False)  # (T, 5): thumb, index, middle, ring, pinky; 0 open, 1 curled
    hand_spread: dict[str, np.ndarray] = field(init=False)  # (T,)

    def __post_init__(self):
        t = self.num_frames
        z = lambda: np.zeros(t)  # noqa: E731
        self.root, self.yaw, self.pitch, self.head_pitch = np.zeros((t, 3)), z(), z(), z()
        self.arms = {s: Limb(z(), z(), z(), np.tile(FWD, (t, 1))) for s in SIDES}
        self.legs = {s: Limb(z(), z(), z(), np.tile(-FWD, (t, 1))) for s in SIDES}
        self.hand_curl = {s: np.tile(HAND_SHAPES["relaxed"][0], (t, 1)) for s in SIDES}
        self.hand_spread = {s: np.full(t, HAND_SHAPES["relaxed"][1]) for s in SIDES}

    def set_hand(self, side: str, shape: str, weight: np.ndarray, rng: np.random.Generator) -> None:
        """Blend the hand on `side` towards a named shape of `HAND_SHAPES` with a per-frame weight in [0, 1]."""
        curl, spread = HAND_SHAPES[shape]
        curl = np.clip(np.asarray(curl) + 0.06 * rng.standard_normal(5), 0.0, 1.0)
        spread = float(np.clip(spread + 0.15 * rng.standard_normal(), 0.0, 1.2))
        w = weight[:, None]
        self.hand_curl[side] = (1 - w) * self.hand_curl[side] + w * curl
        self.hand_spread[side] = (1 - weight) * self.hand_spread[side] + weight * spread


def _apply(rot: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotations (T, 3, 3) applied to vectors (3,) or (T, 3) -> (T, 3)."""
    return np.einsum("tij,tj->ti", rot, np.broadcast_to(v, (rot.shape[0], 3)))


def _limb_direction(elev, azim, outward) -> np.ndarray:
    """Unit vector that leaves 'down' by `elev` towards the horizontal direction at `azim` from forward."""
    horizontal = np.cos(azim)[:, None] * FWD + np.sin(azim)[:, None] * outward
    return -np.cos(elev)[:, None] * UP + np.sin(elev)[:, None] * horizontal


def _bend(direction: np.ndarray, towards: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate unit `direction` by `angle` towards the part of `towards` orthogonal to it."""
    ortho = towards - np.sum(towards * direction, -1, keepdims=True) * direction
    fallback = np.cross(direction, LEFT)  # used where `towards` is parallel to `direction`
    ortho = np.where(np.linalg.norm(ortho, axis=-1, keepdims=True) < 1e-6, fallback, ortho)
    return np.cos(angle)[:, None] * direction + np.sin(angle)[:, None] * normalize(ortho)


def forward_kinematics(body: Body, pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """Pose -> world joints (T, 25, 3) in the `ntu25` order and hands (T, 2, 21, 3) (left, right).

    World frame: y up, the floor at y = 0; a body at yaw 0 faces +z with its left side towards +x.
    """
    t = pose.num_frames
    joints = np.zeros((t, 25, 3))
    hands = np.zeros((t, 2, 21, 3))
    trunk = rot_x(pose.pitch)
    up = _apply(trunk, UP)
    joints[:, 0] = 0.0
    joints[:, 1] = body.spine_low * up
    joints[:, 20] = (body.spine_low + body.spine_high) * up
    joints[:, 2] = joints[:, 20] + body.neck * up
    joints[:, 3] = joints[:, 2] + body.head * _apply(trunk @ rot_x(pose.head_pitch), UP)
    for k, side in enumerate(SIDES):
        sign = SIGN[side]
        shoulder_i, elbow_i, wrist_i, hand_i, tip_i, thumb_i = (
            (4, 5, 6, 7, 21, 22) if side == "left" else (8, 9, 10, 11, 23, 24)
        )
        arm = pose.arms[side]
        outward = sign * LEFT
        shoulder = joints[:, 20] + _apply(trunk, body.shoulder_half * outward - 0.03 * UP)
        upper = _limb_direction(arm.elev, arm.azim, outward)
        lower = _bend(upper, normalize(arm.bend), arm.flex)
        upper_w, lower_w = _apply(trunk, upper), _apply(trunk, lower)
        elbow = shoulder + body.upper_arm * upper_w
        wrist = elbow + body.forearm * lower_w
        # Palm faces the body's mid-line (as when the arm hangs), kept orthogonal to the forearm.
        palm_dir = _bend(lower_w, _apply(trunk, medial(side)), np.full(t, np.pi / 2))
        thumb_side = normalize(sign * np.cross(palm_dir, lower_w))
        joints[:, shoulder_i], joints[:, elbow_i], joints[:, wrist_i] = shoulder, elbow, wrist
        joints[:, hand_i] = wrist + body.hand * lower_w
        joints[:, tip_i] = joints[:, hand_i] + body.hand_tip * lower_w  # independent of the finger configuration
        joints[:, thumb_i] = wrist + body.thumb * normalize(lower_w + thumb_side)
        hands[:, k] = hand_points(
            wrist, lower_w, palm_dir, thumb_side, pose.hand_curl[side], pose.hand_spread[side], body.palm, body.finger
        )
        leg = pose.legs[side]
        hip = body.hip_half * outward - 0.01 * UP
        thigh = _limb_direction(leg.elev, leg.azim, outward)
        shin = _bend(thigh, np.tile(-FWD, (t, 1)), leg.flex)
        hip_i, knee_i, ankle_i, foot_i = (12, 13, 14, 15) if side == "left" else (16, 17, 18, 19)
        joints[:, hip_i] = hip
        joints[:, knee_i] = hip + body.thigh * thigh
        joints[:, ankle_i] = joints[:, knee_i] + body.shin * shin
        joints[:, foot_i] = joints[:, ankle_i] + body.foot * normalize(FWD + 0.5 * shin)
    # Heading and position, then feet on the floor (plus any lift off it, e.g. jumping).
    heading = rot_y(pose.yaw)
    joints = np.einsum("tij,tvj->tvi", heading, joints)
    hands = np.einsum("tij,thvj->thvi", heading, hands)
    floor = joints[:, [14, 15, 18, 19], 1].min(axis=1) - body.ankle_height * 0.5
    offset = pose.root.copy()
    offset[:, 1] = pose.root[:, 1] - floor
    return joints + offset[:, None], hands + offset[:, None, None]
