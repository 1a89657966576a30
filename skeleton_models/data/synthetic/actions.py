"""The action classes: each one a table entry naming the motion function that animates it and its arguments.

A motion function writes into the `Pose` of each performer (the actor first), given ``tau``, the action time of
every frame in nominal seconds (negative before the action starts), the performance's `Style`, its random
generator, and the class's keyword arguments.

The hand-gesture classes share one body motion (`_gesture_body`) drawn from the same distribution whatever the
gesture, and the body skeleton's hand joints (hand, hand tip, thumb) never depend on the finger configuration,
so a body-only model cannot separate them: only the `hands` array carries the gesture.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .body import Pose
from .geometry import FWD, LEFT, SIDES, UP, medial


# Time profiles of `tau`, each (T,) -> (T,) in [0, 1].
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


# (poses, tau, style, rng, **params) -> None; the arguments are named (p, tau, s, rng) below.
Motion = Callable[..., None]


def _wave(p, tau, s, rng, side: str):
    """Raise the arm on `side` and wave its forearm."""
    env = hold(tau, 0.0, 3.0, 0.5)
    swing = np.pi / 2 + 0.45 * s.amplitude * np.sin(2 * np.pi * s.frequency * tau + s.phase)
    p[0].arms[side].set(
        env, elev=1.65 + 0.15 * rng.standard_normal(), azim=1.2 + 0.1 * rng.standard_normal(), flex=swing, bend=UP
    )
    p[0].set_hand(side, "open_palm", env, rng)


def _clap(p, tau, s, rng):
    env = hold(tau, 0.0, 3.0, 0.5)
    beat = 0.5 + 0.5 * np.cos(2 * np.pi * s.frequency * tau + s.phase)
    for side in SIDES:
        p[0].arms[side].set(
            env, elev=1.15, azim=0.35, flex=0.9 + 0.55 * s.amplitude * beat, bend=medial(side) + 0.3 * UP
        )
        p[0].set_hand(side, "open_palm", env, rng)


def _raise_both_arms(p, tau, s, rng):
    env = hold(tau, 0.0, 3.0, 0.8)
    for side in SIDES:
        p[0].arms[side].set(env, elev=min(2.85, 2.6 * s.amplitude), azim=0.6 + 0.1 * rng.standard_normal(), flex=0.15)


def _punch(p, tau, s, rng):
    guard = hold(tau, 0.0, 2.6, 0.4)
    for side in SIDES:
        p[0].arms[side].set(guard, elev=0.55, azim=-0.1, flex=2.0, bend=UP + 0.4 * FWD)
        p[0].set_hand(side, "fist", guard, rng)
    strikes = pulse(tau, 0.9) + pulse(tau, 1.7)
    p[0].arms["right"].set(strikes, elev=0.55 + 0.95 * s.amplitude, flex=0.1)


def _kick(p, tau, s, rng, side: str):
    """Lift the knee on `side` and kick the foot forward."""
    env = hold(tau, 0.3, 1.6, 0.3)
    extend = hold(tau, 0.7, 1.15, 0.15)
    p[0].legs[side].set(env, elev=1.15 * s.amplitude, flex=1.6 - 1.45 * extend)
    for arm_side in SIDES:
        p[0].arms[arm_side].set(hold(tau, 0.1, 1.8, 0.4), elev=0.5)
    p[0].pitch -= env * 0.15


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
        env, elev=0.55 + 0.08 * np.sin(2 * np.pi * 0.7 * tau + s.phase), azim=-0.45, flex=2.35, bend=UP + 0.2 * FWD
    )
    p[0].head_pitch -= env * 0.2


def _touch_head(p, tau, s, rng):
    env = hold(tau, 0.2, 2.6, 0.6)
    p[0].arms["right"].set(
        env, elev=2.2, azim=0.9, flex=1.9 + 0.1 * np.sin(2 * np.pi * 1.5 * tau + s.phase), bend=UP + 0.8 * LEFT
    )
    p[0].head_pitch += env * 0.25


def _handshake(p, tau, s, rng):
    env = hold(tau, 0.0, 3.5, 0.6)
    shake = hold(tau, 0.8, 2.8, 0.3) * 0.12 * s.amplitude * np.sin(2 * np.pi * 2.0 * tau + s.phase)
    for person in p:
        person.arms["right"].set(env, elev=0.8 + shake, azim=-0.25, flex=0.55, bend=UP)
        person.root[:, 2] += env * 0.05
        person.set_hand("right", "open_palm", env, rng)


def _push(p, tau, s, rng):
    prepare = hold(tau, 0.2, 1.6, 0.4)
    shove = pulse(tau, 1.0, out=0.2, back=0.45)
    for side in SIDES:
        p[0].arms[side].set(prepare, elev=1.2 + 0.35 * shove, azim=-0.1, flex=1.5 - 1.3 * shove, bend=UP)
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
                embrace, elev=1.35, azim=0.75 - 0.5 * ramp(tau, 1.4, 0.6), flex=1.3, bend=medial(side)
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
        bend=UP + 0.2 * FWD,
    )


def _gesture(p, tau, s, rng, shape: str):
    """The gesture body motion, with the right hand showing the `HAND_SHAPES` entry `shape`."""
    _gesture_body(p, tau, s, rng)
    p[0].set_hand("right", shape, hold(tau, 0.6, 2.5, 0.4), rng)


@dataclass(frozen=True)
class ActionClass:
    """One class of the synthetic benchmark: its texts, and the motion that animates it."""

    name: str
    description: str
    group: str  # "body", "interaction" or "hand_gesture"
    duration: float  # nominal seconds
    motion: Motion = field(repr=False)
    params: Mapping[str, object] = field(default_factory=dict)  # keyword arguments of `motion`
    persons: int = 1
    distance: tuple[float, float] = (0.0, 0.0)  # range of the distance between two performers, metres

    def act(self, poses: list[Pose], tau: np.ndarray, style: Style, rng: np.random.Generator) -> None:
        """Write the motion into the performers' poses (the actor first); `tau` (T,) in nominal seconds."""
        self.motion(poses, tau, style, rng, **self.params)


