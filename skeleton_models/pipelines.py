"""A transformers `pipeline` task for skeleton clips and videos: ``pipeline("skeleton-action-recognition", model=...)``.

Importing `skeleton_models` registers the task. The pipeline reads a clip (a (T, M, V, C) array, or a raw file that
`read_clip` reads: ``.npy``, NTU ``.skeleton``, NW-UCLA / Kinetics ``.json``, PKU-MMD ``.txt``) or a video (a file
PyAV decodes, ``.mp4``, ``.avi``, ...: people's COCO-17 keypoints are extracted with transformers' pose models,
`PoseExtractor`), prepares it with the checkpoint's saved processor (`SkeletonProcessor`, loaded as its feature
extractor), runs the classifier and returns the top-k classes with their probabilities -- the same call for every
registered classifier. The array part is `SkeletonClipPipeline`, which also travels with remote code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from transformers.pipelines import PIPELINE_REGISTRY

from .clip_pipeline import SkeletonClipPipeline
from .data import PoseExtractor, annotation_to_clip, read_clip
from .data.video import VIDEO_SUFFIXES
from .registry import load_checkpoint

__all__ = ["TASK", "ClassifierCheckpoint", "SkeletonActionRecognitionPipeline", "read_skeleton_path"]

TASK = "skeleton-action-recognition"
VIDEO_LAYOUT = "coco17"  # what PoseExtractor gives (VitPose's COCO keypoints)
CLASSIFIER_TASK = "AutoModelForVideoClassification"  # the Auto class every classifier is registered under


class ClassifierCheckpoint:
    """The task's model class for transformers' ``pipeline()``: its ``from_pretrained`` is `load_checkpoint`, so the
    pipeline gets the checkpoint's classifier with every weight loaded, or a `CheckpointError` naming the folder and
    the missing / unexpected keys -- never a classifier with random weights (which
    ``AutoModelForVideoClassification.from_pretrained`` gives, with a logged warning, for a ``config.json`` that does
    not match the weights). A model instance given to ``pipeline(model=...)`` is used as it is."""

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        return load_checkpoint(pretrained_model_name_or_path, task=CLASSIFIER_TASK, **kwargs)


class SkeletonActionRecognitionPipeline(SkeletonClipPipeline):
    """Top-k action classes of skeleton clips, raw benchmark files or videos.

    Example::

        from transformers import pipeline
        import skeleton_models  # registers the task

        classify = pipeline("skeleton-action-recognition", model="path/or/hub-id")
        classify("S001C001P001R001A001.skeleton", top_k=3)
        # [{"label": "drink water", "score": 0.91}, ...]
        classify("my_video.mp4")  # a checkpoint trained on coco17 clips; pose models: PoseExtractor

    Inputs: one input or a list, each a (T, M, V, C) array (numpy or torch; the layout the checkpoint's processor
    expects), a path to a raw skeleton file, or a path to a video. Videos need a checkpoint whose processor reads
    ``coco17`` clips (2-D pose keypoints, e.g. trained on pyskl annotations) and a `PoseExtractor`: passed as
    ``pose_extractor=`` (to `pipeline(...)` or to the call), or the default one (`PoseExtractor.from_pretrained()`:
    RT-DETR + VitPose-B from the Hub), loaded at the first video. A model that also reads other inputs (e.g.
    BHaRNet-M's RGB crops) is refused with an error naming them.
    """

    def __init__(self, *args, pose_extractor: PoseExtractor | None = None, **kwargs):
        self.pose_extractor = pose_extractor
        super().__init__(*args, **kwargs)

    def _sanitize_parameters(self, top_k: int | None = None, pose_extractor: PoseExtractor | None = None, **kwargs):
        preprocess, forward, postprocess = super()._sanitize_parameters(top_k=top_k, **kwargs)
        if pose_extractor is not None:
            preprocess["pose_extractor"] = pose_extractor
        return preprocess, forward, postprocess

    def read_clip(self, inputs, pose_extractor: PoseExtractor | None = None) -> np.ndarray:
        if not isinstance(inputs, (str, os.PathLike)):
            if isinstance(inputs, (np.ndarray, torch.Tensor)):
                return super().read_clip(inputs)
            raise ValueError(
                f"{TASK} takes a (T, M, V, C) clip array or a path to a raw skeleton file or a video, got "
                f"{type(inputs).__name__}"
            )
        return read_skeleton_path(inputs, self.feature_extractor, lambda: pose_extractor or self._pose_extractor())

    def _pose_extractor(self) -> PoseExtractor:
        """The pipeline's extractor: the one given at construction, else the default one, loaded once."""
        if self.pose_extractor is None:
            self.pose_extractor = PoseExtractor.from_pretrained(device=self.device)
        return self.pose_extractor


def read_skeleton_path(
    path: str | os.PathLike, processor, load_pose_extractor: Callable[[], PoseExtractor]
) -> np.ndarray:
    """A raw skeleton file (`read_clip`) or a video -> the (T, M, V, C) clip for `processor`.

    A video's people are extracted by the `PoseExtractor` that ``load_pose_extractor()`` returns (called for videos
    only), which needs a processor of ``coco17`` clips; the clip has the processor's number of persons.
    """
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        return read_clip(path)  # SkeletonParseError names the file and what was expected
    if processor.layout != VIDEO_LAYOUT:
        raise ValueError(
            f"{path}: videos give {VIDEO_LAYOUT} skeletons (COCO keypoints), but this checkpoint reads "
            f"{processor.layout} clips; use a checkpoint trained on {VIDEO_LAYOUT} clips (e.g. pyskl annotations)"
        )
    return annotation_to_clip(load_pose_extractor()(path), processor.inputs[0]["num_persons"])


PIPELINE_REGISTRY.register_pipeline(
    TASK, pipeline_class=SkeletonActionRecognitionPipeline, pt_model=ClassifierCheckpoint, type="multimodal"
)
