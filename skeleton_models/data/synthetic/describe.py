"""Per-clip descriptions: what a vision-language model would write about one recording, written from what the
generator drew for it (`Performance.facts`) and the camera, in several phrasings.

HocSLM's generation loss (section 3.1) is trained on a description of each video written by a VLM. A description
that only names the class adds nothing a class label does not; these say *how* the clip was performed -- which
side, how fast, how large, how many repetitions, which way, what the performer did before or after the action,
what the second person did, where the camera was -- so the generation loss asks the skeleton encoder for more
than the class. Deterministic in the recording: the phrasing is drawn from its own random stream.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .actions import ActionClass

# Camera id -> where it sees the performer from (camera.CAMERA_AZIMUTHS: +45 degrees is the performer's left at
# yaw 0, since positive yaw turns +z towards +x, the body's left).
CAMERA_VIEWS = {1: "the front", 2: "the front left", 3: "the front right"}

SUBJECTS = ("A person", "Someone", "The person", "A standing person")
OPENINGS = ("", "The video shows how ", "In this clip, ", "Here ")


def _pick(rng: np.random.Generator, options) -> str:
    return options[int(rng.integers(len(options)))]


def _manner(facts: dict, rng: np.random.Generator) -> str:
    """Words for the performance's speed (an adverb, or an adverbial that must follow the verb: it then starts
    with ", "), or nothing at an ordinary speed."""
    if facts["speed"] < 0.85:
        return _pick(rng, ("slowly", "unhurriedly", ", at a slow pace"))
    if facts["speed"] > 1.2:
        return _pick(rng, ("quickly", "briskly", ", fast"))
    return ""


def _size(facts: dict, small: str, large: str, ordinary: str = "") -> str:
    """Words for the performance's amplitude: `small` below 0.85, `large` above 1.15."""
    if facts["amplitude"] < 0.85:
        return small
    if facts["amplitude"] > 1.15:
        return large
    return ordinary


def _count(n: float) -> str:
    words = {2: "twice", 3: "three times", 4: "four times", 5: "five times", 6: "six times", 7: "seven times"}
    return "about " + words.get(int(round(n)), f"{int(round(n))} times")


def _wave(f, rng, side):
    times = _count(f["frequency"] * 2.5)  # the waving lasts ~2.5 s at `frequency` swings per second
    size = _size(f, "small", "wide")
    return _pick(
        rng,
        (
            f"raises the {side} arm and waves the forearm {times}",
            f"lifts the {side} hand and waves {times} with {size or 'broad'} movements of the forearm",
            f"waves with the {side} hand, {times}, the elbow raised to the side",
        ),
    )


def _clap(f, rng):
    times = _count(f["frequency"] * 2.5)
    return _pick(
        rng,
        (
            f"claps {times} in front of the chest",
            f"brings both hands together in front of the body and claps {times}",
            f"claps the hands {_size(f, 'softly', 'vigorously', 'steadily')}, {times}",
        ),
    )


def _raise_both_arms(f, rng):
    height = "straight up above the head" if f["amplitude"] > 1.05 else "up to about head height"
    return _pick(
        rng,
        (f"raises both arms {height}, holds them and lowers them", f"lifts both arms {height} and brings them down"),
    )


def _punch(f, rng):
    force = _size(f, "short", "long, hard")
    return _pick(
        rng,
        (
            f"raises both fists in a guard and throws two {force + ' ' if force else ''}punches with the right arm",
            f"takes a boxing stance and punches forward twice with the right fist{', hard' if force else ''}",
        ),
    )


def _kick(f, rng, side):
    height = _size(f, "low", "high")
    return _pick(
        rng,
        (
            f"lifts the {side} knee and kicks the {side} foot forward{' ' + height if height else ''}",
            f"kicks {height + ' ' if height else ''}with the {side} leg and puts the foot back down",
        ),
    )


def _squat(f, rng):
    depth = _size(f, "shallow", "deep", "full")
    return _pick(
        rng,
        (
            f"does a {depth} squat with the arms stretched forward and stands up again",
            f"bends the knees into a {depth} squat, arms held out in front, then rises",
        ),
    )


def _jump(f, rng):
    centimetres = 5 * round(20 * (0.18 + 0.1 * (f["amplitude"] - 1)))  # actions._jump's height, to 5 cm
    return _pick(
        rng,
        (
            f"jumps straight up twice, about {centimetres} cm high, swinging the arms up",
            f"crouches and jumps twice on the spot, roughly {centimetres} centimetres off the floor",
        ),
    )


def _bow(f, rng):
    depth = _size(f, "slight", "deep", "polite")
    return _pick(
        rng,
        (
            f"makes a {depth} bow from the hips with the head lowered, then straightens up",
            f"bows {'deeply' if depth == 'deep' else 'slightly' if depth == 'slight' else 'politely'} and stands up "
            "straight again",
        ),
    )


def _turn_around(f, rng):
    way = "left" if f["direction"] > 0 else "right"  # positive yaw turns towards the body's left
    return _pick(
        rng,
        (
            f"turns around to the {way} with small steps until facing the other way",
            f"makes a half turn to the {way} on the spot",
        ),
    )


def _walk_in_place(f, rng):
    steps = _size(f, "small steps", "high steps", "ordinary steps")
    return _pick(
        rng,
        (
            f"marches on the spot with {steps}, swinging the arms",
            f"walks in place, lifting the knees in {steps} and swinging the arms",
        ),
    )


