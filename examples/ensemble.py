"""Evaluate a multi-stream ensemble: each checkpoint with its own processor, scores fused with weights.

HocSLM's 6-stream ensemble (section 4.2, Table 7) fuses six HocSLM models, one per stream. Per stream: an HGLNet
(T0), then HocSLM T3 from it with the frozen language model, then fuse the HocSLM checkpoints:

    for stream in joint bone bone2 joint_motion bone_motion bone2_motion; do
        python examples/train_supervised.py --dataset ntu60 --data_dir RAW --stream $stream \
            --output_dir outputs/hglnet-$stream ...
        python examples/train_hocslm.py --dataset ntu60 --data_dir RAW --stream $stream \
            --skeleton_model outputs/hglnet-$stream --text_model_name_or_path Qwen/Qwen3-4B \
            --output_dir outputs/hocslm-$stream ...
    done
    python examples/ensemble.py --dataset ntu60 --data_dir RAW --checkpoints outputs/hocslm-* --fusion logits

(After ``--skeleton_model``, ``train_hocslm.py`` processes the clips as the HGLNet checkpoint's saved processor
does: its stream and window.) ``--fusion probabilities`` (default) averages the softmax scores; ``--fusion logits``
adds the raw scores as CTR-GCN's ensemble.py does, e.g. with ``--weights 0.6 0.6 0.4 0.4`` for joint, bone, joint
motion and bone motion (CTR-GCN's 4-stream weights). HocSLM gives neither its fusion nor its weights.
"""

from __future__ import annotations

import argparse
import json

from skeleton_models.data import load_skeleton_dataset
from skeleton_models.training.ensemble import FUSIONS, evaluate_ensemble


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", nargs="+", required=True)
    parser.add_argument("--weights", nargs="+", type=float, default=None)
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--dataset_config", default=None)
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--dataset_options", default="{}", help="builder options as JSON")
    parser.add_argument("--split", default="test")
    parser.add_argument("--fusion", choices=FUSIONS, default="probabilities")
    args = parser.parse_args()
    dataset = load_skeleton_dataset(
        args.dataset, data_dir=args.data_dir, config=args.dataset_config, **json.loads(args.dataset_options)
    )
    result = evaluate_ensemble(args.checkpoints, dataset[args.split], weights=args.weights, fusion=args.fusion)
    width = max(len(name) for name in result.streams)
    for name, metrics in result.streams.items():
        print(f"{name:<{width}}  top-1 {100 * metrics['top1']:.2f} %")
    print(f"{'fused':<{width}}  top-1 {100 * result.fused['top1']:.2f} %  ({result.fusion}, weights {result.weights})")


if __name__ == "__main__":
    main()
