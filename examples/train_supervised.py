"""Train any registered skeleton classifier on any dataset config and stream with the plain `transformers.Trainer`.

Every `TrainingArguments` field is a command-line option (``--learning_rate``, ``--num_train_epochs``, ...).

The quickstart recipe, on the built-in synthetic benchmark (about 3 minutes on 2 CPU cores):

    python examples/train_supervised.py --dataset synthetic --dataset_config xsub --preset hglnet-small \
        --window_size 32 --num_train_epochs 12 --per_device_train_batch_size 16 --learning_rate 2e-3 \
        --weight_decay 0.01 --warmup_steps 0.1 --lr_scheduler_type cosine --output_dir outputs/hglnet-synthetic

On several processes or GPUs, the same script under accelerate (or torchrun); metrics are gathered across
processes and the loss is not rescaled (`tests/test_training.py::test_two_process_training_with_accelerate`):

    accelerate launch --num_processes 2 examples/train_supervised.py --dataset synthetic ...

One stream of HocSLM's 6-stream ensemble (paper section 4.2: batch 64, 85 epochs, AdamW 1e-4, weight decay 0.01):

    python examples/train_supervised.py --dataset synthetic --stream bone2_motion --window_size 64 \
        --num_train_epochs 85 --per_device_train_batch_size 64 --learning_rate 1e-4 --weight_decay 0.01 \
        --output_dir outputs/hglnet-synthetic-bone2-motion
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from transformers import AutoModelForVideoClassification, HfArgumentParser, TrainingArguments, set_seed

from skeleton_models import ARCHITECTURES
from skeleton_models.data import load_skeleton_dataset
from skeleton_models.processing_skeleton import get_skeleton_spec
from skeleton_models.training import build_trainer, processor_for_model


@dataclass
class ScriptArguments:
    dataset: str = field(default="synthetic", metadata={"help": "a name known to load_skeleton_dataset"})
    dataset_config: str | None = field(default=None, metadata={"help": "protocol, e.g. xsub or xview"})
    data_dir: str | None = field(default=None, metadata={"help": "folder of the raw benchmark files"})
    dataset_options: str | None = field(
        default=None, metadata={"help": "builder options as JSON, e.g. '{\"seed\": 1}'"}
    )
    cache_dir: str | None = field(default=None, metadata={"help": "datasets cache folder"})
    model_type: str = field(default="hglnet", metadata={"help": f"one of {sorted(ARCHITECTURES)}"})
    preset: str | None = field(
        default=None, metadata={"help": "named configuration, e.g. hglnet-small (default: the paper's)"}
    )
    config_overrides: str | None = field(
        default=None, metadata={"help": "config fields as JSON, e.g. '{\"use_gta\": false}'"}
    )
    stream: str = field(default="joint", metadata={"help": "joint, bone, bone2, or any of them + _motion"})
    window_size: int = field(default=64, metadata={"help": "frames per clip after resampling"})
    num_persons: int | None = field(default=None, metadata={"help": "persons per clip (default: the dataset's)"})
    processor_options: str | None = field(
        default=None, metadata={"help": "SkeletonProcessor options as JSON, e.g. '{\"random_rotation\": 0}'"}
    )


def main() -> None:
    script, training_args = HfArgumentParser((ScriptArguments, TrainingArguments)).parse_args_into_dataclasses()
    dataset = load_skeleton_dataset(
        script.dataset,
        data_dir=script.data_dir,
        config=script.dataset_config,
        cache_dir=script.cache_dir,
        **json.loads(script.dataset_options or "{}"),
    )
    names = dataset["train"].features["label"].names
    skeleton = dataset["train"].features["skeleton"]  # the body column: (T, M, V, C) with its layout in the feature
    config = ARCHITECTURES[script.model_type].config_class.from_preset(
        script.preset,
        layout=get_skeleton_spec(dataset, "skeleton")["layout"],
        in_channels=skeleton.shape[-1],
        num_persons=script.num_persons or skeleton.shape[1],
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)},
        **json.loads(script.config_overrides or "{}"),
    )
    set_seed(training_args.seed)  # the Trainer seeds only when it is built: seed the initialisation too
    model = AutoModelForVideoClassification.from_config(config)
    # one processor input per skeleton input of the model (BHaRNet: body and hands), same window and stream
    processor = processor_for_model(
        config,
        dataset,
        window_size=script.window_size,
        stream=script.stream,
        **json.loads(script.processor_options or "{}"),
    )

    trainer = build_trainer(model, processor, dataset["train"], dataset["test"], training_args)
    trainer.train()
    metrics = trainer.evaluate()
    trainer.log_metrics("eval", metrics)
    trainer.save_metrics("eval", metrics)
    trainer.save_state()  # trainer_state.json: the log history
    trainer.save_model(training_args.output_dir)  # model and processor, from the main process only


if __name__ == "__main__":
    main()
