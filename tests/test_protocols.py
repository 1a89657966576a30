"""The self-supervised evaluation protocols: kNN / retrieval accuracy, the cached-feature probe, the semi-supervised
labelled subsets and layer-wise learning-rate decay."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from skeleton_models.models.gfp import GFPConfig, GFPForSkeletonClassification
from skeleton_models.training import (
    feature_linear_probe,
    knn_accuracy,
    labelled_subset,
    layer_decay_parameter_groups,
)

ROOT = Path(__file__).resolve().parents[1]


def test_knn_is_cosine_nearest_neighbours():
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(40, 8)), rng.normal(size=(15, 8))
    train_labels, test_labels = rng.integers(0, 3, 40), rng.integers(0, 3, 15)
    cosine = (test / np.linalg.norm(test, axis=1, keepdims=True)) @ (
        train / np.linalg.norm(train, axis=1, keepdims=True)
    ).T
    nearest = train_labels[cosine.argmax(1)]
    assert knn_accuracy(train, train_labels, test, test_labels) == pytest.approx(100 * np.mean(nearest == test_labels))
    assert knn_accuracy(3 * train, train_labels, test, test_labels) == knn_accuracy(
        train, train_labels, test, test_labels
    )
    top = np.argsort(-cosine, axis=1)[:, :5]
    weighted = []
    for row, idx in zip(cosine, top):
        votes = np.zeros(3)
        np.add.at(votes, train_labels[idx], np.exp(row[idx] / 0.07))
        weighted.append(votes.argmax())
    expected = 100 * np.mean(np.array(weighted) == test_labels)
    assert knn_accuracy(train, train_labels, test, test_labels, k=5, temperature=0.07, batch_size=4) == pytest.approx(
        expected
    )
    assert knn_accuracy(torch.eye(3), [0, 1, 2], torch.eye(3), [0, 1, 2]) == 100.0
    with pytest.raises(ValueError, match="same number of rows"):
        knn_accuracy(train, train_labels[:3], test, test_labels)


def test_labelled_subset_is_per_class(synthetic_tiny):
    train = synthetic_tiny["train"]
    subset = labelled_subset(train, 0.5, seed=1)
    labels, all_labels = np.asarray(subset["label"]), np.asarray(train["label"])
    for label in np.unique(all_labels):
        assert (labels == label).sum() == max(1, round(0.5 * (all_labels == label).sum()))
    assert subset["sample_id"] == labelled_subset(train, 0.5, seed=1)["sample_id"]
    assert subset["sample_id"] != labelled_subset(train, 0.5, seed=2)["sample_id"]
    assert len(set(labelled_subset(train, 0.01)["label"])) == len(set(all_labels))  # at least one per class
    with pytest.raises(ValueError, match="fraction"):
        labelled_subset(train, 0)


def test_labelled_subset_at_random_as_mamp(synthetic_tiny):
    """``sampling="random"`` (MAMP's feeder_ntu_semi): int(fraction x rows) rows whatever their class, seeded."""
    train = synthetic_tiny["train"]
    subset = labelled_subset(train, 0.1, seed=3, sampling="random")
    assert len(subset) == int(0.1 * len(train)) and len(set(subset["sample_id"])) == len(subset)
    assert subset["sample_id"] == labelled_subset(train, 0.1, seed=3, sampling="random")["sample_id"]
    per_class = [labelled_subset(train, 0.1, seed=s)["sample_id"] for s in range(5)]
    random = [labelled_subset(train, 0.1, seed=s, sampling="random")["label"] for s in range(5)]
    counts = [np.bincount(r, minlength=len(set(train["label"]))) for r in random]
    assert any(len(set(c)) > 1 for c in counts)  # classes drawn unevenly, unlike per class
    assert all(len(p) >= len(set(train["label"])) for p in per_class)
    with pytest.raises(ValueError, match="sampling must be one of"):
        labelled_subset(train, 0.1, sampling="stratified")
    with pytest.raises(ValueError, match="is no row"):
        labelled_subset(train, 1e-6, sampling="random")


def test_feature_linear_probe_learns_a_linear_rule_and_not_noise():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16)) * 3
    labels, test_labels = rng.integers(0, 4, 400), rng.integers(0, 4, 200)
    train = centres[labels] + rng.normal(size=(400, 16))
    test = centres[test_labels] + rng.normal(size=(200, 16))
    assert feature_linear_probe(train, labels, test, test_labels, epochs=20) > 95
    noise = feature_linear_probe(rng.normal(size=(400, 16)), labels, rng.normal(size=(200, 16)), test_labels, epochs=20)
    assert noise < 45  # chance is 25 %
    assert feature_linear_probe(train, labels, test, test_labels, epochs=5, seed=3) == feature_linear_probe(
        train, labels, test, test_labels, epochs=5, seed=3
    )


