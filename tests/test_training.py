import json
import os
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

from .resume_check import check_resume

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
    scores, references = rng.normal(size=(40, 8)), rng.integers(0, 8, size=40)
    computed = metric.compute(predictions=scores, references=references)
    # against a plain computation, not the function the module wraps
    ranked = np.argsort(-scores, axis=1)
    assert computed["top1"] == pytest.approx(float((ranked[:, 0] == references).mean()))
    assert computed["top5"] == pytest.approx(float((ranked[:, :5] == references[:, None]).any(1).mean()))
    per_class = [(ranked[references == c, 0] == c).mean() for c in np.unique(references)]
    assert computed["mean_class_accuracy"] == pytest.approx(float(np.mean(per_class)))
    matrix = np.zeros((8, 8), dtype=int)
    np.add.at(matrix, (references, ranked[:, 0]), 1)
    assert computed["confusion_matrix"] == matrix.tolist()
    compute_metrics = make_compute_metrics()
    out = compute_metrics(EvalPrediction(predictions=(scores, np.zeros((40, 4))), label_ids=references))
    assert set(out) == {"top1", "top5", "mean_class_accuracy"}
    with_matrix = make_compute_metrics(include_confusion_matrix=True)(EvalPrediction(scores, references))
    assert np.asarray(with_matrix["confusion_matrix"]).sum() == 40


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


def test_evaluate_equals_the_accuracy_of_direct_predictions_and_never_augments(tmp_path, synthetic_tiny):
    """``trainer.evaluate()`` reports the accuracy of ``model(processor(clips, training=False))`` over the same split,
    the same twice in a row, and the evaluation rows go through the processor's evaluation path only."""
    names = synthetic_tiny["train"].features["label"].names
    model = tiny_model(len(names))
    processor = SkeletonProcessor(window_size=8)
    calls = []
    original = SkeletonProcessor.__call__

    def recording(self, *a, training=False, **kw):
        calls.append(training)
        return original(self, *a, training=training, **kw)

    trainer = build_trainer(
        model,
        processor,
        synthetic_tiny["train"],
        synthetic_tiny["test"],
        args(tmp_path, max_steps=40, learning_rate=1e-2, per_device_eval_batch_size=7),  # a ragged last batch
    )
    trainer.train()
    SkeletonProcessor.__call__ = recording
    try:
        first, second = trainer.evaluate(), trainer.evaluate()
    finally:
        SkeletonProcessor.__call__ = original
    assert calls and not any(calls)  # evaluation never takes the training (augmenting) path
    timing = ("eval_runtime", "eval_samples_per_second", "eval_steps_per_second")
    assert {k: v for k, v in first.items() if k not in timing} == {k: v for k, v in second.items() if k not in timing}
    rows = synthetic_tiny["test"].with_format("numpy")[:]
    model.eval()
    with torch.no_grad():
        logits = model(**processor(list(rows["skeleton"]), training=False)).logits.numpy()
    labels = rows["label"]
    assert first["eval_top1"] == pytest.approx(float((logits.argmax(1) == labels).mean()), abs=1e-12)
    top5 = np.argsort(-logits, axis=1)[:, :5]
    assert first["eval_top5"] == pytest.approx(float((top5 == labels[:, None]).any(1).mean()), abs=1e-12)
    per_class = [float((logits.argmax(1)[labels == c] == c).mean()) for c in np.unique(labels)]
    assert first["eval_mean_class_accuracy"] == pytest.approx(float(np.mean(per_class)), abs=1e-12)
    assert 0.0 < first["eval_top1"] < 1.0  # neither all wrong nor all right: the comparisons can fail


def test_an_interrupted_run_resumes_to_the_same_weights_and_losses(tmp_path, synthetic_tiny):
    """``resume_from_checkpoint``: the optimizer, scheduler, RNG (random crops and rotations) and data order are
    restored, so the resumed run ends with the uninterrupted run's weights and per-step losses."""
    names = synthetic_tiny["train"].features["label"].names
    processor = SkeletonProcessor(window_size=8)

    def make_trainer(model, training_args):
        return build_trainer(model, processor, synthetic_tiny["train"], None, training_args)

    check_resume(tmp_path, lambda: tiny_model(len(names)), make_trainer, total_steps=12, stop_at=5)


