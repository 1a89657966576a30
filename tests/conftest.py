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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test skipped for want of a real sample file fails where ../shared/data/real_samples exists (CI has it):
    there the skip would hide a moved or renamed file."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and isinstance(report.longrepr, tuple) and "real_samples" in str(report.longrepr[2]):
        from .paths import REAL_SAMPLES

        if REAL_SAMPLES.is_dir():
            report.outcome = "failed"
            report.longrepr = f"{REAL_SAMPLES} exists but this real-sample test was skipped: {report.longrepr[2]}"
