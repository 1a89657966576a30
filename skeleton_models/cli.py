"""The `skeleton-models` command: `quickstart` (the main job), `models`, `predict`, `extract-poses`, `demo`,
`export`, `convert` and `push`."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from . import zoo
from .clip_pipeline import check_clip, class_probabilities
from .conversion import CONVERSIONS, ConversionError
from .data import PoseExtractor, SkeletonParseError, extract_pose_annotations
from .data.pose import DEFAULT_DETECTOR, DEFAULT_POSE_MODEL
from .data.video import VIDEO_SUFFIXES, video_sources
from .demo import build_demo
from .export import DEFAULT_ATOL, DEFAULT_RTOL, EXPORT_FORMATS, compare_onnx, copy_processor, export_model
from .hub import convert_checkpoint, push_model, save_for_hub
from .pipelines import CLASSIFIER_TASK, VIDEO_LAYOUT, read_skeleton_path
from .processing_skeleton import SkeletonProcessor
from .registry import ARCHITECTURES, CheckpointError, checkpoint_config, load_checkpoint, load_processor
from .training.quickstart import (
    QUICKSTART_DEFAULT_MODEL,
    QUICKSTART_PRESETS,
    print_quickstart_report,
    run_quickstart,
)
from .visualization import plot_confusion_matrix


# -- argument types: a value out of range is an argparse usage error naming the option -----------------------------
def _number(convert: Callable[[str], float], accept: Callable[[float], bool], expected: str) -> Callable[[str], float]:
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    parse.__name__ = expected
    return parse


POSITIVE_INT = _number(int, lambda v: v >= 1, "a positive integer")
NON_NEGATIVE_INT = _number(int, lambda v: v >= 0, "an integer >= 0")
POSITIVE_FLOAT = _number(float, lambda v: math.isfinite(v) and v > 0, "a positive number")
NON_NEGATIVE_FLOAT = _number(float, lambda v: math.isfinite(v) and v >= 0, "a number >= 0")
PROBABILITY = _number(float, lambda v: 0 <= v <= 1, "a number in [0, 1]")
FRACTION = _number(float, lambda v: 0 <= v < 1, "a fraction in [0, 1)")
PORT = _number(int, lambda v: 1 <= v <= 65535, "a port number in 1..65535")
NUM_SUBJECTS = _number(int, lambda v: v >= 2, "an integer >= 2 (the cross-subject split needs two subjects)")


# -- checkpoints: every command loads them through load_checkpoint (all weights loaded, or a one-line error) -------
def _checkpoint(name: str, task: str | None = None, **kwargs):
    try:
        return load_checkpoint(name, task=task, **kwargs)
    except CheckpointError as err:
        raise SystemExit(f"error: {err}") from None


def _skeleton_processor(name: str) -> SkeletonProcessor:
    try:
        return SkeletonProcessor.from_pretrained(name)
    except (OSError, ValueError) as err:
        first = next((line for line in str(err).splitlines() if line.strip()), type(err).__name__)
        raise SystemExit(f"error: {name}: cannot load the processor saved with the checkpoint: {first}") from None


def _quickstart(args: argparse.Namespace) -> int:
    results = run_quickstart(
        output_dir=args.output_dir,
        config=args.config,
        model=args.model,
        preset=args.preset,
        epochs=args.epochs,
        window_size=args.window_size,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        num_subjects=args.num_subjects,
        seed=args.seed,
        cache_dir=args.cache_dir,
    )
    print_quickstart_report(results, args.output_dir)
    try:  # the confusion matrix as an image next to results.json (matplotlib: the [viz] extra)
        figure = plot_confusion_matrix(
            results["confusion_matrix"], results["class_names"], title="test split, rows normalised"
        )
    except ImportError as error:
        print(f"  (no confusion-matrix image: {error})")
    else:
        figure.savefig(Path(args.output_dir) / "confusion_matrix.png", dpi=120)
        print(f"  confusion matrix: {Path(args.output_dir) / 'confusion_matrix.png'}")
    return 0


def _models(args: argparse.Namespace) -> int:
    for arch in ARCHITECTURES.values():
        tasks = ", ".join(f"{cls.__name__} ({auto})" for auto, cls in arch.task_classes.items())
        inputs = ", ".join(f"{s.name} ({s.kind})" for s in arch.config_class().input_specs)
        print(f"{arch.model_type}: {arch.title}")
        print(f"  models:  {arch.base_model_class.__name__} (AutoModel), {tasks}")
        print(f"  presets: {', '.join(arch.presets)}")
        print(f"  inputs:  {inputs}")
        for entry in zoo.entries(model_type=arch.model_type):
            top1 = 100 * entry.metrics["top1"]
            print(f"  zoo:     {entry.repo_id}  top-1 {top1:.1f} % ({entry.dataset} {entry.protocol})")
    return 0


def _pose_extractor(args: argparse.Namespace, max_persons: int) -> PoseExtractor:
    return PoseExtractor.from_pretrained(
        args.detector,
        args.pose_model,
        device=args.device,
        detection_threshold=args.detection_threshold,
        max_persons=max_persons,
        batch_size=args.batch_size,
    )


def _predict(args: argparse.Namespace) -> int:
    path = Path(args.file)
    model = _checkpoint(args.model, CLASSIFIER_TASK, dtype=torch.float32).eval()
    processor = _skeleton_processor(args.model)
    persons = processor.inputs[0]["num_persons"]
    try:  # a video: COCO-17 keypoints with transformers' pose models
        clip = read_skeleton_path(path, processor, lambda: _pose_extractor(args, persons))
    except (SkeletonParseError, ValueError) as err:
        raise SystemExit(f"error: {err}") from None
    extra = {}
    for item in args.input or []:
        name, sep, file = item.partition("=")
        if not sep or name not in processor.model_input_names[1:]:
            raise SystemExit(f"error: --input takes NAME=FILE.npy with NAME in {processor.model_input_names[1:]}")
        try:
            extra[name] = np.load(file, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise SystemExit(f"error: --input {name}: {file}: cannot read a numpy array ({err})") from None
    missing = [name for name in processor.model_input_names[1:] if name not in extra]
    if missing:
        raise SystemExit(f"error: this model also reads {missing}: give --input {missing[0]}=FILE.npy")
    try:
        inputs = processor(clip, **extra)
    except ValueError as err:
        raise SystemExit(f"error: {path}: {err} (the model expects the {processor.layout} layout)") from None
    try:  # a clip of the right shape, but without a skeleton
        check_clip(clip, str(path))
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    with torch.no_grad():
        logits = model(**inputs).logits[0]
    try:
        probs = class_probabilities(logits, str(path))
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    top = probs.topk(min(args.top_k, probs.numel()))
    print(f"{path.name}: top-{len(top.indices)} of {probs.numel()} classes")
    for rank, (p, i) in enumerate(zip(top.values.tolist(), top.indices.tolist()), start=1):
        print(f"  {rank}. {model.config.id2label[i]:<30} {100 * p:5.1f} %")
    return 0


def _video_folder_problem(root: Path) -> str | None:
    """What `extract_pose_annotations` would refuse in a folder of videos, found before any model is loaded (its
    layouts: ``<root>/<class>/<video>``, or ``train/`` with ``val/`` or ``test/`` folders of those)."""
    expected = "a folder of <class>/<video> (or train/ and val/ folders of them)"
    if not root.is_dir():
        return f"no such folder; expected {expected}" if not root.exists() else f"not a folder; expected {expected}"
    splits = [root / name for name in ("train", "val", "test") if (root / name).is_dir()]
    parents = splits if (root / "train").is_dir() and len(splits) > 1 else [root]
    classes = [folder for parent in parents for folder in sorted(parent.iterdir()) if folder.is_dir()]
    if not any(video_sources(folder) for folder in classes):
        return f"no videos found in <class>/ folders ({', '.join(sorted(VIDEO_SUFFIXES))}); expected {expected}"
    return None


def _extract_poses(args: argparse.Namespace) -> int:
    problem = _video_folder_problem(Path(args.videos))
    if problem:
        raise SystemExit(f"error: {args.videos}: {problem}")
    if not Path(args.output).resolve().parent.is_dir():
        raise SystemExit(f"error: --output {args.output}: no such folder {Path(args.output).parent}")
    try:
        summary = extract_pose_annotations(
            args.videos,
            args.output,
            _pose_extractor(args, args.max_persons),
            val_fraction=args.val_fraction,
            seed=args.seed,
        )
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    counts = ", ".join(f"{name} {count}" for name, count in summary["splits"].items())
    print(f"wrote {summary['output']}: {len(summary['class_names'])} classes, {counts} videos")
    for path, reason in summary["skipped"]:
        print(f"  skipped {path}: {reason}")
    print(f'read it with load_skeleton_dataset("pyskl", data_dir="{summary["output"]}")')
    return 0


def _add_pose_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--detector", default=DEFAULT_DETECTOR, help="person detector (AutoModelForObjectDetection)")
    parser.add_argument("--pose-model", default=DEFAULT_POSE_MODEL, help="VitPose checkpoint (COCO-17 keypoints)")
    parser.add_argument("--device", default=None, help="e.g. cuda; default: the CPU")
    parser.add_argument("--detection-threshold", type=PROBABILITY, default=0.5, help="person score in [0, 1]")
    parser.add_argument("--batch-size", type=POSITIVE_INT, default=8, help="frames per detector forward pass")


def _demo(args: argparse.Namespace) -> int:
    try:  # before transformers' pipeline reads the folder (and would prompt for an unknown model_type's code)
        checkpoint_config(args.model)
    except CheckpointError as err:
        raise SystemExit(f"error: {err}") from None
    processor = _skeleton_processor(args.model)
    pose_extractor = None  # only a checkpoint of coco17 clips takes videos: only it needs the pose models
    if processor.layout == VIDEO_LAYOUT:
        pose_extractor = _pose_extractor(args, processor.inputs[0]["num_persons"])
    try:  # the pipeline loads the classifier with load_checkpoint
        demo = build_demo(args.model, top_k=args.top_k, pose_extractor=pose_extractor)
    except (ImportError, CheckpointError) as err:
        raise SystemExit(f"error: {err}") from None
    demo.launch(server_name=args.host, server_port=args.port, share=args.share)
    return 0


def _export(args: argparse.Namespace) -> int:
    if args.check and args.format != "onnx":
        raise SystemExit("error: --check compares onnxruntime's logits with PyTorch's: only with --format onnx")
    model = _checkpoint(args.model, CLASSIFIER_TASK).float().eval()
    folder = Path(args.output_dir)
    path = folder / ("model.onnx" if args.format == "onnx" else "model.pt2")
    export_model(model, path, args.format)
    copy_processor(args.model, folder)
    print(f"wrote {path} ({args.format}; dynamic batch{'' if model.config.input_specs[0].frames else ' and frames'})")
    if args.check:
        try:
            difference, scale = compare_onnx(path, model)
        except (ImportError, AssertionError) as err:
            raise SystemExit(f"error: {err}") from None
        tolerance = args.atol + args.rtol * scale
        print(
            f"largest |logit difference| against PyTorch on other input sizes: {difference:.2e} "
            f"(accepted: {tolerance:.2e} = --atol {args.atol:g} + --rtol {args.rtol:g} x largest |logit| {scale:.3g})"
        )
        if not difference <= tolerance:  # NaN too
            raise SystemExit(
                f"error: {path}: the exported model's logits differ from PyTorch's by up to {difference:.2e}, "
                f"more than the {tolerance:.2e} accepted (--atol {args.atol:g}, --rtol {args.rtol:g})"
            )
    return 0


def _option_value(text: str):
    """``--option`` values: JSON where it parses (numbers, booleans, lists), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _convert(args: argparse.Namespace) -> int:
    options = {}
    for item in args.option or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"error: --option takes KEY=VALUE, got {item!r}")
        options[key] = _option_value(value)
    try:
        folder = convert_checkpoint(args.source, args.checkpoint, args.output_dir, **options)
    except ConversionError as err:
        raise SystemExit(f"error: {err}") from None
    print(f"wrote {folder}: a {args.source} checkpoint converted from {args.checkpoint}")
    return 0


