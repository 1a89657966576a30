"""Masked skeleton pre-training side by side with the official MAMP code, in one process, timings interleaved A/B.

Given a checkout of the official MAMP (obtained at run time into a temporary folder -- nothing of it is copied into
this repository):

    git clone https://github.com/maoyunyao/MAMP /tmp/mamp
    python benchmarks/run_pretraining_side_by_side.py --mamp /tmp/mamp [--write-readme]

it builds the official MAMP pre-training model (``model_mamp/transformer.py``: 8 encoder layers of width 256, 120
frames, motion targets, ``decoder_depth`` 3 as its NTU-60 config and 5 as Table 1 of GFP), our ``mamp`` preset with
the same decoder depth (the same network, its weights converted from the official model's by the ``mamp-pretrain``
conversion) and our ``gfp`` preset (the hierarchical decoder and the TGN), all on the
same input (N, 3, 120, 25, 2), and times one pre-training step (forward with masking, loss, backward, AdamW with
MAMP's betas 0.9 / 0.95) with each pair run alternately so that machine drift cancels. Also: peak memory of a step
(CUDA: ``max_memory_allocated``; skipped on the CPU), parameters and FLOPs of one forward (``torch.utils.flop_counter``
with SDPA's math kernel so that attention is counted). The ratios ours / official go into README.md's
``pretraining-side-by-side`` block: issue 9's target is <= 0.5 for the MAMP network; GFP Table 1 claims 6.2x
faster pre-training than MAMP.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from skeleton_models.conversion import convert_official
from skeleton_models.models.gfp import GFPConfig, GFPForPreTraining
from skeleton_models.models.slim import SLiMConfig, SLiMForPreTraining
from skeleton_models.training import SLiMPreTrainingCollator

from readme_table import device_name, save_results
from run_side_by_side import interleaved, sync


def _write_fixtures():
    """utils/write_fixtures.py (a script, not a package), where the official code's loaders live."""
    if "write_fixtures" not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "utils" / "write_fixtures.py"
        spec = importlib.util.spec_from_file_location("write_fixtures", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["write_fixtures"] = module
        spec.loader.exec_module(module)
    return sys.modules["write_fixtures"]


def load_official_mamp(checkout: Path) -> type:
    """The official pre-training `Transformer` class, imported from a checkout (write_fixtures' loader)."""
    return _write_fixtures().load_official_mamp(Path(checkout).resolve(), "model_mamp").Transformer


class OfficialStep(torch.nn.Module):
    """The official model called as its pre-training loop does (mask ratio 0.9, tau 0.8, motion stride 1)."""

    def __init__(self, transformer_class, decoder_depth: int):
        super().__init__()
        self.model = transformer_class(
            dim_in=3,
            dim_feat=256,
            decoder_dim_feat=256,
            depth=8,
            decoder_depth=decoder_depth,
            num_heads=8,
            mlp_ratio=4,
            num_frames=120,
            num_joints=25,
            patch_size=1,
            t_patch_size=4,
            qkv_bias=True,
            norm_skes_loss=True,
        )  # fmt: skip  (config/ntu60_xsub_joint/pretrain_mamp_t120_layer8+3_mask90.yaml)

    def forward(self, x):
        return self.model(x, mask_ratio=0.9, motion_stride=1, motion_aware_tau=0.8)[0]


class OursStep(torch.nn.Module):
    def __init__(self, preset: str, official: OfficialStep | None = None, **overrides):
        """Our preset, or with `official` the official model converted (``mamp-pretrain``: its weights, renamed by
        the conversion's table)."""
        super().__init__()
        if official is not None:
            self.model = convert_official("mamp-pretrain", official.model.state_dict()).train()
        else:
            self.model = GFPForPreTraining(GFPConfig.from_preset(preset, **overrides))

    def forward(self, x):
        return self.model(skeletons=x).loss


class SLiMStep(torch.nn.Module):
    """SLiM's pre-training step on one batch of its collator's views and masks (drawn once, from clips of 128 frames
    of the same random data): the teacher on G1, the student on G1 masked, G2 and six local views."""

    def __init__(self, batch: int, device: str):
        super().__init__()
        config = SLiMConfig()
        self.model = SLiMForPreTraining(config)
        clips = torch.randn(batch, 3, config.source_frames, 25, 2)
        inputs = SLiMPreTrainingCollator(config, seed=0)([{"skeletons": c} for c in clips])
        self.inputs = {
            k: {f: t.to(device) for f, t in v.items()} if isinstance(v, dict) else v.to(device)
            for k, v in inputs.items()
        }

    def forward(self, x):
        return self.model(**self.inputs).loss


def step_fn(model, optimizer, x, autocast: bool):
    def step():
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=autocast):
            loss = model(x)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def flops(model, x) -> float:
    model.eval()
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        model(x)
    model.train()
    return counter.get_total_flops() / 1e9


