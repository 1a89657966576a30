"""Training: metrics, the Trainer set-up and evaluation protocols (multi-stream ensembles)."""

from .ensemble import EnsembleResult, evaluate_ensemble
from .metrics import METRIC_PATH, classification_metrics, load_metric, make_compute_metrics
from .protocols import (
    feature_linear_probe,
    knn_accuracy,
    labelled_subset,
    layer_decay_parameter_groups,
    reestimate_batchnorm,
)
from .self_supervised import SLiMPreTrainingCollator, build_slim_pretraining_trainer
from .supervised import SkeletonTrainer, build_trainer, predict_logits, processor_for_model
from .zero_shot import (
    TDSMTrainer,
    calibrate_seen_bias,
    compute_features,
    feature_inputs,
    gzsl_accuracy,
    zero_shot_accuracy,
)

__all__ = [
    "EnsembleResult",
    "evaluate_ensemble",
    "METRIC_PATH",
    "SLiMPreTrainingCollator",
    "SkeletonTrainer",
    "TDSMTrainer",
    "build_slim_pretraining_trainer",
    "build_trainer",
    "predict_logits",
    "processor_for_model",
    "calibrate_seen_bias",
    "classification_metrics",
    "compute_features",
    "feature_inputs",
    "feature_linear_probe",
    "gzsl_accuracy",
    "knn_accuracy",
    "labelled_subset",
    "layer_decay_parameter_groups",
    "reestimate_batchnorm",
    "load_metric",
    "make_compute_metrics",
    "zero_shot_accuracy",
]
