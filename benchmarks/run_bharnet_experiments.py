"""BHaRNet on the synthetic benchmark (xsub): body expert, hand expert, their score fusion, and the jointly
fine-tuned variants, top-1 on all 23 classes, on the 18 body and interaction classes and on the 5 hand gestures
(which share one body motion: a body-only model is at chance on them).

Protocol (section IV-A): the two experts are trained separately (the quickstart recipe: 12 epochs, AdamW 2e-3,
cosine, batch 16, window 32, the `bharnet-small` widths); "score fusion" averages their softmax scores (Table III
"w/o L_c"); each joint variant is initialised from the two experts (`load_experts`) and fine-tuned for 4 epochs
with the complementary loss (AdamW 5e-4). BHaRNet-E's expert-only path is the same checkpoint run with
``expert_only=True``. One seed; the test split has 690 clips (one clip = 0.14 points).

    python benchmarks/run_bharnet_experiments.py [--backbone stgcn] [--write-readme]   # ~18 minutes on 2 CPU cores

``--backbone stgcn`` runs the same protocol on ST-GCN backbones (Table IV's other column) into its own README block.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from transformers import TrainingArguments

from skeleton_models import BHaRNetConfig, BHaRNetForSkeletonClassification
from skeleton_models.data import load_skeleton_dataset, synthetic
from skeleton_models.training import build_trainer, evaluate_ensemble, processor_for_model

from readme_table import ROOT, device_name, save_results

WIDTHS = ("hidden_sizes", "strides", "num_scales", "attention_heads")
SMALL = {k: v for k, v in BHaRNetConfig.presets["bharnet-small"].items() if k in WIDTHS}
GROUPS = {
    "body": synthetic.CLASS_GROUPS["body"] + synthetic.CLASS_GROUPS["interaction"],
    "hands": synthetic.CLASS_GROUPS["hand_gesture"],
}
JOINT = {  # run name -> preset (fine-tuned from the experts)
    "joint training with L_cpl (no interaction)": "joint-cpl",
    "BHaRNet-P (F.A. + PAM)": "bharnet-p",
    "BHaRNet-E (F.A. + expertized branches)": "bharnet-e",
}


def scores(logits: np.ndarray, labels: np.ndarray) -> dict:
    predicted = logits.argmax(1)
    out = {"top1": float((predicted == labels).mean())}
    for group, classes in GROUPS.items():
        rows = np.isin(labels, classes)
        out[f"top1_{group}"] = float((predicted[rows] == labels[rows]).mean())
    return out


def build(preset, names, backbone="degcn", **overrides):
    config = BHaRNetConfig.from_preset(
        preset,
        **SMALL,
        backbone=backbone,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
        **overrides,
    )
    torch.manual_seed(0)
    return BHaRNetForSkeletonClassification(config)


def run(model, dataset, epochs, learning_rate, folder: Path, expert_only_too=False) -> dict:
    processor = processor_for_model(model.config, dataset, window_size=32)
    args = TrainingArguments(
        str(folder),
        num_train_epochs=epochs,
        learning_rate=learning_rate,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=64,
        weight_decay=0.01,
        warmup_steps=0.1,
        lr_scheduler_type="cosine",
        seed=0,
        save_strategy="no",
        logging_steps=50,
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=torch.cuda.is_available(),
    )
    trainer = build_trainer(model, processor, dataset["train"], dataset["test"], args)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    results = {}
    for expert_only in [False, True] if expert_only_too else [False]:
        model.config.expert_only = expert_only
        prediction = trainer.predict(trainer.eval_dataset)
        logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
        results[expert_only] = {**scores(np.asarray(logits), prediction.label_ids), "train_s": seconds}
    model.config.expert_only = False
    return results if expert_only_too else results[False]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", default=str(ROOT / "outputs" / "bharnet-synthetic"))
    parser.add_argument("--expert-epochs", type=float, default=12)
    parser.add_argument("--joint-epochs", type=float, default=4)
    parser.add_argument("--backbone", default="degcn", choices=["degcn", "stgcn"])
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    out = Path(args.output_dir) / args.backbone
    dataset = load_skeleton_dataset("synthetic", config="xsub")
    names = dataset["train"].features["label"].names
    results, experts = {}, {}
    for kind in ("body", "hand"):
        experts[kind] = build(f"{kind}-expert", names, args.backbone)
        results[f"{kind} expert"] = run(experts[kind], dataset, args.expert_epochs, 2e-3, out / f"{kind}-expert")
        print(kind, results[f"{kind} expert"], flush=True)
    fusion = evaluate_ensemble([out / "body-expert", out / "hand-expert"], dataset["test"])
    results["score fusion of the separately trained experts (no L_cpl)"] = {
        **scores(fusion.probabilities, fusion.labels),
        "train_s": 0.0,
    }
    for name, preset in JOINT.items():
        model = build(preset, names, args.backbone)
        model.load_experts(body=experts["body"], hand=experts["hand"])
        measured = run(model, dataset, args.joint_epochs, 5e-4, out / preset, expert_only_too=preset == "bharnet-e")
        if preset == "bharnet-e":
            results[name], results["BHaRNet-E, expert-only inference"] = measured[False], measured[True]
        else:
            results[name] = measured
        print(name, results[name], flush=True)
    lines = [
        f"Measured on {device_name('cpu')}, torch {torch.__version__}; {args.backbone} backbones; top-1 in % on the "
        "synthetic xsub test split.",
        "",
        "| run | top-1 all 23 | top-1 18 body + interaction | top-1 5 hand gestures | training (s) |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {100 * r['top1']:.1f} | {100 * r['top1_body']:.1f} | {100 * r['top1_hands']:.1f} | "
            f"{r['train_s']:.0f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.write_readme:
        name = "bharnet-synthetic" if args.backbone == "degcn" else f"bharnet-synthetic-{args.backbone}"
        save_results(name, "cpu", table, results)


if __name__ == "__main__":
    main()