def _push(args: argparse.Namespace) -> int:
    model = _checkpoint(args.model)
    processor = load_processor(args.model)
    results = json.loads(Path(args.results).read_text()) if args.results else None
    card = {
        "results": results,
        "dataset": args.dataset,
        "dataset_config": args.dataset_config,
        "license": args.license,
        "base_model": args.base_model,
    }
    if args.dry_run:
        folder = save_for_hub(model, processor, args.dry_run, args.repo_id, **card)
        print(f"wrote {sorted(p.name for p in folder.iterdir())} to {folder} (nothing uploaded)")
    else:
        commit = push_model(model, processor, args.repo_id, private=args.private, **card)
        print(f"pushed to https://huggingface.co/{args.repo_id} ({getattr(commit, 'oid', commit)})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skeleton-models", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    quick = sub.add_parser(
        "quickstart",
        help="generate the synthetic benchmark, train BHaRNet (body + hands; --model hglnet: body only) on the CPU, "
        "evaluate, save",
    )
    quick.add_argument("--output-dir", default="quickstart-output", help="checkpoint folder (model + processor)")
    quick.add_argument("--config", default="xsub", choices=["xsub", "xview"], help="benchmark protocol")
    quick.add_argument(
        "--model",
        default=QUICKSTART_DEFAULT_MODEL,
        choices=sorted(QUICKSTART_PRESETS),
        help="architecture to train (model_type; default bharnet: body + hand experts, `bharnet-small`)",
    )
    quick.add_argument("--preset", default=None, help="named configuration (default: the model's small preset)")
    quick.add_argument("--epochs", type=POSITIVE_FLOAT, default=12, help="may be fractional, e.g. 0.5")
    quick.add_argument("--window-size", type=POSITIVE_INT, default=32, help="frames per clip after resampling")
    quick.add_argument("--batch-size", type=POSITIVE_INT, default=16)
    quick.add_argument("--learning-rate", type=POSITIVE_FLOAT, default=2e-3)
    quick.add_argument("--num-subjects", type=NUM_SUBJECTS, default=10, help="benchmark size (subjects, >= 2)")
    quick.add_argument("--seed", type=NON_NEGATIVE_INT, default=0)
    quick.add_argument("--cache-dir", default=None, help="datasets cache (default: the usual HF cache)")
    quick.set_defaults(func=_quickstart)

    models = sub.add_parser("models", help="list the architectures, their presets and inputs, and the zoo")
    models.set_defaults(func=_models)

    predict = sub.add_parser("predict", help="print the top-5 classes of one clip or video")
    predict.add_argument("--model", required=True, help="checkpoint folder or Hub repo id")
    predict.add_argument(
        "file",
        help="a clip: .npy (T, M, V, C), NTU .skeleton, NW-UCLA / Kinetics .json, PKU-MMD .txt; or a video "
        "(.mp4, .avi, ...; for a checkpoint of coco17 clips: the pose options below)",
    )
    predict.add_argument("--top-k", type=POSITIVE_INT, default=5)
    predict.add_argument(
        "--input",
        action="append",
        metavar="NAME=FILE.npy",
        help="another input of the model, e.g. hands=hands.npy for BHaRNet: (T, M, 2, 21, 3) per-person hands",
    )
    _add_pose_options(predict)
    predict.set_defaults(func=_predict)

    poses = sub.add_parser(
        "extract-poses",
        help="a folder of videos (<class>/<video>) -> a pyskl annotation pickle of COCO-17 skeletons",
    )
    poses.add_argument("videos", help="<videos>/<class>/<video>, or <videos>/train|val/<class>/<video>")
    poses.add_argument("--output", required=True, help="the .pkl to write")
    poses.add_argument(
        "--val-fraction", type=FRACTION, default=0.2, help="of each class, without train/ val/ folders; in [0, 1)"
    )
    poses.add_argument("--seed", type=NON_NEGATIVE_INT, default=0)
    poses.add_argument("--max-persons", type=POSITIVE_INT, default=2, help="people kept per video (the best tracks)")
    _add_pose_options(poses)
    poses.set_defaults(func=_extract_poses)

    demo = sub.add_parser("demo", help="serve the Gradio demo of a checkpoint (upload a clip or a video)")
    demo.add_argument("--model", required=True, help="checkpoint folder or Hub repo id of a classifier")
    demo.add_argument("--top-k", type=POSITIVE_INT, default=5)
    demo.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    demo.add_argument("--port", type=PORT, default=7860)
    demo.add_argument("--share", action="store_true", help="a temporary public gradio.live link")
    _add_pose_options(demo)
    demo.set_defaults(func=_demo)

    export = sub.add_parser("export", help="export a classifier to ONNX or a torch.export program")
    export.add_argument("--model", required=True, help="checkpoint folder or Hub repo id")
    export.add_argument("--output-dir", required=True, help="where model.onnx / model.pt2 and the processor go")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="onnx")
    export.add_argument(
        "--check",
        action="store_true",
        help="compare onnxruntime's logits with PyTorch's on other input sizes; exit 1 if they differ by more than "
        "--atol + --rtol x the largest |logit|",
    )
    export.add_argument(
        "--atol", type=NON_NEGATIVE_FLOAT, default=DEFAULT_ATOL, help=f"see --check (default {DEFAULT_ATOL:g})"
    )
    export.add_argument(
        "--rtol", type=NON_NEGATIVE_FLOAT, default=DEFAULT_RTOL, help=f"see --check (default {DEFAULT_RTOL:g})"
    )
    export.set_defaults(func=_export)

    convert = sub.add_parser(
        "convert", help="convert an official checkpoint (.pt / .pth) into a checkpoint folder of this library"
    )
    convert.add_argument("--from", dest="source", required=True, choices=sorted(CONVERSIONS), help="official code")
    convert.add_argument("checkpoint", help="the official checkpoint file (read with torch.load(weights_only=True))")
    convert.add_argument("--output-dir", required=True, help="the checkpoint folder to write")
    convert.add_argument(
        "--option",
        action="append",
        metavar="KEY=VALUE",
        help="an official model argument the weights cannot tell (e.g. layout=ntu25); repeatable",
    )
    convert.set_defaults(func=_convert)

    push = sub.add_parser("push", help="upload a checkpoint folder with a model card to the Hugging Face Hub")
    push.add_argument("--model", required=True, help="checkpoint folder (model + processor)")
    push.add_argument("--repo-id", required=True, help="e.g. org/hglnet-ntu60-xsub (<arch>-<dataset>[-<protocol>])")
    push.add_argument("--results", help="json of metrics in [0, 1]: top1, top5, mean_class_accuracy")
    push.add_argument("--dataset", help="the benchmark evaluated on, e.g. ntu60")
    push.add_argument("--dataset-config", help="its protocol, e.g. xsub")
    push.add_argument("--license", help="default: apache-2.0 for the synthetic benchmark, else other")
    push.add_argument("--base-model", help="the checkpoint this one was fine-tuned from")
    push.add_argument("--private", action="store_true")
    push.add_argument("--dry-run", metavar="FOLDER", help="write the folder that would be uploaded, upload nothing")
    push.set_defaults(func=_push)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
