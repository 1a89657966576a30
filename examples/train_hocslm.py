"""Train HocSLM: HGLNet + SSF (skeleton token -> frozen causal language model) with the generation and
classification losses (Eq. 14), with the plain `Trainer` (`loss_cls` and `loss_gen` are logged separately).

The paper's strategy T3 starts from a trained HGLNet (strategy T0, e.g. from ``examples/train_supervised.py``)
and trains it jointly with the projector and the prompt while Qwen3-4B stays frozen:

    python examples/train_supervised.py --dataset ntu60 --data_dir RAW --output_dir outputs/hglnet ...
    python examples/train_hocslm.py --dataset ntu60 --data_dir RAW --skeleton_model outputs/hglnet \
        --descriptions ntu60_descriptions.jsonl --text_model_name_or_path Qwen/Qwen3-4B --text_dtype bfloat16 \
        --output_dir outputs/hocslm --num_train_epochs 85 --per_device_train_batch_size 64 --learning_rate 1e-4 \
        --weight_decay 0.01

Samples without their own description (``--descriptions``, e.g. from ``examples/generate_descriptions.py``) use
their class's description. The other strategies of Table 6 (see `HocSLMConfig`) are reached with
``--freeze_skeleton_encoder``, ``--lambda_gen`` / ``--lambda_cls`` and, for a second stage,
``--hocslm_model`` (continue from a HocSLM checkpoint). The language model's weights are not saved with the
checkpoint; its tokenizer is, with the processor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import torch
from transformers import AutoConfig, AutoTokenizer, HfArgumentParser, TrainingArguments, set_seed

from skeleton_models import (
    HGLNetConfig,
    HocSLMConfig,
    HocSLMForSkeletonClassification,
    SkeletonProcessor,
    SkeletonTextProcessor,
)
from skeleton_models.data import add_descriptions, load_skeleton_dataset
from skeleton_models.training import build_trainer


@dataclass
class ScriptArguments:
    dataset: str = field(default="synthetic", metadata={"help": "a name known to load_skeleton_dataset"})
    dataset_config: str | None = None
    data_dir: str | None = None
    dataset_options: str | None = field(default=None, metadata={"help": "builder options as JSON"})
    descriptions: str | None = field(default=None, metadata={"help": "per-sample descriptions (JSON or JSONL)"})
    class_descriptions: str | None = field(
        default=None, metadata={"help": "ntu60, ntu120 or synthetic (default: dataset)"}
    )
    skeleton_model: str | None = field(default=None, metadata={"help": "a trained HGLNet checkpoint (T1-T3)"})
    hocslm_model: str | None = field(default=None, metadata={"help": "continue from a HocSLM checkpoint (stage 2)"})
    preset: str = field(default="hglnet", metadata={"help": "HGLNet preset when training from scratch (T4)"})
    text_model_name_or_path: str = "Qwen/Qwen3-4B"
    text_dtype: str = field(default="auto", metadata={"help": "e.g. bfloat16"})
    num_prompt_tokens: int = 8
    lambda_gen: float = 1.0
    lambda_cls: float = 1.0
    freeze_skeleton_encoder: bool = False
    text_lora_rank: int = 0
    max_description_tokens: int = 64
    stream: str | None = field(default=None, metadata={"help": "input stream (default: joint, or the checkpoint's)"})
    window_size: int | None = field(default=None, metadata={"help": "frames (default: 64, or the checkpoint's)"})


def main() -> None:
    script, training_args = HfArgumentParser((ScriptArguments, TrainingArguments)).parse_args_into_dataclasses()
    dataset = load_skeleton_dataset(
        script.dataset,
        data_dir=script.data_dir,
        config=script.dataset_config,
        **json.loads(script.dataset_options or "{}"),
    )
    class_texts = script.class_descriptions or (
        script.dataset if script.dataset in ("synthetic", "ntu60", "ntu120") else None
    )
    dataset = add_descriptions(dataset, script.descriptions, class_descriptions=class_texts)
    names = dataset["train"].features["label"].names
    text_config = AutoConfig.from_pretrained(script.text_model_name_or_path).get_text_config()
    options = dict(
        text_model_name_or_path=script.text_model_name_or_path,
        text_hidden_size=text_config.hidden_size,
        num_prompt_tokens=script.num_prompt_tokens,
        lambda_gen=script.lambda_gen,
        lambda_cls=script.lambda_cls,
        freeze_skeleton_encoder=script.freeze_skeleton_encoder,
        text_lora_rank=script.text_lora_rank,
    )
    text_kwargs = {"dtype": script.text_dtype if script.text_dtype == "auto" else getattr(torch, script.text_dtype)}
    tokenizer = AutoTokenizer.from_pretrained(script.text_model_name_or_path)
    if script.hocslm_model:  # a later stage: same weights, this stage's settings
        model = HocSLMForSkeletonClassification.from_pretrained(script.hocslm_model, **options)
        skeletons = SkeletonProcessor.from_pretrained(script.hocslm_model)
    else:
        if script.skeleton_model:  # the HGLNet's own processing (its stream and window) when it saved one
            try:
                skeletons = SkeletonProcessor.from_pretrained(script.skeleton_model)
            except OSError:
                skeletons = SkeletonProcessor.for_dataset(
                    dataset, window_size=script.window_size or 64, stream=script.stream or "joint"
                )
            for name in ("stream", "window_size"):
                given = getattr(script, name)
                if given is not None and given != getattr(skeletons, name):
                    raise ValueError(
                        f"--{name} {given} differs from the --skeleton_model checkpoint's {getattr(skeletons, name)}; "
                        "HocSLM continues the HGLNet on the inputs it was trained on"
                    )
            model = HocSLMForSkeletonClassification.from_skeleton_model(script.skeleton_model, **options)
        else:
            skeletons = SkeletonProcessor.for_dataset(
                dataset, window_size=script.window_size or 64, stream=script.stream or "joint"
            )
            skeleton = HGLNetConfig.from_preset(
                script.preset,
                layout=skeletons.layout,
                in_channels=dataset["train"].features["skeleton"].shape[-1],
                num_persons=skeletons.num_persons,
            )
            config = HocSLMConfig(
                skeleton_config=skeleton.to_dict(), num_labels=len(names), id2label=dict(enumerate(names)), **options
            )
            set_seed(training_args.seed)  # the Trainer seeds only when it is built: seed the initialisation too
            model = HocSLMForSkeletonClassification(config)
    model.attach_text_model(**text_kwargs)
    processor = SkeletonTextProcessor(skeletons, tokenizer, max_text_tokens=script.max_description_tokens)
    trainer = build_trainer(model, processor, dataset["train"], dataset["test"], training_args)
    trainer.train()
    metrics = trainer.evaluate()
    trainer.log_metrics("eval", metrics)
    trainer.save_metrics("eval", metrics)
    model.save_pretrained(training_args.output_dir)
    processor.save_pretrained(training_args.output_dir)  # skeleton processing and the tokenizer


if __name__ == "__main__":
    main()
