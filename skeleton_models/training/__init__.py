"""Training: metrics, the supervised Trainer set-up, and (later) callbacks and evaluation protocols."""

from .metrics import METRIC_PATH, classification_metrics, load_metric, make_compute_metrics
from .supervised import SkeletonTrainer, build_trainer

__all__ = [
    "METRIC_PATH",
    "SkeletonTrainer",
    "build_trainer",
    "classification_metrics",
    "load_metric",
    "make_compute_metrics",
]
