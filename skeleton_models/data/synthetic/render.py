"""The colour camera: small RGB frames of a recording, and the ROI mosaic BHaRNet-M's RGB stream reads.

The synthetic subjects have no appearance, so the frames show what the skeleton shows -- a stick figure per person
(limbs coloured by body part) with its two hands' finger bones -- seen through a pinhole colour camera that shares
the depth sensor's position (as NTU's colour joint coordinates are the Kinect's own projection). The RGB stream
therefore carries no context beyond the skeletons (no objects, no scene): on this benchmark it can show that the
RGB path trains, and whether the guidance changes it, not that RGB adds information.
"""

from __future__ import annotations

import numpy as np

from ...augmentation import person_activity
from ...rgb import MMNET_ROI_JOINTS, roi_frame_indices, roi_joint_indices, roi_mosaic
from ...skeletons import get_layout

FRAME_SIZE = 240  # pixels (square frames)
FOCAL = 300.0  # pixels: a person 1.7 m tall 3.3 m away is ~150 px tall
ROI_SIZE = 0.3  # metres: the side of a region of interest (a hand with its fingers, the head, a foot)
BODY_RADIUS, HAND_RADIUS = 0.03, 0.006  # metres: drawn thickness of body and finger bones
# RGB colours of the body's limbs (by `ntu25` group) for the first and the second person; fingers are skin-toned.
PERSON_COLOURS = (
    {"torso": (40, 70, 160), "left_arm": (60, 150, 220), "right_arm": (30, 110, 60), "left_leg": (90, 60, 150),
     "right_leg": (150, 110, 40)},
    {"torso": (160, 50, 40), "left_arm": (230, 120, 70), "right_arm": (120, 30, 90), "left_leg": (200, 170, 40),
     "right_leg": (90, 40, 20)},
)  # fmt: skip
FINGER_COLOUR = (235, 190, 150)


def project(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera-space points (..., 3) in metres -> pixel positions (..., 2) and depths (...)."""
    z = np.maximum(points[..., 2], 0.1)
    u = FRAME_SIZE / 2 + FOCAL * points[..., 0] / z  # the raw NTU writer's colorX convention, scaled
    v = FRAME_SIZE / 2 - FOCAL * points[..., 1] / z
    return np.stack([u, v], axis=-1), z


def _segments(skeleton: np.ndarray, hands: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every bone of every present person in one frame: endpoints (S, 2, 3), colours (S, 3), radii (S,) in metres."""
    body, hand = get_layout("ntu25"), get_layout("mediapipe_hand21")
    group_of = {j: g for g, joints in body.groups.items() if not g.endswith("fingers") for j in joints}
    ends, colours, radii = [], [], []
    for m in range(skeleton.shape[0]):
        if not np.abs(skeleton[m]).any():
            continue
        palette = PERSON_COLOURS[m % len(PERSON_COLOURS)]
        for child, parent in enumerate(body.parents):
            if parent >= 0:
                ends.append(skeleton[m, [child, parent]])
                colours.append(palette[group_of.get(child, group_of.get(parent, "torso"))])
                radii.append(BODY_RADIUS)
        for side in range(2):
            if not np.abs(hands[m, side]).any():
                continue
            for child, parent in enumerate(hand.parents):
                if parent >= 0:
                    ends.append(hands[m, side, [child, parent]])
                    colours.append(FINGER_COLOUR)
                    radii.append(HAND_RADIUS)
    if not ends:
        return np.zeros((0, 2, 3)), np.zeros((0, 3)), np.zeros(0)
    return np.stack(ends), np.asarray(colours, dtype=np.uint8), np.asarray(radii)


def render_frame(skeleton: np.ndarray, hands: np.ndarray, background: np.ndarray) -> np.ndarray:
    """One RGB frame (FRAME_SIZE, FRAME_SIZE, 3) uint8 of the persons (M, 25, 3) and their hands (M, 2, 21, 3)
    in camera space, drawn far to near over `background`."""
    frame = background.copy()
    ends, colours, radii = _segments(skeleton, hands)
    if len(ends) == 0:
        return frame
    pixels, depth = project(ends)  # (S, 2, 2), (S, 2)
    steps = int(np.ceil(np.abs(pixels[:, 1] - pixels[:, 0]).max())) + 1
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    points = pixels[:, :1] + t * (pixels[:, 1:] - pixels[:, :1])  # (S, K, 2) along each bone
    z = depth[:, :1] + t[..., 0] * (depth[:, 1:] - depth[:, :1])  # (S, K)
    radius = np.rint(radii[:, None] * FOCAL / z).astype(np.int64)  # (S, K) in pixels
    reach = int(radius.max())
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    disc = (dx**2 + dy**2)[None, None] <= radius[..., None, None] ** 2  # (S, K, D, D)
    s, k, i, j = np.nonzero(disc)
    x = np.rint(points[s, k, 0]).astype(np.int64) + dx[i, j]
    y = np.rint(points[s, k, 1]).astype(np.int64) + dy[i, j]
    inside = (x >= 0) & (x < FRAME_SIZE) & (y >= 0) & (y < FRAME_SIZE)
    order = np.argsort(-z[s, k][inside], kind="stable")  # far first: nearer bones are drawn over them
    frame[y[inside][order], x[inside][order]] = colours[s[inside][order]]
    return frame


def render_roi_mosaic(
    skeleton: np.ndarray,
    hands: np.ndarray,
    rng: np.random.Generator,
    num_frames: int = 5,
    patch_size: int = 24,
    joints=MMNET_ROI_JOINTS,
) -> np.ndarray:
    """The ROI mosaic of a recording (`skeleton` (T, M, 25, 3) and `hands` (T, M, 2, 21, 3), camera space): its
    `num_frames` frames (`roi_frame_indices`) rendered, and crops of ROI_SIZE metres around the `joints` of the most
    active person tiled by `skeleton_models.rgb.roi_mosaic` -> (P x patch, F x patch, 3) uint8."""
    frames_at = roi_frame_indices(skeleton.shape[0], num_frames)
    shade = rng.uniform(150, 215)  # a plain background whose brightness and tint vary per recording
    background = np.clip(shade + rng.normal(0, 6, size=3) + rng.normal(0, 3, (FRAME_SIZE, FRAME_SIZE, 3)), 0, 255)
    background = background.astype(np.uint8)
    frames = np.stack([render_frame(skeleton[t], hands[t], background) for t in frames_at])
    person = int(np.argmax(person_activity(skeleton[None])[0]))
    parts = skeleton[frames_at][:, person][:, roi_joint_indices("ntu25", joints)]  # (F, P, 3)
    centres, depth = project(parts)
    centres[~np.abs(parts).any(-1)] = np.nan  # a person absent from a frame
    return roi_mosaic(frames, centres, ROI_SIZE * FOCAL / depth, patch_size)
