"""The row schema every skeleton dataset shares (ARCHITECTURE section 3)."""

from __future__ import annotations

import datasets

# The ``hands`` column: per-person hands (T, M, 2 hands (left, right), 21 MediaPipe keypoints, C = x, y, z).
HANDS_FEATURE_SPEC = {"layout": "mediapipe_hand21", "coordinate_dims": 3}


def hands_feature(num_persons: int) -> datasets.Array5D:
    """The feature of a ``hands`` column: (T, `num_persons`, 2, 21, 3) float32, frames first like ``skeleton``
    (`skeleton_models.hands` turns it into a ``hands2x21`` clip)."""
    return datasets.Array5D(shape=(None, num_persons, 2, 21, 3), dtype="float32")


def skeleton_features(
    class_names: list[str],
    num_persons: int,
    num_joints: int,
    num_channels: int,
    metadata: dict[str, datasets.Value] | None = None,
    extra: dict[str, datasets.features.FeatureType] | None = None,
) -> datasets.Features:
    """Features of a skeleton dataset.

    ``skeleton`` is frames-first, ``(T, M, V, C)`` float32 with a variable number of frames T; ``label`` is a
    ClassLabel with the real class names; ``sample_id`` is the file or sample name; ``metadata`` adds integer
    columns (subject, camera, ...); ``extra`` adds further modalities (e.g. ``hands``).
    """
    features = {
        "sample_id": datasets.Value("string"),
        "skeleton": datasets.Array4D(shape=(None, num_persons, num_joints, num_channels), dtype="float32"),
        "label": datasets.ClassLabel(names=list(class_names)),
        "num_frames": datasets.Value("int32"),
        "num_persons": datasets.Value("int32"),
    }
    features.update(metadata or {})
    features.update(extra or {})
    return datasets.Features(features)
