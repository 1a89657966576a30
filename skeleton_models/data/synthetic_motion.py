"""Procedural animation of action clips on the `ntu25` body layout and the `mediapipe_hand21` hand layout.

Everything is plain numpy, vectorised over frames. A clip is made in four steps:

1. a `Body` (segment lengths) per subject, from the subject's seed;
2. a `Pose` per person: joint angles and root motion per frame, written by the class's action function;
3. forward kinematics to world coordinates (x left, y up, z forward of a body at yaw 0), feet on the floor;
4. one projection per camera into Kinect camera space (x to the sensor's left, y up, z depth, metres),
   with sensor noise and occasional dropped frames.

The hand-gesture classes share one body motion (`_gesture_body`) drawn from the same distribution whatever the
gesture, and the body skeleton's hand joints (hand, hand tip, thumb) never depend on the finger configuration,
so a body-only model cannot separate them: only the `hands` array carries the gesture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

FPS = 30
MIN_FRAMES, MAX_FRAMES = 40, 200  # clip lengths, as NTU clips of a few seconds
SIDES = ("left", "right")  # body-frame x sign: +1 left, -1 right
_SIGN = {"left": 1.0, "right": -1.0}

# Body-frame unit vectors (x left, y up, z forward).
_LEFT = np.array([1.0, 0.0, 0.0])
_UP = np.array([0.0, 1.0, 0.0])
_FWD = np.array([0.0, 0.0, 1.0])


# ---------------------------------------------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------------------
# Poses
# ---------------------------------------------------------------------------------------------------------------
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
    """Per-frame pose parameters of one person; action functions add to these arrays."""

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
        self.arms = {s: Limb(z(), z(), z(), np.tile(_FWD, (t, 1))) for s in SIDES}
        self.legs = {s: Limb(z(), z(), z(), np.tile(-_FWD, (t, 1))) for s in SIDES}
        self.hand_curl = {s: np.tile(HAND_SHAPES["relaxed"][0], (t, 1)) for s in SIDES}
        self.hand_spread = {s: np.full(t, HAND_SHAPES["relaxed"][1]) for s in SIDES}

    def set_hand(self, side: str, shape: str, weight: np.ndarray, rng: np.random.Generator) -> None:
        """Blend the hand on `side` towards a named shape with a per-frame weight in [0, 1]."""
        curl, spread = HAND_SHAPES[shape]
        curl = np.clip(np.asarray(curl) + 0.06 * rng.standard_normal(5), 0.0, 1.0)
        spread = float(np.clip(spread + 0.15 * rng.standard_normal(), 0.0, 1.2))
        w = weight[:, None]
        self.hand_curl[side] = (1 - w) * self.hand_curl[side] + w * curl
        self.hand_spread[side] = (1 - weight) * self.hand_spread[side] + weight * spread


# Finger configurations: (curl of thumb, index, middle, ring, pinky), spread.
HAND_SHAPES: dict[str, tuple[tuple[float, ...], float]] = {
    "relaxed": ((0.25, 0.25, 0.3, 0.35, 0.4), 0.3),
    "open_palm": ((0.0, 0.0, 0.0, 0.0, 0.0), 1.0),
    "fist": ((0.85, 1.0, 1.0, 1.0, 1.0), 0.0),
    "thumbs_up": ((0.0, 1.0, 1.0, 1.0, 1.0), 0.0),
    "victory": ((0.85, 0.0, 0.0, 1.0, 1.0), 1.0),
    "ok_sign": ((0.55, 0.6, 0.05, 0.05, 0.05), 0.5),
    "pointing": ((0.8, 0.0, 1.0, 1.0, 1.0), 0.0),
}


# ---------------------------------------------------------------------------------------------------------------
# Time profiles (tau: action time in nominal seconds, negative before the action starts)
# ---------------------------------------------------------------------------------------------------------------
def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def ramp(tau: np.ndarray, start: float, duration: float) -> np.ndarray:
    """0 before `start`, rising smoothly to 1 over `duration` seconds."""
    return _smoothstep((tau - start) / max(duration, 1e-6))


def hold(tau: np.ndarray, start: float, end: float, rise: float = 0.4) -> np.ndarray:
    """Smoothly 1 between `start` and `end` (rising and falling over `rise` seconds), 0 elsewhere."""
    return ramp(tau, start, rise) * (1.0 - ramp(tau, end - rise, rise))


def pulse(tau: np.ndarray, at: float, out: float = 0.12, back: float = 0.25) -> np.ndarray:
    """A quick 0 -> 1 -> 0 movement peaking at `at` (rising over `out`, returning over `back` seconds)."""
    return ramp(tau, at - out, out) * (1.0 - ramp(tau, at, back))


@dataclass(frozen=True)
class Style:
    """How one performance differs from another: amplitude, speed, phase and a few free parameters."""

    amplitude: float
    speed: float
    phase: float
    frequency: float
    direction: float  # +1 or -1 (e.g. which way to turn)


# ---------------------------------------------------------------------------------------------------------------
# Actions. Each writes into the Pose(s) of its performers. `tau` is in nominal seconds.
# ---------------------------------------------------------------------------------------------------------------
ActionFn = Callable[[list[Pose], np.ndarray, Style, np.random.Generator], None]


def _other(side: str) -> str:
    return "right" if side == "left" else "left"


def _medial(side: str) -> np.ndarray:
    return -_SIGN[side] * _LEFT


def _wave(side: str) -> ActionFn:
    def act(p, tau, s, rng):
        env = hold(tau, 0.0, 3.0, 0.5)
        swing = np.pi / 2 + 0.45 * s.amplitude * np.sin(2 * np.pi * s.frequency * tau + s.phase)
        p[0].arms[side].set(
            env, elev=1.65 + 0.15 * rng.standard_normal(), azim=1.2 + 0.1 * rng.standard_normal(), flex=swing, bend=_UP
        )
        p[0].set_hand(side, "open_palm", env, rng)

    return act


def _clap(p, tau, s, rng):
    env = hold(tau, 0.0, 3.0, 0.5)
    beat = 0.5 + 0.5 * np.cos(2 * np.pi * s.frequency * tau + s.phase)
    for side in SIDES:
        p[0].arms[side].set(
            env, elev=1.15, azim=0.35, flex=0.9 + 0.55 * s.amplitude * beat, bend=_medial(side) + 0.3 * _UP
        )
        p[0].set_hand(side, "open_palm", env, rng)


def _raise_both_arms(p, tau, s, rng):
    env = hold(tau, 0.0, 3.0, 0.8)
    for side in SIDES:
        p[0].arms[side].set(env, elev=min(2.85, 2.6 * s.amplitude), azim=0.6 + 0.1 * rng.standard_normal(), flex=0.15)


def _punch(p, tau, s, rng):
    guard = hold(tau, 0.0, 2.6, 0.4)
    for side in SIDES:
        p[0].arms[side].set(guard, elev=0.55, azim=-0.1, flex=2.0, bend=_UP + 0.4 * _FWD)
        p[0].set_hand(side, "fist", guard, rng)
    strikes = pulse(tau, 0.9) + pulse(tau, 1.7)
    p[0].arms["right"].set(strikes, elev=0.55 + 0.95 * s.amplitude, flex=0.1)


def _kick(side: str) -> ActionFn:
    def act(p, tau, s, rng):
        env = hold(tau, 0.3, 1.6, 0.3)
        extend = hold(tau, 0.7, 1.15, 0.15)
        p[0].legs[side].set(env, elev=1.15 * s.amplitude, flex=1.6 - 1.45 * extend)
        for arm_side in SIDES:
            p[0].arms[arm_side].set(hold(tau, 0.1, 1.8, 0.4), elev=0.5)
        p[0].pitch -= env * 0.15

    return act


def _squat(p, tau, s, rng):
    env = hold(tau, 0.2, 2.6, 0.8)
    depth = min(1.15, s.amplitude)
    for side in SIDES:
        p[0].legs[side].set(env, elev=1.45 * depth, flex=2.1 * depth)
        p[0].arms[side].set(env, elev=1.4, azim=0.1, flex=0.1)
    p[0].pitch += env * 0.45 * depth


def _jump(p, tau, s, rng):
    height = 0.18 + 0.1 * (s.amplitude - 1)
    for takeoff in (0.6, 1.6):
        crouch = hold(tau, takeoff - 0.35, takeoff + 0.05, 0.2) + hold(tau, takeoff + 0.4, takeoff + 0.7, 0.15)
        flight = np.clip((tau - takeoff) / 0.4, 0.0, 1.0)
        p[0].root[:, 1] += height * 4 * flight * (1 - flight)
        swing = hold(tau, takeoff - 0.15, takeoff + 0.4, 0.15)
        for side in SIDES:
            p[0].legs[side].set(crouch, elev=0.6, flex=1.0)
            p[0].arms[side].set(swing, elev=2.2, azim=0.3)
        p[0].pitch += crouch * 0.25


def _bow(p, tau, s, rng):
    env = hold(tau, 0.3, 2.6, 0.7)
    bend = 0.85 + 0.2 * (s.amplitude - 1)
    p[0].pitch += env * bend
    p[0].head_pitch += env * 0.3
    for side in SIDES:  # the arms keep hanging while the trunk bends
        p[0].arms[side].set(env, elev=0.8 * bend, azim=0.0)


def _turn_around(p, tau, s, rng):
    p[0].yaw += s.direction * np.pi * ramp(tau, 0.2, 2.2)
    stepping = hold(tau, 0.2, 2.4, 0.2)
    for k, side in enumerate(SIDES):
        lift = np.maximum(0.0, np.sin(2 * np.pi * 1.2 * tau + s.phase + np.pi * k))
        p[0].legs[side].set(stepping, elev=0.3 * lift, flex=0.6 * lift)


def _walk_in_place(p, tau, s, rng):
    env = hold(tau, 0.0, 4.0, 0.5)
    cycle = np.sin(2 * np.pi * 0.9 * tau + s.phase)
    for sign, side in ((1.0, "left"), (-1.0, "right")):
        lift = np.maximum(0.0, sign * cycle)
        p[0].legs[side].set(env, elev=0.6 * s.amplitude * lift, flex=1.1 * s.amplitude * lift)
        p[0].arms[side].set(env, elev=-0.4 * s.amplitude * sign * cycle, azim=0.0, flex=0.3)


def _hand_to_mouth(p, tau, s, rng):
    env = hold(tau, 0.2, 2.6, 0.6)
    p[0].arms["right"].set(
        env, elev=0.55 + 0.08 * np.sin(2 * np.pi * 0.7 * tau + s.phase), azim=-0.45, flex=2.35, bend=_UP + 0.2 * _FWD
    )
    p[0].head_pitch -= env * 0.2


def _touch_head(p, tau, s, rng):
    env = hold(tau, 0.2, 2.6, 0.6)
    p[0].arms["right"].set(
        env, elev=2.2, azim=0.9, flex=1.9 + 0.1 * np.sin(2 * np.pi * 1.5 * tau + s.phase), bend=_UP + 0.8 * _LEFT
    )
    p[0].head_pitch += env * 0.25


def _handshake(p, tau, s, rng):
    env = hold(tau, 0.0, 3.5, 0.6)
    shake = hold(tau, 0.8, 2.8, 0.3) * 0.12 * s.amplitude * np.sin(2 * np.pi * 2.0 * tau + s.phase)
    for person in p:
        person.arms["right"].set(env, elev=0.8 + shake, azim=-0.25, flex=0.55, bend=_UP)
        person.root[:, 2] += env * 0.05
        person.set_hand("right", "open_palm", env, rng)


def _push(p, tau, s, rng):
    prepare = hold(tau, 0.2, 1.6, 0.4)
    shove = pulse(tau, 1.0, out=0.2, back=0.45)
    for side in SIDES:
        p[0].arms[side].set(prepare, elev=1.2 + 0.35 * shove, azim=-0.1, flex=1.5 - 1.3 * shove, bend=_UP)
    p[0].root[:, 2] += shove * 0.12
    p[0].pitch += shove * 0.15
    p[1].root[:, 2] -= ramp(tau, 1.05, 0.5) * 0.35 * s.amplitude
    p[1].pitch -= pulse(tau, 1.15, out=0.1, back=0.5) * 0.25
    for side in SIDES:
        p[1].arms[side].set(pulse(tau, 1.2, out=0.1, back=0.6), elev=0.7, azim=0.8)


def _hug(p, tau, s, rng):
    approach = ramp(tau, 0.2, 1.2)
    embrace = hold(tau, 1.0, 3.6, 0.6)
    walking = hold(tau, 0.2, 1.4, 0.2)
    for person in p:
        person.root[:, 2] += approach * 0.42
        for k, side in enumerate(SIDES):
            lift = np.maximum(0.0, np.sin(2 * np.pi * 1.0 * tau + np.pi * k))
            person.legs[side].set(walking, elev=0.3 * lift, flex=0.5 * lift)
            person.arms[side].set(
                embrace, elev=1.35, azim=0.75 - 0.5 * ramp(tau, 1.4, 0.6), flex=1.3, bend=_medial(side)
            )


def _point_at_other(p, tau, s, rng):
    env = hold(tau, 0.2, 2.8, 0.5)
    p[0].arms["right"].set(env, elev=1.5 + 0.1 * rng.standard_normal(), azim=-0.05, flex=0.1)
    p[0].set_hand("right", "pointing", env, rng)
    p[1].head_pitch += hold(tau, 0.6, 2.8, 0.5) * 0.15
    p[1].arms["left"].set(hold(tau, 1.0, 2.5, 0.5), elev=0.3 * s.amplitude + 0.2)


def _gesture_body(p, tau, s, rng):
    """The one body motion of every hand-gesture class: raise the right hand in front of the chest, hold, lower."""
    env = hold(tau, 0.2, 2.8, 0.6)
    p[0].arms["right"].set(
        env,
        elev=0.65 + 0.08 * rng.standard_normal(),
        azim=-0.2 + 0.08 * rng.standard_normal(),
        flex=1.85 + 0.1 * rng.standard_normal(),
        bend=_UP + 0.2 * _FWD,
    )


def _gesture(shape: str) -> ActionFn:
    def act(p, tau, s, rng):
        _gesture_body(p, tau, s, rng)
        p[0].set_hand("right", shape, hold(tau, 0.6, 2.5, 0.4), rng)

    return act


@dataclass(frozen=True)
class ActionClass:
    """One class of the synthetic benchmark."""

    name: str
    description: str
    group: str  # "body", "interaction" or "hand_gesture"
    duration: float  # nominal seconds
    act: ActionFn = field(repr=False)
    persons: int = 1
    distance: tuple[float, float] = (0.0, 0.0)  # range of the distance between two performers, metres


ACTION_CLASSES: tuple[ActionClass, ...] = (
    ActionClass(
        "wave with left hand",
        "A person raises the left arm to the side and waves the forearm back and forth.",
        "body",
        3.0,
        _wave("left"),
    ),  # noqa: E501
    ActionClass(
        "wave with right hand",
        "A person raises the right arm to the side and waves the forearm back and forth.",
        "body",
        3.0,
        _wave("right"),
    ),  # noqa: E501
    ActionClass(
        "clap",
        "A person holds both hands in front of the chest and claps them together several times.",
        "body",
        3.0,
        _clap,
    ),  # noqa: E501
    ActionClass(
        "raise both arms",
        "A person lifts both arms high above the head, holds them there and lowers them.",
        "body",
        3.0,
        _raise_both_arms,
    ),  # noqa: E501
    ActionClass(
        "punch",
        "A person takes a guard with both fists and punches forward twice with the right arm.",
        "body",
        2.6,
        _punch,
    ),  # noqa: E501
    ActionClass(
        "kick with left leg",
        "A person lifts the left knee and kicks the left foot forward, then puts it down.",
        "body",
        2.0,
        _kick("left"),
    ),  # noqa: E501
    ActionClass(
        "kick with right leg",
        "A person lifts the right knee and kicks the right foot forward, then puts it down.",
        "body",
        2.0,
        _kick("right"),
    ),  # noqa: E501
    ActionClass(
        "squat",
        "A person bends both knees to lower the body with the arms stretched forward, then stands up.",
        "body",
        3.0,
        _squat,
    ),  # noqa: E501
    ActionClass("jump", "A person crouches and jumps straight up twice, swinging the arms upward.", "body", 2.6, _jump),  # noqa: E501
    ActionClass(
        "bow",
        "A person bends the upper body forward from the hips with the head down, then straightens up.",
        "body",
        3.0,
        _bow,
    ),  # noqa: E501
    ActionClass(
        "turn around", "A person turns on the spot by half a circle with small steps.", "body", 2.6, _turn_around
    ),  # noqa: E501
    ActionClass(
        "walk in place",
        "A person marches on the spot, lifting the knees alternately and swinging the arms.",
        "body",
        4.0,
        _walk_in_place,
    ),  # noqa: E501
    ActionClass(
        "hand to mouth",
        "A person brings the right hand up to the mouth as if drinking, holds it, and lowers it.",
        "body",
        3.0,
        _hand_to_mouth,
    ),  # noqa: E501
    ActionClass(
        "touch head",
        "A person puts the right hand on top of the head, holds it there, and lowers it.",
        "body",
        3.0,
        _touch_head,
    ),  # noqa: E501
    ActionClass(
        "handshake",
        "Two people facing each other reach out their right hands and shake hands.",
        "interaction",
        3.5,
        _handshake,
        2,
        (0.9, 1.05),
    ),  # noqa: E501
    ActionClass(
        "push",
        "One person pushes the other with both hands and the other person staggers backward.",
        "interaction",
        2.5,
        _push,
        2,
        (0.8, 0.95),
    ),  # noqa: E501
    ActionClass(
        "hug",
        "Two people step towards each other and wrap their arms around each other.",
        "interaction",
        4.0,
        _hug,
        2,
        (1.3, 1.5),
    ),  # noqa: E501
    ActionClass(
        "point at the other",
        "One person points the right arm and index finger at the other person.",
        "interaction",
        3.0,
        _point_at_other,
        2,
        (1.5, 2.0),
    ),  # noqa: E501
    ActionClass(
        "thumbs up",
        "A person raises the right hand in front of the chest and shows a thumbs-up sign.",
        "hand_gesture",
        3.0,
        _gesture("thumbs_up"),
    ),  # noqa: E501
    ActionClass(
        "victory sign",
        "A person raises the right hand in front of the chest and shows a V sign with two fingers.",
        "hand_gesture",
        3.0,
        _gesture("victory"),
    ),  # noqa: E501
    ActionClass(
        "ok sign",
        "A person raises the right hand in front of the chest and forms a ring with thumb and index finger.",
        "hand_gesture",
        3.0,
        _gesture("ok_sign"),
    ),  # noqa: E501
    ActionClass(
        "fist",
        "A person raises the right hand in front of the chest and closes it into a fist.",
        "hand_gesture",
        3.0,
        _gesture("fist"),
    ),  # noqa: E501
    ActionClass(
        "open palm",
        "A person raises the right hand in front of the chest and shows the open palm with spread fingers.",
        "hand_gesture",
        3.0,
        _gesture("open_palm"),
    ),  # noqa: E501
)


# ---------------------------------------------------------------------------------------------------------------
# Forward kinematics
# ---------------------------------------------------------------------------------------------------------------
def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _rot_x(angle: np.ndarray) -> np.ndarray:
    """(T,) -> (T, 3, 3) rotations about the left axis; positive angles tilt +y towards +z (bend forward)."""
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def _rot_y(angle: np.ndarray) -> np.ndarray:
    """(T,) -> (T, 3, 3) rotations about the vertical axis; positive angles turn +z towards +x."""
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _apply(rot: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.einsum("tij,tj->ti", rot, np.broadcast_to(v, (rot.shape[0], 3)))


def _limb_direction(elev, azim, outward) -> np.ndarray:
    """Unit vector that leaves 'down' by `elev` towards the horizontal direction at `azim` from forward."""
    horizontal = np.cos(azim)[:, None] * _FWD + np.sin(azim)[:, None] * outward
    return -np.cos(elev)[:, None] * _UP + np.sin(elev)[:, None] * horizontal


def _bend(direction: np.ndarray, towards: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate unit `direction` by `angle` towards the part of `towards` orthogonal to it."""
    ortho = towards - np.sum(towards * direction, -1, keepdims=True) * direction
    fallback = np.cross(direction, _LEFT)  # used where `towards` is parallel to `direction`
    ortho = np.where(np.linalg.norm(ortho, axis=-1, keepdims=True) < 1e-6, fallback, ortho)
    return np.cos(angle)[:, None] * direction + np.sin(angle)[:, None] * _normalize(ortho)


