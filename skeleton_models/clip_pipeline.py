"""The classification pipeline over skeleton clip arrays, in a module that travels with remote code.

`SkeletonClipPipeline` prepares (T, M, V, C) clip arrays with a checkpoint's saved processor, runs the classifier
and returns the top-k classes. It imports nothing of the library, so it is part of every classifier's remote-code
bundle and saved checkpoints name it in ``custom_pipelines`` (task `REMOTE_TASK`): where skeleton-models is not
installed, ``pipeline(model="org/checkpoint", trust_remote_code=True)`` builds it from the checkpoint's files.
With the library, `skeleton_models.pipelines.SkeletonActionRecognitionPipeline` (task
``"skeleton-action-recognition"``) extends it to raw benchmark files and videos.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers import Pipeline

__all__ = ["REMOTE_TASK", "SkeletonClipPipeline"]

# The task name in a checkpoint's ``custom_pipelines``. Not the library's task name: transformers gives a
# checkpoint's custom tasks precedence over registered ones and then demands trust_remote_code, which would make
# pipeline("skeleton-action-recognition", model=...) fail for users of the library.
REMOTE_TASK = "skeleton-clip-classification"


class SkeletonClipPipeline(Pipeline):
    """Top-k action classes of skeleton clip arrays.

    Inputs: one clip or a list of clips, each a (T, M, V, C) array (numpy or torch) in the layout the checkpoint's
    processor expects. A model that also reads other inputs (e.g. BHaRNet-M's RGB crops) is refused with an error
    naming them. Output: per clip, ``[{"label": str, "score": float}, ...]`` best first (``top_k``, default 5).
    """

    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = True
    _load_tokenizer = False

    def _sanitize_parameters(self, top_k: int | None = None, **kwargs):
        postprocess = {} if top_k is None else {"top_k": top_k}
        return {}, {}, postprocess

    def read_clip(self, inputs) -> np.ndarray:
        """An input -> a (T, M, V, C) float32 array; subclasses read files here."""
        if isinstance(inputs, (np.ndarray, torch.Tensor)):
            return np.asarray(inputs.detach().cpu() if isinstance(inputs, torch.Tensor) else inputs, np.float32)
        raise ValueError(f"this pipeline takes (T, M, V, C) clip arrays, got {type(inputs).__name__}")

    def preprocess(self, inputs, **kwargs):
        clip = self.read_clip(inputs, **kwargs)
        processor = self.feature_extractor
        extra = list(processor.model_input_names[1:])
        if extra:
            raise ValueError(f"this model also reads {extra}; the pipeline gives it skeletons only")
        return processor(clip)

    def _forward(self, model_inputs):
        return self.model(**model_inputs)

    def postprocess(self, model_outputs, top_k: int = 5):
        probs = model_outputs.logits[0].float().softmax(-1)
        top = probs.topk(min(top_k, probs.numel()))
        labels = self.model.config.id2label
        return [{"label": labels[i], "score": p} for p, i in zip(top.values.tolist(), top.indices.tolist())]