def test_training_batches_are_a_function_of_seed_epoch_and_rows(synthetic_tiny):
    """With a seed, a training batch's augmentation is decided by (seed, epoch, rows): not by what was drawn before
    (resume, DataLoader workers), and new in every epoch."""
    processor = SkeletonProcessor(window_size=8)

    def batch(seed, epoch, indices, draw_before=0):
        torch.rand(draw_before)  # unrelated use of the global generator
        wrapped = ModelInputsDataset(synthetic_tiny["train"], processor, training=True, seed=seed)
        wrapped.set_epoch(epoch)
        return torch.stack([b["skeletons"] for b in wrapped.__getitems__(indices)])

    reference = batch(0, 1, [3, 7, 11])
    torch.testing.assert_close(batch(0, 1, [3, 7, 11], draw_before=100), reference, rtol=0, atol=0)
    assert not torch.equal(batch(0, 2, [3, 7, 11]), reference)  # another epoch
    assert not torch.equal(batch(1, 1, [3, 7, 11]), reference)  # another seed
    evaluation = ModelInputsDataset(synthetic_tiny["train"], processor, training=False, seed=0)
    assert not torch.equal(torch.stack([b["skeletons"] for b in evaluation.__getitems__([3, 7, 11])]), reference)


def _train_supervised(tmp_path, name, launcher, steps=4, per_device=4, extra=()):
    out = tmp_path / name
    cmd = [
        *launcher,
        str(ROOT / "examples" / "train_supervised.py"),
        "--dataset_options",
        json.dumps({"num_subjects": 2, "num_replications": 1}),
        "--cache_dir",
        str(tmp_path / "cache"),
        "--config_overrides",
        json.dumps({"hidden_sizes": [8, 8], "strides": [1, 2], "lse_hidden_size": 4}),
        "--processor_options",
        json.dumps({"p_interval": [1.0, 1.0], "random_rotation": 0.0}),  # no randomness: batches are comparable
        "--window_size",
        "8",
        "--output_dir",
        str(out),
        "--max_steps",
        str(steps),
        "--per_device_train_batch_size",
        str(per_device),
        "--per_device_eval_batch_size",
        "5",
        "--learning_rate",
        "0",
        "--logging_steps",
        "1",
        "--save_strategy",
        "no",
        "--report_to",
        "none",
        "--use_cpu",
        "true",
        "--seed",
        "0",
        "--train_sampling_strategy",
        "sequential",  # the same clips in a two-process step (2 x 4) as in a one-process step of 8
        *extra,
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    return out, json.loads((out / "eval_results.json").read_text()), [h["loss"] for h in history if "loss" in h]


@pytest.mark.slow
def test_two_process_training_with_accelerate(tmp_path, synthetic_tiny):
    """`accelerate launch --multi_gpu --num_processes 2` (here: two CPU processes, gloo) of
    examples/train_supervised.py: it trains, the logged loss of
    a two-process step (2 x 4 clips) equals a one-process step over the same clips as two accumulated micro-batches
    of 4 (not rescaled by the number of processes), and the evaluation gathered across processes equals a
    one-process evaluation of the saved checkpoint."""
    # On a machine without GPUs `--multi_gpu` starts torch.distributed processes on the CPU (gloo); `--cpu` alone
    # would start a single process (accelerate's multi-CPU launcher needs MPI).
    launcher = [str(Path(sys.executable).parent / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2"]
    two, metrics, two_losses = _train_supervised(tmp_path, "two", launcher)
    # one process, the same two batches of 4 as gradient-accumulation micro-batches (batch norm sees batches of 4)
    extra = ["--gradient_accumulation_steps", "2"]
    _, _, one_losses = _train_supervised(tmp_path, "one", [sys.executable], per_device=4, extra=extra)
    model = HGLNetForSkeletonClassification.from_pretrained(two).eval()
    processor = SkeletonProcessor.from_pretrained(two)
    trainer = build_trainer(model, processor, None, synthetic_tiny["test"], args(tmp_path / "eval"))
    single = trainer.evaluate()
    for key in ("eval_top1", "eval_top5", "eval_mean_class_accuracy"):
        assert metrics[key] == pytest.approx(single[key], abs=1e-9), key
    assert len(two_losses) == len(one_losses) == 4
    np.testing.assert_allclose(two_losses, one_losses, rtol=1e-4)
