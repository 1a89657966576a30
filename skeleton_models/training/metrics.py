"""Classification metrics: the numpy implementation, the `evaluate` module that wraps it, and `compute_metrics`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import evaluate
import numpy as np

METRIC_PATH = Path(__file__).parent / "skeleton_accuracy" / "skeleton_accuracy.py"


def classification_metrics(scores, references, num_labels: int | None = None, top_k: tuple[int, ...] = (1, 5)) -> dict:
    """Top-k accuracy, mean class accuracy and the confusion matrix of class scores.

    Args:
        scores: (N, num_labels) logits or probabilities.
        references: (N,) true class indices.
        num_labels: number of classes (default: the width of `scores`).
        top_k: the k of each top-k accuracy.

    Returns:
        ``{"top1": float, "top5": float, "mean_class_accuracy": float, "confusion_matrix": list[list[int]]}``;
        ``confusion_matrix[i][j]`` counts samples of class i predicted as j. Mean class accuracy averages the
        per-class recall over the classes present in `references`.
    """
    scores = np.asarray(scores, dtype=np.float64)
    references = np.asarray(references, dtype=np.int64).reshape(-1)
    if scores.ndim != 2 or len(scores) != len(references):
        raise ValueError(f"scores must be (N, num_labels) for N={len(references)} references, got {scores.shape}")
    num_labels = num_labels or scores.shape[1]
    if references.size and (references.min() < 0 or references.max() >= num_labels):
        raise ValueError(
            f"references must be class indices in [0, {num_labels}), got range [{references.min()}, {references.max()}]"
        )
    order = np.argsort(-scores, axis=1, kind="stable")
    results = {}
    for k in top_k:
        hit = (order[:, : min(k, scores.shape[1])] == references[:, None]).any(axis=1)
        results[f"top{k}"] = float(hit.mean()) if len(hit) else 0.0
    confusion = np.zeros((num_labels, num_labels), dtype=np.int64)
    np.add.at(confusion, (references, order[:, 0]), 1)
    support = confusion.sum(axis=1)
    present = support > 0
    recall = np.divide(np.diag(confusion), support, out=np.zeros(num_labels), where=present)
    results["mean_class_accuracy"] = float(recall[present].mean()) if present.any() else 0.0
    results["confusion_matrix"] = confusion.tolist()
    return results


@cache
def load_metric():
    """The `evaluate` module, loaded from the package by path (``evaluate.load("accuracy")`` needs the network)."""
    return evaluate.load(str(METRIC_PATH))


def make_compute_metrics(include_confusion_matrix: bool = False):
    """A ``compute_metrics`` for the Trainer: top-1, top-5 and mean class accuracy from the evaluate module.

    The Trainer hands over every non-loss output of the model; the class scores are the first of them.
    """

    def compute_metrics(eval_pred) -> dict:
        logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
        results = load_metric().compute(predictions=logits, references=eval_pred.label_ids)
        if not include_confusion_matrix:
            results.pop("confusion_matrix")
        return results

    return compute_metrics
