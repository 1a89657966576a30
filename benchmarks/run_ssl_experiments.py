"""Masked skeleton pre-training on the synthetic benchmark (xsub): GFP vs its baselines MAMP and SkeletonMAE vs no
pre-training, with the linear-evaluation and kNN protocols, and the pre-training time of each (Table 1's speed
comparison, Fig. 4's accuracy-over-epochs curves at CPU scale).

Every method uses the same CPU-sized encoder (``gfp-small``: 64 frames -> 16 x 25 tokens, 4 layers of width 128),
the same masking (90 %; motion-aware with tau 0.8, random for SkeletonMAE) and MAMP's pre-training optimiser
(AdamW, betas 0.9 / 0.95, weight decay 0.05, cosine with 5 % warm-up, lr 1e-3; no gradient clipping, as MAMP's
pre-training; SLiM clips at norm 3.0, as DINOv2) for ``--epochs`` epochs at batch 32 on the 690 training clips
(labels unused). MAMP's and SkeletonMAE's decoders have 3 layers of width 128 (MAMP's
NTU-60 depth). After every ``--eval-every`` epochs, the encoder's pooled features of the training and test clips
give the 1-NN cosine retrieval accuracy (GFP Table 3's protocol) and the linear probe (MAMP's head: mean
pooling, BatchNorm without affine, a linear layer; SGD momentum 0.9, lr 0.1, cosine) on the cached features of
the training clips (`feature_linear_probe`, 100 epochs; ``--trainer-probe`` adds the Trainer's probe with the
training-time augmentation, 30 epochs, much slower on a CPU), top-1 on the test clips. "none" is the same encoder,
randomly initialised.

    python benchmarks/run_ssl_experiments.py [--epochs 40] [--write-readme]

At a scale where pre-training can show (the synthetic ``pretrain`` config: 14,904 clips of 54 subjects that the
evaluation split does not have), by optimiser steps, with several seeds (mean ± std, and each method's gain over
the random initialisation of the same seed) and, for SLiM, the student next to the teacher:

    python benchmarks/run_ssl_experiments.py --pretrain-set pretrain --max-steps 600 --eval-steps 300 600 \
        --seeds 0 1 2 --methods MAMP none --write-readme   # MAMP: ~0.85 s per step on 2 CPU threads
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from transformers import TrainerCallback, TrainingArguments

from skeleton_models.data import load_skeleton_dataset
from skeleton_models.models.gfp import GFPConfig, GFPForPreTraining, GFPForSkeletonClassification
from skeleton_models.models.slim import SLiMConfig, SLiMForPreTraining, SLiMModel
from skeleton_models.training import (
    build_slim_pretraining_trainer,
    build_trainer,
    compute_features,
    feature_linear_probe,
    knn_accuracy,
    processor_for_model,
)

from readme_table import ROOT, device_name, save_results

NONE = {"none": {}, "none, SLiM encoder": {"model_type": "slim"}}  # randomly initialised encoders
METHODS = {  # GFP rows: the TGN without normalisation (the paper's "MLP") unless they say BatchNorm (the default)
    "GFP": {"tgn_norm": "none"},
    "GFP, standardised TGN input": {"tgn_norm": "none", "tgn_input_norm": True},
    "GFP, L_pred mean over channels": {"tgn_norm": "none", "prediction_reduction": "mean"},
    "GFP, BatchNorm TGN": {"tgn_norm": "batch"},
    "GFP, BatchNorm TGN, L_pred mean": {"tgn_norm": "batch", "prediction_reduction": "mean"},
    "MAMP": {"target_type": "motion", "decoder_num_layers": 3},
    "SkeletonMAE": {"target_type": "joint", "mask_tau": 0.0, "decoder_num_layers": 3},
    # SLiM (``slim-small``: the same 4 layers of width 128, 16 x 25 tokens of 4 frames; 4096 prototypes) and a few
    # of its Table 5-7 ablations
    "SLiM": {"model_type": "slim"},
    "SLiM, one pass (G1 anchor)": {"model_type": "slim", "symmetric": False},
    "SLiM, one pass, MFM only (Table 5)": {"model_type": "slim", "symmetric": False, "objective": "mfm"},
    "SLiM, one pass, GLCL only (Table 5)": {"model_type": "slim", "symmetric": False, "objective": "glcl"},
    "SLiM, one pass, random masking (Table 6, limited)": {
        "model_type": "slim",
        "symmetric": False,
        "global_masking": "random",
        "local_masking": "random",
    },
    "SLiM, one pass, limited augmentations (Table 7)": {
        "model_type": "slim",
        "symmetric": False,
        "rotation": "limited",
        "mirroring": "limited",
        "scaling": "limited",
    },
}
SLIM_SMALL = {"temporal_patch": 4}  # 64 frames -> 16 x 25 tokens, as gfp-small


def evaluate_encoder(encoder, dataset, processor) -> tuple[float, float]:
    """(1-NN retrieval, linear probe on cached features) top-1 % of the encoder's pooled features."""
    train = compute_features(encoder, dataset["train"], processor).with_format("numpy")
    test = compute_features(encoder, dataset["test"], processor).with_format("numpy")
    args = (train["features"], train["label"], test["features"], test["label"])
    return knn_accuracy(*args, k=1), feature_linear_probe(*args, epochs=100)


