"""Draw what a checkpoint sees in clips: each clip's skeleton over time, and HocSLM's Fig. 6 for it -- key frames
with every joint's importance for the predicted class, and the learned global, local and composite joint
topologies of one HGLNet block (`skeleton_models.visualization`; needs ``pip install "skeleton-models[viz]"``).

    python examples/plot_explanation.py --checkpoint outputs/hglnet --dataset synthetic \\
        --classes handshake "kick with right leg" --output_dir figures

Works with any HGLNet or HocSLM checkpoint (a folder or a Hub repo) and any dataset `load_skeleton_dataset` reads;
for each class the first test clip is drawn (``--index`` picks another).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from skeleton_models.data import load_skeleton_dataset  # noqa: E402
from skeleton_models.registry import load_checkpoint, load_processor  # noqa: E402
from skeleton_models.visualization import plot_model_explanation, plot_skeleton_frames  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--dataset_config", default=None)
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--dataset_options", default="{}", help="builder options as JSON")
    parser.add_argument("--split", default="test")
    parser.add_argument("--classes", nargs="+", required=True, help="class names")
    parser.add_argument("--index", type=int, default=0, help="which clip of each class (0 = the first)")
    parser.add_argument("--block", type=int, default=-1, help="the HGLNet block whose topologies are drawn")
    parser.add_argument("--output_dir", default="figures")
    parser.add_argument("--dpi", type=int, default=110)
    args = parser.parse_args()
    model = load_checkpoint(args.checkpoint).eval()
    processor = load_processor(args.checkpoint)
    split = load_skeleton_dataset(
        args.dataset, data_dir=args.data_dir, config=args.dataset_config, **json.loads(args.dataset_options)
    )[args.split]
    names = split.features["label"].names
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.classes:
        if name not in names:
            raise SystemExit(f"--classes: {name!r} is not a class of {args.dataset}; classes: {names}")
        rows = [i for i, label in enumerate(split["label"]) if label == names.index(name)]
        if args.index >= len(rows):
            raise SystemExit(f"--index {args.index}: the {args.split} split has {len(rows)} clips of {name!r}")
        row = split.with_format("numpy")[rows[args.index]]
        stem = name.replace(" ", "_")
        layout = getattr(processor, "feature_extractor", processor).layout
        frames = plot_skeleton_frames(row["skeleton"], layout, num_frames=6, title=f"{name}: {row['sample_id']}")
        frames.savefig(out / f"{stem}_frames.png", dpi=args.dpi, bbox_inches="tight")
        explanation = plot_model_explanation(model, processor, row["skeleton"], block=args.block)
        explanation.savefig(out / f"{stem}_explanation.png", dpi=args.dpi, bbox_inches="tight")
        print(f"{name}: {out / f'{stem}_frames.png'}, {out / f'{stem}_explanation.png'}")


if __name__ == "__main__":
    main()
