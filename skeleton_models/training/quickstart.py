"""The quickstart recipe (``skeleton-models quickstart``): generate the synthetic benchmark, train a small model
(BHaRNet, body + hands, by default; any architecture with a quickstart preset, e.g. HGLNet) on the CPU, evaluate,
save a checkpoint."""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from transformers import TrainingArguments

from ..data import load_skeleton_dataset, synthetic
from ..registry import get_architecture
from .metrics import load_metric
from .supervised import build_trainer, predict_logits, processor_for_model

__all__ = ["QUICKSTART_DEFAULT_MODEL", "QUICKSTART_PRESETS", "print_quickstart_report", "run_quickstart"]

# The preset each architecture trains in the quickstart: small enough for 2 CPU cores in minutes.
QUICKSTART_PRESETS = {"hglnet": "hglnet-small", "bharnet": "bharnet-small"}
QUICKSTART_DEFAULT_MODEL = "bharnet"  # body + hands: the model that sees all 23 classes of the benchmark
# The quickstart's training recipe besides epochs and learning rate (AdamW, the Trainer's default optimiser); the
# synthetic-benchmark experiments (benchmarks/) train with it too.
QUICKSTART_TRAINING = dict(
    per_device_train_batch_size=16,
    weight_decay=0.01,
    warmup_steps=0.1,
    lr_scheduler_type="cosine",
    seed=0,
)

_print = partial(print, flush=True)


def run_quickstart(
    output_dir: str = "quickstart-output",
    config: str = "xsub",
    model: str = QUICKSTART_DEFAULT_MODEL,
    preset: str | None = None,
    epochs: float = 12,
    window_size: int = 32,
    batch_size: int = 16,
    learning_rate: float = 2e-3,
    num_subjects: int = 10,
    seed: int = 0,
    cache_dir: str | None = None,
    log=_print,
) -> dict:
    """Run the recipe for `model` (a registered ``model_type`` with a quickstart preset; `preset` overrides it);
    returns the results written to ``<output_dir>/results.json`` (top-1 on all classes, on the
    body and interaction classes and on the hand gestures, the gestures' confusion, the wall time)."""
    start = time.perf_counter()
    out_dir = Path(output_dir)
    log(f"[1/4] Generating the synthetic benchmark ({config}) ...")
    dataset = load_skeleton_dataset(
        "synthetic", config=config, cache_dir=cache_dir, num_subjects=num_subjects, seed=seed
    )
    names = dataset["train"].features["label"].names
    log(f"      {len(dataset['train'])} training and {len(dataset['test'])} test clips, {len(names)} classes")

    arch = get_architecture(model)
    if preset is None:
        if model not in QUICKSTART_PRESETS:
            raise ValueError(f"{model} has no quickstart preset; pass preset= (one of {sorted(arch.presets)})")
        preset = QUICKSTART_PRESETS[model]
    model_config = arch.config_class.from_preset(
        preset,
        num_persons=synthetic.NUM_PERSONS,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
    )
    processor = processor_for_model(model_config, dataset, window_size=window_size)  # body (+ hands for BHaRNet)
    torch.manual_seed(seed)
    model = arch.classification_class(model_config)
    params = sum(p.numel() for p in model.parameters())
    device = "the GPU" if torch.cuda.is_available() else "the CPU"
    log(
        f"[2/4] Training {arch.title} ({preset}, {params / 1e6:.2f} M parameters, window {window_size}) "
        f"for {epochs:g} epochs on {device} ..."
    )
    training_args = TrainingArguments(
        output_dir=str(out_dir),
        num_train_epochs=epochs,
        per_device_eval_batch_size=64,
        learning_rate=learning_rate,
        eval_strategy="no",
        save_strategy="no",
        logging_steps=50,
        report_to="none",
        **{**QUICKSTART_TRAINING, "per_device_train_batch_size": batch_size, "seed": seed},
        dataloader_pin_memory=torch.cuda.is_available(),
        # On a 2-core CPU a loader process would take a core from the step (benchmarks/run_data_benchmarks.py)
        dataloader_num_workers=2 if torch.cuda.is_available() else 0,
    )
    trainer = build_trainer(model, processor, dataset["train"], dataset["test"], training_args)
    trainer.train()

    log("[3/4] Evaluating on the test split ...")
    scores, labels = predict_logits(trainer)
    metrics = load_metric().compute(predictions=scores, references=labels)
    confusion = np.asarray(metrics["confusion_matrix"])
    body = synthetic.CLASS_GROUPS["body"] + synthetic.CLASS_GROUPS["interaction"]
    hands = synthetic.CLASS_GROUPS["hand_gesture"]

    def group_top1(rows):
        return float(np.diag(confusion)[rows].sum() / max(confusion[rows].sum(), 1))

    log(f"[4/4] Saving the checkpoint (model + processor) to {out_dir} ...")
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    results = {
        "top1": metrics["top1"],
        "top5": metrics["top5"],
        "mean_class_accuracy": metrics["mean_class_accuracy"],
        "top1_body_classes": group_top1(body),
        "top1_hand_gesture_classes": group_top1(hands),
        "hand_gesture_confusion": confusion[np.ix_(hands, hands)].tolist(),
        "confusion_matrix": confusion.tolist(),
        "class_names": list(names),
        "hand_gesture_classes": [names[i] for i in hands],
        "num_classes": len(names),
        "num_body_classes": len(body),
        "protocol": config,
        "model": arch.model_type,
        "model_input_names": list(processor.model_input_names),
        "preset": preset,
        "wall_time_s": time.perf_counter() - start,
        # a run repeats bit for bit on the same machine, library versions and thread count; another thread count
        # changes the summation order of the kernels and so the trained weights (README, "Reproducibility")
        "torch_threads": torch.get_num_threads(),
        "seed": seed,
    }
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    return results


def print_quickstart_report(results: dict, output_dir: str, log=_print) -> None:
    """The human-readable summary of `run_quickstart`'s results."""
    gestures = results["hand_gesture_classes"]
    inputs = results.get("model_input_names", ["skeletons"])
    sees_hands = "hands" in inputs
    log(f"\nResults on the synthetic {results['protocol']} test split")
    rows = [
        (f"top-1, all {results['num_classes']} classes", results["top1"], ""),
        (f"top-1, {results['num_body_classes']} body and interaction classes", results["top1_body_classes"], ""),
        (
            f"top-1, {len(gestures)} hand-gesture classes",
            results["top1_hand_gesture_classes"],
            f"  (chance among them: {100 / len(gestures):.0f} %"
            + ("; the hand stream sees the fingers)" if sees_hands else "; a body-only model cannot see the fingers)"),
        ),
    ]
    label_width = max(len(label) for label, _, _ in rows)
    for label, value, note in rows:
        log(f"  {label + ':':<{label_width + 1}} {100 * value:5.1f} %{note}")
    width = max(len(name) for name in gestures)
    log("  hand-gesture confusion (rows: true, columns: predicted among the gestures):")
    for name, row in zip(gestures, results["hand_gesture_confusion"]):
        log(f"    {name:>{width}}  " + " ".join(f"{count:3d}" for count in row))
    log(f"  wall time: {results['wall_time_s']:.0f} s; checkpoint: {output_dir}")
    extra = "".join(f" --input {name}={name.upper()}.npy" for name in inputs[1:])
    log(f"  try: skeleton-models predict --model {output_dir} CLIP.npy{extra}")
