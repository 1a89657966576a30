"""Masked skeleton pre-training on the synthetic benchmark (xsub): GFP vs its baselines MAMP and SkeletonMAE vs no
pre-training, with the linear-evaluation and kNN protocols, and the pre-training time of each (Table 1's speed
comparison, Fig. 4's accuracy-over-epochs curves at CPU scale).

Every method uses the same CPU-sized encoder (``gfp-small``: 64 frames -> 16 x 25 tokens, 4 layers of width 128),
the same masking (90 %; motion-aware with tau 0.8, random for SkeletonMAE) and MAMP's pre-training optimiser
(AdamW, betas 0.9 / 0.95, weight decay 0.05, cosine with 5 % warm-up, lr 1e-3) for ``--epochs`` epochs at batch
32 on the 690 training clips (labels unused). MAMP's and SkeletonMAE's decoders have 3 layers of width 128 (MAMP's
NTU-60 depth). After every ``--eval-every`` epochs, the encoder's pooled features of the training and test clips
give the 1-NN cosine retrieval accuracy (GFP Table 3's protocol) and the linear probe (MAMP's head: mean
pooling, BatchNorm without affine, a linear layer; SGD momentum 0.9, lr 0.1, cosine) on the cached features of
the training clips (`feature_linear_probe`, 100 epochs; ``--trainer-probe`` adds the Trainer's probe with the
training-time augmentation, 30 epochs, much slower on a CPU), top-1 on the test clips. "none" is the same encoder,
randomly initialised.

    python benchmarks/run_ssl_experiments.py [--epochs 40] [--write-readme]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

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
    """Retrieval and cached-feature probe accuracy of the encoder every `every` epochs (Fig. 4's curves at CPU
    scale)."""

    def __init__(self, model, dataset, processor, every: int):
        self.model, self.dataset, self.processor, self.every = model, dataset, processor, every
        self.encoder = encoder_of(model)
        self.curve = []
        self.seconds = 0.0  # spent here, not pre-training

    def on_epoch_end(self, args, state, control, **kwargs):
        epoch = round(state.epoch)
        if epoch % self.every == 0:
            start = time.perf_counter()
            self.curve.append((epoch, *evaluate_encoder(self.encoder, self.dataset, self.processor)))
            self.model.train()
            self.seconds += time.perf_counter() - start


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


def encoder_of(model):
    """The encoder a pre-training model's features come from: GFP's encoder, SLiM's teacher encoder."""
    if isinstance(model, SLiMForPreTraining):
        encoder = SLiMModel(model.config)
        encoder.encoder = model.slim.encoder  # shared, not copied: follows the teacher's EMA
        return encoder
    return model.gfp


def build_config(overrides: dict):
    overrides = dict(overrides)
    if overrides.pop("model_type", "gfp") == "slim":
        return SLiMConfig.from_preset("slim-small", **{**SLIM_SMALL, **overrides})
    return GFPConfig.from_preset("gfp-small", **overrides)


def run(dataset, name: str, overrides: dict, args, work: Path) -> dict:
    config = build_config(overrides)
    model_class = SLiMForPreTraining if config.model_type == "slim" else GFPForPreTraining
    processor = processor_for_model(config, dataset["train"], window_size=config.num_frames)
    folder = work / name
    result = {"method": name}
    if name.startswith("none"):
        torch.manual_seed(args.seed)
        encoder = encoder_of(model_class(config))
        result["curve"] = [(0, *evaluate_encoder(encoder, dataset, processor))]
        if args.trainer_probe:
            result["linear_probe"] = linear_probe(
                None, overrides, dataset, processor, folder / "probe", args.seed, args.probe_epochs
            )
        return result
    torch.manual_seed(args.seed)
    model = model_class(config)
    training = TrainingArguments(
        str(folder),
        num_train_epochs=args.epochs,
        per_device_train_batch_size=32,
        learning_rate=1e-3,
        adam_beta2=0.95,
        weight_decay=0.05,
        lr_scheduler_type="cosine",
        warmup_steps=0.05,  # MAMP: 20 of 400 epochs
        save_strategy="no",
        logging_steps=20,
        report_to="none",
        disable_tqdm=True,
        seed=args.seed,
    )
    if model_class is SLiMForPreTraining:  # its collator's views and masks, its EMA teacher
        trainer = build_slim_pretraining_trainer(model, dataset["train"], training)
    else:
        trainer = build_trainer(model, processor, dataset["train"], None, training)
    curve = RetrievalCurve(model, dataset, processor, args.eval_every)
    trainer.add_callback(curve)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start - curve.seconds
    trainer.save_model(str(folder / "pretrained"))
    result["pretrain_seconds"] = seconds
    result["curve"] = curve.curve
    result["losses"] = [
        {k: v for k, v in e.items() if k == "epoch" or k.startswith("loss")}
        for e in trainer.state.log_history
        if "loss" in e
    ]
    if args.trainer_probe:
        result["linear_probe"] = linear_probe(
            folder / "pretrained", overrides, dataset, processor, folder / "probe", args.seed, args.probe_epochs
        )
    return result