class RetrievalCurve(TrainerCallback):
    """Retrieval and cached-feature probe accuracy of the encoder every `every` epochs, or at the optimiser steps
    `steps` (Fig. 4's curves at CPU scale). For SLiM also of its student's encoder (``student_curve``): in a short
    run the EMA teacher is still close to its random initialisation."""

    def __init__(self, model, dataset, processor, every: int, steps: list[int] | None = None):
        self.model, self.dataset, self.processor, self.every = model, dataset, processor, every
        self.steps = set(steps or ())
        self.encoder = encoder_of(model)
        self.student = encoder_of(model, student=True) if isinstance(model, SLiMForPreTraining) else None
        self.curve, self.student_curve = [], []
        self.seconds = 0.0  # spent here, not pre-training

    def _evaluate(self, point: int) -> None:
        start = time.perf_counter()
        self.curve.append((point, *evaluate_encoder(self.encoder, self.dataset, self.processor)))
        if self.student is not None:
            self.student_curve.append((point, *evaluate_encoder(self.student, self.dataset, self.processor)))
        self.model.train()
        self.seconds += time.perf_counter() - start

    def on_epoch_end(self, args, state, control, **kwargs):
        if not self.steps and round(state.epoch) % self.every == 0:
            self._evaluate(round(state.epoch))

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step in self.steps:
            self._evaluate(state.global_step)


def linear_probe(source, overrides: dict, dataset, processor, folder: Path, seed: int, epochs: int) -> float:
    num_labels = dataset["train"].features["label"].num_classes
    if source is None:
        torch.manual_seed(seed)
        config = GFPConfig.from_preset("gfp-small", **overrides, freeze_encoder=True, num_labels=num_labels)
        probe = GFPForSkeletonClassification(config)
    else:
        probe = GFPForSkeletonClassification.from_pretrained(source, freeze_encoder=True, num_labels=num_labels)
    args = TrainingArguments(
        str(folder),
        num_train_epochs=epochs,
        per_device_train_batch_size=64,
        per_device_eval_batch_size=64,
        learning_rate=0.1,
        optim="sgd",
        optim_args="momentum=0.9",
        weight_decay=0.0,  # MAMP's linear probe
        lr_scheduler_type="cosine",
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=seed,
    )
    trainer = build_trainer(probe, processor, dataset["train"], dataset["test"], args)
    trainer.train()
    return 100 * trainer.evaluate()["eval_top1"]


def encoder_of(model, student: bool = False):
    """The encoder a pre-training model's features come from: GFP's encoder, SLiM's teacher encoder (or, with
    `student`, its student's)."""
    if isinstance(model, SLiMForPreTraining):
        encoder = SLiMModel(model.config)
        # shared, not copied: follows the teacher's EMA (the student's training)
        encoder.encoder = (model.student if student else model.slim).encoder
        return encoder
    return model.gfp


def build_config(overrides: dict):
    overrides = dict(overrides)
    if overrides.pop("model_type", "gfp") == "slim":
        return SLiMConfig.from_preset("slim-small", **{**SLIM_SMALL, **overrides})
    return GFPConfig.from_preset("gfp-small", **overrides)


