"""Supervised training of any registered skeleton classifier with the plain `transformers.Trainer`."""

from __future__ import annotations

from transformers import PreTrainedModel, Trainer, TrainingArguments, default_data_collator

from ..data.collator import SkeletonClassificationDataset
from ..processing_skeleton import SkeletonProcessor
from .metrics import make_compute_metrics


def build_trainer(
    model: PreTrainedModel,
    processor: SkeletonProcessor,
    train_dataset,
    eval_dataset,
    args: TrainingArguments,
    **trainer_kwargs,
) -> Trainer:
    """A `Trainer` over `datasets` splits: training rows get the processor's random crop and rotation, evaluation
    rows its centred crop; metrics are top-1, top-5 and mean class accuracy. ``trainer.save_model`` also saves the
    processor (``preprocessor_config.json``) next to the weights."""
    return Trainer(
        model=model,
        args=args,
        train_dataset=SkeletonClassificationDataset(train_dataset, processor, training=True) if train_dataset else None,
        eval_dataset=SkeletonClassificationDataset(eval_dataset, processor, training=False) if eval_dataset else None,
        data_collator=default_data_collator,
        processing_class=processor,
        compute_metrics=make_compute_metrics(),
        **trainer_kwargs,
    )
