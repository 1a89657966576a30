import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

import datasets
import numpy as np
import pytest
import torch
from huggingface_hub import HfApi, ModelCard
from huggingface_hub.errors import EntryNotFoundError
from transformers import AutoConfig, AutoFeatureExtractor, AutoModel, AutoModelForVideoClassification

import skeleton_models
from skeleton_models import ARCHITECTURES, SkeletonProcessor
from skeleton_models.cli import main
from skeleton_models.hub import (
    CARDS,
    load_checkpoint,
    model_card,
    push_dataset,
    push_model,
    remote_code_auto_map,
    remote_code_files,
    write_modeling,
)

ROOT = Path(__file__).resolve().parents[1]
# A small configuration per registered architecture; a new architecture must add one.
TINY = {
    "hglnet": dict(hidden_sizes=[8, 8], strides=[1, 2], num_labels=5, lse_hidden_size=4),
    "hocslm": dict(
        skeleton_config=dict(hidden_sizes=[8, 8], strides=[1, 2], lse_hidden_size=4),
        text_model_name_or_path=None,
        text_config=dict(
            model_type="qwen3",
            vocab_size=64,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=16,
            max_position_embeddings=64,
        ),
        num_labels=5,
        num_prompt_tokens=2,
    ),
}


def layout_of(config) -> str:
    return getattr(config, "skeleton_config", config).layout


def tiny_model(model_type, task="AutoModelForVideoClassification"):
    arch = ARCHITECTURES[model_type]
    torch.manual_seed(0)
    return arch.task_classes[task](arch.config_class(**TINY[model_type])).eval()


def _imports_outside_try(tree):
    """Import statements the remote-code loader requires (it ignores those inside try blocks)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Try):
            stack += node.finalbody + node.orelse
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack += list(ast.iter_child_nodes(node))


def test_every_architecture_has_a_tiny_config_and_a_card_template():
    assert set(TINY) == set(ARCHITECTURES)
    assert all((CARDS / f"{model_type}.md").exists() for model_type in ARCHITECTURES)


@pytest.mark.parametrize("model_type", sorted(ARCHITECTURES))
def test_remote_code_bundle_is_flat_and_self_contained(model_type):
    files = remote_code_files(model_type)
    assert {"modeling_utils.py", "processing_skeleton.py", "skeletons.py"} <= set(files)
    modules = {name[:-3] for name in files}
    allowed = {
        "torch",
        "transformers",
        "einops",
        "numpy",
        "__future__",
        "dataclasses",
        "collections",
        "re",
        "json",
        "pathlib",
        "typing",
        "math",
    }
    for name, source in files.items():
        assert source.startswith("# Generated from skeleton_models/")
        assert "<library-only>" not in source
        for node in _imports_outside_try(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1 and node.module in modules, (name, node.module)
            else:
                roots = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                assert {r.split(".")[0] for r in roots} <= allowed, (name, roots)
    auto_map = remote_code_auto_map(model_type)
    assert {"AutoConfig", "AutoModel", *ARCHITECTURES[model_type].task_classes} == set(auto_map)
    assert all(entry.split(".")[0] in modules for entry in auto_map.values())


def test_modeling_folder_is_current():
    """CI fails when modeling/ is stale: regenerate it with `skeleton-models write-modeling`."""
    assert write_modeling(ROOT / "modeling", check=True) == []


def test_write_modeling_updates_and_prunes(tmp_path):
    shutil.copytree(ROOT / "modeling", tmp_path / "modeling")
    (tmp_path / "modeling" / "hglnet" / "graph.py").write_text("# edited by hand\n")
    (tmp_path / "modeling" / "hglnet" / "old.py").write_text("")
    assert main(["write-modeling", "--check", "--root", str(tmp_path / "modeling")]) == 1
    assert main(["write-modeling", "--root", str(tmp_path / "modeling")]) == 0
    assert write_modeling(tmp_path / "modeling", check=True) == []
    assert not (tmp_path / "modeling" / "hglnet" / "old.py").exists()


@pytest.mark.parametrize("model_type", sorted(ARCHITECTURES))
def test_saved_folder_loads_where_the_library_is_not_installed(model_type, tmp_path):
    model = tiny_model(model_type)
    processor = SkeletonProcessor(window_size=16, layout=layout_of(model.config))
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["auto_map"] == remote_code_auto_map(model_type)
    clip = np.random.default_rng(0).normal(size=(30, 2, 25, 3)).astype(np.float32)
    np.save(tmp_path / "clip.npy", clip)
    with torch.no_grad():
        np.save(tmp_path / "expected.npy", model(**processor(clip)).logits.numpy())
    script = f"""
