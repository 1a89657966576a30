"""Writing a measured table into README.md between ``<!-- <name>:start -->`` and ``<!-- <name>:end -->``.

Tables measured on different devices (cpu, cuda) live side by side in one block, each under ``<!-- <device> -->``.
"""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name()
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), flags=re.M)
        cpu = names[0].strip() if names else cpu
    return f"CPU: {cpu}, {torch.get_num_threads()} threads"


def write_block(name: str, device: str, table: str, readme: Path = ROOT / "README.md") -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = readme.read_text()
    block = re.search(re.escape(start) + r"(.*?)" + re.escape(end), text, flags=re.S)
    if block is None:
        raise SystemExit(f"README.md has no {start} ... {end} block")
    key = f"<!-- {device} -->"
    parts = [p.strip() for p in re.split(r"(?=<!-- (?:cpu|cuda) -->)", block.group(1).strip()) if p.strip()]
    kept = [p for p in parts if not p.startswith(key)]
    new_block = "\n\n".join(sorted([*kept, f"{key}\n{table.strip()}"]))
    readme.write_text(text[: block.start()] + f"{start}\n{new_block}\n{end}" + text[block.end() :])


def save_results(name: str, device: str, table: str, results) -> None:
    """Write `results` to ``benchmarks/results/<name>-<device>.json`` and `table` into README.md's `name` block."""
    folder = ROOT / "benchmarks" / "results"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}-{device}.json").write_text(json.dumps(results, indent=2) + "\n")
    write_block(name, device, table)
