"""Regenerate ``modeling/``: the one flat remote-code bundle of every registered architecture (developer script).

    python utils/write_modeling.py           # rewrite modeling/ from the package sources
    python utils/write_modeling.py --check   # exit 1 if modeling/ is stale (tests/test_remote_code.py checks too)

``modeling/`` can be published as a single Hub code repository; a checkpoint then points at it with
``"auto_map": {"AutoModel": "<org>/<code-repo>--modeling_hglnet.HGLNetModel", ...}`` instead of carrying the code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import skeleton_models  # noqa: F401  (registers every architecture)
from skeleton_models.remote_code import write_modeling

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1 if any)")
    parser.add_argument("--root", default=str(ROOT / "modeling"), help="the bundle folder")
    args = parser.parse_args()
    stale = write_modeling(args.root, check=args.check)
    if args.check and stale:
        print("stale remote-code bundle (run python utils/write_modeling.py):\n  " + "\n  ".join(stale))
        return 1
    print(("updated " + ", ".join(stale)) if stale else f"{args.root} is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
