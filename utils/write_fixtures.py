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
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import save_file

from skeleton_models.conversion import get_conversion

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


# -- CTR-GCN and DeGCN (HGLNet's ctrgcn preset, BHaRNet's body-expert) ----------------------------------------------


def load_official_ctrgcn(checkout: Path) -> type:
    """The official CTR-GCN `Model` class (model/ctrgcn.py), its ``graph`` package registered under its own name (the
    model resolves ``graph="graph.ntu_rgb_d.Graph"`` by importing it)."""
    checkout = Path(checkout).resolve()
    if not (checkout / "model" / "ctrgcn.py").exists():
        raise SystemExit(f"{checkout} is not a checkout of Uason-Chen/CTR-GCN (no model/ctrgcn.py)")
    modules = {"graph": "graph/__init__.py", "ctrgcn_official": "model/ctrgcn.py"}
    return import_from_checkout(checkout, modules).Model


def load_official_degcn(checkout: Path) -> type:
    """The public DeGCN `Model` class (model/degcn.py, imported as the package ``degcn_official``); its ``graph``
    package is CTR-GCN's (the same files), registered as ``graph`` unless a CTR-GCN checkout's already is."""
    checkout = Path(checkout).resolve()
    if not (checkout / "model" / "degcn.py").exists():
        raise SystemExit(f"{checkout} is not a checkout of WoominM/DeGCN_pytorch (no model/degcn.py)")
    modules = {
        "graph": "graph/__init__.py",
        "degcn_official": "model/__init__.py",
        "degcn_official.degcn": "model/degcn.py",
    }
    return import_from_checkout(checkout, modules).Model


def perturb_(model: torch.nn.Module, x: torch.Tensor, generator: torch.Generator) -> None:
    """Move every weight, topology, offset and BatchNorm statistic of an official model off its initial value, so that
    a fixture tests each of them (e.g. CTR-GC's alpha starts at 0, which hides the whole refinement branch).

    Every floating parameter gets N(0, 0.1^2) added; then the BatchNorm statistics are those of a few training-mode
    passes over inputs like `x` (so the activations keep a sane scale in evaluation mode), each then moved too (mean +
    N(0, 0.1^2) std, variance x exp(N(0, 0.2^2))).
    """
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=generator))
        norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the calibration passes
        model.train()
        for _ in range(3):
            model(torch.randn(x.shape, generator=generator))
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
            std = m.running_var.sqrt()
            m.running_mean.add_(0.1 * std * torch.randn(m.running_mean.shape, generator=generator))
            m.running_var.mul_(torch.exp(0.2 * torch.randn(m.running_var.shape, generator=generator)))
    model.eval()


def our_key(conversion: str, official_key: str) -> str:
    """The name a conversion gives an official parameter (a fixture's gradients are stored under our names)."""
    for rule in get_conversion(conversion).rules:
        if re.fullmatch(rule.pattern, official_key):
            return re.sub(rule.pattern, rule.replacement, official_key)
    raise KeyError(f"{conversion}: no rule maps {official_key}")


def classifier_fixture(
    conversion: str,
    model: torch.nn.Module,
    x: torch.Tensor,
    num_classes: int,
    loss_fn: Callable,
    gradients: list[str],
    generator: torch.Generator,
) -> tuple[dict, dict, dict]:
    """(official state dict, inputs, outputs) of a perturbed official classifier (`perturb_`) for the runner
    ``classify_and_train``: its evaluation-mode logits; then, in training mode (batch statistics), its training loss
    `loss_fn` for fixed labels and the gradients of the official parameters `gradients`, stored under our names as
    ``grad.<name>``."""
    perturb_(model, x, generator)
    state = {key: value.detach().clone() for key, value in model.state_dict().items()}
    labels = torch.randint(0, num_classes, (x.shape[0],), generator=generator)
    with torch.no_grad():
        logits = model.eval()(x)
    loss = loss_fn(model.train()(x), labels)
    loss.backward()
    parameters = dict(model.named_parameters())
    outputs = {"logits": logits, "loss": loss.detach()}
    outputs |= {f"grad.{our_key(conversion, key)}": parameters[key].grad for key in gradients}
    return state, {"skeletons": x, "labels": labels}, outputs


def graph_input(frames: int, generator: torch.Generator) -> torch.Tensor:
    """(N=2, C=3, T, V=25, M=2) standard-normal clips, the second with one person (the other zero, as padded)."""
    x = torch.randn(2, 3, frames, 25, 2, generator=generator)
    x[1, ..., 1] = 0
    return x


