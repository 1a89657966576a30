"""BHaRNet on the synthetic benchmark (xsub): body expert, hand expert, their score fusion, and the jointly
fine-tuned variants, top-1 on all 23 classes, on the 18 body and interaction classes and on the 5 hand gestures
(which share one body motion: a body-only model is at chance on them).

Protocol (section IV-A): the two experts are trained separately (the quickstart recipe: 12 epochs, AdamW 2e-3,
cosine, batch 16, window 32, the `bharnet-small` widths); "score fusion" (Table III "w/o L_c") averages their logits,
as section III-B fuses streams, and, as a second row, their softmax scores (the only row of tables measured before
the logit row existed); each joint variant is initialised from the two experts (`load_experts`) and fine-tuned for
4 epochs with the complementary loss (AdamW 5e-4). BHaRNet-E's expert-only path is the same checkpoint run with
``expert_only=True``. The test split has 690 clips (one clip = 0.14 points); ``--seeds 0 1 2`` repeats the
protocol per seed (model initialisation and training order) and reports mean ± std.

    python benchmarks/run_bharnet_experiments.py [--backbone stgcn] [--seeds 0 1 2] [--write-readme]
    # ~18 minutes per seed on 2 CPU cores

``--backbone stgcn`` runs the same protocol on ST-GCN backbones (Table IV's other column) into its own README block.

``--zoo`` evaluates the saved checkpoints of both protocols and writes the zoo's BHaRNet entries
(``benchmarks/results/zoo-bharnet-synthetic-<device>.json``; render them with ``python utils/write_zoo.py``).

``--rgb`` runs Table V's protocol instead (BHaRNet-M, ~45 minutes): the synthetic benchmark with its rendered ROI
mosaics (``rgb=True``, 24-px tiles -> 120 x 120), the two experts as above, then BHaRNet-E + RGB stream initialised
from them and trained for `--rgb-epochs` (AdamW 1e-3), once per guidance source: the model's own body stream (the
body-expertized branch, Table V row 2), the separately trained body expert as a fixed body GCN (row 1), and no
guidance (a control). Reported per run: the skeleton part ("Pose"), the RGB part ("RGB") and the sum ("RGB+Pose").
The RGB stream is a ResNet-18-shaped network at a quarter of its width, trained from scratch (no ImageNet weights
can be downloaded here; the paper's is ImageNet-pretrained). ``--guidance body_stream body_gcn`` picks the sources,
``--guidance-norms parts-clip mmnet-clip`` trains one run per way of turning joint responses into ROI weights
(``rgb_guidance_norm``) and source, ``--seeds`` repeats it all per seed, and ``--experts-from
outputs/bharnet-synthetic/degcn`` reads the experts of the skeleton protocol's run (the same models: same seed,
clips and recipe) instead of training them again:

    python benchmarks/run_bharnet_experiments.py --rgb --experts-from outputs/bharnet-synthetic/degcn \
        --guidance body_stream --seeds 0   # ~6 minutes per run on a quiet 2-core CPU, ~5 more to train both experts

With ``--backbone stgcn`` Table V goes into its own README block. ``--combine A.json B.json`` trains nothing: it
summarises the seeds of earlier ``--rgb --write-readme`` results files together (each run overwrites
``benchmarks/results/bharnet-m-synthetic-cpu.json``: copy it aside first), e.g. seed 0 from one run and seeds 1 and
2 from another.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from skeleton_models import BHaRNetConfig, BHaRNetForSkeletonClassification, SkeletonProcessor
from skeleton_models.data import load_skeleton_dataset, synthetic
from skeleton_models.models.bharnet.configuration_bharnet import GUIDANCE_NORMS
from skeleton_models.training import evaluate_ensemble, predict_logits, processor_for_model
from skeleton_models.training.ensemble import stream_probabilities
from skeleton_models.training.metrics import classification_metrics

from readme_table import ROOT, device_name, save_results
from synthetic_training import train_and_save, training_record

WIDTHS = ("hidden_sizes", "strides", "num_scales", "attention_heads")
SMALL = {k: v for k, v in BHaRNetConfig.presets["bharnet-small"].items() if k in WIDTHS}
GROUPS = {
    "body": synthetic.CLASS_GROUPS["body"] + synthetic.CLASS_GROUPS["interaction"],
    "hands": synthetic.CLASS_GROUPS["hand_gesture"],
}
FUSIONS = {  # score fusion of the separately trained experts (Table III "w/o L_c"): run name -> fusion
    "score fusion of the separately trained experts (no L_cpl), logits averaged (section III-B)": "logits",
    "score fusion of the separately trained experts (no L_cpl), softmax scores averaged": "probabilities",
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


def build(preset, names, backbone="degcn", seed=0, **overrides):
    config = BHaRNetConfig.from_preset(
        preset,
        **SMALL,
        backbone=backbone,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
        **overrides,
    )
    torch.manual_seed(seed)
    return BHaRNetForSkeletonClassification(config)


def train(model, dataset, epochs, learning_rate, folder: Path, seed: int | None = None):
    """Train on the xsub split with the quickstart recipe (window 32; its seed unless `seed` is given); save model
    and processor to `folder`."""
    processor = processor_for_model(model.config, dataset, window_size=32)
    return train_and_save(model, processor, dataset, epochs, learning_rate, folder, seed=seed)


def run(model, dataset, epochs, learning_rate, folder: Path, expert_only_too=False, seed=None) -> dict:
    trainer, seconds = train(model, dataset, epochs, learning_rate, folder, seed=seed)
    results = {}
    for expert_only in [False, True] if expert_only_too else [False]:
        model.config.expert_only = expert_only
        logits, labels = predict_logits(trainer)
        results[expert_only] = {**scores(logits, labels), "train_s": seconds}
    model.config.expert_only = False
    return results if expert_only_too else results[False]


RGB_BACKBONE = {"layer_type": "basic", "depths": [1, 1, 1, 1], "hidden_sizes": [16, 32, 64, 128], "embedding_size": 16}
GUIDANCE = {  # run name -> rgb_guidance_source
    "guided by the body-expertized branch (Table V row 2)": "body_stream",
    "guided by a separate body GCN (Table V row 1)": "body_gcn",
    "no guidance (control)": "none",
}
PARTS = {"Pose": "skeleton_logits", "RGB": "rgb_logits", "RGB+Pose": "logits"}


EXPERT_RUN = "{} expert (skeleton only)"  # Table V's rows of the two experts, by kind ("body", "hand")


def run_rgb(args, out: Path) -> None:
    dataset = load_skeleton_dataset("synthetic", config="xsub", rgb=True, rgb_patch_size=24)
    names = dataset["train"].features["label"].names
    guidance = {name: source for name, source in GUIDANCE.items() if source in args.guidance}
    per_seed = {}
    for seed in args.seeds:
        folder = out if seed == 0 else out / f"seed{seed}"
        experts_from = None
        if args.experts_from:
            experts_from = Path(args.experts_from) if seed == 0 else Path(args.experts_from) / f"seed{seed}"
        per_seed[seed] = rgb_seed(args, dataset, names, folder, seed, guidance, experts_from)
    report_rgb(args, per_seed)


def combine_rgb(args, files: list[str]) -> None:
    """Table V over the seeds of several earlier ``--rgb --write-readme`` results files (each seed measured once,
    e.g. seed 0 in one run and seeds 1 and 2 in another): their per-seed scores as they were measured, summarised
    again. The files must hold the same runs and no seed twice."""
    per_seed = {}
    for file in files:
        saved = json.loads(Path(file).read_text())
        if "per_seed" not in saved:
            raise ValueError(f"{file}: not a Table V results file (no 'per_seed'); write one with --rgb --write-readme")
        for seed, runs in saved["per_seed"].items():
            if int(seed) in per_seed:
                raise ValueError(f"{file}: seed {seed} is already in an earlier file")
            if per_seed and list(runs) != list(next(iter(per_seed.values()))):
                raise ValueError(f"{file}: seed {seed} has other runs ({list(runs)}) than the seeds before it")
            per_seed[int(seed)] = runs
    report_rgb(args, {seed: per_seed[seed] for seed in sorted(per_seed)})


def report_rgb(args, per_seed: dict) -> None:
    """Print Table V's summary (mean ± std over the seeds of `per_seed`: seed -> run -> part -> scores) and, with
    ``--write-readme``, save it with the per-seed scores."""
    seeds = list(per_seed)
    results = {
        name: {part: summarise([per_seed[s][name][part] for s in seeds]) for part in r}
        for name, r in per_seed[seeds[0]].items()
    }
    # experts read from the skeleton protocol's checkpoints were evaluated, not trained (train_s 0)
    experts = [EXPERT_RUN.format(kind) for kind in ("body", "hand")]
    read = [s for s in seeds if all(per_seed[s][n]["Pose"]["train_s"] == 0.0 for n in experts if n in per_seed[s])]
    if read == seeds:
        reused = " (the experts: the skeleton protocol's checkpoints, evaluated here)"
    elif read:
        reused = (
            f" (the experts of seed{'s' if len(read) > 1 else ''} {', '.join(map(str, read))}: the skeleton "
            "protocol's checkpoints, evaluated here; of the others: trained here with the same recipe)"
        )
    else:
        reused = ""
    listed = ", ".join(map(str, seeds))
    lines = [
        f"Measured on {device_name('cpu')}, torch {torch.__version__}; {args.backbone} backbones, BHaRNet-E "
        "branches, RGB stream a quarter-width ResNet-18 from scratch; top-1 in % on the synthetic xsub test split "
        "(all 23 classes / 5 hand gestures), "
        + (f"mean ± std over seeds {listed}" if len(seeds) > 1 else f"seed {listed}")
        + f"{reused}.",
        "",
        "| run | Pose | RGB | RGB+Pose | training (s) |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        cells = [f"{_cell(r[part]['top1'])} / {_cell(r[part]['top1_hands'])}" if part in r else "-" for part in PARTS]
        seconds = next(iter(r.values()))["train_s"]["mean"]
        lines.append(f"| {name} | {' | '.join(cells)} | {f'{seconds:.0f}' if seconds else '-'} |")
    table = "\n".join(lines)
    print(table)
    if args.write_readme:
        name = "bharnet-m-synthetic" if args.backbone == "degcn" else f"bharnet-m-synthetic-{args.backbone}"
        save_results(name, "cpu", table, {"seeds": seeds, "runs": results, "per_seed": per_seed})


def rgb_seed(args, dataset, names, out: Path, seed: int, guidance: dict, experts_from: Path | None) -> dict:
    """Table V's protocol once: the two experts (trained, or read from `experts_from`: the skeleton protocol's
    checkpoints of the same seed, which are the same models), then BHaRNet-M from them per guidance source."""
    results, experts = {}, {}
    for kind in ("body", "hand"):
        saved = experts_from / f"{kind}-expert" if experts_from else None
        if saved is not None and (saved / "model.safetensors").exists():
            experts[kind] = BHaRNetForSkeletonClassification.from_pretrained(saved)
            probabilities, labels = stream_probabilities(saved, dataset["test"])
            measured = {**scores(probabilities, labels), "train_s": 0.0}  # not trained here
        else:
            experts[kind] = build(f"{kind}-expert", names, args.backbone, seed=seed)
            measured = run(experts[kind], dataset, args.expert_epochs, 2e-3, out / f"{kind}-expert", seed=seed)
        results[EXPERT_RUN.format(kind)] = {"Pose": measured}
        print(seed, kind, measured, flush=True)
    default_norm = BHaRNetConfig().rgb_guidance_norm
    for name, source in guidance.items():
        for norm in args.guidance_norms if source != "none" else [default_norm]:
            model = build(
                "bharnet-m",
                names,
                args.backbone,
                seed=seed,
                rgb_guidance_source=source,
                rgb_guidance_norm=norm,
                rgb_backbone=RGB_BACKBONE,
                rgb_patch_size=24,
            )
            model.load_experts(
                body=experts["body"], hand=experts["hand"], guide=experts["body"] if source == "body_gcn" else None
            )
            run_name, folder = name, out / f"bharnet-m-{source}"
            if source != "none":
                run_name, folder = (
                    f"{name}, `{norm}`",
                    folder if norm == default_norm else folder.with_name(f"{folder.name}-{norm}"),
                )
            results[run_name] = run_parts(model, dataset, args.rgb_epochs, 1e-3, folder, seed)
            print(seed, run_name, results[run_name], flush=True)
    return results


def run_parts(model, dataset, epochs, learning_rate, folder: Path, seed: int | None = None) -> dict:
    """Train like `run`; score the skeleton, the RGB and the fused logits of BHaRNet-M separately."""
    trainer, seconds = train(model, dataset, epochs, learning_rate, folder, seed=seed)
    keep = list(PARTS.values())
    ignore = [k for k in model.config.keys_to_ignore_at_inference if k not in keep] + ["branch_logits"]
    prediction = trainer.predict(trainer.eval_dataset, ignore_keys=ignore)
    logits = dict(zip(("logits", "skeleton_logits", "rgb_logits"), prediction.predictions))  # the output's order
    return {
        part: {**scores(np.asarray(logits[key]), prediction.label_ids), "train_s": seconds}
        for part, key in PARTS.items()
    }


EXPERTS_TRAINING = "body and hand experts 12 epochs each (AdamW 2e-3), then"
ZOO = {  # zoo name -> (checkpoint folder under the output dir, preset, epochs, learning rate, notes)
    "bharnet-synthetic-xsub-joint": (
        "degcn/joint-cpl",
        "bharnet-small",
        4,
        5e-4,
        f"{EXPERTS_TRAINING} jointly fine-tuned 4 epochs with L_cpl (the `joint-cpl` row at small widths)",
    ),
    "bharnet-p-synthetic-xsub-joint": (
        "degcn/bharnet-p",
        "bharnet-p",
        4,
        5e-4,
        f"{EXPERTS_TRAINING} 4 epochs as BHaRNet-P (F.A. + PAM) at the `bharnet-small` widths",
    ),
    "bharnet-e-synthetic-xsub-joint": (
        "degcn/bharnet-e",
        "bharnet-e",
        4,
        5e-4,
        f"{EXPERTS_TRAINING} 4 epochs as BHaRNet-E at the `bharnet-small` widths",
    ),
    "bharnet-m-synthetic-xsub-joint": (
        "degcn/rgb/bharnet-m-body_stream",
        "bharnet-m",
        12,
        1e-3,
        f"{EXPERTS_TRAINING} 12 epochs as BHaRNet-M (RGB: quarter-width ResNet-18 from scratch on the rendered ROI "
        "mosaics, `rgb=True`)",
    ),
}


def write_zoo(out: Path) -> None:
    """Evaluate the saved checkpoints listed in ZOO on the test split and write the zoo results file."""
    datasets_ = {False: load_skeleton_dataset("synthetic", config="xsub")}
    checkpoints = []
    for name, (folder, preset, epochs, learning_rate, notes) in ZOO.items():
        model = BHaRNetForSkeletonClassification.from_pretrained(out / folder)
        rgb = model.config.rgb_stream
        if rgb not in datasets_:
            datasets_[rgb] = load_skeleton_dataset("synthetic", config="xsub", rgb=True, rgb_patch_size=24)
        probabilities, labels = stream_probabilities(out / folder, datasets_[rgb]["test"])
        metrics = {k: v for k, v in classification_metrics(probabilities, labels).items() if k != "confusion_matrix"}
        found = scores(probabilities, labels)
        metrics.update(top1_body=found["top1_body"], top1_hand_gestures=found["top1_hands"])
        processor = SkeletonProcessor.from_pretrained(out / folder).to_dict()
        checkpoints.append(
            {
                "name": name,
                "model_type": "bharnet",
                "task": "AutoModelForVideoClassification",
                "dataset": "synthetic",
                "protocol": "xsub",
                "stream": "joint",
                "preset": preset,
                "config": model.config.to_dict(),
                "processor": processor,
                "metrics": metrics,
                "training": training_record(epochs, learning_rate),
                "notes": notes,
            }
        )
        print(name, metrics, flush=True)
    zoo = {"device": device_name("cpu"), "torch": torch.__version__, "checkpoints": checkpoints}
    (ROOT / "benchmarks" / "results" / "zoo-bharnet-synthetic-cpu.json").write_text(json.dumps(zoo, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", default=str(ROOT / "outputs" / "bharnet-synthetic"))
    parser.add_argument("--expert-epochs", type=float, default=12)
    parser.add_argument("--joint-epochs", type=float, default=4)
    parser.add_argument("--backbone", default="degcn", choices=["degcn", "stgcn"])
    parser.add_argument("--rgb", action="store_true", help="Table V: BHaRNet-M with each guidance source")
    parser.add_argument("--rgb-epochs", type=float, default=12)
    parser.add_argument(
        "--guidance",
        nargs="+",
        choices=list(GUIDANCE.values()),
        default=list(GUIDANCE.values()),
        help="--rgb: the guidance sources to train (default: all three)",
    )
    parser.add_argument(
        "--guidance-norms",
        nargs="+",
        choices=list(GUIDANCE_NORMS),
        default=[BHaRNetConfig().rgb_guidance_norm],
        help="--rgb: how the joint responses become ROI weights (rgb_guidance_norm), one run per value and source",
    )
    parser.add_argument(
        "--experts-from",
        default=None,
        help="--rgb: read the experts from the skeleton protocol's output folder of the same backbone (its "
        "body-expert/ and hand-expert/, seedN/ for seed N) instead of training them again",
    )
    parser.add_argument(
        "--combine",
        nargs="+",
        default=None,
        metavar="RESULTS_JSON",
        help="--rgb: train nothing; summarise the seeds of earlier `--rgb --write-readme` results files together "
        "(copy each file aside before the next run overwrites it)",
    )
    parser.add_argument("--zoo", action="store_true", help="write the zoo entries from the saved checkpoints")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run of the protocol per seed")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    if args.zoo:
        write_zoo(Path(args.output_dir))
        return
    out = Path(args.output_dir) / args.backbone
    if args.rgb and args.combine:
        combine_rgb(args, args.combine)
        return
    if args.rgb:
        run_rgb(args, out / "rgb")
        return
    dataset = load_skeleton_dataset("synthetic", config="xsub")
    per_seed = {seed: run_seed(args, dataset, out if seed == 0 else out / f"seed{seed}", seed) for seed in args.seeds}
    results = {name: summarise([per_seed[seed][name] for seed in args.seeds]) for name in per_seed[args.seeds[0]]}
    seeds = ", ".join(map(str, args.seeds))
    lines = [
        f"Measured on {device_name('cpu')}, torch {torch.__version__}; {args.backbone} backbones; top-1 in % on the "
        f"synthetic xsub test split, "
        + (
            f"mean ± std over seeds {seeds} (model initialisation and training order)."
            if len(args.seeds) > 1
            else f"seed {seeds}."
        ),
        "",
        "| run | top-1 all 23 | top-1 18 body + interaction | top-1 5 hand gestures | training (s) |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        cells = " | ".join(_cell(r[key]) for key in ("top1", "top1_body", "top1_hands"))
        lines.append(f"| {name} | {cells} | {r['train_s']['mean']:.0f} |")
    table = "\n".join(lines)
    print(table)
    if args.write_readme:
        name = "bharnet-synthetic" if args.backbone == "degcn" else f"bharnet-synthetic-{args.backbone}"
        save_results(name, "cpu", table, {"seeds": args.seeds, "runs": results, "per_seed": per_seed})


def run_seed(args, dataset, out: Path, seed: int) -> dict:
    """The protocol once: both experts, their score fusion, each joint variant fine-tuned from the experts; models
    initialised with `seed` (seed 0: the checkpoints of the zoo) and trained with it."""
    names = dataset["train"].features["label"].names
    results, experts = {}, {}
    for kind in ("body", "hand"):
        experts[kind] = build(f"{kind}-expert", names, args.backbone, seed=seed)
        results[f"{kind} expert"] = run(
            experts[kind], dataset, args.expert_epochs, 2e-3, out / f"{kind}-expert", seed=seed
        )
        print(seed, kind, results[f"{kind} expert"], flush=True)
    experts_folders = [out / "body-expert", out / "hand-expert"]
    for name, fusion in FUSIONS.items():
        fused = evaluate_ensemble(experts_folders, dataset["test"], [0.5, 0.5], fusion=fusion)
        results[name] = {**scores(fused.probabilities, fused.labels), "train_s": 0.0}
    for name, preset in JOINT.items():
        model = build(preset, names, args.backbone, seed=seed)
        model.load_experts(body=experts["body"], hand=experts["hand"])
        measured = run(
            model, dataset, args.joint_epochs, 5e-4, out / preset, expert_only_too=preset == "bharnet-e", seed=seed
        )
        if preset == "bharnet-e":
            results[name], results["BHaRNet-E, expert-only inference"] = measured[False], measured[True]
        else:
            results[name] = measured
        print(seed, name, results[name], flush=True)
    return results


def summarise(runs: list[dict]) -> dict:
    """Mean and sample standard deviation (ddof 1; 0 for one run) of each score over seeds."""
    return {
        key: {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}
        for key, values in ((key, [r[key] for r in runs]) for key in runs[0])
    }


def _cell(stat: dict) -> str:
    return f"{100 * stat['mean']:.1f}" + (f" ± {100 * stat['std']:.1f}" if stat["std"] else "")


if __name__ == "__main__":
    main()
