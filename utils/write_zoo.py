"""Render the zoo catalog from a results file of measured runs (developer script): ``hub_cards/<name>.md`` (the
README.md of each checkpoint's Hub repository), ``skeleton_models/zoo.json`` (the `skeleton_models.zoo` entries)
and the README's "Model zoo" table.

    python utils/write_zoo.py                                        # from benchmarks/results/zoo-*.json
    python utils/write_zoo.py benchmarks/results/zoo-synthetic-cpu.json
    python utils/write_zoo.py --check                                # exit 1 if the catalog is stale

The results files are written by the training runs (``benchmarks/run_synthetic_experiments.py --write-readme``);
several files are merged in name order.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import skeleton_models  # noqa: F401  (registers every architecture)
from skeleton_models.hub import write_catalog

ROOT = Path(__file__).resolve().parents[1]


def merged_results(files: list[Path]) -> Path:
    """One results file holding the checkpoints of all `files`."""
    checkpoints = [c for f in sorted(files) for c in json.loads(f.read_text())["checkpoints"]]
    merged = Path(tempfile.mkdtemp()) / "zoo.json"
    merged.write_text(json.dumps({"checkpoints": checkpoints}))
    return merged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="*", help="results files (default: benchmarks/results/zoo-*.json)")
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1 if any)")
    args = parser.parse_args()
    files = [Path(f) for f in args.results] or sorted((ROOT / "benchmarks" / "results").glob("zoo-*.json"))
    stale = write_catalog(merged_results(files), ROOT / "hub_cards", ROOT / "README.md", check=args.check)
    if args.check and stale:
        print("stale zoo catalog (run python utils/write_zoo.py):\n  " + "\n  ".join(stale))
        return 1
    print(("updated " + ", ".join(stale)) if stale else "the zoo catalog is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