import sys
sys.modules["skeleton_models"] = None  # importing it fails in this process
import numpy as np, torch
from transformers import AutoFeatureExtractor, AutoModel, AutoModelForVideoClassification
folder = {str(tmp_path)!r}
model = AutoModelForVideoClassification.from_pretrained(folder, trust_remote_code=True).eval()
processor = AutoFeatureExtractor.from_pretrained(folder, trust_remote_code=True)
assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
with torch.no_grad():
    logits = model(**processor(np.load(folder + "/clip.npy"))).logits.numpy()
np.testing.assert_allclose(logits, np.load(folder + "/expected.npy"), rtol=1e-5, atol=1e-6)
backbone = AutoModel.from_pretrained(folder, trust_remote_code=True)
print("OK", type(backbone).__name__)
"""
    env = dict(os.environ, HF_HOME=tempfile.mkdtemp(), HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == f"OK {ARCHITECTURES[model_type].base_model_class.__name__}"


@pytest.mark.parametrize("model_type", sorted(ARCHITECTURES))
def test_auto_classes_load_every_architecture_with_the_library(model_type, tmp_path):
    model = tiny_model(model_type)
    model.save_pretrained(tmp_path)
    SkeletonProcessor(layout=layout_of(model.config)).save_pretrained(tmp_path)
    arch = ARCHITECTURES[model_type]
    assert type(AutoConfig.from_pretrained(tmp_path)) is arch.config_class
    assert type(AutoModel.from_pretrained(tmp_path)) is arch.base_model_class
    for auto, cls in arch.task_classes.items():
        import transformers

        assert type(getattr(transformers, auto).from_pretrained(tmp_path)) is cls
    assert type(AutoFeatureExtractor.from_pretrained(tmp_path)) is SkeletonProcessor
    assert type(load_checkpoint(tmp_path)) is type(model)


@pytest.mark.parametrize("model_type", sorted(ARCHITECTURES))
def test_fine_tuning_on_new_classes_reinitialises_only_the_head(model_type, tmp_path):
    model = tiny_model(model_type)
    model.save_pretrained(tmp_path)
    names = {0: "a", 1: "b", 2: "c"}
    new = AutoModelForVideoClassification.from_pretrained(
        tmp_path, num_labels=3, id2label=names, ignore_mismatched_sizes=True
    )
    old_state, new_state = model.state_dict(), new.state_dict()
    head = [k for k in new_state if old_state[k].shape != new_state[k].shape]
    assert head and all(k.startswith("classifier.") for k in head)
    for key in new_state:
        if key not in head:
            torch.testing.assert_close(new_state[key], old_state[key])
    weight = new_state["classifier.weight"]
    assert weight.shape[0] == 3 and torch.isfinite(weight).all() and weight.abs().sum() > 0
    assert new.config.id2label == names


def test_model_card_carries_the_model_index(tmp_path):
    model = tiny_model("hglnet")
    card = model_card(
        model,
        SkeletonProcessor(),
        "org/hglnet-ntu60-xsub",
        results={"top1": 0.9123, "top5": 0.99, "wall_time_s": 12.0},
        dataset="ntu60",
        dataset_config="xsub",
        training={"learning_rate": 1e-4},
    )
    card.save(tmp_path / "README.md")
    loaded = ModelCard.load(tmp_path / "README.md")
    results = {r.metric_name: r.metric_value for r in loaded.data.eval_results}
    assert results == {"Top-1 accuracy (%)": 91.23, "Top-5 accuracy (%)": 99.0}
    first = loaded.data.eval_results[0]
    assert (first.dataset_type, first.dataset_name, first.dataset_config, first.task_type) == (
        "ntu60",
        "NTU RGB+D 60",
        "xsub",
        "video-classification",
    )
    assert loaded.data.license == "other" and loaded.data.library_name == "transformers"
    assert "hglnet" in loaded.data.tags and loaded.data.pipeline_tag == "video-classification"
    text = loaded.text
    assert "# hglnet-ntu60-xsub" in text and "trust_remote_code=True" in text and "`learning_rate`: 0.0001" in text
    assert "org/hglnet-ntu60-xsub" in text and "91.23 %" in text and "wall_time" not in text
    synthetic = model_card(model, SkeletonProcessor(), "org/x", dataset="synthetic")
    assert synthetic.data.license == "apache-2.0" and synthetic.data.eval_results is None


class FakeHub:
    """Stands in for HfApi: records calls and keeps a copy of every uploaded folder."""

    def __init__(self, existing_readme: Path | None = None):
        self.calls, self.uploads, self.existing_readme = [], [], existing_readme

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        copy = Path(tempfile.mkdtemp()) / "upload"
        shutil.copytree(folder_path, copy)
        self.uploads.append((repo_id, copy, kwargs))
        return "commit-0"

    def hf_hub_download(self, repo_id, filename, **kwargs):
        if self.existing_readme is None:
            raise EntryNotFoundError("no README.md")
        return str(self.existing_readme)


def test_push_model_uploads_a_self_contained_folder():
    model, processor = tiny_model("hglnet"), SkeletonProcessor(window_size=16)
    hub = FakeHub()
    assert (
        push_model(
            model,
            processor,
            "org/hglnet-synthetic-xsub",
            results={"top1": 0.5},
            private=True,
            dataset="synthetic",
            dataset_config="xsub",
            api=hub,
        )
        == "commit-0"
    )
    assert hub.calls == [
        ("create_repo", "org/hglnet-synthetic-xsub", {"private": True, "exist_ok": True, "token": None})
    ]
    repo_id, folder, _ = hub.uploads[0]
    files = {p.name for p in folder.iterdir()}
    assert files == {
        "README.md",
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
        *remote_code_files("hglnet"),
    }
    assert ModelCard.load(folder / "README.md").data.eval_results[0].metric_value == 50.0
    reloaded = AutoModelForVideoClassification.from_pretrained(folder).eval()
    x = torch.randn(1, 3, 16, 25, 2)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(x).logits, model(x).logits)
    # The default path builds an HfApi; its network calls are mocked here.
    with mock.patch.object(HfApi, "create_repo") as create, mock.patch.object(HfApi, "upload_folder") as upload:
        push_model(model, processor, "org/x")
    assert create.call_args.args == ("org/x",) and upload.call_args.kwargs["repo_id"] == "org/x"


def test_push_dataset_as_parquet_per_config(synthetic_tiny, tmp_path):
    hub = FakeHub()
    push_dataset(synthetic_tiny, "org/synthetic-skeletons", "xsub", api=hub)
    _, folder, kwargs = hub.uploads[0]
    assert kwargs["repo_type"] == "dataset"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet")) == [
        "xsub/test-00000-of-00001.parquet",
        "xsub/train-00000-of-00001.parquet",
    ]
    loaded = datasets.load_dataset(str(folder), "xsub")
    assert loaded["train"].features == synthetic_tiny["train"].features
    np.testing.assert_array_equal(
        loaded["test"].with_format("numpy")[3]["skeleton"], synthetic_tiny["test"].with_format("numpy")[3]["skeleton"]
    )
    second = FakeHub(existing_readme=folder / "README.md")
    push_dataset(synthetic_tiny, "org/synthetic-skeletons", "xview", api=second)
    readme = (second.uploads[0][1] / "README.md").read_text()
    assert "config_name: xsub" in readme and "config_name: xview" in readme


def test_cli_push_dry_run_and_upload(tmp_path, capsys):
    model = tiny_model("hglnet")
    model.save_pretrained(tmp_path / "ckpt")
    SkeletonProcessor().save_pretrained(tmp_path / "ckpt")
    (tmp_path / "results.json").write_text(json.dumps({"top1": 0.75, "wall_time_s": 3.0}))
    assert (
        main(
            [
                "push",
                "--model",
                str(tmp_path / "ckpt"),
                "--repo-id",
                "org/hglnet-synthetic-xsub",
                "--results",
                str(tmp_path / "results.json"),
                "--dataset",
                "synthetic",
                "--dataset-config",
                "xsub",
                "--dry-run",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    assert "nothing uploaded" in capsys.readouterr().out
    assert ModelCard.load(tmp_path / "out" / "README.md").data.eval_results[0].metric_value == 75.0
    with mock.patch.object(HfApi, "create_repo"), mock.patch.object(HfApi, "upload_folder") as upload:
        assert main(["push", "--model", str(tmp_path / "ckpt"), "--repo-id", "org/x"]) == 0
    assert upload.call_args.kwargs["repo_id"] == "org/x"


@pytest.mark.slow
def test_push_example_dry_run(tmp_path):
    cmd = [
        sys.executable,
        str(ROOT / "examples" / "push_to_hub.py"),
        "--repo_id",
        "org/hglnet-synthetic-xsub",
        "--dataset_options",
        json.dumps({"num_subjects": 2, "num_replications": 1}),
        "--epochs",
        "0.2",
        "--window_size",
        "8",
        "--dry_run",
        str(tmp_path / "folder"),
    ]
    env = dict(os.environ, HF_DATASETS_CACHE=str(tmp_path / "cache"))
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    card = ModelCard.load(tmp_path / "folder" / "README.md")
    assert {r.metric_name for r in card.data.eval_results} >= {"Top-1 accuracy (%)"}
    assert skeleton_models.__version__