def _hand_to_mouth(f, rng):
    return _pick(
        rng,
        (
            "brings the right hand to the mouth as if drinking, holds it there and lowers it",
            "lifts the right hand up to the mouth for a moment, like taking a drink",
        ),
    )


def _touch_head(f, rng):
    return _pick(
        rng,
        (
            "puts the right hand on top of the head, keeps it there and lowers it",
            "touches the top of the head with the right hand and then lets the arm down",
        ),
    )


def _handshake(f, rng):
    grip = _size(f, "gently", "firmly", "")
    return _pick(
        rng,
        (
            f"reaches out the right hand to the person opposite and they shake hands {grip}".rstrip(),
            f"steps up to the other person and shakes their right hand {grip}".rstrip(),
        ),
    )


def _push(f, rng):
    centimetres = 5 * round(20 * 0.35 * f["amplitude"])  # actions._push: the other moves 0.35 m x amplitude
    return _pick(
        rng,
        (
            f"shoves the other person with both hands, who staggers back about {centimetres} cm",
            f"pushes the person in front with both hands; that person stumbles backwards by roughly {centimetres} cm",
        ),
    )


def _hug(f, rng):
    return _pick(
        rng,
        (
            "walks towards the other person and they hug, wrapping their arms around each other",
            "steps towards the other person and they embrace",
        ),
    )


def _point_at_other(f, rng):
    return _pick(
        rng,
        (
            "points at the other person with the right arm and index finger; the other person looks down and lifts "
            "the left hand",
            "stretches out the right arm and points the index finger at the person opposite, who glances down and "
            "raises the left hand a little",
        ),
    )


def _gesture(text: str) -> Callable:
    def write(f, rng):
        return _pick(
            rng,
            (
                f"raises the right hand in front of the chest and {text}",
                f"holds the right hand up in front of the body and {text}",
            ),
        )

    return write


# Class name -> the writer of its action clause (the predicate after the subject).
CLAUSES: dict[str, Callable] = {
    "wave with left hand": lambda f, rng: _wave(f, rng, "left"),
    "wave with right hand": lambda f, rng: _wave(f, rng, "right"),
    "clap": _clap,
    "raise both arms": _raise_both_arms,
    "punch": _punch,
    "kick with left leg": lambda f, rng: _kick(f, rng, "left"),
    "kick with right leg": lambda f, rng: _kick(f, rng, "right"),
    "squat": _squat,
    "jump": _jump,
    "bow": _bow,
    "turn around": _turn_around,
    "walk in place": _walk_in_place,
    "hand to mouth": _hand_to_mouth,
    "touch head": _touch_head,
    "handshake": _handshake,
    "push": _push,
    "hug": _hug,
    "point at the other": _point_at_other,
    "thumbs up": _gesture("shows a thumbs-up"),
    "victory sign": _gesture("makes a V sign with two fingers"),
    "ok sign": _gesture("forms an OK ring with the thumb and index finger"),
    "fist": _gesture("closes it into a fist"),
    "open palm": _gesture("shows the open palm with the fingers spread"),
}

_FIDGETS = {
    "lift_hand": ("briefly lifts the {side} hand", "raises the {side} hand for a moment"),
    "look_down": ("glances down", "looks down for a moment"),
    "shift": ("shifts the weight to the {side}", "sways a little to the {side}"),
}


def _fidget_sentence(fidget: dict, who: str, rng: np.random.Generator) -> str:
    what = _pick(rng, _FIDGETS[fidget["kind"]]).format(side=fidget["side"])
    when = "Before starting" if fidget["when"] == "before" else "Afterwards"
    return f"{when}, {who} {what}."


def describe_clip(action: ActionClass, facts: dict, camera: int, rng: np.random.Generator) -> str:
    """A one-to-four-sentence description of one recording of `action`.

    Args:
        action: the clip's class.
        facts: `Performance.facts` of the performance.
        camera: the recording camera's id (`camera.CAMERA_AZIMUTHS`).
        rng: the random stream choosing the phrasing (and which optional details are mentioned).
    """
    if action.name not in CLAUSES:
        raise ValueError(f"no description writer for the synthetic class {action.name!r}")
    subject = _pick(rng, SUBJECTS)
    opening = _pick(rng, OPENINGS)
    if opening:
        subject = subject[0].lower() + subject[1:]
    clause = CLAUSES[action.name](facts, rng)
    manner = _manner(facts, rng)
    if manner and not manner.startswith(",") and rng.random() < 0.5:
        clause = f"{manner} {clause}"
    elif manner:
        clause = f"{clause}, {manner.lstrip(', ')}"
    sentences = [f"{opening}{subject} {clause}."]
    fidgets = facts.get("fidgets") or []
    if fidgets and fidgets[0] is not None:
        sentences.append(_fidget_sentence(fidgets[0], _pick(rng, ("the person", "the performer")), rng))
    if len(fidgets) > 1 and fidgets[1] is not None and rng.random() < 0.7:
        sentences.append(_fidget_sentence(fidgets[1], "the other person", rng))
    if facts["lead_in"] > 0.9 and rng.random() < 0.6:
        sentences.append(_pick(rng, ("The action starts after a short pause.", "At first they stand still.")))
    if rng.random() < 0.5:
        sentences.append(_pick(rng, ("Seen from {}.", "The camera looks from {}.")).format(CAMERA_VIEWS[camera]))
    return " ".join(sentences)
