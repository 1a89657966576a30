"""Zero-shot training and evaluation protocols: skeleton features cached as a dataset column, feature datasets for the
Trainer, TDSM's official optimiser (`TDSMTrainer`), zero-shot and generalised zero-shot accuracy, and the seen-class
calibration of generalised zero-shot."""

from __future__ import annotations

import datasets
import numpy as np
import torch

from ..data.model_inputs import ModelInputsDataset
from .supervised import SkeletonTrainer

__all__ = [
    "TDSMTrainer",
    "calibrate_seen_bias",
    "compute_features",
    "feature_inputs",
    "gzsl_accuracy",
    "zero_shot_accuracy",
]


class TDSMTrainer(SkeletonTrainer):
    """`SkeletonTrainer` with TDSM's official optimiser groups: weight decay on every trainable parameter.

    The official training (KAIST-VICLab/TDSM @ 7469361, train.py::Trainer.__init__) builds
    ``torch.optim.AdamW(self.dit.parameters(), lr=learning_rate, weight_decay=weight_decay)``: one group, biases and
    the text position embedding decayed too, where the `transformers.Trainer` exempts biases and norm weights. It
    never clips gradients (no ``clip_grad_norm_`` in ``Trainer.train``): pass ``max_grad_norm=0`` in the
    `TrainingArguments` (their default clips at 1.0); ``examples/train_zero_shot.py`` has the official values as
    its defaults. Frozen parameters (the skeleton encoder) are left out, as the official optimiser holds the
    denoiser only."""

    def get_decay_parameter_names(self, model) -> list[str]:
        return [name for name, _ in model.named_parameters()]


def _encoder_of(model):
    """The module whose ``pooler_output`` are the features: a skeleton backbone or classifier as given, or the
    frozen skeleton encoder inside a TDSM model."""
    inner = getattr(model, "tdsm", model)
    encoder = getattr(inner, "skeleton_encoder", None)
    if encoder is not None:
        return encoder
    if getattr(inner, "denoiser", None) is not None:
        raise ValueError("this TDSM model has no skeleton encoder: compute the features with the encoder itself")
    return model


@torch.no_grad()
def compute_features(model, dataset, processor, batch_size: int = 64, column: str = "features"):
    """`dataset` (a `datasets.Dataset` of skeleton rows) with a column of the pooled features of a frozen skeleton
    encoder (a Shift-GCN / ST-GCN backbone or classifier, or the encoder inside a TDSM model), computed once from
    the processor's evaluation path (the same clips the model would see): (C,) float32 per row, cacheable like
    any column (``save_to_disk``), and what `TDSMForZeroShotSkeletonClassification` takes as ``features``."""
    encoder = _encoder_of(model)
    was_training = encoder.training
    encoder.eval()
    rows = ModelInputsDataset(dataset, processor, training=False, label_column=None)
    device = next(encoder.parameters()).device
    out = []
    for start in range(0, len(rows), batch_size):
        batch = rows.__getitems__(list(range(start, min(start + batch_size, len(rows)))))
        skeletons = torch.stack([b["skeletons"] for b in batch]).to(device)
        out.append(encoder(skeletons=skeletons).pooler_output.float().cpu())
    encoder.train(was_training)
    features = torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)
    feature = datasets.List(datasets.Value("float32"), length=features.shape[1])
    if column in dataset.column_names:
        dataset = dataset.remove_columns(column)
    return dataset.add_column(column, list(features), feature=feature)


def feature_inputs(dataset, column: str = "features", label_column: str = "label"):
    """A dataset of cached features as model inputs for the Trainer: rows ``{"features": (C,), "labels": ()}``
    as torch tensors."""
    for name in (column, label_column):
        if name not in dataset.column_names:
            raise ValueError(f"the dataset has no {name!r} column; columns: {dataset.column_names}")
    out = dataset.select_columns([column, label_column])
    if column != "features":
        out = out.rename_column(column, "features")
    return out.rename_column(label_column, "labels").with_format("torch")


def zero_shot_accuracy(logits: np.ndarray, labels: np.ndarray, classes) -> float:
    """Top-1 accuracy (%) of the clips of the candidate `classes` (the unseen classes), each classified among
    those classes only (the zero-shot setting); clips of other classes are left out."""
    logits, labels = np.asarray(logits, np.float64), np.asarray(labels)
    classes = np.asarray(sorted(int(c) for c in classes))
    keep = np.isin(labels, classes)
    if not keep.any():
        raise ValueError("no clip of the candidate classes: zero-shot accuracy is undefined")
    predicted = classes[np.argmax(logits[keep][:, classes], axis=1)]
    return float(100.0 * np.mean(predicted == labels[keep]))


def gzsl_accuracy(logits: np.ndarray, labels: np.ndarray, seen_classes, calibration: float = 0.0) -> dict[str, float]:
    """Generalised zero-shot: every class a candidate. Top-1 accuracy (%, per clip) on the clips of seen classes
    and on the clips of unseen classes, and their harmonic mean; `calibration` is subtracted from the seen
    classes' scores first (calibrated stacking: a model trained on seen classes only favours them)."""
    logits, labels = np.array(logits, np.float64), np.asarray(labels)
    seen = np.zeros(logits.shape[1], bool)
    seen[list(seen_classes)] = True
    logits[:, seen] -= calibration
    correct = np.argmax(logits, axis=1) == labels
    is_seen = seen[labels]
    acc_seen = float(100.0 * correct[is_seen].mean()) if is_seen.any() else float("nan")
    acc_unseen = float(100.0 * correct[~is_seen].mean()) if (~is_seen).any() else float("nan")
    total = acc_seen + acc_unseen
    harmonic = 2 * acc_seen * acc_unseen / total if total > 0 else 0.0
    return {"seen": acc_seen, "unseen": acc_unseen, "harmonic": float(harmonic)}


def calibrate_seen_bias(
    logits: np.ndarray, labels: np.ndarray, seen_classes, grid: np.ndarray | None = None
) -> tuple[float, dict[str, float]]:
    """The calibration (subtracted from seen-class scores) that maximises the generalised zero-shot harmonic mean
    on validation clips -- of pseudo-seen and pseudo-unseen classes, never the unseen test classes -- and its
    accuracies. The default grid spans the validation scores' own range (differences between each clip's best
    seen and best unseen score), 201 values."""
    logits, labels = np.asarray(logits, np.float64), np.asarray(labels)
    if grid is None:
        seen = np.zeros(logits.shape[1], bool)
        seen[list(seen_classes)] = True
        finite = np.where(np.isfinite(logits), logits, -np.inf)
        gaps = finite[:, seen].max(1) - finite[:, ~seen].max(1)
        gaps = gaps[np.isfinite(gaps)]
        low, high = (float(gaps.min()), float(gaps.max())) if gaps.size else (0.0, 0.0)
        grid = np.unique(np.concatenate([[0.0], np.linspace(min(low, 0.0), max(high, 0.0), 201)]))
    best = max(
        ((float(g), gzsl_accuracy(logits, labels, seen_classes, g)) for g in grid), key=lambda x: x[1]["harmonic"]
    )
    return best
