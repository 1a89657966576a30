import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import datasets
import numpy as np
import pytest
import torch
import transformers
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem
from huggingface_hub import HfApi, ModelCard
from huggingface_hub.errors import RepositoryNotFoundError
from transformers import AutoConfig, AutoFeatureExtractor, AutoModel, AutoModelForVideoClassification, ProcessorMixin

import skeleton_models
from skeleton_models import ARCHITECTURES, SkeletonProcessor, load_checkpoint
from skeleton_models.cli import main
from skeleton_models.hub import TEMPLATES, model_card, push_model, write_catalog
from skeleton_models.processing_skeleton import get_skeleton_spec
from skeleton_models.registry import load_processor
from skeleton_models.remote_code import remote_code_files

from .model_tester import processor_for

ROOT = Path(__file__).resolve().parents[1]
TEST_FILES = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))


def tiny_model(model_type, task="AutoModelForVideoClassification"):
    arch = ARCHITECTURES[model_type]
    torch.manual_seed(0)
    return arch.task_classes[task](arch.tiny()).eval()


def tiny_processor(model):
    return processor_for(model.config)


@pytest.mark.parametrize("model_type", sorted(ARCHITECTURES))
def test_every_architecture_has_its_parts(model_type):
    """What "adding an architecture" asks for: a card body, a common-test subclass, a README section."""
    arch = ARCHITECTURES[model_type]
    assert (TEMPLATES / f"{model_type}.md").exists()
    assert f'model_type = "{model_type}"' in TEST_FILES
    assert f'`model_type="{model_type}"`' in (ROOT / "README.md").read_text()
    assert arch.title and arch.paper


@pytest.mark.parametrize("model_type", sorted(ARCHITECTURES))
def test_auto_classes_load_every_architecture_with_the_library(model_type, tmp_path):
    model = tiny_model(model_type)
    processor = tiny_processor(model)
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    arch = ARCHITECTURES[model_type]
    assert type(AutoConfig.from_pretrained(tmp_path)) is arch.config_class
    assert type(AutoModel.from_pretrained(tmp_path)) is arch.base_model_class
    for auto, cls in arch.task_classes.items():
        assert type(getattr(transformers, auto).from_pretrained(tmp_path)) is cls
    assert type(AutoFeatureExtractor.from_pretrained(tmp_path)) is SkeletonProcessor
    assert type(load_checkpoint(tmp_path)) is type(model)
    assert type(load_processor(tmp_path)) is arch.processor_class
    if issubclass(arch.processor_class, ProcessorMixin):
        assert type(transformers.AutoProcessor.from_pretrained(tmp_path)) is arch.processor_class


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
    # BHaRNet: one classifier per branch; TDSM: the classes' stored text conditions (set anew with set_class_texts)
    assert head and all(k.startswith(("classifier.", "classifiers.", "tdsm.class_embeddings")) for k in head)
    for key in new_state:
        if key not in head:
            torch.testing.assert_close(new_state[key], old_state[key])
    for key in (k for k in head if k.endswith("weight")):
        weight = new_state[key]
        assert weight.shape[0] == 3 and torch.isfinite(weight).all() and weight.abs().sum() > 0, key
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

    def __init__(self):
        self.calls, self.uploads = [], []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        copy = Path(tempfile.mkdtemp()) / "upload"
        shutil.copytree(folder_path, copy)
        self.uploads.append((repo_id, copy, kwargs))
        return "commit-0"


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


class LocalHub:
    """Stands in for the Hub's dataset repositories: the `HfApi` calls of ``DatasetDict.push_to_hub`` act on a local
    folder, which `datasets` also reads through its file system (patched to the same folder)."""

    def __init__(self, root: Path):
        self.root, self.staged = root, {}

    def folder(self, repo_id):
        return self.root / "datasets" / repo_id  # where datasets looks for revision "main"

    def repo_info(self, repo_id, **kwargs):
        if not self.folder(repo_id).exists():
            raise RepositoryNotFoundError(f"{repo_id} not found", response=mock.Mock(status_code=404))
        return SimpleNamespace(id=repo_id, sha="main")

    def create_repo(self, repo_id, **kwargs):
        self.folder(repo_id).mkdir(parents=True, exist_ok=True)
        return SimpleNamespace(repo_id=repo_id)

    def preupload_lfs_files(self, repo_id, additions, **kwargs):
        for addition in additions:  # "upload" now: datasets deletes its temporary file afterwards
            self.staged[addition.path_in_repo] = Path(addition.path_or_fileobj).read_bytes()

    def create_commit(self, repo_id, operations, **kwargs):
        for op in operations:
            path = self.folder(repo_id) / op.path_in_repo
            if type(op).__name__ == "CommitOperationDelete":
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            content = self.staged.pop(op.path_in_repo, None)
            if content is None:
                source = op.path_or_fileobj
                content = source if isinstance(source, bytes) else Path(source).read_bytes()
            path.write_bytes(content)
        return SimpleNamespace(oid="commit")

    def patches(self):
        methods = ("repo_info", "create_repo", "preupload_lfs_files", "create_commit")
        fs = lambda **kwargs: DirFileSystem(path=str(self.root), fs=LocalFileSystem())  # noqa: E731
        return [mock.patch.object(HfApi, name, getattr(self, name)) for name in methods] + [
            mock.patch("datasets.dataset_dict.HfFileSystem", fs)
        ]


