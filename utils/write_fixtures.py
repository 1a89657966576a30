"""Reference fixtures from the official implementations (developer script).

Each fixture is the record of one run of an official model at a small configuration with a fixed seed: its state
dict under its own key names, a fixed input (and mask / noise / timestep where the model takes them) and the
official outputs. Nothing of the official code is copied into this repository: the script imports it from a checkout
given on the command line (``git clone`` of the repository at the commit named in the fixture), runs it, and keeps
only numbers. ``tests/test_parity.py`` converts each fixture's state dict with the architecture's conversion
(`skeleton_models.conversion`) and compares our outputs with the official ones in CI.

    python utils/write_fixtures.py stgcn --checkout /tmp/st-gcn   # -> tests/fixtures/reference/stgcn.safetensors

A fixture file holds ``official.<key>`` (the state dict), ``input.<name>`` and ``output.<name>`` tensors, and its
metadata (conversion, options, source, official call, seed, tolerance) as JSON in the safetensors header.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "fixtures" / "reference"

# name -> writer(checkout) returning (official state dict, inputs, outputs, metadata)
WRITERS: dict[str, Callable[[Path], tuple[dict, dict, dict, dict]]] = {}


def writer(name: str):
    def register(function):
        WRITERS[name] = function
        return function

    return register


def import_from_checkout(checkout: Path, modules: dict[str, str]):
    """Import files of an official checkout as modules of the given names, in order (a package's ``__init__.py``
    first, as ``{"graph": "graph/__init__.py"}``); returns the last module. The checkout's own absolute imports
    between its files must be among `modules`."""
    module = None
    for name, relative in modules.items():
        if name in sys.modules:
            module = sys.modules[name]
            continue
        path = checkout / relative
        if not path.is_file():
            raise SystemExit(f"{checkout}: no {relative}; is it a checkout of the official repository?")
        locations = [str(path.parent)] if path.name == "__init__.py" else None
        spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=locations)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def checkout_commit(checkout: Path) -> str:
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def save_fixture(name: str, official: dict, inputs: dict, outputs: dict, metadata: dict, folder: Path) -> Path:
    tensors = {f"official.{k}": v for k, v in official.items()}
    tensors |= {f"input.{k}": v for k, v in inputs.items()}
    tensors |= {f"output.{k}": v for k, v in outputs.items()}
    tensors = {k: v.detach().contiguous().clone() for k, v in tensors.items()}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    save_file(tensors, path, metadata={"fixture": json.dumps(metadata, sort_keys=True)})
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=sorted(WRITERS), help="the fixture")
    parser.add_argument("--checkout", required=True, type=Path, help="a checkout of the official repository")
    parser.add_argument("--output", type=Path, default=REFERENCE, help="the fixture folder")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    official, inputs, outputs, metadata = WRITERS[args.name](args.checkout.resolve())
    metadata.setdefault("commit", checkout_commit(args.checkout))
    path = save_fixture(args.name, official, inputs, outputs, metadata, args.output)
    size = path.stat().st_size / 1024
    print(f"wrote {path} ({size:.0f} KB; {metadata['source']}@{metadata['commit']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
