"""Skeleton action-recognition accuracy as an `evaluate` metric module.

Load it by path -- ``evaluate.load(skeleton_models.training.metrics.METRIC_PATH)`` -- which works offline.
Inputs: ``predictions`` (N, num_labels) class scores, ``references`` (N,) class indices.
Outputs: top1, top5, mean_class_accuracy and confusion_matrix (rows: true class, columns: predicted class).
"""

import datasets
import evaluate

from skeleton_models.training.metrics import classification_metrics

_DESCRIPTION = __doc__


class SkeletonAccuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description="predictions: (N, num_labels) class scores; references: (N,) class indices",
            features=datasets.Features(
                {"predictions": datasets.List(datasets.Value("float32")), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references, num_labels=None, top_k=(1, 5)):
        return classification_metrics(predictions, references, num_labels=num_labels, top_k=tuple(top_k))