# Both fixtures are float32 throughout. Measured when they were written (CPU, torch 2.13): |ours - official| at most
# 7.6e-6 on logits of magnitude up to 30 and 3e-6 on the losses and gradients, where the official code's own float32
# error (against itself in float64) reaches 1.2e-5 on the logits; in float64 the two agree to 2e-14. atol 5e-5 /
# rtol 1e-5 leave room for two float32 summation orders on other machines (the official CTR-GC convolves every frame
# before the temporal mean, ours after); a wrong or misplaced weight moves the outputs by orders of magnitude more.
GRAPH_ATOL, GRAPH_RTOL = 5e-5, 1e-5


@writer("ctrgcn")
def ctrgcn(checkout: Path) -> tuple[dict, dict, dict, dict]:
    """The official CTR-GCN (model/ctrgcn.py ``Model``) at its smallest: 5 classes (the widths 64 ... 256 and the
    ten layers are fixed in the code), 16 frames; every weight and statistic perturbed (`perturb_`). Outputs: the
    logits, the training loss (main.py: ``nn.CrossEntropyLoss``) and four gradients."""
    call = dict(
        num_class=5, num_point=25, num_person=2, graph="graph.ntu_rgb_d.Graph", graph_args={"labeling_mode": "spatial"}
    )
    model = load_official_ctrgcn(checkout)(**call)
    generator = torch.Generator().manual_seed(0)
    x = graph_input(16, generator)
    gradients = ["data_bn.weight", "l1.gcn1.alpha", "l5.gcn1.PA", "fc.weight"]
    state, inputs, outputs = classifier_fixture(
        "ctrgcn", model, x, 5, torch.nn.functional.cross_entropy, gradients, generator
    )
    metadata = {
        "conversion": "ctrgcn",
        "options": {},
        "source": "Uason-Chen/CTR-GCN",
        "official": "model.ctrgcn.Model(" + ", ".join(f"{k}={v!r}" for k, v in call.items()) + ")",
        "loss": "main.py: nn.CrossEntropyLoss()",
        "seed": 0,
        "atol": GRAPH_ATOL,
        "rtol": GRAPH_RTOL,
        "runner": "classify_and_train",
    }
    return state, inputs, outputs, metadata


@writer("degcn")
def degcn(checkout: Path) -> tuple[dict, dict, dict, dict]:
    """The public DeGCN (model/degcn.py ``Model``) with one stream at its smallest: 5 classes (the widths 64 ... 256
    are fixed in the code), 64 frames (the only clip length its deformable temporal convolution reads correctly: it
    clamps its sampling positions to ``num_frame - 1`` = 63, 31, 15 per stage); every weight, offset and statistic
    perturbed (`perturb_`). Outputs: the logits, the training loss and four gradients. The loss is main.py's
    ``LabelSmoothingCrossEntropy(eps=0.1)``, computed as ``F.cross_entropy(label_smoothing=0.1)``: the same formula
    (eps / classes x the sum of -log p, plus (1 - eps) x the NLL), and main.py itself cannot be imported without
    apex, thop and tensorboardX."""
    call = dict(
        num_class=5,
        num_point=25,
        num_person=2,
        num_stream=1,
        graph="graph.ntu_rgb_d.Graph",
        graph_args={"labeling_mode": "spatial"},
    )
    model = load_official_degcn(checkout)(**call)
    forward = model.forward
    model.forward = lambda x: forward(x)[0]  # the one stream's logits (the official forward returns a list)
    generator = torch.Generator().manual_seed(0)
    x = graph_input(64, generator)
    # Gradients whose float32 value is well conditioned: against the official code in float64, the official float32
    # gradients of these four are within 8e-6 of their largest entry, where those of the graph convolutions and of
    # data_bn are off by up to 1e-2 (sums that training-mode BatchNorm makes cancel to ~0 at this batch of 4).
    gradients = [
        "streams.0.block-8_tcngcn.tcn.tcn1.2.tr",
        "streams.0.block-9_tcngcn.tcn.tcn1.2.tr",
        "streams.0.block-9_tcngcn.gcn.bn.weight",
        "fc.0.weight",
    ]

    def loss_fn(logits, labels):
        return torch.nn.functional.cross_entropy(logits, labels, label_smoothing=0.1)

    state, inputs, outputs = classifier_fixture("degcn", model, x, 5, loss_fn, gradients, generator)
    metadata = {
        "conversion": "degcn",
        "options": {},
        "source": "WoominM/DeGCN_pytorch",
        "official": "model.degcn.Model(" + ", ".join(f"{k}={v!r}" for k, v in call.items()) + ")",
        "loss": "main.py: LabelSmoothingCrossEntropy(eps=0.1), as F.cross_entropy(label_smoothing=0.1)",
        "seed": 0,
        "atol": GRAPH_ATOL,
        "rtol": GRAPH_RTOL,
        "runner": "classify_and_train",
    }
    return state, inputs, outputs, metadata


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