def test_push_dataset_with_datasets_push_to_hub(synthetic_tiny, tmp_path):
    """A built benchmark goes to the Hub with ``DatasetDict.push_to_hub`` (one Parquet folder per config) and
    comes back with its features, the skeleton layout (the feature id) included."""
    hub = LocalHub(tmp_path / "hub")
    patches = hub.patches()
    for patch in patches:
        patch.start()
    try:
        synthetic_tiny.push_to_hub("org/synthetic-skeletons", config_name="xsub")
        synthetic_tiny.push_to_hub("org/synthetic-skeletons", config_name="xview")
    finally:
        for patch in patches:
            patch.stop()
    folder = hub.folder("org/synthetic-skeletons")
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet")) == [
        "xsub/test-00000-of-00001.parquet",
        "xsub/train-00000-of-00001.parquet",
        "xview/test-00000-of-00001.parquet",
        "xview/train-00000-of-00001.parquet",
    ]
    readme = (folder / "README.md").read_text()
    assert "config_name: xsub" in readme and "config_name: xview" in readme
    loaded = datasets.load_dataset(str(folder), "xsub")
    assert loaded["train"].features == synthetic_tiny["train"].features
    assert get_skeleton_spec(loaded) == {"coordinate_dims": 3, "layout": "ntu25"}
    np.testing.assert_array_equal(
        loaded["test"].with_format("numpy")[3]["skeleton"], synthetic_tiny["test"].with_format("numpy")[3]["skeleton"]
    )
    processor = SkeletonProcessor.for_dataset(loaded, window_size=8)
    assert processor.layout == "ntu25"


def test_zoo_catalog_is_current():
    """hub_cards/, skeleton_models/zoo.json and the README's zoo table match the results files: regenerate them
    with `python utils/write_zoo.py`."""
    done = subprocess.run([sys.executable, str(ROOT / "utils" / "write_zoo.py"), "--check"], capture_output=True)
    assert done.returncode == 0, done.stdout.decode()[-2000:]
    entries = skeleton_models.zoo.entries()
    assert entries and {e.model_type for e in entries} >= {"hglnet", "hocslm"}
    for entry in entries:
        card = ModelCard.load(ROOT / "hub_cards" / f"{entry.name}.md")
        top1 = {r.metric_name: r.metric_value for r in card.data.eval_results}["Top-1 accuracy (%)"]
        assert top1 == round(100 * entry.metrics["top1"], 2) and entry.repo_id in card.text
        assert f"[`{entry.name}`](hub_cards/{entry.name}.md)" in (ROOT / "README.md").read_text()
    assert skeleton_models.zoo.get(entries[0].name) == entries[0]


def test_zoo_catalog_does_not_depend_on_the_installed_transformers(tmp_path):
    """The cards embed no library version: rendered as if another transformers release were installed, the
    committed catalog is still current (a config's ``transformers_version`` is the installed release's)."""
    checkpoints = [
        c
        for f in sorted((ROOT / "benchmarks" / "results").glob("zoo-*.json"))
        for c in json.loads(f.read_text())["checkpoints"]
    ]
    (tmp_path / "results.json").write_text(json.dumps({"checkpoints": checkpoints}))
    with mock.patch("transformers.configuration_utils.__version__", "99.1.0"):
        assert transformers.PretrainedConfig().to_dict()["transformers_version"] == "99.1.0"
        assert write_catalog(tmp_path / "results.json", ROOT / "hub_cards", ROOT / "README.md", check=True) == []


def test_write_catalog_renders_and_prunes(tmp_path):
    results = {"checkpoints": [json.loads((ROOT / "tests" / "data" / "zoo_entry.json").read_text())]}
    (tmp_path / "results.json").write_text(json.dumps(results))
    (tmp_path / "README.md").write_text("# x\n<!-- zoo:start -->\nold\n<!-- zoo:end -->\n")
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "gone.md").write_text("")
    kwargs = dict(cards_dir=tmp_path / "cards", readme=tmp_path / "README.md", zoo_file=tmp_path / "zoo.json")
    assert len(write_catalog(tmp_path / "results.json", check=True, **kwargs)) == 4
    write_catalog(tmp_path / "results.json", **kwargs)
    assert write_catalog(tmp_path / "results.json", check=True, **kwargs) == []
    assert [p.name for p in (tmp_path / "cards").iterdir()] == ["hglnet-synthetic-xsub-bone.md"]
    assert "| [`hglnet-synthetic-xsub-bone`]" in (tmp_path / "README.md").read_text()
    assert json.loads((tmp_path / "zoo.json").read_text())[0]["repo_id"] == "skeleton-models/hglnet-synthetic-xsub-bone"


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