ACTION_CLASSES: tuple[ActionClass, ...] = (
    ActionClass(
        name="wave with left hand",
        description="A person raises the left arm to the side and waves the forearm back and forth.",
        group="body",
        duration=3.0,
        motion=_wave,
        params={"side": "left"},
    ),
    ActionClass(
        name="wave with right hand",
        description="A person raises the right arm to the side and waves the forearm back and forth.",
        group="body",
        duration=3.0,
        motion=_wave,
        params={"side": "right"},
    ),
    ActionClass(
        name="clap",
        description="A person holds both hands in front of the chest and claps them together several times.",
        group="body",
        duration=3.0,
        motion=_clap,
    ),
    ActionClass(
        name="raise both arms",
        description="A person lifts both arms high above the head, holds them there and lowers them.",
        group="body",
        duration=3.0,
        motion=_raise_both_arms,
    ),
    ActionClass(
        name="punch",
        description="A person takes a guard with both fists and punches forward twice with the right arm.",
        group="body",
        duration=2.6,
        motion=_punch,
    ),
    ActionClass(
        name="kick with left leg",
        description="A person lifts the left knee and kicks the left foot forward, then puts it down.",
        group="body",
        duration=2.0,
        motion=_kick,
        params={"side": "left"},
    ),
    ActionClass(
        name="kick with right leg",
        description="A person lifts the right knee and kicks the right foot forward, then puts it down.",
        group="body",
        duration=2.0,
        motion=_kick,
        params={"side": "right"},
    ),
    ActionClass(
        name="squat",
        description="A person bends both knees to lower the body with the arms stretched forward, then stands up.",
        group="body",
        duration=3.0,
        motion=_squat,
    ),
    ActionClass(
        name="jump",
        description="A person crouches and jumps straight up twice, swinging the arms upward.",
        group="body",
        duration=2.6,
        motion=_jump,
    ),
    ActionClass(
        name="bow",
        description="A person bends the upper body forward from the hips with the head down, then straightens up.",
        group="body",
        duration=3.0,
        motion=_bow,
    ),
    ActionClass(
        name="turn around",
        description="A person turns on the spot by half a circle with small steps.",
        group="body",
        duration=2.6,
        motion=_turn_around,
    ),
    ActionClass(
        name="walk in place",
        description="A person marches on the spot, lifting the knees alternately and swinging the arms.",
        group="body",
        duration=4.0,
        motion=_walk_in_place,
    ),
    ActionClass(
        name="hand to mouth",
        description="A person brings the right hand up to the mouth as if drinking, holds it, and lowers it.",
        group="body",
        duration=3.0,
        motion=_hand_to_mouth,
    ),
    ActionClass(
        name="touch head",
        description="A person puts the right hand on top of the head, holds it there, and lowers it.",
        group="body",
        duration=3.0,
        motion=_touch_head,
    ),
    ActionClass(
        name="handshake",
        description="Two people facing each other reach out their right hands and shake hands.",
        group="interaction",
        duration=3.5,
        motion=_handshake,
        persons=2,
        distance=(0.9, 1.05),
    ),
    ActionClass(
        name="push",
        description="One person pushes the other with both hands and the other person staggers backward.",
        group="interaction",
        duration=2.5,
        motion=_push,
        persons=2,
        distance=(0.8, 0.95),
    ),
    ActionClass(
        name="hug",
        description="Two people step towards each other and wrap their arms around each other.",
        group="interaction",
        duration=4.0,
        motion=_hug,
        persons=2,
        distance=(1.3, 1.5),
    ),
    ActionClass(
        name="point at the other",
        description="One person points the right arm and index finger at the other person.",
        group="interaction",
        duration=3.0,
        motion=_point_at_other,
        persons=2,
        distance=(1.5, 2.0),
    ),
    ActionClass(
        name="thumbs up",
        description="A person raises the right hand in front of the chest and shows a thumbs-up sign.",
        group="hand_gesture",
        duration=3.0,
        motion=_gesture,
        params={"shape": "thumbs_up"},
    ),
    ActionClass(
        name="victory sign",
        description="A person raises the right hand in front of the chest and shows a V sign with two fingers.",
        group="hand_gesture",
        duration=3.0,
        motion=_gesture,
        params={"shape": "victory"},
    ),
    ActionClass(
        name="ok sign",
        description=(
            "A person raises the right hand in front of the chest and forms a ring with thumb and index finger."
        ),
        group="hand_gesture",
        duration=3.0,
        motion=_gesture,
        params={"shape": "ok_sign"},
    ),
    ActionClass(
        name="fist",
        description="A person raises the right hand in front of the chest and closes it into a fist.",
        group="hand_gesture",
        duration=3.0,
        motion=_gesture,
        params={"shape": "fist"},
    ),
    ActionClass(
        name="open palm",
        description="A person raises the right hand in front of the chest and shows the open palm with spread fingers.",
        group="hand_gesture",
        duration=3.0,
        motion=_gesture,
        params={"shape": "open_palm"},
    ),
)
