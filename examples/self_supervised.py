"""Self-supervised pre-training and the four evaluation protocols of the skeleton SSL papers, for any architecture
with a pre-training model (GFP and its MAMP / SkeletonMAE presets, SLiM), with the plain `Trainer`.

``--protocol`` picks the step; each reads the raw benchmark with `load_skeleton_dataset` and writes
``<output_dir>/results.json``:

- ``pretrain``: masked skeleton modeling on the training split (labels unused); the checkpoint (an
  ``AutoModelForPreTraining`` folder with its processor) plus ``pretraining.json`` (which dataset it saw).
- ``knn``: the frozen encoder's pooled features of the training and test clips, computed once: 1-NN cosine
  retrieval (GFP Table 3) and MAMP's linear head trained on the cached features (`feature_linear_probe`).
- ``linear``: linear evaluation with the Trainer (MAMP: frozen encoder, mean pooling, BatchNorm without affine, a
  linear layer; SGD lr 0.1, 100 epochs, with the training-time crops and rotations); the last and the best epoch
  (MAMP reports the best).
- ``finetune``: the whole encoder with MAMP's fine-tuning head (dropout, joints concatenated, Linear-BN-ReLU-Linear),
  drop-path, label smoothing (``--label_smoothing_factor``) and layer-wise learning-rate decay
  (`layer_decay_parameter_groups`); with ``--labelled_fraction 0.01`` / ``0.1`` the semi-supervised protocol: a
  per-class random subset of the labels (``--labelled_sampling random``: MAMP's draw over all rows), ``--repeats``
  draws, mean and standard deviation of the last and of the best epoch (MAMP reports the best).

Transfer is any evaluation protocol on a dataset other than the one in the checkpoint's ``pretraining.json``; the
results then say ``"transfer": "<source> -> <target>"``.

MAMP's recipes on NTU-60 xsub (4 GPUs for pre-training in the paper; ``--per_device_train_batch_size`` is per
device):

    # pre-training (GFP: 400 epochs, AdamW betas 0.9 / 0.95, wd 0.05, lr 1e-3 -> 5e-4 cosine, 20 warm-up epochs)
    python examples/self_supervised.py --protocol pretrain --dataset ntu60 --data_dir /data/nturgbd \
        --preset gfp --output_dir outputs/gfp-ntu60 --num_train_epochs 400 --per_device_train_batch_size 128 \
        --learning_rate 1e-3 --adam_beta2 0.95 --weight_decay 0.05 --lr_scheduler_type cosine_with_min_lr \
        --lr_scheduler_kwargs '{"min_lr": 5e-4}' --warmup_steps 0.05 --window_size 120
    # linear evaluation (100 epochs, SGD lr 0.1)
    python examples/self_supervised.py --protocol linear --checkpoint outputs/gfp-ntu60 --dataset ntu60 \
        --data_dir /data/nturgbd --output_dir outputs/gfp-ntu60-linear --num_train_epochs 100 \
        --per_device_train_batch_size 256 --learning_rate 0.1 --optim sgd --optim_args momentum=0.9 \
        --weight_decay 0 --lr_scheduler_type cosine --eval_strategy epoch --window_size 120
    # semi-supervised, 1 % of the labels, 5 draws (lr 3e-4 -> 1e-5, layer decay 0.8, 100 epochs, 5 warm-up)
    python examples/self_supervised.py --protocol finetune --labelled_fraction 0.01 --repeats 5 \
        --checkpoint outputs/gfp-ntu60 --dataset ntu60 --data_dir /data/nturgbd --output_dir outputs/gfp-semi1 \
        --num_train_epochs 100 --per_device_train_batch_size 48 --learning_rate 3e-4 --weight_decay 0.05 \
        --lr_scheduler_type cosine_with_min_lr --lr_scheduler_kwargs '{"min_lr": 1e-5}' --warmup_steps 0.05 \
        --label_smoothing_factor 0.1 --eval_strategy epoch --window_size 120

SLiM (``--model_type slim --preset slim``; its collator draws the views from each clip resized to 128 frames and
the teacher follows by EMA): AdamW, lr 2e-4 per 256 clips, 20 warm-up epochs, cosine to 1e-6, 150 epochs, batch 768,
``--window_size 64`` for the evaluations.

On the synthetic benchmark, with ``--preset gfp-small`` or ``slim-small`` and ``--window_size 64``, each step takes
minutes on a CPU.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import HfArgumentParser, TrainingArguments, set_seed

from skeleton_models import ARCHITECTURES, SLiMForPreTraining
from skeleton_models.data import load_skeleton_dataset
from skeleton_models.processing_skeleton import get_skeleton_spec
from skeleton_models.training import (
    build_slim_pretraining_trainer,
    build_trainer,
    compute_features,
    feature_linear_probe,
    knn_accuracy,
    labelled_subset,
    layer_decay_parameter_groups,
    processor_for_model,
    reestimate_batchnorm,
)

PROTOCOLS = ("pretrain", "knn", "linear", "finetune")


@dataclass
class ScriptArguments:
    protocol: str = field(default="pretrain", metadata={"help": "pretrain, knn, linear or finetune"})
    dataset: str = field(default="synthetic", metadata={"help": "ntu60, ntu120, pkummd2, synthetic, ..."})
    dataset_config: str | None = field(default="xsub", metadata={"help": "protocol"})
    data_dir: str | None = field(default=None, metadata={"help": "folder of the raw benchmark files"})
    dataset_options: str | None = field(default=None, metadata={"help": "builder options as JSON"})
    model_type: str = field(default="gfp", metadata={"help": "an architecture with a pre-training model"})
    preset: str | None = field(default="gfp-small", metadata={"help": "pretrain: the configuration preset"})
    config_overrides: str | None = field(default=None, metadata={"help": "pretrain: configuration fields as JSON"})
    checkpoint: str | None = field(default=None, metadata={"help": "evaluation: a pre-trained folder (or none)"})
    window_size: int = field(default=64, metadata={"help": "frames per clip (MAMP / GFP: 120)"})
    labelled_fraction: float = field(default=1.0, metadata={"help": "finetune: 0.01 / 0.1 for semi-supervised"})
    labelled_sampling: str = field(
        default="per_class",
        metadata={
            "help": "finetune: per_class (the fraction of every class, at least one each: stable on small sets) or "
            "random (MAMP's: the fraction of all rows, whatever their class)"
        },
    )
    repeats: int = field(default=1, metadata={"help": "finetune: labelled subsets drawn (MAMP: 5)"})
    reestimate_batchnorm: bool = field(
        default=False,
        metadata={
            "help": "finetune: also evaluate after replacing the head's BatchNorm running statistics by their "
            "average over the labelled clips (few steps leave them stale)"
        },
    )
    layer_decay: float = field(default=0.8, metadata={"help": "finetune: layer-wise lr decay (MAMP: 0.8)"})
    drop_path_rate: float = field(default=0.3, metadata={"help": "finetune: MAMP 0.3"})
    head_dropout: float = field(default=0.3, metadata={"help": "finetune: MAMP 0.3"})


def load_dataset(script: ScriptArguments):
    return load_skeleton_dataset(
        script.dataset,
        data_dir=script.data_dir,
        config=script.dataset_config,
        **json.loads(script.dataset_options or "{}"),
    )


def source_of(script: ScriptArguments) -> dict:
    """What the checkpoint was pre-trained on (its ``pretraining.json``), and whether this run is a transfer."""
    if script.checkpoint is None:
        return {"pretraining": "none (random initialisation)"}
    path = Path(script.checkpoint) / "pretraining.json"
    source = json.loads(path.read_text()) if path.exists() else {}
    info = {"pretraining": source or "unknown"}
    here, there = dataset_name(vars(script)), dataset_name(source)
    if source and there != here:
        info["transfer"] = f"{there} -> {here}"
    return info


def dataset_name(fields: dict) -> str:
    """``dataset/config`` plus the builder options, e.g. ``synthetic/xsub {"seed": 1}``."""
    options = fields.get("dataset_options")
    return f"{fields.get('dataset')}/{fields.get('dataset_config')}" + (f" {options}" if options else "")


def pretrain(script, args, dataset) -> dict:
    architecture = ARCHITECTURES[script.model_type]
    model_class = architecture.task_classes["AutoModelForPreTraining"]
    skeleton = dataset["train"].features["skeleton"]
    overrides = dict(layout=get_skeleton_spec(dataset, "skeleton")["layout"], in_channels=skeleton.shape[-1])
    overrides.update(json.loads(script.config_overrides or "{}"))
    config = architecture.config_class.from_preset(script.preset, num_frames=script.window_size, **overrides)
    model = model_class(config)
    if isinstance(model, SLiMForPreTraining):  # views, masks and augmentations from its collator; the EMA teacher
        trainer = build_slim_pretraining_trainer(model, dataset["train"], args)
    else:
        processor = processor_for_model(config, dataset["train"], window_size=script.window_size)
        trainer = build_trainer(model, processor, dataset["train"], None, args)
    trainer.train()
    trainer.save_model(args.output_dir)
    source = {
        "dataset": script.dataset,
        "dataset_config": script.dataset_config,
        "dataset_options": script.dataset_options,
        "preset": script.preset,
    }
    (Path(args.output_dir) / "pretraining.json").write_text(json.dumps(source, indent=2) + "\n")
    losses = [e for e in trainer.state.log_history if "loss" in e]
    return {"pretraining": source, "last_log": losses[-1] if losses else None}


def classifier(script, dataset, **overrides):
    """The architecture's classifier over the pre-trained encoder (or a random one without a checkpoint) for the
    dataset's classes, and a processor for the dataset (its layout and channels: the target's, when transferring)."""
    names = dataset["train"].features["label"].names
    labels = dict(num_labels=len(names), id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})
    classification_class = ARCHITECTURES[script.model_type].classification_class
    if script.checkpoint is None:
        config = ARCHITECTURES[script.model_type].config_class.from_preset(
            script.preset, num_frames=script.window_size, **labels, **overrides
        )
        model = classification_class(config)
    else:
        model = classification_class.from_pretrained(script.checkpoint, **labels, **overrides)
    return model, processor_for_model(model.config, dataset["train"], window_size=script.window_size)


def knn(script, args, dataset) -> dict:
    model, processor = classifier(script, dataset)
    train = compute_features(model, dataset["train"], processor).with_format("numpy")
    test = compute_features(model, dataset["test"], processor).with_format("numpy")
    features = (train["features"], train["label"], test["features"], test["label"])
    return {
        "knn_top1": knn_accuracy(*features, k=1),
        "cached_feature_linear_probe_top1": feature_linear_probe(*features, epochs=100, seed=args.seed),
    }


def best_and_last(trainer) -> dict:
    accuracies = [100 * e["eval_top1"] for e in trainer.state.log_history if "eval_top1" in e]
    return {"last_top1": accuracies[-1], "best_top1": max(accuracies)}


def linear(script, args, dataset) -> dict:
    model, processor = classifier(script, dataset, freeze_encoder=True, classifier_head="linear_probe")
    trainer = build_trainer(model, processor, dataset["train"], dataset["test"], args)
    trainer.train()
    trainer.evaluate()  # the last epoch, also when evaluation is not per epoch
    trainer.save_model(args.output_dir)
    return best_and_last(trainer)


def finetune(script, args, dataset) -> dict:
    runs = []
    for repeat in range(script.repeats):
        set_seed(args.seed + repeat)
        train = dataset["train"]
        if script.labelled_fraction < 1:
            train = labelled_subset(
                train, script.labelled_fraction, seed=args.seed + repeat, sampling=script.labelled_sampling
            )
        model, processor = classifier(
            script,
            dataset,
            freeze_encoder=False,
            classifier_head="finetune",
            drop_path_rate=script.drop_path_rate,
            classifier_dropout=script.head_dropout,
        )
        groups = layer_decay_parameter_groups(model, args.learning_rate, args.weight_decay, script.layer_decay)
        optimizer = torch.optim.AdamW(groups, lr=args.learning_rate, betas=(args.adam_beta1, args.adam_beta2))
        trainer = build_trainer(model, processor, train, dataset["test"], args, optimizers=(optimizer, None))
        trainer.train()
        trainer.evaluate()
        run = {"labelled_clips": len(train), **best_and_last(trainer)}
        if script.reestimate_batchnorm:
            reestimate_batchnorm(trainer.model, trainer.get_train_dataloader())
            run["last_top1_batchnorm_reestimated"] = 100 * trainer.evaluate()["eval_top1"]
        runs.append(run)
    last = [r["last_top1"] for r in runs]
    best = [r["best_top1"] for r in runs]
    return {
        "labelled_fraction": script.labelled_fraction,
        "runs": runs,
        "last_top1_mean": float(np.mean(last)),
        "last_top1_std": float(np.std(last)),
        "best_top1_mean": float(np.mean(best)),
        "best_top1_std": float(np.std(best)),
    }


def main() -> None:
    script, args = HfArgumentParser((ScriptArguments, TrainingArguments)).parse_args_into_dataclasses()
    if script.protocol not in PROTOCOLS:
        raise SystemExit(f"--protocol must be one of {PROTOCOLS}, got {script.protocol!r}")
    if script.protocol != "pretrain" and script.checkpoint is None and script.preset is None:
        raise SystemExit("give --checkpoint (a pre-trained folder) or --preset (a randomly initialised encoder)")
    set_seed(args.seed)
    dataset = load_dataset(script)
    step = {"pretrain": pretrain, "knn": knn, "linear": linear, "finetune": finetune}[script.protocol]
    results = {"protocol": script.protocol, "dataset": f"{script.dataset}/{script.dataset_config}"}
    if script.protocol != "pretrain":
        results.update(source_of(script))
    results.update(step(script, args, dataset))
    print(json.dumps(results, indent=2), flush=True)
    Path(args.output_dir).mkdir(parents=True, exist_ok=True)
    (Path(args.output_dir) / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
