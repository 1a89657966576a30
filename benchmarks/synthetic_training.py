"""How the synthetic-benchmark experiments train: the quickstart's recipe (`QUICKSTART_TRAINING`), one function for
every benchmark script that trains a model and keeps its checkpoint."""

from __future__ import annotations

import time
from pathlib import Path

import torch
from transformers import TrainingArguments

from skeleton_models.training import build_trainer
from skeleton_models.training.quickstart import QUICKSTART_TRAINING


def training_record(epochs: float, learning_rate: float, seed: int | None = None) -> dict:
    """The hyper-parameters of a run, as a zoo results file records them."""
    seed = {} if seed is None else {"seed": seed}
    return {
        "num_train_epochs": epochs,
        "learning_rate": learning_rate,
        "optim": "adamw_torch",
        **QUICKSTART_TRAINING,
        **seed,
    }


def train_and_save(
    model, processor, dataset, epochs: float, learning_rate: float, folder: Path, seed: int | None = None
):
    """Train on ``dataset["train"]`` with the recipe (its seed unless `seed` is given), save model and processor to
    `folder`; returns the Trainer (its evaluation split is ``dataset["test"]``) and the training time in seconds."""
    args = TrainingArguments(
        str(folder),
        num_train_epochs=epochs,
        learning_rate=learning_rate,
        per_device_eval_batch_size=64,
        save_strategy="no",
        logging_steps=50,
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=torch.cuda.is_available(),
        **{**QUICKSTART_TRAINING, **({} if seed is None else {"seed": seed})},
    )
    trainer = build_trainer(model, processor, dataset["train"], dataset["test"], args)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return trainer, seconds
