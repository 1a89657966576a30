"""Supervised training of any registered skeleton classifier with the plain `transformers.Trainer`."""

from __future__ import annotations

import inspect

import numpy as np
import torch
from transformers import PreTrainedModel, Trainer, TrainingArguments, default_data_collator

from ..data.model_inputs import ModelInputsDataset
from ..processing_skeleton import SkeletonProcessor
from ..rgb import RGB_ROIS_COLUMN
from .metrics import make_compute_metrics


def predict_logits(trainer: Trainer) -> tuple[np.ndarray, np.ndarray]:
    """A Trainer's class scores (the model's first output, (N, num_labels) float32) on its evaluation dataset, and
    the labels (N,)."""
    prediction = trainer.predict(trainer.eval_dataset)
    logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    return np.asarray(logits, dtype=np.float32), np.asarray(prediction.label_ids)


class SkeletonTrainer(Trainer):
    """The `transformers.Trainer`, plus the running mean of every loss term a model returns (its ``loss_*``
    outputs, e.g. HocSLM's ``loss_cls`` and ``loss_gen``) in the training logs; when resuming from a checkpoint,
    the state a model keeps outside its weights file (``load_checkpoint_state``); and, under DDP, process 0's
    batch-norm statistics on every process before evaluating (the model that process 0 saves)."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        if model.training and isinstance(outputs, dict):
            terms = getattr(self, "_loss_terms", {})
            for key, value in outputs.items():
                if key.startswith("loss_") and isinstance(value, torch.Tensor):
                    total, count = terms.get(key, (0.0, 0))
                    terms[key] = (total + value.detach().float(), count + 1)
            self._loss_terms = terms
        return (loss, outputs) if return_outputs else loss

    def evaluate(self, *args, **kwargs):
        self._share_buffers()
        return super().evaluate(*args, **kwargs)

    def predict(self, *args, **kwargs):
        self._share_buffers()
        return super().predict(*args, **kwargs)

    def _share_buffers(self) -> None:
        # Under DDP every process updates its own batch-norm statistics from its own batches (DDP copies process 0's
        # at each training forward, then each process's last step moves its own), so without this, processes would
        # evaluate slightly different models -- none of them necessarily the one process 0 saves.
        if self.args.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
            for buffer in self.model.buffers():
                torch.distributed.broadcast(buffer.data, src=0)

    def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
        # Resuming: the weights file, then what the model keeps elsewhere in the folder (see
        # `SkeletonPreTrainedModel.load_checkpoint_state`).
        super()._load_from_checkpoint(resume_from_checkpoint, model)
        restore = getattr(model if model is not None else self.model, "load_checkpoint_state", None)
        if restore is not None:
            restore(resume_from_checkpoint)

    def log(self, logs: dict, *args, **kwargs) -> None:
        terms = getattr(self, "_loss_terms", {})
        if "loss" in logs and terms:
            logs.update({key: round(float(total) / count, 4) for key, (total, count) in terms.items()})
            self._loss_terms = {}
        super().log(logs, *args, **kwargs)


def processor_for_model(config, dataset, **options) -> SkeletonProcessor:
    """A `SkeletonProcessor` for a model configuration and a dataset built by the library: one input per skeleton
    input of the model (``config.input_specs``), read from the column of the same name (``skeletons`` from
    ``skeleton``), whose layout and channels the column says, with the persons the model expects, and one image
    input per image input of the model (BHaRNet-M's ``pixel_values``, from the ``rgb_rois`` column); `options`
    (``window_size``, ``stream``, ...) apply to every input."""
    stream = options.pop("stream", None)
    inputs, image_inputs = [], []
    for spec in config.input_specs:
        if spec.kind == "image":
            image_inputs.append({"name": spec.name, "column": RGB_ROIS_COLUMN})
        if spec.kind != "skeleton":
            continue
        item = {"name": spec.name, "column": "skeleton" if spec.name == "skeletons" else spec.name}
        if spec.persons is not None:
            item["num_persons"] = spec.persons
        if stream is not None:
            item["stream"] = stream
        inputs.append(item)
    if image_inputs:
        options["image_inputs"] = image_inputs
    return SkeletonProcessor.for_dataset(dataset, inputs=inputs, **options)


def build_trainer(
    model: PreTrainedModel,
    processor,
    train_dataset,
    eval_dataset,
    args: TrainingArguments,
    **trainer_kwargs,
) -> Trainer:
    """A `SkeletonTrainer` over `datasets` splits, for any architecture.

    Rows become model inputs through `ModelInputsDataset` and the `processor` (a `SkeletonProcessor`, or a
    `SkeletonTextProcessor` when the model also reads text): training rows get its random crop and rotation (drawn
    from ``args.seed``, the epoch and the rows, so that a resumed run continues exactly), evaluation rows its
    centred crop. Metrics are top-1, top-5 and mean class accuracy. A model whose forward takes no ``labels`` (a
    self-supervised pre-training model, e.g. `GFPForPreTraining`) gets no label column and no metrics: its loss is
    the evaluation. ``trainer.save_model`` also saves the processor next to the weights. Further keyword arguments
    go to the Trainer (e.g. a ``data_collator`` instead of the default stacking).
    """
    supervised = "labels" in inspect.signature(model.forward).parameters
    label_column = "label" if supervised else None

    def wrap(split, training):
        if split is None:
            return None
        return ModelInputsDataset(split, processor, training=training, label_column=label_column, seed=args.seed)

    return SkeletonTrainer(
        model=model,
        args=args,
        train_dataset=wrap(train_dataset, training=True),
        eval_dataset=wrap(eval_dataset, training=False),
        processing_class=processor,
        compute_metrics=make_compute_metrics() if supervised else None,
        **{"data_collator": default_data_collator, **trainer_kwargs},
    )
