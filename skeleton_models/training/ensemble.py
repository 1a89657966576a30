"""Multi-stream ensembles: one model per stream, their scores fused with weights (late fusion).

HocSLM reports a 6-stream ensemble (section 4.2, Fig. 5, Table 7): joint, bone, second-order bone and their motion
streams, each a HocSLM model trained with the same script (``examples/train_hocslm.py --stream ...``, or
``examples/train_supervised.py --stream ...`` for plain HGLNets). Every checkpoint is run with its own saved
processor, so each sees its own stream, window and persons.

Two fusions: ``"probabilities"`` (the weighted mean of the streams' softmax scores, the default) and ``"logits"``
(the weighted sum of their raw class scores, as CTR-GCN's ``ensemble.py`` adds the saved test scores with
``alpha = [0.6, 0.6, 0.4, 0.4]`` for joint, bone, joint motion, bone motion: `CTRGCN_WEIGHTS`). HocSLM says it
follows CTR-GCN but gives neither its fusion nor its weights; CTR-GCN-lineage numbers (HocSLM's Table 7 among them,
Reading) are logit sums.
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
from .supervised import build_trainer, predict_logits

FUSIONS = ("probabilities", "logits")
# CTR-GCN ensemble.py: the 4-stream weights of joint, bone, joint motion and bone motion.
CTRGCN_WEIGHTS = (0.6, 0.6, 0.4, 0.4)


@dataclass
class EnsembleResult:
    """Per-stream and fused metrics of an ensemble.

    Attributes:
        streams: checkpoint name -> its metrics (top1, top5, mean_class_accuracy).
        fused: the metrics of the fused scores.
        weights: the fusion weights, in checkpoint order.
        fusion: ``"probabilities"`` or ``"logits"`` (see the module docstring).
        probabilities: (N, num_labels) the fused scores as probabilities: the weighted mean of the streams'
            probabilities, or the softmax of the weighted sum of their logits.
        labels: (N,) true classes.
    """

    streams: dict[str, dict]
    fused: dict
    weights: list[float]
    fusion: str
    probabilities: np.ndarray
    labels: np.ndarray


def stream_logits(checkpoint: str | os.PathLike, dataset, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Class scores (logits, (N, num_labels) float32) of one checkpoint on a dataset split, and the labels (N,)."""
    model = load_checkpoint(checkpoint, dtype=torch.float32)
    processor = SkeletonProcessor.from_pretrained(checkpoint)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            tmp,
            per_device_eval_batch_size=batch_size,
            report_to="none",
            dataloader_pin_memory=torch.cuda.is_available(),
        )
        return predict_logits(build_trainer(model, processor, None, dataset, args))


def stream_probabilities(checkpoint: str | os.PathLike, dataset, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (N, num_labels) of one checkpoint on a dataset split, and the labels (N,)."""
    logits, labels = stream_logits(checkpoint, dataset, batch_size)
    return softmax(logits), labels


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities of (N, num_labels) logits."""
    return torch.from_numpy(logits).float().softmax(-1).numpy()


def fuse_scores(logits: list[np.ndarray], weights: list[float], fusion: str = "probabilities") -> np.ndarray:
    """(N, num_labels) fused probabilities of several streams' (N, num_labels) logits: the weighted mean of their
    softmax scores (``"probabilities"``) or the softmax of the weighted sum of the logits (``"logits"``)."""
    if fusion not in FUSIONS:
        raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
    if fusion == "logits":
        return softmax(sum(w * z for w, z in zip(weights, logits)))
    return sum(w * softmax(z) for w, z in zip(weights, logits)) / sum(weights)


def evaluate_ensemble(
    checkpoints: list[str | os.PathLike],
    dataset,
    weights: list[float] | None = None,
    names: list[str] | None = None,
    batch_size: int = 64,
    fusion: str = "probabilities",
) -> EnsembleResult:
    """Run every checkpoint on `dataset` (a split) and fuse their scores: ``sum_i w_i p_i / sum_i w_i`` of the
    softmax probabilities (``fusion="probabilities"``) or ``sum_i w_i z_i`` of the logits (``"logits"``,
    CTR-GCN's ensemble; e.g. ``weights=CTRGCN_WEIGHTS`` for joint, bone, joint motion, bone motion).

    Args:
        checkpoints: checkpoint folders (or Hub repos) of classifiers over the same classes.
        weights: one weight per checkpoint (default: equal weights; HocSLM does not give its own).
        names: a name per checkpoint for the report (default: its processor's stream).
        fusion: ``"probabilities"`` or ``"logits"``.
    """
    weights = list(weights) if weights is not None else [1.0] * len(checkpoints)
    if len(weights) != len(checkpoints) or not checkpoints:
        raise ValueError(f"give one weight per checkpoint: {len(checkpoints)} checkpoints, {len(weights)} weights")
    if fusion not in FUSIONS:
        raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
    label_maps = [AutoConfig.from_pretrained(c).id2label for c in checkpoints]
    if any(m != label_maps[0] for m in label_maps):
        raise ValueError("the checkpoints do not share the same classes (id2label) and cannot be fused")
    names = names or [SkeletonProcessor.from_pretrained(c).stream for c in checkpoints]
    if len(set(names)) < len(names):
        names = [f"{n} ({i})" for i, n in enumerate(names)]
    streams, all_logits, labels = {}, [], None
    for name, checkpoint in zip(names, checkpoints):
        logits, labels = stream_logits(checkpoint, dataset, batch_size)
        streams[name] = {
            k: v for k, v in classification_metrics(softmax(logits), labels).items() if k != "confusion_matrix"
        }
        all_logits.append(logits)
    fused = fuse_scores(all_logits, weights, fusion)
    metrics = {k: v for k, v in classification_metrics(fused, labels).items() if k != "confusion_matrix"}
    return EnsembleResult(
        streams=streams, fused=metrics, weights=weights, fusion=fusion, probabilities=fused, labels=labels
    )
