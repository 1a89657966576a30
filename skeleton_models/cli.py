"""The `skeleton-models` command: `quickstart` (the main job) and `predict`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _quickstart(args: argparse.Namespace) -> int:
    import torch
    from transformers import TrainingArguments

    from .data import load_skeleton_dataset, synthetic
    from .models import HGLNetConfig, HGLNetForSkeletonClassification
    from .processing_skeleton import SkeletonProcessor
    from .training import build_trainer, load_metric

    start = time.perf_counter()
    out_dir = Path(args.output_dir)
    print(f"[1/4] Generating the synthetic benchmark ({args.config}) ...", flush=True)
    dataset = load_skeleton_dataset(
        "synthetic", config=args.config, cache_dir=args.cache_dir, num_subjects=args.num_subjects, seed=args.seed
    )
    names = dataset["train"].features["label"].names
    print(f"      {len(dataset['train'])} training and {len(dataset['test'])} test clips, {len(names)} classes")

    processor = SkeletonProcessor.for_dataset(dataset, window_size=args.window_size)
    config = HGLNetConfig.from_preset(
        args.preset,
        num_persons=synthetic.NUM_PERSONS,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
    )
    torch.manual_seed(args.seed)
    model = HGLNetForSkeletonClassification(config)
    params = sum(p.numel() for p in model.parameters())
    device = "the GPU" if torch.cuda.is_available() else "the CPU"
    print(
        f"[2/4] Training HGLNet ({args.preset}, {params / 1e6:.2f} M parameters, window {args.window_size}) "
        f"for {args.epochs:g} epochs on {device} ...",
        flush=True,
    )
    training_args = TrainingArguments(
        output_dir=str(out_dir),
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=64,
        learning_rate=args.learning_rate,
        weight_decay=0.01,
        warmup_steps=0.1,
        lr_scheduler_type="cosine",
        eval_strategy="no",
        save_strategy="no",
        logging_steps=50,
        report_to="none",
        seed=args.seed,
        dataloader_pin_memory=torch.cuda.is_available(),
    )
    trainer = build_trainer(model, processor, dataset["train"], dataset["test"], training_args)
    trainer.train()

    print("[3/4] Evaluating on the test split ...", flush=True)
    prediction = trainer.predict(trainer.eval_dataset)
    scores = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    metrics = load_metric().compute(predictions=scores, references=prediction.label_ids)
    confusion = np.asarray(metrics["confusion_matrix"])
    body = synthetic.CLASS_GROUPS["body"] + synthetic.CLASS_GROUPS["interaction"]
    hands = synthetic.CLASS_GROUPS["hand_gesture"]
    group_top1 = lambda rows: float(np.diag(confusion)[rows].sum() / max(confusion[rows].sum(), 1))  # noqa: E731

    print(f"[4/4] Saving the checkpoint (model + processor) to {out_dir} ...", flush=True)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    results = {
        "top1": metrics["top1"],
        "top5": metrics["top5"],
        "mean_class_accuracy": metrics["mean_class_accuracy"],
        "top1_body_classes": group_top1(body),
        "top1_hand_gesture_classes": group_top1(hands),
        "hand_gesture_confusion": confusion[np.ix_(hands, hands)].tolist(),
        "hand_gesture_classes": [names[i] for i in hands],
        "wall_time_s": time.perf_counter() - start,
    }
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))

    print(f"\nResults on the synthetic {args.config} test split")
    rows = [
        (f"top-1, all {len(names)} classes", results["top1"], ""),
        (f"top-1, {len(body)} body and interaction classes", results["top1_body_classes"], ""),
        (
            f"top-1, {len(hands)} hand-gesture classes",
            results["top1_hand_gesture_classes"],
            f"  (chance among them: {100 / len(hands):.0f} %; a body-only model cannot see the fingers)",
        ),
    ]
    label_width = max(len(label) for label, _, _ in rows)
    for label, value, note in rows:
        print(f"  {label + ':':<{label_width + 1}} {100 * value:5.1f} %{note}")
    width = max(len(names[i]) for i in hands)
    print("  hand-gesture confusion (rows: true, columns: predicted among the gestures):")
    for i in hands:
        print(f"    {names[i]:>{width}}  " + " ".join(f"{confusion[i, j]:3d}" for j in hands))
    print(f"  wall time: {results['wall_time_s']:.0f} s; checkpoint: {out_dir}")
    print(f"  try: skeleton-models predict --model {out_dir} CLIP.npy")
    return 0


def _predict(args: argparse.Namespace) -> int:
    import torch
    from transformers import AutoModelForVideoClassification

    from .data import SkeletonParseError, read_clip
    from .processing_skeleton import SkeletonProcessor

    path = Path(args.file)
    try:
        clip = read_clip(path)
    except SkeletonParseError as err:
        raise SystemExit(f"error: {err}") from None
    processor = SkeletonProcessor.from_pretrained(args.model)
    model = AutoModelForVideoClassification.from_pretrained(args.model, dtype=torch.float32).eval()
    try:
        inputs = processor(clip)
    except ValueError as err:
        raise SystemExit(f"error: {path}: {err} (the model expects the {processor.layout} layout)") from None
    with torch.no_grad():
        probs = model(**inputs).logits.softmax(-1)[0]
    top = probs.topk(min(args.top_k, probs.numel()))
    print(f"{path.name}: top-{len(top.indices)} of {probs.numel()} classes")
    for rank, (p, i) in enumerate(zip(top.values.tolist(), top.indices.tolist()), start=1):
        print(f"  {rank}. {model.config.id2label[i]:<30} {100 * p:5.1f} %")
    return 0


def _push(args: argparse.Namespace) -> int:
    from .hub import load_checkpoint, push_model, save_for_hub
    from .processing_skeleton import SkeletonProcessor

    model = load_checkpoint(args.model)
    processor = SkeletonProcessor.from_pretrained(args.model)
    results = json.loads(Path(args.results).read_text()) if args.results else None
    card = {
        "results": results,
        "dataset": args.dataset,
        "dataset_config": args.dataset_config,
        "license": args.license,
        "base_model": args.base_model,
    }
    if args.dry_run:
        folder = save_for_hub(model, processor, args.dry_run, args.repo_id, **card)
        print(f"wrote {sorted(p.name for p in folder.iterdir())} to {folder} (nothing uploaded)")
    else:
        commit = push_model(model, processor, args.repo_id, private=args.private, **card)
        print(f"pushed to https://huggingface.co/{args.repo_id} ({getattr(commit, 'oid', commit)})")
    return 0


def _write_modeling(args: argparse.Namespace) -> int:
    from .hub import REPO_ROOT, write_modeling

    stale = write_modeling(args.root or REPO_ROOT / "modeling", check=args.check)
    if args.check and stale:
        print("stale remote-code bundles (run `skeleton-models write-modeling`):\n  " + "\n  ".join(stale))
        return 1
    print(("updated " + ", ".join(stale)) if stale else "modeling/ is current")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skeleton-models", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    quick = sub.add_parser(
        "quickstart", help="generate the synthetic benchmark, train HGLNet on the CPU, evaluate, save"
    )
    quick.add_argument("--output-dir", default="quickstart-output", help="checkpoint folder (model + processor)")
    quick.add_argument("--config", default="xsub", choices=["xsub", "xview"], help="benchmark protocol")
    quick.add_argument("--preset", default="hglnet-small", help="HGLNet named configuration")
    quick.add_argument("--epochs", type=float, default=12)
    quick.add_argument("--window-size", type=int, default=32, help="frames per clip after resampling")
    quick.add_argument("--batch-size", type=int, default=16)
    quick.add_argument("--learning-rate", type=float, default=2e-3)
    quick.add_argument("--num-subjects", type=int, default=10, help="benchmark size (subjects)")
    quick.add_argument("--seed", type=int, default=0)
    quick.add_argument("--cache-dir", default=None, help="datasets cache (default: the usual HF cache)")
    quick.set_defaults(func=_quickstart)

    predict = sub.add_parser("predict", help="print the top-5 classes of one clip")
    predict.add_argument("--model", required=True, help="checkpoint folder or Hub repo id")
    predict.add_argument(
        "file", help="a clip: .npy (T, M, V, C), NTU .skeleton, NW-UCLA / Kinetics .json, PKU-MMD .txt"
    )
    predict.add_argument("--top-k", type=int, default=5)
    predict.set_defaults(func=_predict)

    push = sub.add_parser("push", help="upload a checkpoint folder with a model card to the Hugging Face Hub")
    push.add_argument("--model", required=True, help="checkpoint folder (model + processor)")
    push.add_argument("--repo-id", required=True, help="e.g. org/hglnet-ntu60-xsub (<arch>-<dataset>[-<protocol>])")
    push.add_argument("--results", help="json of metrics in [0, 1]: top1, top5, mean_class_accuracy")
    push.add_argument("--dataset", help="the benchmark evaluated on, e.g. ntu60")
    push.add_argument("--dataset-config", help="its protocol, e.g. xsub")
    push.add_argument("--license", help="default: apache-2.0 for the synthetic benchmark, else other")
    push.add_argument("--base-model", help="the checkpoint this one was fine-tuned from")
    push.add_argument("--private", action="store_true")
    push.add_argument("--dry-run", metavar="FOLDER", help="write the folder that would be uploaded, upload nothing")
    push.set_defaults(func=_push)

    modeling = sub.add_parser("write-modeling", help="regenerate the remote-code bundles in modeling/")
    modeling.add_argument("--check", action="store_true", help="only report stale files (exit 1 if any)")
    modeling.add_argument("--root", help="the modeling/ folder (default: the repository's)")
    modeling.set_defaults(func=_write_modeling)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
