"""Parity with the official code, measured: every reference fixture in tests/fixtures/reference/ (the official state
dict, inputs and outputs of a run of the official code, written by utils/write_fixtures.py) converted with its
conversion and run as tests/test_parity.py runs it; the largest difference to the official outputs, per fixture.

    python benchmarks/run_parity.py                  # print the table
    python benchmarks/run_parity.py --write-readme   # also write it into README.md and benchmarks/results/

The tests assert each fixture's tolerance; this script reports the differences themselves (float32, this CPU).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from skeleton_models import BHaRNetConfig
from skeleton_models.conversion import convert_official
from skeleton_models.models.bharnet.modeling_bharnet import GuidedRGBStream
from skeleton_models.registry import get_architecture

from readme_table import ROOT, device_name, save_results

sys.path.insert(0, str(ROOT))  # tests/ is a package: its fixture reader and runners
from tests import test_parity as PARITY  # noqa: E402


def mmnet_guidance(inputs: dict, metadata: dict) -> dict:
    """BHaRNet-M's "mmnet-batch" guidance on the fixture's response map (as
    tests/test_modeling_bharnet.py::test_mmnet_batch_guidance_is_what_mmnets_code_computes runs it)."""
    preset = {**BHaRNetConfig.presets["bharnet-m"], "rgb_guidance_topk": metadata["temporal_positions"]}
    config = get_architecture("bharnet").tiny(**preset, rgb_guidance_norm="mmnet-batch")
    return {"guidance": GuidedRGBStream(config).eval().guidance(inputs["features"])}


def measure(path: Path) -> dict:
    official, inputs, outputs, metadata = PARITY.read_fixture(path)
    if metadata["conversion"] is None:
        ours = mmnet_guidance(inputs, metadata)
        model_name, test = 'BHaRNet-M\'s RGB guidance (`rgb_guidance_norm="mmnet-batch"`)', metadata["checked_by"]
    else:
        model = convert_official(metadata["conversion"], official, **metadata["options"])
        ours = PARITY.run(model, inputs, metadata)
        model_name = f"`{type(model).__name__}`"
        test = f"tests/test_parity.py::test_the_conversion_computes_what_the_official_code_computes[{path.stem}]"
    differences = {}
    for name, expected in outputs.items():
        if name not in ours:
            continue
        got, expected = ours[name].detach().double(), expected.double()
        differences[name] = {
            "max_abs_difference": float((got - expected).abs().max()),
            "max_abs_official": float(expected.abs().max()),
        }
    worst = max(differences, key=lambda n: differences[n]["max_abs_difference"])
    return {
        "fixture": path.stem,
        "model": model_name,
        "conversion": metadata["conversion"],
        "source": metadata["source"],
        "commit": metadata["commit"],
        "official": metadata["official"],
        "atol": metadata["atol"],
        "rtol": metadata["rtol"],
        "outputs": differences,
        "worst_output": worst,
        "size_bytes": path.stat().st_size,
        "test": test,
    }


def _compared(outputs: dict) -> str:
    gradients = [name for name in outputs if name.startswith("grad")]
    names = [f"`{name}`" for name in outputs if not name.startswith("grad")]
    if gradients:
        names.append(f"{len(gradients)} gradient{'s' if len(gradients) > 1 else ''}")
    return ", ".join(names)


def table(results: list[dict]) -> str:
    rows = [
        "| ours | official code | fixture (`--from`) | compared | largest difference (float32) | tolerance | size "
        "| test |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        worst = r["outputs"][r["worst_output"]]
        conversion = f"`{r['conversion']}`" if r["conversion"] else "no checkpoint"
        test = r["test"].split("::")[0] if r["conversion"] else r["test"]
        rows.append(
            f"| {r['model']} | {r['source']} @ {r['commit']} | `{r['fixture']}` ({conversion}) | "
            f"{_compared(r['outputs'])} | "
            f"{worst['max_abs_difference']:.1e} on `{r['worst_output']}` (values up to "
            f"{worst['max_abs_official']:.2g}) | atol {r['atol']:g}, rtol {r['rtol']:g} | "
            f"{r['size_bytes'] / 1024:.0f} KB | `{test}` |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args()
    torch.manual_seed(0)
    results = [measure(path) for path in PARITY.FIXTURES]
    text = f"Measured on {device_name('cpu')}, torch {torch.__version__}.\n\n{table(results)}"
    print(text)
    if args.write_readme:
        save_results("parity", "cpu", text, {"device": device_name("cpu"), "fixtures": results})


if __name__ == "__main__":
    main()
