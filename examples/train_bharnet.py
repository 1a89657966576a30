"""BHaRNet in two stages (section IV-A): the body and hand experts trained separately, then the joint model
initialised from them and fine-tuned with the complementary loss (and cross-attention / expertized branches).

Every `TrainingArguments` field is a command-line option; the defaults below are DeGCN's schedule (the paper gives
none): SGD with Nesterov momentum, lr 0.1, weight decay 4e-4, batch 64, 80 epochs, 5 warm-up epochs, window 64.

    python examples/train_bharnet.py --dataset synthetic --joint_preset bharnet-e --stream joint \\
        --output_dir outputs/bharnet-synthetic-joint

writes ``<output_dir>/body-expert``, ``<output_dir>/hand-expert`` and ``<output_dir>/<joint_preset>``, each a
checkpoint with its processor, and prints every model's metrics, plus the score fusion of the two separately
trained experts (Table III "Score fusion w/o L_c"). Run it once per stream (``--stream bone`` for the Joint + Bone
ensembles of Table I) and fuse the checkpoints with ``examples/ensemble.py``.

BHaRNet-M (Table II) needs a dataset with an ``rgb_rois`` column (``--dataset_options '{"rgb": true}'`` for the
synthetic benchmark, ``'{"rgb_dir": "..."}'`` for NTU) and ``--joint_preset bharnet-m`` (or ``bharnet-m-body-gcn``,
whose separate guidance GCN is the stage-1 body expert); ``--rgb_backbone_checkpoint microsoft/resnet-18`` starts
the RGB stream from ImageNet weights, as the paper's.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import torch
from transformers import HfArgumentParser, TrainingArguments, set_seed

from skeleton_models import BHaRNetConfig, BHaRNetForSkeletonClassification
from skeleton_models.data import load_skeleton_dataset
from skeleton_models.training import build_trainer, evaluate_ensemble, processor_for_model


@dataclass
class ScriptArguments:
    dataset: str = field(default="synthetic", metadata={"help": "a name known to load_skeleton_dataset"})
    dataset_config: str | None = field(default=None, metadata={"help": "protocol, e.g. xsub"})
    data_dir: str | None = field(default=None, metadata={"help": "folder of the raw benchmark files"})
    dataset_options: str | None = field(default=None, metadata={"help": "builder options as JSON"})
    joint_preset: str = field(default="bharnet-p", metadata={"help": "the jointly fine-tuned model's preset"})
    config_overrides: str | None = field(
        default=None, metadata={"help": 'config fields of all three models as JSON, e.g. \'{"backbone": "stgcn"}\''}
    )
    stream: str = field(default="joint", metadata={"help": "joint, bone, ... (for body and hands alike)"})
    window_size: int = field(default=64)
    expert_epochs: float | None = field(default=None, metadata={"help": "epochs of stage 1 (default: as stage 2)"})
    rgb_backbone_checkpoint: str | None = field(
        default=None, metadata={"help": "BHaRNet-M: a transformers ResNet checkpoint for the RGB stream"}
    )


def train(preset, dataset, script, training_args, output_dir, experts=None):
    names = dataset["train"].features["label"].names
    config = BHaRNetConfig.from_preset(
        preset,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
        **json.loads(script.config_overrides or "{}"),
    )
    set_seed(training_args.seed)  # the Trainer seeds only when it is built: seed the initialisation too
    model = BHaRNetForSkeletonClassification(config)
    if experts is not None:
        guide = experts["body"] if config.rgb_stream and config.rgb_guidance_source == "body_gcn" else None
        model.load_experts(**experts, guide=guide)
    if config.rgb_stream and script.rgb_backbone_checkpoint:
        model.load_rgb_backbone(script.rgb_backbone_checkpoint)
    processor = processor_for_model(config, dataset, window_size=script.window_size, stream=script.stream)
    args = TrainingArguments(**{**training_args.to_dict(), "output_dir": output_dir})
    trainer = build_trainer(model, processor, dataset["train"], dataset["test"], args)
    trainer.train()
    metrics = trainer.evaluate()
    trainer.save_metrics("eval", metrics)
    model.save_pretrained(output_dir)
    processor.save_pretrained(output_dir)
    return model, metrics


def main() -> None:
    parser = HfArgumentParser((ScriptArguments, TrainingArguments))
    script, training_args = parser.parse_args_into_dataclasses()
    dataset = load_skeleton_dataset(
        script.dataset,
        data_dir=script.data_dir,
        config=script.dataset_config,
        **json.loads(script.dataset_options or "{}"),
    )
    root = training_args.output_dir
    stage1 = training_args
    if script.expert_epochs is not None:
        stage1 = TrainingArguments(**{**training_args.to_dict(), "num_train_epochs": script.expert_epochs})
    results, experts = {}, {}
    for kind in ("body", "hand"):
        folder = os.path.join(root, f"{kind}-expert")
        experts[kind], results[f"{kind}-expert"] = train(f"{kind}-expert", dataset, script, stage1, folder)
    fusion = evaluate_ensemble([os.path.join(root, "body-expert"), os.path.join(root, "hand-expert")], dataset["test"])
    results["score-fusion (separately trained experts)"] = fusion.fused
    _, results[script.joint_preset] = train(
        script.joint_preset, dataset, script, training_args, os.path.join(root, script.joint_preset), experts
    )
    print(json.dumps(results, indent=2, default=float))
    with open(os.path.join(root, "results.json"), "w") as f:
        json.dump(results, f, indent=2, default=float)


if __name__ == "__main__":
    torch.backends.cudnn.benchmark = torch.cuda.is_available()
    main()
