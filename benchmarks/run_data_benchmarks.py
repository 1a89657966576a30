"""How fast the raw benchmark formats are read, and whether the training data path keeps up with training.

For each loader: raw files in the dataset's own format are written by `skeleton_models.data.raw_formats` (synthetic
motion, 40-200 frames per clip, as real clips), built with `load_skeleton_dataset` in one process (files/s and
clips/s parsed into Arrow), then read back in training format -- batches of 64 random clips from Arrow through
the `SkeletonProcessor` (random crop to 64 frames, rotation) on one core (clips/s). Finally the time of reading +
processing one batch of 64 is compared with one HGLNet training step on that batch on the CPU.

    python benchmarks/run_data_benchmarks.py [--write-readme]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from skeleton_models import HGLNetConfig, HGLNetForSkeletonClassification, SkeletonProcessor
from skeleton_models.data import ModelInputsDataset, load_skeleton_dataset
from skeleton_models.data.raw_formats import (
    ntu_to_nwucla,
    project_2d,
    synthetic_clip,
    write_kinetics_json,
    write_ntu_folder,
    write_nwucla_json,
    write_pkummd_labels,
    write_pkummd_sequence,
    write_pkummd_split,
    write_pyskl_annotations,
)

from readme_table import device_name, save_results

BATCH = 64


def make_ntu(root: Path, n: int) -> tuple[dict, int]:
    rng = np.random.default_rng(0)
    names = sorted(
        {
            f"S{rng.integers(1, 18):03d}C{rng.integers(1, 4):03d}P{rng.integers(1, 41):03d}"
            f"R{rng.integers(1, 3):03d}A{rng.integers(1, 61):03d}"
            for _ in range(n)
        }
    )
    write_ntu_folder(root, names)
    return {"name": "ntu60", "data_dir": root, "config": "xsub"}, len(names)


def make_nwucla(root: Path, n: int) -> tuple[dict, int]:
    root.mkdir(parents=True)
    folders = [1, 2, 3, 4, 5, 6, 8, 9, 11, 12]
    for i in range(n):
        name = f"a{folders[i % 10]:02d}_s{1 + i // 10 % 10:02d}_e{i // 100:02d}_v{1 + i % 3:02d}"  # unique
        write_nwucla_json(root / f"{name}.json", ntu_to_nwucla(synthetic_clip(i % 18, seed=i)[:, 0]), i % 10)
    return {"name": "nwucla", "data_dir": root}, n


def make_pkummd(root: Path, n: int) -> tuple[dict, int]:
    (root / "skeleton").mkdir(parents=True)
    (root / "label").mkdir()
    videos = [f"{v // 3 + 2:04d}-{'LMR'[v % 3]}" for v in range(n)]
    for i, video in enumerate(videos):
        parts = [synthetic_clip((i + k) % 18, seed=i * 3 + k) for k in range(3)]
        write_pkummd_sequence(root / "skeleton" / f"{video}.txt", np.concatenate(parts))
        ends = np.cumsum([len(p) for p in parts])
        write_pkummd_labels(
            root / "label" / f"{video}.txt", [(1 + k, s, e, 1) for k, (s, e) in enumerate(zip([0, *ends[:-1]], ends))]
        )
    write_pkummd_split(root / "cross-subject.txt", videos[: 3 * n // 4], videos[3 * n // 4 :])
    return {"name": "pkummd1", "data_dir": root, "config": "xsub"}, n


def make_kinetics(root: Path, n: int) -> tuple[dict, int]:
    for folder, count in (("kinetics_train", 3 * n // 4), ("kinetics_val", n - 3 * n // 4)):
        (root / folder).mkdir(parents=True)
        labels = {}
        for i in range(count):
            clip = synthetic_clip(i % 18, seed=i)
            keypoints = project_2d(clip, "openpose18")
            scores = (np.abs(keypoints).max(-1) > 0) * np.float32(0.8)
            write_kinetics_json(root / folder / f"v{i:05d}.json", keypoints, scores, i % 400)
            labels[f"v{i:05d}"] = {"has_skeleton": True, "label_index": i % 400}
        (root / f"{folder}_label.json").write_text(json.dumps(labels))
    return {"name": "kinetics_skeleton", "data_dir": root}, n


def make_pyskl(root: Path, n: int) -> tuple[dict, int]:
    root.mkdir(parents=True)
    annotations = []
    for i in range(n):
        keypoint = project_2d(synthetic_clip(i % 18, seed=i), "coco17").transpose(1, 0, 2, 3)
        score = np.full(keypoint.shape[:3], 0.9, np.float32)
        annotations.append(
            {
                "frame_dir": f"clip{i:05d}",
                "label": i % 18,
                "keypoint": keypoint,
                "keypoint_score": score,
                "img_shape": (1080, 1920),
            }
        )
    split = {
        "train": [a["frame_dir"] for a in annotations[: 3 * n // 4]],
        "val": [a["frame_dir"] for a in annotations[3 * n // 4 :]],
    }
    write_pyskl_annotations(root / "annotations.pkl", annotations, split)
    return {"name": "pyskl", "data_dir": root / "annotations.pkl"}, 1


def make_synthetic(root: Path, n: int) -> tuple[dict, int]:
    return {"name": "synthetic", "config": "xsub", "num_subjects": 4, "num_replications": 1}, 0


MAKERS = {
    "ntu60": (make_ntu, 400, "files"),
    "nwucla": (make_nwucla, 400, "files"),
    "pkummd1": (make_pkummd, 40, "videos"),
    "kinetics_skeleton": (make_kinetics, 400, "files"),
    "pyskl": (make_pyskl, 400, "pickle"),
    "synthetic": (make_synthetic, 0, "generated"),
}


def read_back(dataset, rng: np.random.Generator, batches: int, batch: int = 64, window: int = 64) -> float:
    """Median seconds to read and process one training batch of random clips (at the current thread count)."""
    processor = SkeletonProcessor.for_dataset(dataset, window_size=window)
    wrapped = ModelInputsDataset(dataset["train"], processor, training=True)
    times = []
    for _ in range(batches):
        indices = rng.choice(len(wrapped), size=batch, replace=len(wrapped) < batch).tolist()
        start = time.perf_counter()
        wrapped.__getitems__(indices)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def training_step(preset: str, frames: int, threads: int, batch: int = BATCH) -> float:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = HGLNetForSkeletonClassification(HGLNetConfig.from_preset(preset))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x, y = torch.randn(batch, 3, frames, 25, 2), torch.randint(0, 60, (batch,))
    times = []
    for i in range(3):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        model(x, labels=y).loss.backward()
        optimizer.step()
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    threads = torch.get_num_threads()
    rows, rng = [], np.random.default_rng(0)
    work = Path(tempfile.mkdtemp(prefix="skeleton_data_bench_"))
    for name, (make, count, unit) in MAKERS.items():
        options, files = make(work / "raw" / name, count)
        options = dict(options)
        start = time.perf_counter()
        dataset = load_skeleton_dataset(options.pop("name"), cache_dir=work / "cache" / name, **options)
        build = time.perf_counter() - start
        clips = sum(len(split) for split in dataset.values())
        torch.set_num_threads(1)
        batch = read_back(dataset, rng, args.batches)
        torch.set_num_threads(threads)
        rows.append(
            {
                "dataset": name,
                "unit": unit,
                "files": files,
                "clips": clips,
                "build_s": build,
                "files_per_s": files / build if files else None,
                "clips_per_s": clips / build,
                "batch_ms": 1000 * batch,
                "read_clips_per_s": BATCH / batch,
            }
        )
        print(rows[-1], flush=True)
        if name == "synthetic":  # the quickstart's batch: 16 clips, window 32, at the training's thread count
            quick_batch = read_back(dataset, rng, args.batches, batch=16, window=32)
    quick_step = training_step("hglnet-small", 32, threads, batch=16)
    steps = {preset: training_step(preset, frames, threads) for preset, frames in (("hglnet", 64), ("ctrgcn", 64))}
    slowest = max(r["batch_ms"] for r in rows) / 1000
    lines = [
        f"Measured on {device_name('cpu')} (reading: 1 thread; training: {threads} threads), "
        f"torch {torch.__version__}.",
        "",
        "| dataset | raw input | build: files/s | build: clips/s | read + process for training: clips/s "
        "| batch of 64 (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        files = f"{r['files']} {r['unit']}" if r["files"] else r["unit"]
        per_file = f"{r['files_per_s']:.0f}" if r["files_per_s"] and r["unit"] != "pickle" else "–"
        lines.append(
            f"| {r['dataset']} | {files} ({r['clips']} clips) | {per_file} | {r['clips_per_s']:.0f} | "
            f"{r['read_clips_per_s']:.0f} | {r['batch_ms']:.0f} |"
        )
    lines += [
        "",
        f"One CPU training step on a batch of 64 (T = 64, M = 2): HGLNet {steps['hglnet']:.1f} s, CTR-GCN "
        f"{steps['ctrgcn']:.1f} s. Reading + processing the slowest loader's batch of 64 on one core takes "
        f"{1000 * slowest:.0f} ms: **{slowest / steps['hglnet']:.3f}** of an HGLNet step "
        f"({slowest / steps['ctrgcn']:.3f} of a CTR-GCN step), so the data path is not the bottleneck.",
        "",
        "The model the CPU actually trains (HGLNet-small as `quickstart --model hglnet` trains it, batch 16, "
        f"T = 32): one step takes "
        f"{1000 * quick_step:.0f} ms; reading + processing its batch of 16 synthetic clips at the same {threads} "
        f"threads takes {1000 * quick_batch:.1f} ms, **{quick_batch / quick_step:.3f}** of a step. With the "
        "Trainer's default `dataloader_num_workers=0` that time adds to each step; a worker process would hide it "
        "but takes a core from the training step on a 2-core machine, so the quickstart uses no workers on the CPU "
        "(on a GPU it uses 2).",
    ]
    table = "\n".join(lines)
    print(table)
    if args.write_readme:
        results = {"loaders": rows, "training_step_s": steps, "quickstart_step_s": quick_step}
        save_results("data-benchmark", "cpu", table, {**results, "quickstart_batch_s": quick_batch})


if __name__ == "__main__":
    main()
