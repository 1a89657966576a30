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


# -- ST-GCN (yysijie/st-gcn) ------------------------------------------------------------------------------------
STGCN_MODULES = {
    "net": "net/__init__.py",
    "net.utils": "net/utils/__init__.py",
    "net.utils.graph": "net/utils/graph.py",
    "net.utils.tgcn": "net/utils/tgcn.py",
    "net.st_gcn": "net/st_gcn.py",
}
# net/st_gcn.py Model.__init__: (output channels, temporal stride) of its ten st_gcn blocks.
STGCN_BLOCKS = [(64, 1)] * 4 + [(128, 2), (128, 1), (128, 1), (256, 2), (256, 1), (256, 1)]
STGCN_CALL = (
    "net.st_gcn.Model(in_channels=3, num_class=5, graph_args={'layout': 'ntu-rgb+d', 'strategy': 'spatial'}, "
    "edge_importance_weighting=True, dropout=0.5)"
)


def official_stgcn(checkout: Path, width_divisor: int = 8, dtype: torch.dtype = torch.float32):
    """The official ST-GCN for the NTU layout, its graph, BatchNorm statistics and edge importances set to random
    values, in evaluation mode; and a description of how it was built.

    The official Model fixes its widths (64 / 128 / 256: 3.08 M parameters, a 12 MB state dict). With
    `width_divisor` > 1 its ten blocks, edge importances and classifier are rebuilt from the official ``st_gcn``
    class with the same calls at 1 / `width_divisor` of the channels (same strides, dropout, residual kinds; the
    official graph, data_bn and forward unchanged), so the fixture stays small; no official code is edited."""
    st_gcn = import_from_checkout(checkout, STGCN_MODULES)
    model = st_gcn.Model(
        in_channels=3,
        num_class=5,
        graph_args={"layout": "ntu-rgb+d", "strategy": "spatial"},
        edge_importance_weighting=True,
        dropout=0.5,
    )
    call = STGCN_CALL
    if width_divisor > 1:
        kernel_size = (9, model.A.size(0))  # Model.__init__: (temporal_kernel_size, spatial_kernel_size)
        blocks, in_channels = [], 3
        for i, (channels, stride) in enumerate(STGCN_BLOCKS):
            channels //= width_divisor
            if i == 0:  # Model.__init__: the input block has no residual and no dropout
                blocks.append(st_gcn.st_gcn(in_channels, channels, kernel_size, stride, residual=False))
            else:
                blocks.append(st_gcn.st_gcn(in_channels, channels, kernel_size, stride, dropout=0.5))
            in_channels = channels
        model.st_gcn_networks = torch.nn.ModuleList(blocks)
        model.edge_importance = torch.nn.ParameterList(torch.nn.Parameter(torch.ones(model.A.size())) for _ in blocks)
        model.fcn = torch.nn.Conv2d(in_channels, 5, kernel_size=1)
        widths = sorted({channels // width_divisor for channels, _ in STGCN_BLOCKS})
        call += (
            f"; then st_gcn_networks, edge_importance and fcn rebuilt with net.st_gcn.st_gcn at widths {widths} "
            f"(the official {[64, 128, 256]} / {width_divisor}), same strides, dropout and residuals"
        )
    # Random BatchNorm affine parameters and edge importances; BatchNorm statistics those of a calibration batch
    # (so that the signal neither vanishes nor explodes through the ten blocks and the logits depend on the input),
    # then perturbed at random. The comparison covers them all.
    generator = torch.Generator().manual_seed(1)
    norms = [m for m in model.modules() if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d))]
    with torch.no_grad():
        for norm in norms:
            norm.weight.copy_(torch.rand(norm.num_features, generator=generator) + 0.5)
            norm.bias.copy_(torch.randn(norm.num_features, generator=generator) * 0.1)
            norm.momentum = None  # a cumulative average: after one batch, its statistics
        for importance in model.edge_importance:
            importance.copy_(torch.rand(importance.shape, generator=generator) + 0.5)
        model.train()
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.eval()
        model(torch.randn(4, 3, 16, 25, 2, generator=generator))
        for norm in norms:
            norm.momentum = 0.1  # the official (PyTorch's default)
            noise = torch.randn(norm.num_features, generator=generator)
            norm.running_mean.add_(noise * 0.1 * norm.running_var.sqrt())
            norm.running_var.mul_(torch.rand(norm.num_features, generator=generator) * 0.5 + 0.75)
    call += (
        "; BatchNorm affine parameters and edge importances random, BatchNorm statistics those of a calibration "
        "batch randn(4, 3, 16, 25, 2) perturbed at random (all seed 1); eval()"
    )
    return model.to(dtype).eval(), call


def stgcn_inputs(dtype: torch.dtype = torch.float32) -> dict:
    """A fixed input: (N=2, C=3, T=16, V=25, M=2) skeletons ~ N(0, 1) (seed 2) and labels for the loss."""
    generator = torch.Generator().manual_seed(2)
    skeletons = torch.randn(2, 3, 16, 25, 2, generator=generator).to(dtype)
    return {"skeletons": skeletons, "labels": torch.tensor([1, 3])}


def run_official_stgcn(model, inputs: dict) -> dict:
    """The official outputs the `stgcn` runner of tests/test_parity.py reproduces: logits, the cross-entropy (the
    official processor/recognition.py loss, nn.CrossEntropyLoss) and its gradient with respect to the input, and
    the graph ``A`` (net/st_gcn.py's buffer, [k, input joint, output joint])."""
    skeletons = inputs["skeletons"].clone().requires_grad_(True)
    logits = model(skeletons)
    loss = torch.nn.functional.cross_entropy(logits, inputs["labels"])
    (gradient,) = torch.autograd.grad(loss, skeletons)
    return {"logits": logits, "loss": loss, "skeletons_grad": gradient, "graph": model.A}


@writer("stgcn")
def write_stgcn(checkout: Path):
    model, call = official_stgcn(checkout)
    inputs = stgcn_inputs()
    outputs = run_official_stgcn(model, inputs)
    # `A` is a constant of graph_args, not a weight: the conversion ignores it (and checks it when a checkpoint has
    # it); the fixture keeps it as the output `graph`, which the runner compares with our graph.
    official = {key: value for key, value in model.state_dict().items() if key != "A"}
    metadata = {
        "conversion": "stgcn",
        "options": {"layout": "ntu25"},
        "source": "yysijie/st-gcn",
        "official": call,
        "seed": 0,
        # float32: our graph convolution sums the three subsets by batched matrix products where the official code
        # uses one einsum, so the sums run in other orders. Measured (torch 2.13 CPU): logits 1.8e-7 (values up to
        # 1.0), loss 0, input gradient 9.3e-9 (values up to 2.1e-2), graph 0; in float64 all below 1e-15 relative.
        # The tolerance leaves 5x (logits) to 100x (gradient) that.
        "atol": 1e-6,
        "rtol": 1e-5,
        "runner": "stgcn",
    }
    return official, inputs, outputs, metadata


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
