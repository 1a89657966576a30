"""Multi-stream ensembles: one model per stream, class probabilities fused with weights (late fusion).

HocSLM reports a 6-stream ensemble (section 4.2, Fig. 5, Table 7): joint, bone, second-order bone and their motion
streams, each a model trained with the same script (``examples/train_supervised.py --stream ...``). Every
checkpoint is run with its own saved processor, so each sees its own stream, window and persons.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import numpy as np
import torch
from transformers import AutoConfig, TrainingArguments

from ..processing_skeleton import SkeletonProcessor
from ..registry import load_checkpoint
from .metrics import classification_metrics
from .supervised import build_trainer


@dataclass
class EnsembleResult:
    """Per-stream and fused metrics of an ensemble.

    Attributes:
        streams: checkpoint name -> its metrics (top1, top5, mean_class_accuracy).
        fused: the metrics of the weighted sum of the streams' class probabilities.
        weights: the fusion weights, in checkpoint order.
        probabilities: (N, num_labels) fused probabilities (normalised by the sum of the weights).
        labels: (N,) true classes.
    """

    streams: dict[str, dict]
    fused: dict
    weights: list[float]
    probabilities: np.ndarray
    labels: np.ndarray


def stream_probabilities(checkpoint: str | os.PathLike, dataset, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (N, num_labels) of one checkpoint on a dataset split, and the labels (N,)."""
    model = load_checkpoint(checkpoint, dtype=torch.float32)
    processor = SkeletonProcessor.from_pretrained(checkpoint)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            tmp,
            per_device_eval_batch_size=batch_size,
            report_to="none",
            dataloader_pin_memory=torch.cuda.is_available(),
        )
        trainer = build_trainer(model, processor, None, dataset, args)
        prediction = trainer.predict(trainer.eval_dataset)
    logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    return torch.from_numpy(np.asarray(logits)).float().softmax(-1).numpy(), np.asarray(prediction.label_ids)


def evaluate_ensemble(
    checkpoints: list[str | os.PathLike],
    dataset,
    weights: list[float] | None = None,
    names: list[str] | None = None,
    batch_size: int = 64,
) -> EnsembleResult:
    """Run every checkpoint on `dataset` (a split) and fuse their softmax scores: ``sum_i w_i p_i``.

    Args:
        checkpoints: checkpoint folders (or Hub repos) of classifiers over the same classes.
        weights: one weight per checkpoint (default: equal weights; HocSLM does not give its own).
        names: a name per checkpoint for the report (default: its processor's stream).
    """
    weights = list(weights) if weights is not None else [1.0] * len(checkpoints)
    if len(weights) != len(checkpoints) or not checkpoints:
        raise ValueError(f"give one weight per checkpoint: {len(checkpoints)} checkpoints, {len(weights)} weights")
    label_maps = [AutoConfig.from_pretrained(c).id2label for c in checkpoints]
    if any(m != label_maps[0] for m in label_maps):
        raise ValueError("the checkpoints do not share the same classes (id2label) and cannot be fused")
    names = names or [SkeletonProcessor.from_pretrained(c).stream for c in checkpoints]
    if len(set(names)) < len(names):
        names = [f"{n} ({i})" for i, n in enumerate(names)]
    streams, fused, labels = {}, None, None
    for name, checkpoint, weight in zip(names, checkpoints, weights):
        probabilities, labels = stream_probabilities(checkpoint, dataset, batch_size)
        streams[name] = {
            k: v for k, v in classification_metrics(probabilities, labels).items() if k != "confusion_matrix"
        }
        fused = weight * probabilities if fused is None else fused + weight * probabilities
    fused = fused / sum(weights)
    metrics = {k: v for k, v in classification_metrics(fused, labels).items() if k != "confusion_matrix"}
    return EnsembleResult(streams=streams, fused=metrics, weights=weights, probabilities=fused, labels=labels)
