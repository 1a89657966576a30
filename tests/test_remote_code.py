"""Remote-code bundles: flat, self-contained, generated from the package; ``modeling/`` is the one bundle of all
architectures and is current. (Loading them where the library is not installed is a common model test.)"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skeleton_models import ARCHITECTURES
from skeleton_models.remote_code import modeling_files, remote_code_auto_map, remote_code_files, write_modeling

ROOT = Path(__file__).resolve().parents[1]
STDLIB = {"__future__", "ast", "collections", "copy", "dataclasses", "importlib", "inspect", "json", "math", "os"}
STDLIB |= {"pathlib", "re", "typing"}
ALLOWED = STDLIB | {"torch", "transformers", "einops", "numpy"}


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


@pytest.mark.parametrize("model_type", sorted(ARCHITECTURES))
def test_bundle_is_flat_and_self_contained(model_type):
    files = remote_code_files(model_type)
    assert {"modeling_utils.py", "processing_skeleton.py", "skeletons.py", "remote_code.py"} <= set(files)
    modules = {name[:-3] for name in files}
    for name, source in files.items():
        assert source.startswith("# Generated from skeleton_models/")
        for node in _imports_outside_try(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1 and node.module in modules, (name, node.module)
            else:
                roots = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                assert {r.split(".")[0] for r in roots} <= ALLOWED, (name, roots)
    auto_map = remote_code_auto_map(model_type)
    assert {"AutoConfig", "AutoModel", *ARCHITECTURES[model_type].task_classes} == set(auto_map)
    assert all(entry.split(".")[0] in modules for entry in auto_map.values())
    linked = remote_code_auto_map(model_type, code_repo="org/skeleton-models-code")
    assert all(v == f"org/skeleton-models-code--{auto_map[k]}" for k, v in linked.items())


def test_modeling_is_one_bundle_of_every_architecture():
    files = modeling_files()
    for model_type in ARCHITECTURES:  # each architecture's bundle is a subset, each shared module once
        bundle = remote_code_files(model_type)
        assert bundle.items() <= files.items()
    assert len(files) == len({name for t in ARCHITECTURES for name in remote_code_files(t)})


def test_modeling_folder_is_current():
    """CI fails when modeling/ is stale: regenerate it with `python utils/write_modeling.py`."""
    assert write_modeling(ROOT / "modeling", check=True) == []
    assert not [p for p in (ROOT / "modeling").iterdir() if p.is_dir()]  # flat


def test_write_modeling_updates_and_prunes(tmp_path):
    shutil.copytree(ROOT / "modeling", tmp_path / "modeling")
    (tmp_path / "modeling" / "graph.py").write_text("# edited by hand\n")
    (tmp_path / "modeling" / "old.py").write_text("")
    script = [sys.executable, str(ROOT / "utils" / "write_modeling.py"), "--root", str(tmp_path / "modeling")]
    assert subprocess.run([*script, "--check"], capture_output=True).returncode == 1
    assert subprocess.run(script, capture_output=True).returncode == 0
    assert write_modeling(tmp_path / "modeling", check=True) == []
    assert not (tmp_path / "modeling" / "old.py").exists()