def peak_memory(step, device: str) -> float | None:
    if device != "cuda":
        return None
    sync(device)
    torch.cuda.reset_peak_memory_stats()
    step()
    sync(device)
    return torch.cuda.max_memory_allocated() / 2**30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mamp", required=True, type=Path, help="a checkout of github.com/maoyunyao/MAMP")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=None, help="clips per step (default: 32 on CUDA, 2 on CPU)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--bf16", action="store_true", help="also bf16 autocast steps (MAMP's --enable_amp)")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    device = args.device
    batch = args.batch or (32 if device == "cuda" else 2)  # MAMP: 32 clips per GPU, 4 GPUs
    torch.manual_seed(0)
    official_class = load_official_mamp(args.mamp)
    x = torch.randn(batch, 3, 120, 25, 2, device=device)
    pairs = []
    for depth in (3, 5):
        official = OfficialStep(official_class, depth).to(device)
        pairs.append((f"`mamp` preset, decoder {depth} layers", OursStep("mamp", official), official))
        pairs.append((f"`gfp` preset vs MAMP, decoder {depth} layers", OursStep("gfp"), official))
    pairs.append(("`slim` preset (K = 65,536) vs MAMP, decoder 3 layers", SLiMStep(batch, device), pairs[0][2]))
    results, lines = [], []
    for name, ours, official in pairs:
        ours = ours.to(device)
        for autocast in (False, True) if args.bf16 else (False,):
            steps = [
                step_fn(
                    m, torch.optim.AdamW(m.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.05), x, autocast
                )
                for m in (ours, official)
            ]
            t_ours, t_official = interleaved(steps[0], steps[1], device, args.repeats)
            memory = [peak_memory(s, device) for s in steps]
            result = {
                "pair": name,
                "bf16": autocast,
                "batch": batch,
                "step_s": [t_ours, t_official],
                "peak_gib": memory,
                "params": [sum(p.numel() for p in m.parameters()) for m in (ours, official)],
                "gflops": [flops(m, x[:1]) if not isinstance(m, SLiMStep) else None for m in (ours, official)],
            }
            results.append(result)
            print(result, flush=True)
            tag = f"{name}{', bf16 autocast' if autocast else ''}"
            lines.append(
                f"| {tag}: training step, batch {batch} | {t_ours * 1e3:.1f} ms | {t_official * 1e3:.1f} ms | "
                f"**{t_ours / t_official:.2f}** |"
            )
            if memory[0] is not None:
                lines.append(
                    f"| {tag}: peak memory | {memory[0]:.2f} GiB | {memory[1]:.2f} GiB | {memory[0] / memory[1]:.2f} |"
                )
        p, f = results[-1]["params"], results[-1]["gflops"]
        lines.append(f"| {name}: parameters | {p[0]:,} | {p[1]:,} | {p[0] / p[1]:.2f} |")
        if f[0] is None:  # SLiM's step (views of its collator): no single-clip forward to count
            continue
        lines.append(
            f"| {name}: GFLOPs of a pre-training forward, 1 clip | {f[0]:.2f} | {f[1]:.2f} | {f[0] / f[1]:.2f} |"
        )
    table = "\n".join(
        [
            f"Measured on {device_name(device)}, torch {torch.__version__}; input ({batch}, 3, 120, 25, 2); medians of "
            f"{args.repeats} interleaved pre-training steps (AdamW); official: MAMP, github.com/maoyunyao/MAMP "
            "(model_mamp/transformer.py, its NTU-60 pre-training settings).",
            "",
            "| | ours | official MAMP | ratio ours / official |",
            "|---|---|---|---|",
            *lines,
        ]
    )
    print(table)
    if args.write_readme:
        save_results("pretraining-side-by-side", device, table, results)


if __name__ == "__main__":
    main()
