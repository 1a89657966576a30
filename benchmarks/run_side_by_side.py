"""Our models side by side with an official implementation, in one process, timings interleaved A/B.

Given a checkout of the official CTR-GCN (obtained at run time into a temporary folder -- nothing of it is copied
into this repository, its licence may forbid that):

    git clone https://github.com/Uason-Chen/CTR-GCN /tmp/ctrgcn
    python benchmarks/run_side_by_side.py --ctrgcn /tmp/ctrgcn [--write-readme]

it builds the official CTR-GCN (NTU-60: 3-subset spatial graph, 60 classes), our `ctrgcn` preset (HGLNet with all
four switches off, the same network) and our full HGLNet on the same input (N, 3, 64, 25, 2). With
``--degcn PATH`` (a checkout of github.com/WoominM/DeGCN_pytorch) it also builds the public DeGCN with one stream
and our BHaRNet ``body-expert`` preset (the same network; BHaRNet's backbone). For each pair it measures, with the
two models timed alternately in the same process so that machine drift cancels:

- one training step (forward, cross-entropy, backward, SGD with momentum, as the official recipe) at batch 16;
- inference at batch 1 (``torch.no_grad``, eval mode);
- peak memory of a training step at batch 16 and 64: on CUDA ``torch.cuda.max_memory_allocated``; on the CPU the
  peak resident set size of a fresh process that builds the model and runs two steps (so Python, torch and the
  model are counted alike for both);
- parameters and MACs (``torch.utils.flop_counter``; the official code's count includes CTR-GC's per-frame
  relation convolutions, which ours runs after the temporal mean).

The table (ratios ours / official: below 1 is faster or smaller) goes into README.md's ``side-by-side`` block.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from skeleton_models import (
    BHaRNetConfig,
    BHaRNetForSkeletonClassification,
    HGLNetConfig,
    HGLNetForSkeletonClassification,
)
from skeleton_models.layers import GroupedTopologyGraphConv

from readme_table import device_name, save_results


def _write_fixtures_module():
    """utils/write_fixtures.py, which holds the loaders of the official code (one copy for the fixtures and here)."""
    path = Path(__file__).resolve().parents[1] / "utils" / "write_fixtures.py"
    spec = importlib.util.spec_from_file_location("write_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_fixtures = _write_fixtures_module()
# The official `Model` classes imported from checkouts (CTR-GCN's ``graph`` package serves DeGCN too: same files).
load_official_ctrgcn, load_official_degcn = _fixtures.load_official_ctrgcn, _fixtures.load_official_degcn


def build(which: str, checkout: Path, degcn: Path | None = None) -> torch.nn.Module:
    torch.manual_seed(0)
    if which == "official-degcn":
        load_official_ctrgcn(checkout)  # registers the shared graph package
        model = load_official_degcn(degcn)(
            num_class=60, num_point=25, num_person=2, num_stream=1, graph="graph.ntu_rgb_d.Graph", graph_args={}
        )
        model.forward_logits = lambda x: model(x)[0]
    elif which == "body-expert":
        model = BHaRNetForSkeletonClassification(BHaRNetConfig.from_preset("body-expert"))
        model.forward_logits = lambda x: model(skeletons=x).logits
    elif which == "official":
        model = load_official_ctrgcn(checkout)(
            num_class=60,
            num_point=25,
            num_person=2,
            graph="graph.ntu_rgb_d.Graph",
            graph_args={"labeling_mode": "spatial"},
        )
        model.forward_logits = model.forward
    else:
        model = HGLNetForSkeletonClassification(HGLNetConfig.from_preset(which))
        model.forward_logits = lambda x: model(x).logits
    return model


def train_step(model, optimizer, x, y):
    optimizer.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model.forward_logits(x), y)
    loss.backward()
    optimizer.step()


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def interleaved(fn_a, fn_b, device: str, repeats: int, warmup: int = 2) -> tuple[float, float]:
    """Median seconds of `fn_a` and `fn_b`, run alternately (A B B A ...) after a warm-up of each."""
    for _ in range(warmup):
        fn_a(), fn_b()
    times = {0: [], 1: []}
    for r in range(repeats):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for i in order:
            sync(device)
            start = time.perf_counter()
            (fn_a if i == 0 else fn_b)()
            sync(device)
            times[i].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def macs(model, x) -> float:
    counter = FlopCounterMode(display=False)
    with counter:  # with autograd on: the official model passes parameters as module arguments
        model.forward_logits(x)
    return counter.get_total_flops() / 2


def peak_memory(which: str, args, batch: int, device: str) -> float:
    """Peak memory (bytes) of two training steps at `batch`, measured in a fresh process (`probe_memory`)."""
    command = [
        sys.executable,
        __file__,
        "--ctrgcn",
        str(args.ctrgcn),
        *(["--degcn", str(args.degcn)] if args.degcn else []),
        "--device",
        device,
        "--probe-memory",
        f"{which}:{batch}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=Path(__file__).parent)
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_bytes"]


def probe_memory(which: str, args, batch: int, device: str) -> None:
    model = build(which, args.ctrgcn, args.degcn).to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(batch, 3, 64, 25, 2, device=device)
    y = torch.randint(0, 60, (batch,), device=device)
    for _ in range(2):
        train_step(model, optimizer, x, y)
    if device == "cuda":
        peak = torch.cuda.max_memory_allocated()
    else:  # the resident-set high-water mark of this process (ru_maxrss would include the parent's, before exec)
        status = Path("/proc/self/status").read_text()
        peak = int(re.search(r"^VmHWM:\s+(\d+) kB", status, flags=re.M).group(1)) * 1024
    print(json.dumps({"peak_bytes": peak}))


def compare(ours, official, ours_name: str, official_name: str, args) -> dict:
    """Timings (interleaved), peak memory, parameters and MACs of `ours` next to `official`."""
    device = args.device
    x16 = torch.randn(16, 3, 64, 25, 2, device=device)
    y16 = torch.randint(0, 60, (16,), device=device)
    x1 = torch.randn(1, 3, 64, 25, 2, device=device)
    opt_ours = torch.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt_official = torch.optim.SGD(official.parameters(), lr=0.1, momentum=0.9)
    ours.train(), official.train()
    train = interleaved(
        lambda: train_step(ours, opt_ours, x16, y16),
        lambda: train_step(official, opt_official, x16, y16),
        device,
        args.repeats,
    )
    ours.eval(), official.eval()
    with torch.no_grad():
        infer = interleaved(
            lambda: ours.forward_logits(x1), lambda: official.forward_logits(x1), device, 4 * args.repeats
        )
    memory = {
        b: [peak_memory(ours_name, args, b, device), peak_memory(official_name, args, b, device)]
        for b in map(int, args.memory_batches.split(","))
    }
    return {
        "train_step_s": list(train),
        "inference_s": list(infer),
        "peak_memory_bytes": memory,
        "parameters": [sum(p.numel() for p in m.parameters()) for m in (ours, official)],
        "macs": [macs(ours, x1), macs(official, x1)],
    }


def backward_step(model, x, y) -> None:
    """Forward, cross-entropy and backward of one batch, gradients reset first (what the profiles look at)."""
    model.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model.forward_logits(x), y).backward()


def profile_steps(models: dict, device: str, top: int = 8) -> None:
    """Print, for one training step of each model (batch 16), the operators that take the most time."""
    from torch.profiler import profile

    x = torch.randn(16, 3, 64, 25, 2, device=device)
    y = torch.randint(0, 60, (16,), device=device)
    for name, model in models.items():
        model.to(device).train()
        backward_step(model, x, y), backward_step(model, x, y)
        with profile() as prof:
            backward_step(model, x, y)
        events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
        total = sum(e.self_cpu_time_total for e in events) / 1e6
        print(f"== {name}: one profiled training step, {total:.2f} s of CPU time")
        for e in events[:top]:
            print(f"   {e.key:36s} {e.self_cpu_time_total / 1e6:6.3f} s  {e.count:5d} calls")


# aten operators that launch no kernel of their own (views, metadata, allocation) or only dispatch to another
# operator that is counted (conv2d -> mkldnn / cudnn convolution, batch_norm -> native_batch_norm, ...)
NO_KERNEL = {
    "empty", "empty_like", "empty_strided", "as_strided", "as_strided_", "view", "reshape", "_reshape_alias",
    "_unsafe_view", "slice", "select", "transpose", "permute", "expand", "unsqueeze", "squeeze", "t", "detach",
    "alias", "resize_", "resolve_conj", "resolve_neg", "contiguous", "to", "_to_copy", "unflatten", "flatten",
    "split", "chunk", "unbind", "narrow", "lift_fresh", "result_type", "conv2d", "convolution", "_convolution",
    "batch_norm", "_batch_norm_impl_index", "linear", "matmul", "einsum", "clone", "convolution_backward",
    "layer_norm", "select_backward", "slice_backward", "zeros", "expand_as", "view_as", "split_with_sizes",
}  # fmt: skip


def count_kernels(models: dict, fused: bool | None = None) -> dict[str, tuple[int, int]]:
    """(aten operators, operators that launch a kernel) of one training step at batch 16 of each model.

    On a GPU a step of these small networks at batch 16 is bound by kernel launches rather than arithmetic, so the
    second count predicts the GPU ratio; it is counted on any device (here the CPU) and does not vary run to run.
    `fused` sets the form of the layers that have two (`GroupedTopologyGraphConv`'s ``fused``):
    True counts what such a layer runs on a GPU, None what it runs on the device it is on.
    """
    from torch.profiler import profile

    x, y = torch.randn(16, 3, 64, 25, 2), torch.randint(0, 60, (16,))
    counts = {}
    for name, model in models.items():
        model.train()
        for module in model.modules():
            if isinstance(module, GroupedTopologyGraphConv):
                module.fused = fused
        backward_step(model, x, y)  # warm-up
        with profile() as prof:
            backward_step(model, x, y)
        ops = [e for e in prof.key_averages() if e.key.startswith("aten::")]
        counts[name] = (sum(e.count for e in ops), sum(e.count for e in ops if e.key[6:] not in NO_KERNEL))
    return counts


def row(what: str, ours: str, official: str, ratio: float, bold: bool = True) -> str:
    ratio_text = f"**{ratio:.2f}**" if bold else f"{ratio:.2f}"
    return f"| {what} | {ours} | {official} | {ratio_text} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ctrgcn", required=True, type=Path, help="a checkout of github.com/Uason-Chen/CTR-GCN")
    parser.add_argument("--degcn", type=Path, help="a checkout of github.com/WoominM/DeGCN_pytorch (optional)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--memory-batches", default="16,64")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--probe-memory", metavar="MODEL:BATCH", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="print where one training step spends its time")
    parser.add_argument(
        "--count-kernels", action="store_true", help="count the operators of a training step (README block kernels)"
    )
    args = parser.parse_args()
    device = args.device
    if args.probe_memory:
        which, batch = args.probe_memory.split(":")
        probe_memory(which, args, int(batch), device)
        return
    if args.profile:
        names = ["official", "ctrgcn", "hglnet", *(["official-degcn", "body-expert"] if args.degcn else [])]
        profile_steps({n: build(n, args.ctrgcn, args.degcn) for n in names}, device)
        return
    pairs = [("ctrgcn", "official"), ("hglnet", "official")]
    if args.degcn:
        pairs.append(("body-expert", "official-degcn"))
    if args.count_kernels:
        models = {n: build(n, args.ctrgcn, args.degcn) for n in dict.fromkeys(n for pair in pairs for n in pair)}
        cpu_form, gpu_form = count_kernels(models, fused=False), count_kernels(models, fused=True)
        lines = [
            "| | kernels, ours: CPU form | GPU form | official | ours / official: CPU form | GPU form |",
            "|---|---|---|---|---|---|",
        ]
        for ours_name, official_name in pairs:
            (_, cpu), (_, gpu), (_, reference) = cpu_form[ours_name], gpu_form[ours_name], cpu_form[official_name]
            lines.append(
                f"| {ours_name} vs {official_name} | {cpu:,} | {gpu:,} | {reference:,} | {cpu / reference:.2f} "
                f"| **{gpu / reference:.2f}** |"
            )
        table = "\n".join(
            [
                "One training step (forward and backward), batch 16, input (16, 3, 64, 25, 2), counted with "
                f"torch.profiler (torch {torch.__version__}); kernels: aten operators less views, allocations and "
                "dispatch-only operators. CPU form / GPU form: the layers that have both (`fused`) in the form they "
                "run on the CPU / on a GPU.",
                "",
                *lines,
            ]
        )
        print(table)
        if args.write_readme:
            save_results("kernels", "cpu", table, {"cpu_form": cpu_form, "gpu_form": gpu_form})
        return
    labels = {
        "ctrgcn": "`ctrgcn` preset (= CTR-GCN) vs CTR-GCN",
        "hglnet": "full HGLNet vs CTR-GCN",
        "body-expert": "BHaRNet `body-expert` (= DeGCN, 1 stream) vs public DeGCN",
    }
    rows, results = [], {}
    for ours_name, official_name in pairs:
        official = build(official_name, args.ctrgcn, args.degcn).to(device)
        ours = build(ours_name, args.ctrgcn, args.degcn).to(device)
        result = compare(ours, official, ours_name, official_name, args)
        results[ours_name] = result
        label = labels[ours_name]
        (t_ours, t_official), (i_ours, i_official) = result["train_step_s"], result["inference_s"]
        rows.append(
            row(f"{label}: training step, batch 16", f"{t_ours:.3f} s", f"{t_official:.3f} s", t_ours / t_official)
        )
        rows.append(
            row(
                f"{label}: inference, batch 1",
                f"{1e3 * i_ours:.1f} ms",
                f"{1e3 * i_official:.1f} ms",
                i_ours / i_official,
            )
        )
        for b, (m_ours, m_official) in result["peak_memory_bytes"].items():
            gib = lambda m: f"{m / 2**30:.2f} GiB"  # noqa: E731
            rows.append(
                row(f"{label}: peak memory, training batch {b}", gib(m_ours), gib(m_official), m_ours / m_official)
            )
        (p_ours, p_official), (c_ours, c_official) = result["parameters"], result["macs"]
        rows.append(row(f"{label}: parameters", f"{p_ours:,}", f"{p_official:,}", p_ours / p_official, bold=False))
        gmacs = lambda c: f"{c / 1e9:.3f}"  # noqa: E731
        rows.append(row(f"{label}: GMACs, batch 1", gmacs(c_ours), gmacs(c_official), c_ours / c_official, bold=False))
    memory_kind = "peak allocated GPU memory" if device == "cuda" else "peak RSS of a fresh process (2 steps)"
    table = "\n".join(
        [
            f"Measured on {device_name(device)}, torch {torch.__version__}; input (N, 3, 64, 25, 2); medians of "
            f"{args.repeats} interleaved training steps (SGD, momentum 0.9) and {4 * args.repeats} inferences; memory: "
            f"{memory_kind}. Official: CTR-GCN, github.com/Uason-Chen/CTR-GCN (model/ctrgcn.py)"
            + (", DeGCN, github.com/WoominM/DeGCN_pytorch (model/degcn.py, one stream)." if args.degcn else "."),
            "",
            "| | ours | official | ratio ours / official |",
            "|---|---|---|---|",
            *rows,
        ]
    )
    print(table)
    if args.write_readme:
        save_results("side-by-side", device, table, results)


if __name__ == "__main__":
    main()
