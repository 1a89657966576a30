"""Train (or load) a skeleton classifier, evaluate it, and push it to the Hub with the results in its model card.

Push the quickstart checkpoint (repo names follow ``<arch>-<dataset>[-<protocol>]``):

    skeleton-models quickstart
    python examples/push_to_hub.py --model_name_or_path quickstart-output --dataset synthetic --dataset_config xsub \
        --repo_id YOUR_ORG/hglnet-synthetic-xsub

Or train a small HGLNet here first and only write the folder that would be uploaded:

    python examples/push_to_hub.py --dataset synthetic --epochs 2 --repo_id YOUR_ORG/hglnet-synthetic-xsub \
        --dry_run outputs/hub-folder

Uploading needs a token (``hf auth login`` or ``HF_TOKEN``); ``--dry_run`` needs none.
"""

from __future__ import annotations

import argparse
import json
import tempfile

import torch
from transformers import TrainingArguments

from skeleton_models import HGLNetConfig, HGLNetForSkeletonClassification, SkeletonProcessor, load_checkpoint
from skeleton_models.data import load_skeleton_dataset
from skeleton_models.hub import push_model, save_for_hub
from skeleton_models.registry import load_processor
from skeleton_models.training import build_trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo_id", required=True)
    parser.add_argument("--model_name_or_path", help="a checkpoint folder or Hub repo; omit to train here")
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--dataset_config", default=None)
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--dataset_options", default="{}", help="builder options as JSON")
    parser.add_argument("--epochs", type=float, default=12, help="training epochs when no model is given")
    parser.add_argument("--window_size", type=int, default=32, help="frames per clip when training here")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--dry_run", metavar="FOLDER", help="write the folder instead of uploading it")
    args = parser.parse_args()

    dataset = load_skeleton_dataset(
        args.dataset, data_dir=args.data_dir, config=args.dataset_config, **json.loads(args.dataset_options)
    )
    work = tempfile.mkdtemp(prefix="push_to_hub_")
    if args.model_name_or_path:
        model = load_checkpoint(args.model_name_or_path, dtype=torch.float32)
        processor = load_processor(args.model_name_or_path)
        training = None
    else:
        names = dataset["train"].features["label"].names
        processor = SkeletonProcessor.for_dataset(dataset, window_size=args.window_size)
        config = HGLNetConfig.from_preset(
            "hglnet-small",
            layout=processor.layout,
            in_channels=dataset["train"].features["skeleton"].shape[-1],
            num_persons=processor.num_persons,
            num_labels=len(names),
            id2label=dict(enumerate(names)),
        )
        model = HGLNetForSkeletonClassification(config)
        training = TrainingArguments(
            work,
            num_train_epochs=args.epochs,
            per_device_train_batch_size=16,
            learning_rate=2e-3,
            weight_decay=0.01,
            warmup_steps=0.1,
            lr_scheduler_type="cosine",
            save_strategy="no",
            report_to="none",
        )
        build_trainer(model, processor, dataset["train"], None, training).train()

    evaluation = build_trainer(model, processor, None, dataset["test"], TrainingArguments(work, report_to="none"))
    metrics = evaluation.evaluate()
    results = {k: metrics[f"eval_{k}"] for k in ("top1", "top5", "mean_class_accuracy")}
    print({k: round(v, 4) for k, v in results.items()})
    card = {
        "results": results,
        "dataset": args.dataset,
        "dataset_config": dataset["train"].info.config_name,
        "training": training,
    }
    if args.dry_run:
        folder = save_for_hub(model, processor, args.dry_run, args.repo_id, **card)
        print(f"wrote {folder}; nothing uploaded")
    else:
        commit = push_model(model, processor, args.repo_id, private=args.private, **card)
        print(f"pushed to https://huggingface.co/{args.repo_id}: {commit}")


if __name__ == "__main__":
    main()
