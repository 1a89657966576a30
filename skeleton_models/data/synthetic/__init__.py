"""The built-in synthetic benchmark: procedurally animated action clips on the `ntu25` layout.

Generated deterministically from a seed in a few seconds, so the quickstart and the tests need no download.
Like NTU RGB+D, every performance (class, subject, replication) is recorded by three cameras at once, and the
`xsub` (cross-subject) and `xview` (cross-view) configs split by subject and by camera. The `pretrain` config is
a larger training set for self-supervised pre-training, performed by other subjects than those of `xsub` / `xview`
(so that no evaluation subject, test or train, is seen during pre-training). The motions themselves
are made by the modules of this package: `body` and `hands` (the subjects), `actions` (the classes),
`performance` (the animation) and `camera` (the recording); `describe` writes each recording's own text
description (the ``description`` column) from what was drawn for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets
import numpy as np

from ...rgb import MMNET_ROI_JOINTS, RGB_ROIS_COLUMN
from ..base import SkeletonDatasetBuilder
from ..features import HANDS_FEATURE_SPEC, hands_feature, skeleton_features
from .actions import ACTION_CLASSES, ActionClass
from .body import Body, sample_body
from .camera import record
from .describe import describe_clip
from .performance import Performance, perform
from .render import render_roi_mosaic

CLASS_NAMES = [a.name for a in ACTION_CLASSES]
CLASS_DESCRIPTIONS = [a.description for a in ACTION_CLASSES]
CLASS_GROUPS = {
    group: [i for i, a in enumerate(ACTION_CLASSES) if a.group == group]
    for group in ("body", "interaction", "hand_gesture")
}
NUM_PERSONS = 2
CAMERAS = (1, 2, 3)
XVIEW_TRAIN_CAMERAS = (2, 3)  # as NTU: cameras 2 and 3 train, camera 1 tests


def xsub_train_subjects(num_subjects: int) -> list[int]:
    """Training subjects of the cross-subject protocol: the odd ids among 1..num_subjects."""
    return [s for s in range(1, num_subjects + 1) if s % 2 == 1]


def next_subject(subject: int, first: int, count: int) -> int:
    """The partner of `subject` in two-person classes: the next of the `count` subjects `first` .. `first` + `count`
    - 1, the last one paired with the first."""
    return first + (subject - first + 1) % count


@dataclass
class SyntheticSkeletonConfig(datasets.BuilderConfig):
    """Builder options. Size = classes x `num_subjects` x `num_replications` x 3 cameras (``xsub`` / ``xview``), or
    classes x `num_pretrain_subjects` x `num_replications` x 3 cameras, one ``train`` split (``pretrain``)."""

    protocol: str = "xsub"
    num_subjects: int = 10
    num_replications: int = 2
    seed: int = 0
    # ``pretrain``: subjects num_subjects + 1 .. num_subjects + num_pretrain_subjects (the evaluation protocols'
    # subjects are 1 .. num_subjects), each paired with the next of them in two-person classes. The rows keep their
    # labels (for diagnostics); pre-training does not read them.
    num_pretrain_subjects: int = 54
    # BHaRNet-M's RGB input: an ``rgb_rois`` column of ROI mosaics (parts x frames tiles of `rgb_patch_size` px)
    # rendered from each recording (`render`). Off by default: it adds ~43 KB and ~10 ms per recording.
    rgb: bool = False
    rgb_frames: int = 5  # MMNet: 5 frames
    rgb_patch_size: int = 24  # MMNet: 45 px tiles of full-HD video; these frames are 240 px

    def validate(self) -> None:
        if self.protocol not in ("xsub", "xview", "pretrain"):
            raise ValueError(f"protocol must be 'xsub', 'xview' or 'pretrain', got {self.protocol!r}")
        if self.num_pretrain_subjects < 2:
            raise ValueError(f"num_pretrain_subjects must be >= 2, got {self.num_pretrain_subjects}")
        if self.rgb_frames < 1 or self.rgb_patch_size < 4:
            raise ValueError(
                f"rgb_frames must be >= 1 and rgb_patch_size >= 4, got {self.rgb_frames} and {self.rgb_patch_size}"
            )
        if self.num_subjects < 2 or self.num_replications < 1:
            raise ValueError(
                "num_subjects must be >= 2 and num_replications >= 1, "
                f"got {self.num_subjects} and {self.num_replications}"
            )


class SyntheticSkeleton(SkeletonDatasetBuilder):
    """`datasets` builder of the synthetic benchmark (configs `xsub`, `xview`)."""

    VERSION = datasets.Version("1.1.0")  # 1.1: the per-clip ``description`` column
    BUILDER_CONFIG_CLASS = SyntheticSkeletonConfig
    BUILDER_CONFIGS = [
        SyntheticSkeletonConfig(name="xsub", protocol="xsub", description="cross-subject: odd subject ids train"),
        SyntheticSkeletonConfig(name="xview", protocol="xview", description="cross-view: cameras 2, 3 train"),
        SyntheticSkeletonConfig(
            name="pretrain",
            protocol="pretrain",
            num_replications=4,
            description="self-supervised pre-training: 54 other subjects x 4 replications x 3 cameras (14,904 "
            "clips), one train split",
        ),
    ]
    DEFAULT_CONFIG_NAME = "xsub"
    DEFAULT_WRITER_BATCH_SIZE = 100
    LAYOUT = "ntu25"
    COORDINATE_DIMS = 3

    def column_specs(self) -> dict[str, dict]:
        return {**super().column_specs(), "hands": dict(HANDS_FEATURE_SPEC)}

    @property
    def _rgb_options(self) -> dict | None:
        cfg = self.config
        return {"num_frames": cfg.rgb_frames, "patch_size": cfg.rgb_patch_size} if cfg.rgb else None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.config.validate()  # options given to the builder are set on a copy of the config, after its __init__

    def _info(self) -> datasets.DatasetInfo:
        features = skeleton_features(
            CLASS_NAMES,
            num_persons=NUM_PERSONS,
            num_joints=25,
            num_channels=3,
            metadata={k: datasets.Value("int32") for k in ("subject", "camera", "replication")},
            extra={
                "hands": hands_feature(NUM_PERSONS),
                "description": datasets.Value("string"),
                **rgb_feature(self._rgb_options),
            },
        )
        return self._skeleton_info(features, __doc__)

    def _split_generators(self, dl_manager):
        cfg = self.config
        if cfg.protocol == "pretrain":
            first = cfg.num_subjects + 1
            subjects = range(first, first + cfg.num_pretrain_subjects)
            recordings = [
                (label, subject, replication, camera, next_subject(subject, first, cfg.num_pretrain_subjects))
                for label in range(len(CLASS_NAMES))
                for subject in subjects
                for replication in range(1, cfg.num_replications + 1)
                for camera in CAMERAS
            ]
            return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"recordings": recordings})]
        train, test = [], []
        train_subjects = set(xsub_train_subjects(cfg.num_subjects))
        for label in range(len(CLASS_NAMES)):
            for subject in range(1, cfg.num_subjects + 1):
                for replication in range(1, cfg.num_replications + 1):
                    for camera in CAMERAS:
                        if cfg.protocol == "xsub":
                            in_train = subject in train_subjects
                        else:
                            in_train = camera in XVIEW_TRAIN_CAMERAS
                        partner = next_subject(subject, 1, cfg.num_subjects)
                        (train if in_train else test).append((label, subject, replication, camera, partner))
        return [
            datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"recordings": train}),
            datasets.SplitGenerator(name=datasets.Split.TEST, gen_kwargs={"recordings": test}),
        ]

    def _generate_examples(self, recordings):
        for label, subject, replication, camera, partner in recordings:
            example = generate_example(
                label,
                subject,
                replication,
                camera,
                self.config.num_subjects,
                self.config.seed,
                self._rgb_options,
                partner=partner,
            )
            yield example["sample_id"], example


def rgb_feature(options: dict | None) -> dict:
    """The ``rgb_rois`` column's feature for the builder's RGB options (none without RGB)."""
    if options is None:
        return {}
    side = options["patch_size"]
    shape = (len(MMNET_ROI_JOINTS) * side, options["num_frames"] * side, 3)
    return {RGB_ROIS_COLUMN: datasets.Array3D(shape=shape, dtype="uint8")}


def generate_example(
    label: int,
    subject: int,
    replication: int,
    camera: int,
    num_subjects: int,
    seed: int,
    rgb: dict | None = None,
    partner: int | None = None,
) -> dict:
    """One recording as a dataset row. Deterministic in its arguments, whatever order rows are generated in.
    ``description``: the recording's own text (`describe.describe_clip`). `rgb`: ``{"num_frames", "patch_size"}``
    adds the ``rgb_rois`` mosaic (`render.render_roi_mosaic`). `partner`: the second performer of two-person
    classes (default: the next of the `num_subjects` subjects)."""
    action = ACTION_CLASSES[label]
    if partner is None:
        partner = next_subject(subject, 1, num_subjects)
    bodies = [sample_body(np.random.default_rng([seed, 0, s])) for s in (subject, partner)]
    performance = perform(action, bodies, np.random.default_rng([seed, 1, label, subject, replication]))
    skeleton, hands = record(
        performance, camera, NUM_PERSONS, np.random.default_rng([seed, 2, label, subject, replication, camera])
    )
    extra = {}
    if rgb is not None:
        rng = np.random.default_rng([seed, 3, label, subject, replication, camera])
        extra[RGB_ROIS_COLUMN] = render_roi_mosaic(skeleton, hands, rng, **rgb)
    text_rng = np.random.default_rng([seed, 4, label, subject, replication, camera])
    return {
        "sample_id": f"S001C{camera:03d}P{subject:03d}R{replication:03d}A{label + 1:03d}",
        "skeleton": skeleton,
        "hands": hands,
        "description": describe_clip(action, performance.facts, camera, text_rng),
        "label": label,
        "num_frames": skeleton.shape[0],
        "num_persons": action.persons,
        "subject": subject,
        "camera": camera,
        "replication": replication,
        **extra,
    }


__all__ = [
    "ACTION_CLASSES",
    "ActionClass",
    "Body",
    "CAMERAS",
    "CLASS_DESCRIPTIONS",
    "CLASS_GROUPS",
    "CLASS_NAMES",
    "NUM_PERSONS",
    "Performance",
    "SyntheticSkeleton",
    "SyntheticSkeletonConfig",
    "XVIEW_TRAIN_CAMERAS",
    "describe_clip",
    "generate_example",
    "perform",
    "record",
    "sample_body",
    "xsub_train_subjects",
]
