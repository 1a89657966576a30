"""One performance of an action class by one or two subjects, in world coordinates.

A clip is made in four steps:

1. a `Body` (segment lengths) per subject, from the subject's seed (`body.sample_body`);
2. a `Pose` per person: joint angles and root motion per frame, written by the class's motion function
   (`actions`) on top of idle motion;
3. forward kinematics to world coordinates (x left, y up, z forward of a body at yaw 0), feet on the floor;
4. one projection per camera into Kinect camera space (x to the sensor's left, y up, z depth, metres),
   with sensor noise and occasional dropped frames (`camera.record`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .actions import ActionClass, Style, hold
from .body import Body, Pose, forward_kinematics
from .geometry import SIDES, rot_y

FPS = 30
MIN_FRAMES, MAX_FRAMES = 40, 200  # clip lengths, as NTU clips of a few seconds


@dataclass
class Performance:
    """One performance in world coordinates, shared by every camera that records it."""

    joints: np.ndarray  # (T, P, 25, 3)
    hands: np.ndarray  # (T, P, 2, 21, 3)
    # What was drawn for this performance (`Style`'s fields, the idle parts before and after the action, each
    # performer's fidget, the performers' distance): what `describe.describe_clip` writes about.
    facts: dict = field(default_factory=dict)


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
    fidgets = [_fidget(pose, tau, action.duration, rng) for pose in poses]
    performers = [forward_kinematics(body, pose) for body, pose in zip(bodies, poses)]
    joints = np.stack([j for j, _ in performers], axis=1)
    hands = np.stack([h for _, h in performers], axis=1)
    # Place the performers: alone and facing the front camera, or facing each other across the x axis.
    distance = None
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
        rot = rot_y(np.array([heading[p] + scene_yaw]))[0]
        offset = rot_y(np.array([scene_yaw]))[0] @ position[p] + shift
        joints[:, p] = joints[:, p] @ rot.T + offset
        hands[:, p] = hands[:, p] @ rot.T + offset
    facts = {
        "amplitude": style.amplitude,
        "speed": style.speed,
        "frequency": style.frequency,
        "direction": style.direction,
        "lead_in": lead_in,
        "lead_out": lead_out,
        "seconds": num_frames / FPS,
        "fidgets": fidgets,
        "distance": distance,
        "height": actor.height,
    }
    return Performance(joints=joints, hands=hands, facts=facts)


def _idle(pose: Pose, time: np.ndarray, rng: np.random.Generator) -> None:
    """Small involuntary motion every person has: sway, breathing, arms hanging slightly apart."""
    phase = rng.uniform(0, 2 * np.pi, size=4)
    pose.root[:, 0] += 0.012 * np.sin(2 * np.pi * 0.25 * time + phase[0])
    pose.pitch += 0.02 * np.sin(2 * np.pi * 0.3 * time + phase[1]) + rng.uniform(-0.04, 0.06)
    for k, side in enumerate(SIDES):
        pose.arms[side].elev += rng.uniform(0.05, 0.2) + 0.02 * np.sin(2 * np.pi * 0.3 * time + phase[2 + k])
        pose.arms[side].azim += np.pi / 2 + rng.uniform(-0.3, 0.3)
        pose.arms[side].flex += rng.uniform(0.05, 0.3)


def _fidget(pose: Pose, tau: np.ndarray, duration: float, rng: np.random.Generator) -> dict | None:
    """Half of the performers do something unrelated before or after the action: lift a hand, look down, shift.
    Returns what was done (``{"when": "before" | "after", "kind": "lift_hand" | "look_down" | "shift", "side"}``;
    ``side``: the hand lifted, or the performer's side shifted towards) or None."""
    if rng.random() < 0.5:
        return None
    before = rng.random() < 0.5
    at = rng.uniform(-0.9, -0.5) if before else duration + rng.uniform(0.1, 0.5)
    bump = hold(tau, at, at + rng.uniform(0.4, 0.7), 0.2)
    kind = rng.integers(3)
    done = {"when": "before" if before else "after", "kind": ("lift_hand", "look_down", "shift")[kind], "side": None}
    if kind == 0:
        done["side"] = SIDES[rng.integers(2)]
        pose.arms[done["side"]].set(bump, elev=rng.uniform(0.3, 0.9), flex=rng.uniform(0.5, 1.5))
    elif kind == 1:
        pose.head_pitch += bump * rng.uniform(0.2, 0.4)
    else:
        shift = rng.uniform(-0.08, 0.08)
        done["side"] = "left" if shift > 0 else "right"  # +x is the body's left
        pose.root[:, 0] += bump * shift
    return done
