"""Size, cost and speed of every registered architecture (not part of the test suite's pass/fail).

For every named configuration (preset) of every registered architecture, its task model on its dummy inputs
(`make_dummy_inputs`, 64 frames; with the loss inputs for training): parameters, multiply-accumulates (MACs) and
FLOPs per sample, inference latency at batch 1 and training throughput at batch 16 (forward + backward + AdamW).

Convention: one sample is one clip with all its persons (M = 2 here), the input shape is given per row, and
FLOPs = 2 x MACs. MACs are counted by `torch.utils.flop_counter` over convolutions, matrix products, einsums and
attention; element-wise operations, normalisation and activations are not counted (as in fvcore, whose counts
CTR-GCN-style papers quote). Timings are medians over repeated runs after a warm-up; on a shared CPU treat them
as relative.

    python benchmarks/run_benchmarks.py                  # print the table
    python benchmarks/run_benchmarks.py --write-readme   # also write it into README.md and benchmarks/results/
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import asdict, dataclass

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from skeleton_models import ARCHITECTURES
from skeleton_models.modeling_utils import make_dummy_inputs

from readme_table import device_name, save_results

FRAMES = 64  # frames per sample for every variant (unless an architecture fixes its own)


@dataclass
class Variant:
    name: str
    model_type: str
    preset: str


def variants() -> list[Variant]:
    """Every named configuration of every registered architecture."""
    return [
        Variant(f"{arch.title} `{preset}`", arch.model_type, preset)
        for arch in ARCHITECTURES.values()
        for preset in arch.presets
    ]


@dataclass
class Row:
    name: str
    input_shape: str
    params_m: float
    gmacs: float
    gflops: float
    latency_ms: float
    train_samples_per_s: float
    device: str


def build(variant: Variant) -> torch.nn.Module:
    """The architecture's first task model (its classifier, for a classifier) in the named configuration."""
    arch = ARCHITECTURES[variant.model_type]
    model_class = next(iter(arch.task_classes.values()), arch.base_model_class)
    return model_class(arch.config_class.from_preset(variant.preset))


def count_macs(model: torch.nn.Module, inputs: dict) -> float:
    """MACs of one forward. SDPA runs its math path here: the counter does not count the fused CPU kernel."""
    counter = FlopCounterMode(display=False)
    # autograd on: under no_grad the counter's module tracker fails on parameters passed as arguments
    with sdpa_kernel(SDPBackend.MATH), counter:
        model(**inputs)
    return counter.get_total_flops() / 2


def timed(fn, device: str, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(variant: Variant, device: str, latency_repeats: int, train_steps: int) -> Row:
    torch.manual_seed(0)
    model = build(variant).to(device)
    config = model.config
    loss_inputs = getattr(model, "loss_input_names", ())
    one = make_dummy_inputs(config, 1, FRAMES, with_loss_inputs=(), device=device)
    params = sum(p.numel() for p in model.parameters())
    macs = count_macs(model.eval(), one)
    shape = tuple(one[config.input_specs[0].name].shape)  # the first input (BHaRNet: the body; hand-expert: hands)

    with torch.no_grad():
        latency = timed(lambda: model(**one), device, latency_repeats)

    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    batch = make_dummy_inputs(config, 16, FRAMES, with_loss_inputs=loss_inputs, device=device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        model(**batch).loss.backward()
        optimizer.step()

    step_time = timed(step, device, train_steps, warmup=1)
    return Row(
        name=variant.name,
        input_shape="x".join(map(str, shape)),
        params_m=params / 1e6,
        gmacs=macs / 1e9,
        gflops=2 * macs / 1e9,
        latency_ms=1000 * latency,
        train_samples_per_s=16 / step_time,
        device=device,
    )


def markdown(rows: list[Row], device: str) -> str:
    header = (
        "| model | input (N, C, T, V, M) | params (M) | GMACs / sample | GFLOPs / sample | latency, batch 1 (ms) "
        "| training, batch 16 (samples/s) |\n|---|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| {r.name} | {r.input_shape.replace('x', ', ')} | {r.params_m:.3f} | {r.gmacs:.3f} | {r.gflops:.3f} | "
        f"{r.latency_ms:.1f} | {r.train_samples_per_s:.1f} |\n"
        for r in rows
    )
    return f"Measured on {device_name(device)}, torch {torch.__version__}.\n\n{header}{body}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--latency-repeats", type=int, default=20)
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--write-readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args()

    rows = [measure(v, args.device, args.latency_repeats, args.train_steps) for v in variants()]
    table = markdown(rows, args.device)
    print(table)
    if args.write_readme:
        save_results("models", args.device, table, [asdict(r) for r in rows])


if __name__ == "__main__":
    main()