def table(results: list[dict], args, device: str) -> str:
    lines = [
        f"Measured on {device_name(device)}, torch {torch.__version__}; `gfp-small` / `slim-small` encoders "
        f"(4 layers of width 128, 16 x 25 tokens), {args.epochs} "
        f"pre-training epochs on the 690 training clips (seed {args.seed}); top-1 % on the 690 test clips: the "
        "linear probe on cached features (100 epochs) and 1-NN retrieval, after the last epoch and over epochs"
        + (", and the Trainer's linear probe with augmentation" if args.trainer_probe else "")
        + ".",
        "",
        "| pre-training | linear probe | 1-NN retrieval | pre-training time (s) | probe / retrieval over epochs |"
        + (" Trainer probe |" if args.trainer_probe else ""),
        "|---|---|---|---|---|" + ("---|" if args.trainer_probe else ""),
    ]
    for r in results:
        curve = ", ".join(f"{e}: {p:.1f} / {k:.1f}" for e, k, p in r["curve"])
        seconds = f"{r['pretrain_seconds']:.0f}" if "pretrain_seconds" in r else "-"
        epoch, knn, probe = r["curve"][-1]
        row = f"| {r['method']} | {probe:.1f} | {knn:.1f} | {seconds} | {curve} |"
        if args.trainer_probe:
            row += f" {r['linear_probe']:.1f} |"
        lines.append(row)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--probe-epochs", type=int, default=30)
    parser.add_argument("--trainer-probe", action="store_true", help="also the Trainer's probe with augmentation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=[*METHODS, "none", "none, SLiM encoder"])
    parser.add_argument("--limit", type=int, help="only the first N training and test clips (a smoke test)")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--output-dir", default=str(ROOT / "outputs" / "ssl-experiments"))
    args = parser.parse_args()
    dataset = load_skeleton_dataset("synthetic", config="xsub")
    if args.limit:
        dataset = type(dataset)({k: v.select(range(min(args.limit, len(v)))) for k, v in dataset.items()})
    device = "cuda" if torch.cuda.is_available() else "cpu"
    results = [run(dataset, m, {**NONE, **METHODS}[m], args, Path(args.output_dir)) for m in args.methods]
    for r in results:
        print(json.dumps({k: v for k, v in r.items() if k != "losses"}), flush=True)
    saved = ROOT / "benchmarks" / "results" / f"ssl-synthetic-{device}.json"
    if args.write_readme and saved.exists():  # runs of other methods kept, these replaced (same protocol)
        previous = json.loads(saved.read_text())
        if previous.get("epochs") == args.epochs:
            fresh = {r["method"]: r for r in results}
            kept = [r for r in previous["runs"] if r["method"] not in fresh]
            order = [*METHODS, *NONE]
            results = sorted([*kept, *fresh.values()], key=lambda r: order.index(r["method"]))
    text = table(results, args, device)
    print(text, flush=True)
    if args.write_readme:
        payload = {"device": device_name(device), "epochs": args.epochs, "runs": results}
        save_results("ssl-synthetic", device, text, payload)


if __name__ == "__main__":
    main()
