import json
import subprocess
import sys
from pathlib import Path

import evaluate
import numpy as np
import pytest
import torch
from transformers import EvalPrediction, TrainingArguments

from skeleton_models import HGLNetConfig, HGLNetForSkeletonClassification, SkeletonProcessor
from skeleton_models.data import ModelInputsDataset
from skeleton_models.training import METRIC_PATH, build_trainer, classification_metrics, make_compute_metrics

ROOT = Path(__file__).resolve().parents[1]


def tiny_model(num_labels):
    torch.manual_seed(0)
    config = HGLNetConfig(hidden_sizes=[8, 8], strides=[1, 2], num_labels=num_labels, lse_hidden_size=4)
    return HGLNetForSkeletonClassification(config)


def args(tmp_path, **kwargs):
    defaults = dict(
        output_dir=str(tmp_path),
        per_device_train_batch_size=8,
        per_device_eval_batch_size=32,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
        use_cpu=True,
    )
    return TrainingArguments(**{**defaults, **kwargs})


def test_trainer_trains_and_evaluates(tmp_path, synthetic_tiny):
    num_labels = len(synthetic_tiny["train"].features["label"].names)
    model = tiny_model(num_labels)
    before = [p.detach().clone() for p in model.parameters()]
    trainer = build_trainer(
        model,
        SkeletonProcessor(window_size=8),
        synthetic_tiny["train"],
        synthetic_tiny["test"],
        args(tmp_path, max_steps=3, learning_rate=1e-2),
    )
    result = trainer.train()
    assert np.isfinite(result.training_loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    metrics = trainer.evaluate()
    assert {"eval_loss", "eval_top1", "eval_top5", "eval_mean_class_accuracy"} <= set(metrics)
    assert 0.0 <= metrics["eval_top1"] <= metrics["eval_top5"] <= 1.0


def test_loss_is_not_rescaled_by_gradient_accumulation(tmp_path, synthetic_tiny):
    """The Trainer rescales the loss of models whose forward takes **kwargs (hf_ecosystem.md section 2.1). With the
    learning rate at 0 the same four micro-batches must give the same training loss with or without accumulation."""
    processor = SkeletonProcessor(window_size=8, p_interval=(1.0, 1.0), random_rotation=0.0)  # deterministic
    num_labels = len(synthetic_tiny["train"].features["label"].names)
    losses = []
    for steps, accumulation in ((4, 1), (2, 2)):
        trainer = build_trainer(
            tiny_model(num_labels),
            processor,
            synthetic_tiny["train"],
            None,
            args(tmp_path, max_steps=steps, gradient_accumulation_steps=accumulation, learning_rate=0.0),
        )
        losses.append(trainer.train().training_loss)
    assert losses[0] == pytest.approx(losses[1], rel=1e-4)


def test_dataset_wrapper_reads_batches(synthetic_tiny):
    processor = SkeletonProcessor(window_size=8)
    wrapped = ModelInputsDataset(synthetic_tiny["test"], processor, training=False)
    assert len(wrapped) == len(synthetic_tiny["test"])
    batch = wrapped.__getitems__([0, 5, 9])
    assert [b["skeletons"].shape for b in batch] == [(3, 8, 25, 2)] * 3
    assert [int(b["labels"]) for b in batch] == [synthetic_tiny["test"][i]["label"] for i in (0, 5, 9)]
    torch.testing.assert_close(wrapped[5]["skeletons"], batch[1]["skeletons"])  # evaluation is deterministic


def test_classification_metrics():
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.1, 0.2, 0.7]])
    references = np.array([0, 1, 1, 0])
    m = classification_metrics(scores, references, top_k=(1, 2))
    assert m["top1"] == 0.5  # samples 0 and 1
    assert m["top2"] == 0.75  # sample 2's class 1 is second; sample 3's class 0 is third
    assert m["mean_class_accuracy"] == pytest.approx((1 / 2 + 1 / 2) / 2)  # class 2 absent: not averaged
    assert m["confusion_matrix"] == [[1, 0, 1], [1, 1, 0], [0, 0, 0]]
    assert classification_metrics(scores, references)["top5"] == 1.0  # fewer classes than k
    with pytest.raises(ValueError, match="class indices"):
        classification_metrics(scores, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="scores must be"):
        classification_metrics(scores[:, 0], references)


def test_evaluate_module_loads_by_path_offline():
    metric = evaluate.load(str(METRIC_PATH))
    rng = np.random.default_rng(0)
    scores, references = rng.normal(size=(20, 6)), rng.integers(0, 6, size=20)
    assert metric.compute(predictions=scores, references=references) == classification_metrics(scores, references)
    compute_metrics = make_compute_metrics()
    out = compute_metrics(EvalPrediction(predictions=(scores, np.zeros((20, 4))), label_ids=references))
    assert set(out) == {"top1", "top5", "mean_class_accuracy"}
    with_matrix = make_compute_metrics(include_confusion_matrix=True)(EvalPrediction(scores, references))
    assert np.asarray(with_matrix["confusion_matrix"]).sum() == 20


@pytest.mark.slow
def test_example_script_trains_saves_and_reloads(tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        str(ROOT / "examples" / "train_supervised.py"),
        "--dataset",
        "synthetic",
        "--dataset_options",
        json.dumps({"num_subjects": 2, "num_replications": 1}),
        "--cache_dir",
        str(tmp_path / "cache"),
        "--preset",
        "hglnet-small",
        "--stream",
        "bone_motion",
        "--window_size",
        "8",
        "--output_dir",
        str(out),
        "--max_steps",
        "2",
        "--per_device_train_batch_size",
        "4",
        "--report_to",
        "none",
        "--use_cpu",
        "true",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {"config.json", "model.safetensors", "preprocessor_config.json", "eval_results.json"} <= {
        p.name for p in out.iterdir()
    }
    assert "eval_top1" in json.loads((out / "eval_results.json").read_text())
    assert SkeletonProcessor.from_pretrained(out).stream == "bone_motion"
