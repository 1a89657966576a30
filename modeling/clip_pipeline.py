# Generated from skeleton_models/clip_pipeline.py by utils/write_modeling.py; do not edit.
"""The classification pipeline over skeleton clip arrays, in a module that travels with remote code.

`SkeletonClipPipeline` prepares (T, M, V, C) clip arrays with a checkpoint's saved processor, runs the classifier
and returns the top-k classes. It imports nothing of the library, so it is part of every classifier's remote-code
bundle and saved checkpoints name it in ``custom_pipelines`` (task `REMOTE_TASK`): where skeleton-models is not
installed, ``pipeline(model="org/checkpoint", trust_remote_code=True)`` builds it from the checkpoint's files.
With the library, `skeleton_models.pipelines.SkeletonActionRecognitionPipeline` (task
``"skeleton-action-recognition"``) extends it to raw benchmark files and videos.
"""

from __future__ import annotations

import inspect
import os

import numpy as np
import torch
from transformers import Pipeline

__all__ = ["REMOTE_TASK", "SkeletonClipPipeline", "check_clip", "class_probabilities"]

# The task name in a checkpoint's ``custom_pipelines``. Not the library's task name: transformers gives a
# checkpoint's custom tasks precedence over registered ones and then demands trust_remote_code, which would make
# pipeline("skeleton-action-recognition", model=...) fail for users of the library.
REMOTE_TASK = "skeleton-clip-classification"


def check_clip(clip: np.ndarray, name: str) -> None:
    """Refuse a clip without a skeleton: every value zero (e.g. a video in which nobody was detected) would be
    classified as a constant input. `name` (a file, ``clip 2``) starts the message."""
    if clip.size and not np.any(clip):
        raise ValueError(f"{name}: all values are zero: no skeleton to classify")


def class_probabilities(logits: torch.Tensor, name: str) -> torch.Tensor:
    """The softmax of one clip's logits; a clip whose scores are not finite (NaN or infinite logits, e.g. an
    overflow inside the model) is an error naming it (`name`), not a ranking of NaNs. Logits of -inf (classes a
    model leaves out) are fine: their probability is 0."""
    probs = logits.float().softmax(-1)
    if not torch.isfinite(probs).all():
        raise ValueError(f"{name}: the model's scores are not finite (NaN or infinite logits); no classes to report")
    return probs


def _positive_top_k(top_k) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
    return int(top_k)


class _Numbered:
    """A clip of a list given to the pipeline with its position, which its error messages name (``clip 2``)."""

    def __init__(self, index: int, clip):
        self.index, self.clip = index, clip


class SkeletonClipPipeline(Pipeline):
    """Top-k action classes of skeleton clip arrays.

    Inputs: one clip or a list of clips, each a (T, M, V, C) array (numpy or torch) in the layout the checkpoint's
    processor expects. A model that also reads other inputs (e.g. BHaRNet-M's RGB crops) is refused with an error
    naming them. Output: per clip, ``[{"label": str, "score": float}, ...]`` best first (``top_k``, a positive
    integer, default 5). An empty list gives an empty list (as transformers' pipelines do for an empty generator).

    Errors name the clip: its file, its position in a list (``clip 2``) or ``the clip`` for a single array. A clip
    whose values are all zero (no skeleton) and a clip whose scores are not finite are errors, not rankings.
    """

    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = True
    _load_tokenizer = False

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, list):
            if not inputs:
                return []
            inputs = [_Numbered(i, clip) for i, clip in enumerate(inputs)]
        elif inspect.isgenerator(inputs):
            inputs = (_Numbered(i, clip) for i, clip in enumerate(inputs))
        return super().__call__(inputs, *args, **kwargs)

    def _sanitize_parameters(self, top_k: int | None = None, **kwargs):
        postprocess = {} if top_k is None else {"top_k": _positive_top_k(top_k)}
        return {}, {}, postprocess

    def read_clip(self, inputs) -> np.ndarray:
        """An input -> a (T, M, V, C) float32 array; subclasses read files here."""
        if isinstance(inputs, (np.ndarray, torch.Tensor)):
            return np.asarray(inputs.detach().cpu() if isinstance(inputs, torch.Tensor) else inputs, np.float32)
        raise ValueError(f"this pipeline takes (T, M, V, C) clip arrays, got {type(inputs).__name__}")

    @staticmethod
    def clip_name(inputs, index: int | None = None) -> str:
        """How errors name an input: a path as given, else ``clip <index>`` in a list, else ``the clip``."""
        if isinstance(inputs, (str, os.PathLike)):
            return os.fspath(inputs)
        return "the clip" if index is None else f"clip {index}"

    def preprocess(self, inputs, **kwargs):
        index = None
        if isinstance(inputs, _Numbered):
            index, inputs = inputs.index, inputs.clip
        name = self.clip_name(inputs, index)
        try:
            clip = self.read_clip(inputs, **kwargs)
        except ValueError as error:  # a file's reading errors name it already
            if name in str(error):
                raise
            raise ValueError(f"{name}: {error}") from None
        processor = self.feature_extractor
        extra = list(processor.model_input_names[1:])
        if extra:
            raise ValueError(f"this model also reads {extra}; the pipeline gives it skeletons only")
        try:
            model_inputs = processor(clip)
        except ValueError as error:  # the processor saw one clip: its "clip 0" is this one, named here
            raise ValueError(f"{name}: {str(error).replace(', clip 0:', ':', 1)}") from None
        check_clip(clip, name)  # a clip of the right shape, but without a skeleton
        model_inputs["clip_name"] = name
        return model_inputs

    def _forward(self, model_inputs):
        name = model_inputs.pop("clip_name")
        return {"logits": self.model(**model_inputs).logits, "clip_name": name}

    def postprocess(self, model_outputs, top_k: int = 5):
        probs = class_probabilities(model_outputs["logits"][0], model_outputs["clip_name"])
        top = probs.topk(min(top_k, probs.numel()))
        labels = self.model.config.id2label
        return [{"label": labels[i], "score": p} for p, i in zip(top.values.tolist(), top.indices.tolist())]
