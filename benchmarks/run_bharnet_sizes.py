"""BHaRNet's parameters and multiply-adds next to the paper's Tables I and III, and parity with the public DeGCN.

    python benchmarks/run_bharnet_sizes.py [--degcn PATH] [--write-readme]

- Sizes: every BHaRNet preset built at NTU-120 size (120 classes; body (1, 3, 64, 25, 2), hands (1, 3, 64, 25, 2)),
  parameters and MACs counted by ``torch.utils.flop_counter`` (convolutions, matrix products, attention), next to
  the paper's "GFLOPs" and parameters (Table III: joint stream; Table I: Joint + Bone, i.e. twice as much).
- Parity (with ``--degcn PATH``, a checkout of github.com/WoominM/DeGCN_pytorch obtained at run time into a
  temporary folder; nothing of it is copied here): the public DeGCN with one stream and our ``body-expert`` preset,
  with the official weights copied into ours by name, on the same input: parameter counts, MACs and the largest
  output and gradient difference in training and evaluation mode.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from skeleton_models import BHaRNetConfig, BHaRNetForSkeletonClassification
from skeleton_models.conversion import convert_state_dict
from skeleton_models.models.bharnet.convert_bharnet import DEGCN

from readme_table import save_results


def _load_official_degcn():
    """utils/write_fixtures.py's loader of the official DeGCN (one copy for the fixtures and the benchmarks)."""
    path = Path(__file__).resolve().parents[1] / "utils" / "write_fixtures.py"
    spec = importlib.util.spec_from_file_location("write_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_official_degcn


load_official_degcn = _load_official_degcn()

# Table III (NTU-120 X-Sub, joint): (GFLOPs, params in M); Table I rows are Joint + Bone ensembles of two models.
PAPER = {
    "body-expert": ("Body-expert (1 stream)", 0.83, 0.69),
    "hand-expert": ("Hand-expert (1 stream)", 0.83, 0.69),
    "degcn-2stream": ("DeGCN (baseline, 2 stream)", 1.66, 1.37),
    "joint-cpl": ("Score fusion (w/ L_c)", 1.66, 1.37),
    "cross-attention": ("Cross-Attention (standard)", 1.88, 2.46),
    "fast-attention": ("Fast Attention", 2.72, 4.33),
    "bharnet-p": ("F.A. + PAM (BHaRNet-P; Table I: 3.42 G / 9.06 M for J+B)", 1.71, 4.53),
    "bharnet-e": ("F.A. + Expertized branches (BHaRNet-E; Table I: 5.44 G / 5.50 M)", 2.72, 2.75),
    "bharnet-e-expert-only": ("BHaRNet-E, expert-only (Table I: 3.32 G / 2.76 M for J+B)", 1.66, 1.38),
    # Table II gives BHaRNet-M as Joint + Bone + RGB (7.56 G / 16.7 M); less Table I's Bone half of BHaRNet-E
    # (2.72 G / 2.75 M) it is Joint + RGB: 4.84 G / 13.95 M.
    "bharnet-m": ("BHaRNet-M, Joint + RGB (Table II: 7.56 G / 16.7 M for J+B+RGB, less a Bone BHaRNet-E)", 4.84, 13.95),
}


def macs(model, **inputs) -> float:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(**inputs)
    return counter.get_total_flops() / 2


def sizes() -> list[dict]:
    rows = []
    for preset, (row, paper_gflops, paper_params) in PAPER.items():
        config = BHaRNetConfig.from_preset(preset, num_labels=120)
        torch.manual_seed(0)
        model = BHaRNetForSkeletonClassification(config)
        inputs = {}
        if "body" in config.streams:
            inputs["skeletons"] = torch.zeros(1, 3, 64, 25, 2)
        if "hand" in config.streams:
            inputs["hands"] = torch.zeros(1, 3, 64, 25, 2)
        if config.rgb_stream:
            inputs["pixel_values"] = torch.zeros(1, 3, *config.rgb_image_size)
        params = sum(p.numel() for p in model.parameters())
        if config.expert_only:  # the light path does not use the interactive branches' weights
            params -= sum(p.numel() for p in model.bharnet.interaction.parameters())
            params -= sum(p.numel() for c in model.classifiers[2:] for p in c.parameters())
        rows.append(
            {
                "preset": preset,
                "paper_row": row,
                "params_m": params / 1e6,
                "gmacs": macs(model, **inputs) / 1e9,
                "paper_params_m": paper_params,
                "paper_gflops": paper_gflops,
            }
        )
    return rows


def _official_to_ours(name: str) -> str:
    """Our name of an official DeGCN parameter: the ``degcn`` conversion's table (skeleton_models/models/bharnet/
    convert_bharnet.py), the one map from the official names to ours."""
    for rule in DEGCN.rules:
        if re.fullmatch(rule.pattern, name):
            return re.sub(rule.pattern, rule.replacement, name)
    raise KeyError(name)


def parity(path: str) -> dict:
    official_class = load_official_degcn(Path(path))
    torch.manual_seed(0)
    official = official_class(num_class=120, num_stream=1, graph="graph.ntu_rgb_d.Graph", graph_args={})
    ours = BHaRNetForSkeletonClassification(
        BHaRNetConfig.from_preset("body-expert", num_labels=120, label_smoothing=0.0)
    )
    ours.load_state_dict(convert_state_dict(DEGCN, official.state_dict(), ours), strict=True)
    x = torch.randn(4, 3, 64, 25, 2, generator=torch.Generator().manual_seed(0))
    result = {
        "official_params": sum(p.numel() for p in official.parameters()),
        "ours_params": sum(p.numel() for p in ours.parameters()),
        "official_gmacs": macs(official, x=x[:1]) / 1e9,
        "ours_gmacs": macs(ours, skeletons=x[:1]) / 1e9,
    }
    with torch.no_grad():
        a, b = official.eval()(x)[0], ours.eval()(skeletons=x).logits
    result["eval_max_rel_diff"] = float((a - b).abs().max() / a.abs().max())
    a, b = official.train()(x)[0], ours.train()(skeletons=x).logits
    result["train_max_rel_diff"] = float((a - b).detach().abs().max() / a.detach().abs().max())
    # gradients in float64: in float32 the two summation orders differ by up to ~5e-3 of the largest gradient in
    # the input block, where training-mode BatchNorm's backward cancels large terms
    official.double(), ours.double()
    a, b = official(x.double())[0], ours(skeletons=x.double()).logits
    a.square().mean().backward()
    b.square().mean().backward()
    grads = dict(ours.named_parameters())
    # relative to the largest gradient of the model: the biases before a training-mode BatchNorm have a true
    # gradient of exactly 0, so both implementations give rounding noise (~1e-9) there
    scale = max(float(p.grad.abs().max()) for p in official.parameters())
    worst = max(
        float((p.grad - grads[_official_to_ours(name)].grad).abs().max()) for name, p in official.named_parameters()
    )
    result["grad_max_rel_diff"] = worst / scale
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--degcn", help="path to a checkout of the public DeGCN code")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    rows = sizes()
    lines = [
        "| preset | paper row (Table III, NTU-120 joint) | params (M) | paper params (M) | GMACs | paper GFLOPs |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['preset']}` | {r['paper_row']} | {r['params_m']:.2f} | {r['paper_params_m']:.2f} | "
            f"{r['gmacs']:.2f} | {r['paper_gflops']:.2f} |"
        )
    results = {"sizes": rows}
    if args.degcn:
        p = parity(args.degcn)
        results["degcn_parity"] = p
        lines.append("")
        lines.append(
            f"Parity with the public DeGCN code (one stream, its weights copied into `body-expert` by name): "
            f"parameters {p['ours_params']:,} vs {p['official_params']:,}; GMACs {p['ours_gmacs']:.3f} vs "
            f"{p['official_gmacs']:.3f} (the official CTR-GC runs its query/key convolutions on every frame before "
            f"the temporal mean); largest relative output difference {p['eval_max_rel_diff']:.1e} (eval) / "
            f"{p['train_max_rel_diff']:.1e} (training mode); largest gradient difference, in float64, "
            f"{p['grad_max_rel_diff']:.1e} of the largest gradient."
        )
    table = "\n".join(lines)
    print(table)
    if args.write_readme:
        save_results("bharnet-sizes", "cpu", table, results)


if __name__ == "__main__":
    main()