def run(dataset, pretraining, name: str, overrides: dict, args, work: Path, seed: int) -> dict:
    """One method with one seed: pre-trained on the `pretraining` clips (labels unused), evaluated on `dataset`'s
    labelled train / test split."""
    config = build_config(overrides)
    model_class = SLiMForPreTraining if config.model_type == "slim" else GFPForPreTraining
    processor = processor_for_model(config, dataset["train"], window_size=config.num_frames)
    folder = work / f"seed{seed}" / name
    result = {"method": name, "seed": seed}
    if name.startswith("none"):
        torch.manual_seed(seed)
        encoder = encoder_of(model_class(config))
        result["curve"] = [(0, *evaluate_encoder(encoder, dataset, processor))]
        if args.trainer_probe:
            result["linear_probe"] = linear_probe(
                None, overrides, dataset, processor, folder / "probe", seed, args.probe_epochs
            )
        return result
    torch.manual_seed(seed)
    model = model_class(config)
    training = TrainingArguments(
        str(folder),
        num_train_epochs=args.epochs,
        max_steps=args.max_steps or -1,
        per_device_train_batch_size=32,
        learning_rate=1e-3,
        adam_beta2=0.95,
        weight_decay=0.05,
        lr_scheduler_type="cosine",
        warmup_steps=0.05,  # MAMP: 20 of 400 epochs
        # gradient clipping: none for the masked-modeling methods (MAMP's engine_pretrain.py @ 09e6252 passes no
        # clip_grad); 3.0 for SLiM (DINOv2's clip_grad; Assumed, the paper gives none)
        max_grad_norm=3.0 if model_class is SLiMForPreTraining else 0.0,
        save_strategy="no",
        logging_steps=20,
        report_to="none",
        disable_tqdm=True,
        seed=seed,
    )
    if model_class is SLiMForPreTraining:  # its collator's views and masks, its EMA teacher
        trainer = build_slim_pretraining_trainer(model, pretraining, training)
    else:
        trainer = build_trainer(model, processor, pretraining, None, training)
    curve = RetrievalCurve(model, dataset, processor, args.eval_every, args.eval_steps if args.max_steps else None)
    trainer.add_callback(curve)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start - curve.seconds
    trainer.save_model(str(folder / "pretrained"))
    result["pretrain_seconds"] = seconds
    result["curve"] = curve.curve
    if curve.student_curve:
        result["student_curve"] = curve.student_curve
    result["losses"] = [
        {k: v for k, v in e.items() if k == "epoch" or k.startswith("loss")}
        for e in trainer.state.log_history
        if "loss" in e
    ]
    if args.trainer_probe:
        result["linear_probe"] = linear_probe(
            folder / "pretrained", overrides, dataset, processor, folder / "probe", seed, args.probe_epochs
        )
    return result


PRETRAINING_SETS = {
    "xsub": "the 690 training clips",
    "pretrain": "the 14,904 clips of the `pretrain` config (other subjects than the evaluation split's)",
}


def random_init_of(method: str) -> str:
    """The randomly initialised encoder a method's gain is measured against (the same architecture)."""
    return "none, SLiM encoder" if build_config({**NONE, **METHODS}[method]).model_type == "slim" else "none"


def _stat(values: list[float]) -> str:
    mean = float(np.mean(values))
    return f"{mean:.1f}" + (f" ± {float(np.std(values, ddof=1)):.1f}" if len(values) > 1 else "")


