"""Where the tests find the licensed real sample files: read in place from ../shared, never copied here.

A test that reads anything from ../shared says so with `needs_shared` (never a bare ``skipif``): where ../shared
exists, the conftest fails it rather than let it skip, whatever the skip's reason says."""

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL_SAMPLES = SHARED / "data" / "real_samples"
FACTS = SHARED / "data" / "facts"
DATA = Path(__file__).resolve().parent / "data"  # facts derived for the tests (file lists, id tables)


def needs_shared(*paths: Path) -> pytest.MarkDecorator:
    """Mark a test that reads `paths` (files, folders, or glob patterns in their last part) from ../shared.

    It is skipped where one is missing, unless ../shared exists: there the conftest fails it (a moved or renamed
    file, not a machine without the licensed data), and it fails any other skip of the test too."""
    return pytest.mark.needs_shared(*paths)


def present(path: Path) -> bool:
    """Whether a file or folder exists, or (a glob pattern in its last part) at least one match does."""
    path = Path(path)
    if any(c in path.name for c in "*?["):
        return any(path.parent.glob(path.name))
    return path.exists()
