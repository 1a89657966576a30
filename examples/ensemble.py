"""Evaluate a multi-stream ensemble: each checkpoint with its own processor, softmax scores fused with weights.

HocSLM's 6-stream ensemble (section 4.2, Table 7): train one model per stream, then fuse them:

    for stream in joint bone bone2 joint_motion bone_motion bone2_motion; do
        python examples/train_supervised.py --dataset synthetic --stream $stream --preset hglnet-small \
            --window_size 32 --num_train_epochs 12 --per_device_train_batch_size 16 --learning_rate 2e-3 \
            --weight_decay 0.01 --warmup_steps 0.1 --lr_scheduler_type cosine --output_dir outputs/$stream
    done
    python examples/ensemble.py --dataset synthetic --checkpoints outputs/*  [--weights 1 1 1 1 1 1]
"""

from __future__ import annotations

import argparse
import json

from skeleton_models.data import load_skeleton_dataset
from skeleton_models.training.ensemble import evaluate_ensemble


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", nargs="+", required=True)
    parser.add_argument("--weights", nargs="+", type=float, default=None)
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--dataset_config", default=None)
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--dataset_options", default="{}", help="builder options as JSON")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    dataset = load_skeleton_dataset(
        args.dataset, data_dir=args.data_dir, config=args.dataset_config, **json.loads(args.dataset_options)
    )
    result = evaluate_ensemble(args.checkpoints, dataset[args.split], weights=args.weights)
    width = max(len(name) for name in result.streams)
    for name, metrics in result.streams.items():
        print(f"{name:<{width}}  top-1 {100 * metrics['top1']:.2f} %")
    print(f"{'fused':<{width}}  top-1 {100 * result.fused['top1']:.2f} %  (weights {result.weights})")


if __name__ == "__main__":
    main()
