"""A transformers `pipeline` task for skeleton clips: ``pipeline("skeleton-action-recognition", model=checkpoint)``.

Importing `skeleton_models` registers the task. The pipeline reads a clip (a (T, M, V, C) array, or a raw file that
`read_clip` reads: ``.npy``, NTU ``.skeleton``, NW-UCLA / Kinetics ``.json``, PKU-MMD ``.txt``), prepares it with the
checkpoint's saved processor (`SkeletonProcessor`, loaded as its feature extractor), runs the classifier and returns
the top-k classes with their probabilities -- the same call for every registered classifier.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForVideoClassification, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY

from .data import read_clip

__all__ = ["TASK", "SkeletonActionRecognitionPipeline"]

TASK = "skeleton-action-recognition"


class SkeletonActionRecognitionPipeline(Pipeline):
    """Top-k action classes of skeleton clips.

    Example::

        from transformers import pipeline
        import skeleton_models  # registers the task

        classify = pipeline("skeleton-action-recognition", model="path/or/hub-id")
        classify("S001C001P001R001A001.skeleton", top_k=3)
        # [{"label": "drink water", "score": 0.91}, ...]

    Inputs: one clip or a list of clips, each a (T, M, V, C) array (numpy or torch; the layout the checkpoint's
    processor expects) or a path to a raw file. A model that also reads other inputs (e.g. BHaRNet-M's RGB crops) is
    refused with an error naming them.
    """

    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = True
    _load_tokenizer = False

    def _sanitize_parameters(self, top_k: int | None = None, **kwargs):
        postprocess = {} if top_k is None else {"top_k": top_k}
        return {}, {}, postprocess

    def preprocess(self, inputs):
        if isinstance(inputs, (str, os.PathLike)):
            clip = read_clip(Path(inputs))  # SkeletonParseError names the file and what was expected
        elif isinstance(inputs, (np.ndarray, torch.Tensor)):
            clip = np.asarray(inputs.detach().cpu() if isinstance(inputs, torch.Tensor) else inputs, np.float32)
        else:
            raise ValueError(
                f"{TASK} takes a (T, M, V, C) clip array or a path to a raw skeleton file, got {type(inputs).__name__}"
            )
        processor = self.feature_extractor
        extra = list(processor.model_input_names[1:])
        if extra:
            raise ValueError(f"this model also reads {extra}; the {TASK} pipeline gives it skeletons only")
        return processor(clip)

    def _forward(self, model_inputs):
        return self.model(**model_inputs)

    def postprocess(self, model_outputs, top_k: int = 5):
        logits = model_outputs.logits[0].float()
        probs = logits.softmax(-1)
        top = probs.topk(min(top_k, probs.numel()))
        labels = self.model.config.id2label
        return [{"label": labels[i], "score": p} for p, i in zip(top.values.tolist(), top.indices.tolist())]


PIPELINE_REGISTRY.register_pipeline(
    TASK, pipeline_class=SkeletonActionRecognitionPipeline, pt_model=AutoModelForVideoClassification, type="multimodal"
)