def test_layer_decay_groups_are_maes():
    config = GFPConfig.from_preset("gfp-small", classifier_head="finetune", num_labels=5)
    model = GFPForSkeletonClassification(config)
    groups = layer_decay_parameter_groups(model, learning_rate=1.0, weight_decay=0.05, layer_decay=0.5)
    rate = {id(p): (g["lr"], g["weight_decay"]) for g in groups for p in g["params"]}
    assert len(rate) == sum(1 for _ in model.parameters())  # every parameter exactly once
    layers = config.num_hidden_layers
    encoder = model.gfp.encoder
    assert rate[id(encoder.temporal_embed)] == (0.5 ** (layers + 1), 0.05)  # embeddings: layer 0, decayed
    assert rate[id(encoder.patch_embed.proj.weight)] == (0.5 ** (layers + 1), 0.05)
    assert rate[id(encoder.patch_embed.proj.bias)] == (0.5 ** (layers + 1), 0.0)  # 1-D: no weight decay
    assert rate[id(encoder.blocks[0].attn.qkv.weight)] == (0.5**layers, 0.05)
    assert rate[id(encoder.blocks[-1].mlp[0].weight)] == (0.5, 0.05)
    assert rate[id(encoder.norm.weight)] == (1.0, 0.0)  # after the blocks: full rate
    assert rate[id(model.classifier.weight)] == (1.0, 0.05)

    model.gfp.requires_grad_(False)  # frozen parameters are left out
    groups = layer_decay_parameter_groups(model, learning_rate=1.0)
    assert {g["lr"] for g in groups} == {1.0}
    with pytest.raises(ValueError, match="TransformerBlock"):
        layer_decay_parameter_groups(torch.nn.Linear(2, 2), learning_rate=1.0)


def run_example(*arguments):
    command = [
        sys.executable, str(ROOT / "examples" / "self_supervised.py"), "--dataset", "synthetic",
        "--dataset_options", '{"num_subjects": 2, "num_replications": 1}', "--preset", "gfp-small",
        "--per_device_train_batch_size", "16", "--per_device_eval_batch_size", "32", "--save_strategy", "no",
        "--report_to", "none", "--use_cpu", "true", *arguments,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]


def test_the_self_supervised_example_runs_every_protocol(tmp_path):
    """examples/self_supervised.py: pre-training saves a checkpoint that records its dataset; kNN, linear and
    semi-supervised fine-tuning (two draws of 10 % of the labels, also evaluated with the head's BatchNorm
    statistics re-estimated) evaluate it; another dataset is a transfer."""
    pretrained = tmp_path / "pretrained"
    run_example("--protocol", "pretrain", "--max_steps", "2", "--output_dir", str(pretrained))
    assert json.loads((pretrained / "pretraining.json").read_text())["dataset"] == "synthetic"
    assert (pretrained / "model.safetensors").exists()
    checkpoint = ("--checkpoint", str(pretrained))
    run_example("--protocol", "knn", *checkpoint, "--output_dir", str(tmp_path / "knn"))
    results = json.loads((tmp_path / "knn" / "results.json").read_text())
    assert 0 <= results["knn_top1"] <= 100 and "transfer" not in results
    run_example("--protocol", "linear", *checkpoint, "--max_steps", "2", "--output_dir", str(tmp_path / "linear"))
    assert set(json.loads((tmp_path / "linear" / "results.json").read_text())) >= {"last_top1", "best_top1"}
    run_example(
        "--protocol", "finetune", *checkpoint, "--labelled_fraction", "0.1", "--repeats", "2", "--max_steps", "1",
        "--dataset_config", "xview", "--reestimate_batchnorm", "true", "--output_dir", str(tmp_path / "semi"),
    )  # fmt: skip
    results = json.loads((tmp_path / "semi" / "results.json").read_text())
    assert len(results["runs"]) == 2 and results["runs"][0]["labelled_clips"] == 23  # one clip of each class
    assert all(0 <= r["last_top1_batchnorm_reestimated"] <= 100 for r in results["runs"])
    source, target = results["transfer"].split(" -> ")
    assert source.startswith("synthetic/xsub {") and target.startswith("synthetic/xview {")


def test_the_self_supervised_example_pretrains_slim(tmp_path):
    """The same example pre-trains SLiM (its collator and EMA callback) and evaluates the teacher's encoder."""
    pretrained = tmp_path / "slim"
    common = ("--model_type", "slim", "--preset", "slim-small", "--per_device_train_batch_size", "4")
    run_example("--protocol", "pretrain", *common, "--max_steps", "1", "--output_dir", str(pretrained))
    run_example("--protocol", "knn", *common, "--checkpoint", str(pretrained), "--output_dir", str(tmp_path / "knn"))
    assert 0 <= json.loads((tmp_path / "knn" / "results.json").read_text())["knn_top1"] <= 100


def test_reestimate_batchnorm_averages_the_batch_statistics():
    """Every BatchNorm's running mean / variance become the plain average of the batches' statistics (unbiased
    variance), computed with dropout off and without the labels; the momentum comes back; the mode too."""
    from skeleton_models.training import reestimate_batchnorm

    class Head(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dropout, self.linear, self.norm = torch.nn.Dropout(0.9), torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)

        def forward(self, x):
            return self.norm(self.linear(self.dropout(x)))

    torch.manual_seed(0)
    head = Head().train()
    head.norm.running_mean.fill_(7.0)  # stale
    batches = [{"x": torch.randn(8, 3) * (i + 1), "labels": torch.zeros(8)} for i in range(3)]
    assert reestimate_batchnorm(head, batches) == 1
    features = [head.linear(b["x"]).detach() for b in batches]
    torch.testing.assert_close(head.norm.running_mean, torch.stack([f.mean(0) for f in features]).mean(0))
    torch.testing.assert_close(head.norm.running_var, torch.stack([f.var(0) for f in features]).mean(0))
    assert head.norm.momentum == 0.1 and head.training
    assert reestimate_batchnorm(torch.nn.Linear(2, 2), batches) == 0