def _hand_points(body: Body, side: str, wrist, along, palm_dir, curl, spread) -> np.ndarray:
    """MediaPipe-21 hand joints (T, 21, 3) from the wrist, finger axis, palm normal and finger configuration."""
    thumb_side = _normalize(_SIGN[side] * np.cross(palm_dir, along))
    t = wrist.shape[0]
    points = np.zeros((t, 21, 3))
    points[:, 0] = wrist
    palm, finger = body.palm, body.finger
    # Thumb: CMC next to the wrist; segments leave towards the thumb side and curl across the palm.
    cmc = wrist + 0.3 * palm * along + 0.35 * palm * thumb_side + 0.1 * palm * palm_dir
    base = _normalize(0.55 * along + 0.8 * thumb_side + 0.2 * palm_dir)
    across = _normalize(0.7 * palm_dir - 0.8 * thumb_side + 0.3 * along)
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


def forward_kinematics(body: Body, pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """Pose -> world joints (T, 25, 3) in the `ntu25` order and hands (T, 2, 21, 3) (left, right).

    World frame: y up, the floor at y = 0; a body at yaw 0 faces +z with its left side towards +x.
    """
    t = pose.num_frames
    joints = np.zeros((t, 25, 3))
    hands = np.zeros((t, 2, 21, 3))
    trunk = _rot_x(pose.pitch)
    up = _apply(trunk, _UP)
    joints[:, 0] = 0.0
    joints[:, 1] = body.spine_low * up
    joints[:, 20] = (body.spine_low + body.spine_high) * up
    joints[:, 2] = joints[:, 20] + body.neck * up
    joints[:, 3] = joints[:, 2] + body.head * _apply(trunk @ _rot_x(pose.head_pitch), _UP)
    for k, side in enumerate(SIDES):
        sign = _SIGN[side]
        shoulder_i, elbow_i, wrist_i, hand_i, tip_i, thumb_i = (
            (4, 5, 6, 7, 21, 22) if side == "left" else (8, 9, 10, 11, 23, 24)
        )
        arm = pose.arms[side]
        outward = sign * _LEFT
        shoulder = joints[:, 20] + _apply(trunk, body.shoulder_half * outward - 0.03 * _UP)
        upper = _limb_direction(arm.elev, arm.azim, outward)
        lower = _bend(upper, _normalize(arm.bend), arm.flex)
        upper_w, lower_w = _apply(trunk, upper), _apply(trunk, lower)
        elbow = shoulder + body.upper_arm * upper_w
        wrist = elbow + body.forearm * lower_w
        # Palm faces the body's mid-line (as when the arm hangs), kept orthogonal to the forearm.
        palm_dir = _bend(lower_w, _apply(trunk, _medial(side)), np.full(t, np.pi / 2))
        thumb_side = _normalize(sign * np.cross(palm_dir, lower_w))
        joints[:, shoulder_i], joints[:, elbow_i], joints[:, wrist_i] = shoulder, elbow, wrist
        joints[:, hand_i] = wrist + body.hand * lower_w
        joints[:, tip_i] = joints[:, hand_i] + body.hand_tip * lower_w  # independent of the finger configuration
        joints[:, thumb_i] = wrist + body.thumb * _normalize(lower_w + thumb_side)
        hands[:, k] = _hand_points(body, side, wrist, lower_w, palm_dir, pose.hand_curl[side], pose.hand_spread[side])
        leg = pose.legs[side]
        hip = body.hip_half * outward - 0.01 * _UP
        thigh = _limb_direction(leg.elev, leg.azim, outward)
        shin = _bend(thigh, np.tile(-_FWD, (t, 1)), leg.flex)
        hip_i, knee_i, ankle_i, foot_i = (12, 13, 14, 15) if side == "left" else (16, 17, 18, 19)
        joints[:, hip_i] = hip
        joints[:, knee_i] = hip + body.thigh * thigh
        joints[:, ankle_i] = joints[:, knee_i] + body.shin * shin
        joints[:, foot_i] = joints[:, ankle_i] + body.foot * _normalize(_FWD + 0.5 * shin)
    # Heading and position, then feet on the floor (plus any lift off it, e.g. jumping).
    heading = _rot_y(pose.yaw)
    joints = np.einsum("tij,tvj->tvi", heading, joints)
    hands = np.einsum("tij,thvj->thvi", heading, hands)
    floor = joints[:, [14, 15, 18, 19], 1].min(axis=1) - body.ankle_height * 0.5
    offset = pose.root.copy()
    offset[:, 1] = pose.root[:, 1] - floor
    return joints + offset[:, None], hands + offset[:, None, None]


# ---------------------------------------------------------------------------------------------------------------
# Performances and cameras
# ---------------------------------------------------------------------------------------------------------------
CAMERA_AZIMUTHS = {1: 0.0, 2: np.pi / 4, 3: -np.pi / 4}  # camera id -> azimuth around the scene (NTU: -45, 0, 45 deg)


@dataclass
class Performance:
    """One performance in world coordinates, shared by every camera that records it."""

    joints: np.ndarray  # (T, P, 25, 3)
    hands: np.ndarray  # (T, P, 2, 21, 3)


def perform(action: ActionClass, bodies: list[Body], rng: np.random.Generator) -> Performance:
    """Animate one performance of `action` by `bodies` (the first is the actor)."""
    actor = bodies[0]
    speed = rng.uniform(0.65, 1.45) * actor.habit_speed
    lead_in, lead_out = rng.uniform(0.2, 1.2), rng.uniform(0.2, 1.2)
    max_seconds = MAX_FRAMES / FPS
    if lead_in + action.duration / speed + lead_out > max_seconds:  # too long: shorten the idle parts, then hurry
        lead_in = lead_out = 0.2
        speed = max(speed, action.duration / (max_seconds - lead_in - lead_out))
    style = Style(
        amplitude=rng.uniform(0.7, 1.3) * actor.habit_amplitude,
        speed=speed,
        phase=rng.uniform(0, 2 * np.pi),
        frequency=rng.uniform(1.5, 2.5),
        direction=float(rng.choice([-1.0, 1.0])),
    )
    seconds = lead_in + action.duration / style.speed + lead_out
    num_frames = int(np.clip(round(seconds * FPS), MIN_FRAMES, MAX_FRAMES))
    time = np.arange(num_frames) / FPS
    tau = (time - lead_in) * style.speed
    poses = [Pose(num_frames) for _ in range(action.persons)]
    for pose in poses:
        _idle(pose, time, rng)
    action.act(poses, tau, style, rng)
    for pose in poses:
        _fidget(pose, tau, action.duration, rng)
    performers = [forward_kinematics(body, pose) for body, pose in zip(bodies, poses)]
    joints = np.stack([j for j, _ in performers], axis=1)
    hands = np.stack([h for _, h in performers], axis=1)
    # Place the performers: alone and facing the front camera, or facing each other across the x axis.
    if action.persons == 2:
        distance = rng.uniform(*action.distance)
        heading = np.array([np.pi / 2, -np.pi / 2])
        position = np.array([[-distance / 2, 0, 0], [distance / 2, 0, 0]])
        scene_yaw = rng.uniform(-0.5, 0.5)
    else:
        heading, position = np.array([0.0]), np.zeros((1, 3))
        scene_yaw = rng.uniform(-0.6, 0.6)
    shift = np.array([rng.uniform(-0.4, 0.4), 0.0, rng.uniform(-0.4, 0.4)])
    for p in range(action.persons):
        rot = _rot_y(np.array([heading[p] + scene_yaw]))[0]
        offset = _rot_y(np.array([scene_yaw]))[0] @ position[p] + shift
        joints[:, p] = joints[:, p] @ rot.T + offset
        hands[:, p] = hands[:, p] @ rot.T + offset
    return Performance(joints=joints, hands=hands)


def _idle(pose: Pose, time: np.ndarray, rng: np.random.Generator) -> None:
    """Small involuntary motion every person has: sway, breathing, arms hanging slightly apart."""
    phase = rng.uniform(0, 2 * np.pi, size=4)
    pose.root[:, 0] += 0.012 * np.sin(2 * np.pi * 0.25 * time + phase[0])
    pose.pitch += 0.02 * np.sin(2 * np.pi * 0.3 * time + phase[1]) + rng.uniform(-0.04, 0.06)
    for k, side in enumerate(SIDES):
        pose.arms[side].elev += rng.uniform(0.05, 0.2) + 0.02 * np.sin(2 * np.pi * 0.3 * time + phase[2 + k])
        pose.arms[side].azim += np.pi / 2 + rng.uniform(-0.3, 0.3)
        pose.arms[side].flex += rng.uniform(0.05, 0.3)


def _fidget(pose: Pose, tau: np.ndarray, duration: float, rng: np.random.Generator) -> None:
    """Half of the performers do something unrelated before or after the action: lift a hand, look down, shift."""
    if rng.random() < 0.5:
        return
    before = rng.random() < 0.5
    at = rng.uniform(-0.9, -0.5) if before else duration + rng.uniform(0.1, 0.5)
    bump = hold(tau, at, at + rng.uniform(0.4, 0.7), 0.2)
    kind = rng.integers(3)
    if kind == 0:
        pose.arms[SIDES[rng.integers(2)]].set(bump, elev=rng.uniform(0.3, 0.9), flex=rng.uniform(0.5, 1.5))
    elif kind == 1:
        pose.head_pitch += bump * rng.uniform(0.2, 0.4)
    else:
        pose.root[:, 0] += bump * rng.uniform(-0.08, 0.08)


def record(performance: Performance, camera: int, num_persons: int, rng: np.random.Generator):
    """View a performance from a camera: Kinect camera-space joints and hands, noisy, with dropped frames.

    Returns ``(skeleton (T', M, 25, 3), hands (T', M, 2, 21, 3))`` float32 with M = `num_persons`; persons that
    are not in the performance are all zero.
    """
    azimuth = CAMERA_AZIMUTHS[camera] + rng.uniform(-0.15, 0.15)
    tilt = rng.uniform(-0.12, 0.12)
    height, distance = rng.uniform(0.7, 1.3), rng.uniform(2.6, 4.0)
    # World -> camera: turn the scene by the camera's azimuth, look along -z from +z (R_y(pi)), tilt, translate.
    view = _rot_x(np.array([tilt]))[0] @ np.diag([-1.0, 1.0, -1.0]) @ _rot_y(np.array([-azimuth]))[0]
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
