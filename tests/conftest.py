"""Test set-up: offline, a private HF cache, one torch thread per xdist worker, shared tiny fixtures."""

import os
import tempfile

# Before transformers / datasets / huggingface_hub are imported (they read these at import time).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HOME"] = os.environ.get("SKELETON_MODELS_TEST_HF_HOME") or tempfile.mkdtemp(prefix="hf_home_")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

from . import paths  # noqa: E402

pytest_plugins = ["pytester"]  # tests/test_shared_guard.py runs pytest on the guard below

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def synthetic_tiny(tmp_path_factory):
    """The synthetic benchmark at its smallest: 2 subjects x 1 replication x 3 cameras per class (xsub)."""
    from skeleton_models.data import load_skeleton_dataset

    cache = tmp_path_factory.mktemp("synthetic_cache")
    return load_skeleton_dataset("synthetic", config="xsub", cache_dir=cache, num_subjects=2, num_replications=1)


def pytest_generate_tests(metafunc):
    """Common model tests (tests/model_tester.py) run once per model class of their architecture."""
    if "model_class" in metafunc.fixturenames and metafunc.cls is not None and hasattr(metafunc.cls, "arch"):
        classes = metafunc.cls.arch().model_classes
        metafunc.parametrize("model_class", classes, ids=[c.__name__ for c in classes])


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_shared(*paths): reads these from ../shared (tests/paths.py)")


def pytest_runtest_setup(item):
    """A `needs_shared` test skips where what it reads is missing (`pytest_runtest_makereport` fails that skip
    where ../shared exists)."""
    marker = item.get_closest_marker("needs_shared")
    missing = [str(p) for p in marker.args if not paths.present(p)] if marker else []
    if missing:
        pytest.skip(f"reads {', '.join(missing)} from ../shared, absent here")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Any skip of a `needs_shared` test -- whatever raised it and whatever its reason says -- fails where ../shared
    exists (CI has it): there the skip would hide a moved or renamed file."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and item.get_closest_marker("needs_shared"):
        if paths.SHARED.is_dir():
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            reason = reason.removeprefix("Skipped: ")
            report.outcome = "failed"
            report.longrepr = f"{paths.SHARED} exists but this test, which reads it, was skipped: {reason}"