def table(results: list[dict], args, device: str) -> str:
    """One row per method (and SLiM's students): the last evaluation's linear probe and 1-NN retrieval, mean ± std
    over seeds, the gain over the same seed's random initialisation, the time and the curve (means over seeds)."""
    seeds = sorted({r["seed"] for r in results})
    length = f"{args.max_steps} optimiser steps" if args.max_steps else f"{args.epochs} epochs"
    lines = [
        f"Measured on {device_name(device)}, torch {torch.__version__}; `gfp-small` / `slim-small` encoders "
        f"(4 layers of width 128, 16 x 25 tokens), {length} of pre-training (batch 32) on "
        f"{PRETRAINING_SETS[args.pretrain_set]}, "
        + (f"seeds {', '.join(map(str, seeds))} (mean ± std)" if len(seeds) > 1 else f"seed {seeds[0]}")
        + "; top-1 % on the 690 test clips of the xsub split: the linear probe on cached features of its 690 "
        "training clips (100 epochs) and 1-NN retrieval, after the last step and over training; the gain is over the "
        "random initialisation of the same architecture and seed"
        + (", and the Trainer's linear probe with augmentation" if args.trainer_probe else "")
        + ".",
        "",
        "| pre-training | linear probe | 1-NN retrieval | gain over random init (probe / 1-NN) | pre-training time (s) "
        "| probe / retrieval over training |" + (" Trainer probe |" if args.trainer_probe else ""),
        "|---|---|---|---|---|---|" + ("---|" if args.trainer_probe else ""),
    ]
    by_method = {}
    for r in results:
        by_method.setdefault(r["method"], {})[r["seed"]] = r
    rows = []
    for method, runs in by_method.items():
        rows.append((method, runs, "curve"))
        if any("student_curve" in r for r in runs.values()):
            rows.append((f"{method} — student", runs, "student_curve"))
    for name, runs, key in rows:
        curves = [r[key] for r in runs.values()]
        probe = [c[-1][2] for c in curves]
        knn = [c[-1][1] for c in curves]
        base = by_method.get(random_init_of(runs[next(iter(runs))]["method"]), {})
        gain = "-"
        if not name.startswith("none") and all(seed in base for seed in runs):
            probe_gain = [c[-1][2] - base[seed]["curve"][-1][2] for seed, c in zip(runs, curves)]
            knn_gain = [c[-1][1] - base[seed]["curve"][-1][1] for seed, c in zip(runs, curves)]
            gain = f"{_stat(probe_gain)} / {_stat(knn_gain)}"
        seconds = [r["pretrain_seconds"] for r in runs.values() if "pretrain_seconds" in r]
        points = [point for point, _, _ in curves[0]]
        curve = ", ".join(
            f"{point}: {np.mean([c[i][2] for c in curves]):.1f} / {np.mean([c[i][1] for c in curves]):.1f}"
            for i, point in enumerate(points)
        )
        row = f"| {name} | {_stat(probe)} | {_stat(knn)} | {gain} | {f'{np.mean(seconds):.0f}' if seconds else '-'} "
        row += f"| {curve} |"
        if args.trainer_probe:
            row += f" {_stat([r['linear_probe'] for r in runs.values()])} |"
        lines.append(row)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--max-steps", type=int, help="pre-train for this many optimiser steps instead of --epochs")
    parser.add_argument("--eval-every", type=int, default=10, help="epochs between evaluations (with --epochs)")
    parser.add_argument("--eval-steps", type=int, nargs="+", help="with --max-steps: evaluate after these steps")
    parser.add_argument("--pretrain-set", choices=list(PRETRAINING_SETS), default="xsub")
    parser.add_argument("--probe-epochs", type=int, default=30)
    parser.add_argument("--trainer-probe", action="store_true", help="also the Trainer's probe with augmentation")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--methods", nargs="+", default=[*METHODS, "none", "none, SLiM encoder"])
    parser.add_argument("--limit", type=int, help="only the first N clips of every split (a smoke test)")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--output-dir", default=str(ROOT / "outputs" / "ssl-experiments"))
    args = parser.parse_args()
    if args.max_steps:
        args.eval_steps = sorted({*(args.eval_steps or ()), args.max_steps})  # always after the last step
    dataset = load_skeleton_dataset("synthetic", config="xsub")
    pretraining = dataset["train"]
    if args.pretrain_set == "pretrain":
        pretraining = load_skeleton_dataset("synthetic", config="pretrain")["train"]
    if args.limit:
        dataset = type(dataset)({k: v.select(range(min(args.limit, len(v)))) for k, v in dataset.items()})
        pretraining = pretraining.select(range(min(args.limit, len(pretraining))))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    methods = {**NONE, **METHODS}
    results = [
        run(dataset, pretraining, m, methods[m], args, Path(args.output_dir), seed)
        for seed in args.seeds
        for m in args.methods
    ]
    for r in results:
        print(json.dumps({k: v for k, v in r.items() if k != "losses"}), flush=True)
    protocol = {"pretrain_set": args.pretrain_set, "epochs": args.epochs, "max_steps": args.max_steps}
    saved = ROOT / "benchmarks" / "results" / f"ssl-synthetic-{device}.json"
    if args.write_readme and saved.exists():  # runs of other methods or seeds kept, these replaced (same protocol)
        previous = json.loads(saved.read_text())
        if previous.get("protocol", {"pretrain_set": "xsub", "epochs": previous.get("epochs"), "max_steps": None}) == (
            protocol
        ):
            fresh = {(r["method"], r["seed"]): r for r in results}
            kept = [r for r in previous["runs"] if (r["method"], r.get("seed", 0)) not in fresh]
            kept = [{**r, "seed": r.get("seed", 0)} for r in kept]
            order = [*METHODS, *NONE]
            results = sorted([*kept, *fresh.values()], key=lambda r: (order.index(r["method"]), r["seed"]))
    text = table(results, args, device)
    print(text, flush=True)
    if args.write_readme:
        payload = {"device": device_name(device), "protocol": protocol, "epochs": args.epochs, "runs": results}
        save_results("ssl-synthetic", device, text, payload)


if __name__ == "__main__":
    main()
