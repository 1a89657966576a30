"""Model cards: one shared template (``card_templates/base.md``) plus a short body per architecture
(``card_templates/<model_type>.md``, a Jinja child template that fills the base's blocks), rendered into the
README.md of a Hub repository with a model-index of the evaluation results."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
from huggingface_hub import EvalResult, ModelCard, ModelCardData
from transformers import AutoConfig

from ..registry import get_architecture
from ..skeletons import get_layout

__all__ = ["DATASET_NAMES", "METRIC_NAMES", "TEMPLATES", "model_card"]

TEMPLATES = Path(__file__).parent / "card_templates"
DATASET_NAMES = {
    "synthetic": "skeleton-models synthetic benchmark",
    "ntu60": "NTU RGB+D 60",
    "ntu120": "NTU RGB+D 120",
    "nwucla": "Northwestern-UCLA",
    "pkummd1": "PKU-MMD Phase I",
    "pkummd2": "PKU-MMD Phase II",
    "kinetics_skeleton": "Kinetics-Skeleton",
    "pyskl": "pyskl annotations",
}
METRIC_NAMES = {"top1": "Top-1 accuracy", "top5": "Top-5 accuracy", "mean_class_accuracy": "Mean class accuracy"}
_TRAINING_KEYS = (
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "learning_rate",
    "weight_decay",
    "lr_scheduler_type",
    "warmup_steps",
    "optim",
    "seed",
)
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True, autoescape=False)


def _config_json(config) -> str:
    """The config as the card shows it: the fields that differ from a default config of the same class (a nested
    config: from a default one of its ``model_type``), without ``transformers_version`` and private fields such as
    ``_name_or_path`` (where it was loaded from). Computed here, not by
    ``to_diff_dict``, whose output (the version, how nested configs are reduced) changes between transformers
    releases: the card must not change with the release that renders it (the uploaded ``config.json`` records it)."""
    fields = {"model_type": config.model_type, **_differences(config.to_dict(), type(config)().to_dict())}
    return json.dumps(fields, indent=2, sort_keys=True)


def _differences(fields: dict, defaults: dict) -> dict:
    out = {}
    for key, value in fields.items():
        if key.startswith("_") or key == "transformers_version" or (key in defaults and defaults[key] == value):
            continue
        if isinstance(value, dict) and "model_type" in value:  # a nested config
            default = defaults.get(key)
            if not (isinstance(default, dict) and default.get("model_type") == value["model_type"]):
                default = AutoConfig.for_model(value["model_type"]).to_dict()
            value = {"model_type": value["model_type"], **_differences(value, default)}
        out[key] = value
    return out


def _metrics(results: dict | None) -> dict[str, float]:
    """The accuracy metrics among `results` (other entries, e.g. a wall time, are not model-index material)."""
    return {k: float(v) for k, v in (results or {}).items() if k in METRIC_NAMES}


def _format_results(results: dict[str, float]) -> str:
    rows = [f"| {METRIC_NAMES[k]} | {100 * v:.2f} % |" for k, v in results.items()]
    return "| metric | value |\n|---|---|\n" + "\n".join(rows) if rows else "No evaluation results were given."


def _format_training(training) -> str:
    if training is None:
        return "Not recorded."
    if isinstance(training, str):
        return training
    values = training.to_dict() if hasattr(training, "to_dict") else dict(training)
    lines = [f"- `{k}`: {values[k]}" for k in _TRAINING_KEYS if k in values and values[k] not in (None, -1)]
    return "\n".join(lines) or "-"


def _format_inputs(config) -> str:
    parts = []
    for spec in config.input_specs:
        if spec.kind == "skeleton":
            layout = get_layout(spec.layout)
            persons = f"M={spec.persons}" if spec.persons else "M"
            parts.append(
                f"`{spec.name}`, a float32 tensor of shape `(N, C, T, V, M)`: batch, coordinates (C={spec.channels}), "
                f"frames, joints (V={layout.num_joints}, {layout.name} layout), persons ({persons})"
            )
        elif spec.kind == "text":
            optional = " (optional: used for a training loss)" if spec.optional else ""
            parts.append(f"`{spec.name}_ids` and `{spec.name}_mask`, (N, L) token ids and mask{optional}")
        elif spec.kind == "features":
            optional = (
                " (optional: instead of the skeletons, precomputed by the frozen encoder)" if spec.optional else ""
            )
            parts.append(f"`{spec.name}`, a float32 tensor of shape `(N, {spec.channels})`{optional}")
        elif spec.kind == "image":
            size = f"H={spec.size[0]}, W={spec.size[1]}" if spec.size else "H, W"
            parts.append(f"`{spec.name}`, a float32 image `(N, {spec.channels}, {size})` (normalised RGB)")
        else:
            parts.append(f"`{spec.name}`, video frames `(N, T, 3, H, W)`")
    return "; ".join(parts)


def model_card(
    model,
    processor,
    repo_id: str,
    results: dict[str, float] | None = None,
    dataset: str | None = None,
    dataset_config: str | None = None,
    split: str = "test",
    training=None,
    license: str | None = None,
    base_model: str | None = None,
    provenance: str | None = None,
) -> ModelCard:
    """The model card of a checkpoint.

    Args:
        model: the model (its configuration, class and parameter count go into the card).
        processor: its `SkeletonProcessor` / `SkeletonTextProcessor`, or the processor's ``to_dict()``.
        results: metrics in [0, 1] (``top1``, ``top5``, ``mean_class_accuracy``; other keys are ignored), written
            to the model-index in %.
        dataset, dataset_config: the benchmark (a `load_skeleton_dataset` name) and protocol evaluated on.
        training: `TrainingArguments`, a dict of hyper-parameters or free text.
        license: the card's licence (default: apache-2.0 for the synthetic benchmark, "other" otherwise: the
            training data's terms apply to weights trained on it).
        base_model: the checkpoint this one was fine-tuned from, if any.
        provenance: where weights not trained here come from (a converted official checkpoint); the card shows it
            instead of the training section.
    """
    config = model.config
    model_type = config.model_type
    arch = get_architecture(model_type)
    if not (TEMPLATES / f"{model_type}.md").exists():
        raise ValueError(f"no model-card body {model_type}.md in {TEMPLATES}")
    results = _metrics(results)
    name = repo_id.rsplit("/", 1)[-1]
    eval_results = [
        EvalResult(
            task_type="video-classification",
            task_name="Skeleton-based action recognition",
            dataset_type=dataset,
            dataset_name=DATASET_NAMES.get(dataset, dataset),
            dataset_config=dataset_config,
            dataset_split=split,
            metric_type="accuracy",
            metric_name=f"{METRIC_NAMES[k]} (%)",
            metric_value=round(100 * v, 2),
        )
        for k, v in results.items()
        if dataset
    ]
    card_data = ModelCardData(
        model_name=name,
        library_name="transformers",
        pipeline_tag="video-classification",
        license=license or ("apache-2.0" if dataset in (None, "synthetic") else "other"),
        tags=["skeleton-models", "skeleton-based-action-recognition", model_type, "custom_code"],
        datasets=[dataset] if dataset else None,
        metrics=["accuracy"] if eval_results else None,
        base_model=base_model,
        eval_results=eval_results or None,
    )
    num_params = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("text_model."))
    text = _ENV.get_template(f"{model_type}.md").render(
        card_data=card_data.to_yaml(),
        repo_id=repo_id,
        model_name=name,
        model_class=type(model).__name__,
        base_model_class=arch.base_model_class.__name__,
        num_params=f"{num_params / 1e6:.2f} M",
        dataset_name=DATASET_NAMES.get(dataset, dataset) if dataset else "an unspecified dataset",
        dataset_config=dataset_config or "",
        results_table=_format_results(results),
        training=_format_training(training),
        inputs=_format_inputs(config),
        processor_json=json.dumps(
            processor if isinstance(processor, dict) else processor.to_dict(), indent=2, sort_keys=True, default=str
        ),
        config_json=_config_json(config),
        num_labels=config.num_labels,
        config=config,
        paper=arch.paper,
        provenance=provenance,
    )
    return ModelCard(text)
