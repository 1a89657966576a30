import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForVideoClassification

from skeleton_models import ARCHITECTURES, SkeletonProcessor
from skeleton_models.cli import build_parser, main
from skeleton_models.data import PoseExtractor, synthetic

from .model_tester import processor_for


@pytest.fixture(scope="module")
def quickstart_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("quickstart")
    code = main(
        [
            "quickstart",
            "--model",
            "hglnet",  # body only: the predict tests below classify a body clip
            "--output-dir",
            str(out),
            "--epochs",
            "1",
            "--num-subjects",
            "2",
            "--window-size",
            "8",
            "--cache-dir",
            str(tmp_path_factory.mktemp("cache")),
        ]
    )
    assert code == 0
    return out


def test_quickstart_trains_evaluates_and_saves(quickstart_dir, capsys):
    results = json.loads((quickstart_dir / "results.json").read_text())
    assert {"top1", "top5", "top1_body_classes", "top1_hand_gesture_classes", "hand_gesture_confusion"} <= set(results)
    assert len(results["hand_gesture_confusion"]) == len(synthetic.CLASS_GROUPS["hand_gesture"])
    files = {p.name for p in quickstart_dir.iterdir()}
    assert {"config.json", "model.safetensors", "preprocessor_config.json", "confusion_matrix.png"} <= files
    confusion = np.asarray(results["confusion_matrix"])  # drawn as confusion_matrix.png
    assert confusion.shape == (23, 23) and len(results["class_names"]) == 23
    assert not list(quickstart_dir.glob("*.bin"))  # no pickles in a checkpoint folder
    model = AutoModelForVideoClassification.from_pretrained(quickstart_dir)
    assert model.config.id2label[0] == synthetic.CLASS_NAMES[0] and results["model_input_names"] == ["skeletons"]
    assert SkeletonProcessor.from_pretrained(quickstart_dir).window_size == 8


def test_predict_prints_the_top5_labels(quickstart_dir, tmp_path, capsys):
    example = synthetic.generate_example(0, 1, 1, 1, num_subjects=2, seed=0)
    clip = tmp_path / "clip.npy"
    np.save(clip, example["skeleton"])
    assert main(["predict", "--model", str(quickstart_dir), str(clip)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("clip.npy: top-5 of 23 classes")
    ranked = [line.split(". ", 1)[1].rsplit(" ", 2) for line in lines[1:]]
    assert len(ranked) == 5 and all(label.strip() in synthetic.CLASS_NAMES for label, _, _ in ranked)
    probabilities = [float(p) for _, p, _ in ranked]
    # the printed labels and percentages are the model's top-5 softmax on the processed clip
    model = AutoModelForVideoClassification.from_pretrained(quickstart_dir).eval()
    with torch.no_grad():
        softmax = model(**SkeletonProcessor.from_pretrained(quickstart_dir)(example["skeleton"])).logits[0].softmax(-1)
    top = softmax.topk(5)
    assert [label.strip() for label, _, _ in ranked] == [model.config.id2label[int(i)] for i in top.indices]
    np.testing.assert_allclose(probabilities, 100 * top.values.numpy(), atol=0.051)  # printed with one decimal


def test_predict_matches_the_model(quickstart_dir, tmp_path, capsys):
    example = synthetic.generate_example(4, 2, 1, 3, num_subjects=2, seed=0)
    np.save(tmp_path / "clip.npy", example["skeleton"])
    main(["predict", "--model", str(quickstart_dir), str(tmp_path / "clip.npy"), "--top-k", "1"])
    printed = capsys.readouterr().out.splitlines()[1].split(". ", 1)[1].rsplit(" ", 2)[0].strip()
    model = AutoModelForVideoClassification.from_pretrained(quickstart_dir).eval()
    inputs = SkeletonProcessor.from_pretrained(quickstart_dir)(example["skeleton"])
    with torch.no_grad():
        assert printed == model.config.id2label[int(model(**inputs).logits.argmax())]


def test_predict_rejects_bad_files(quickstart_dir, tmp_path):
    text = tmp_path / "clip.txt"
    text.write_text("1 2 3")
    with pytest.raises(SystemExit, match=r"clip.txt, line 1: expected 150 numbers"):
        main(["predict", "--model", str(quickstart_dir), str(text)])
    other = tmp_path / "clip.csv"
    other.write_text("1,2,3")
    with pytest.raises(SystemExit, match=r"clip.csv: unsupported file type"):
        main(["predict", "--model", str(quickstart_dir), str(other)])
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((10, 1, 17, 3), np.float32))
    with pytest.raises(SystemExit, match=r"wrong.npy: skeletons, clip 0: expected shape \(T, M, V=25.*ntu25 layout"):
        main(["predict", "--model", str(quickstart_dir), str(wrong)])
    broken = tmp_path / "broken.npy"
    broken.write_bytes(b"not numpy")
    with pytest.raises(SystemExit, match="broken.npy: cannot read a numpy array"):
        main(["predict", "--model", str(quickstart_dir), str(broken)])


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "skeleton-models"
    assert script.exists()
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "quickstart" in done.stdout and "predict" in done.stdout


def test_models_lists_the_registry(capsys):
    from skeleton_models import ARCHITECTURES

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for arch in ARCHITECTURES.values():
        assert f"{arch.model_type}: {arch.title}" in out
        assert ", ".join(arch.presets) in out and arch.base_model_class.__name__ in out


def test_the_quickstart_trains_the_body_and_hand_model_by_default():
    args = build_parser().parse_args(["quickstart"])
    assert args.model == "bharnet" and build_parser().parse_args(["quickstart", "--model", "hglnet"]).model == "hglnet"


def test_quickstart_trains_bharnet_and_predict_reads_the_hands(tmp_path, capsys):
    out = tmp_path / "bharnet"
    args = ["quickstart", "--output-dir", str(out), "--epochs", "1", "--num-subjects", "2"]  # the default model
    assert main([*args, "--window-size", "8", "--cache-dir", str(tmp_path / "cache")]) == 0
    report = capsys.readouterr().out
    assert "the hand stream sees the fingers" in report and "cannot see the fingers" not in report
    assert f"predict --model {out} CLIP.npy --input hands=HANDS.npy" in report
    results = json.loads((out / "results.json").read_text())
    assert results["model"] == "bharnet" and results["preset"] == "bharnet-small"
    assert results["model_input_names"] == ["skeletons", "hands"]
    processor = SkeletonProcessor.from_pretrained(out)
    assert processor.model_input_names == ["skeletons", "hands"]
    example = synthetic.generate_example(20, 1, 1, 1, num_subjects=2, seed=0)  # a hand gesture
    np.save(tmp_path / "clip.npy", example["skeleton"])
    np.save(tmp_path / "hands.npy", example["hands"])
    with pytest.raises(SystemExit, match=r"also reads \['hands'\]"):
        main(["predict", "--model", str(out), str(tmp_path / "clip.npy")])
    capsys.readouterr()
    assert (
        main(["predict", "--model", str(out), str(tmp_path / "clip.npy"), "--input", f"hands={tmp_path}/hands.npy"])
        == 0
    )
    printed = capsys.readouterr().out.splitlines()[1].split(". ", 1)[1].rsplit(" ", 2)[0].strip()
    model = AutoModelForVideoClassification.from_pretrained(out).eval()
    with torch.no_grad():
        logits = model(**processor(example["skeleton"], hands=example["hands"])).logits
    assert printed == model.config.id2label[int(logits.argmax())]


# -- no silent wrong answer: bad checkpoints, files and arguments are one-line errors -------------------------------
def tiny_checkpoint(folder: Path, model_type: str = "hglnet", **overrides):
    """A tiny classifier of `model_type` and its processor, saved in `folder`."""
    arch = ARCHITECTURES[model_type]
    torch.manual_seed(0)
    model = arch.classification_class(arch.tiny(**overrides)).eval()
    model.save_pretrained(folder)
    processor_for(model.config, 16).save_pretrained(folder)
    return model


def random_clip(path: Path, joints: int = 25) -> Path:
    np.save(path, np.random.default_rng(0).normal(size=(30, 2, joints, 3)).astype(np.float32))
    return path


@pytest.fixture
def tiny_dir(tmp_path):
    tiny_checkpoint(tmp_path / "hglnet")
    return tmp_path / "hglnet"


def test_predict_refuses_a_config_that_does_not_match_the_weights(tiny_dir, tmp_path, capsys):
    tiny_checkpoint(tmp_path / "stgcn", "stgcn")
    shutil.copy(tmp_path / "stgcn" / "config.json", tiny_dir / "config.json")  # the weights stay an HGLNet's
    clip = random_clip(tmp_path / "clip.npy")
    message = rf"^error: {tiny_dir}: the weights do not match config.json \(STGCNForSkeletonClassification\): missing"
    with pytest.raises(SystemExit, match=message):
        main(["predict", "--model", str(tiny_dir), str(clip)])
    with pytest.raises(SystemExit, match=message):
        main(["push", "--model", str(tiny_dir), "--repo-id", "org/x", "--dry-run", str(tmp_path / "push")])
    assert capsys.readouterr().out == ""  # nothing printed as a prediction
    assert not (tmp_path / "push").exists()


def test_predict_refuses_non_finite_scores(tmp_path, capsys):
    model = tiny_checkpoint(tmp_path / "checkpoint")
    with torch.no_grad():
        model.classifier.weight.fill_(1e38)  # finite weights whose logits overflow
    model.save_pretrained(tmp_path / "checkpoint")
    clip = random_clip(tmp_path / "clip.npy")
    with pytest.raises(SystemExit, match=r"^error: .*clip.npy: the model's scores are not finite"):
        main(["predict", "--model", str(tmp_path / "checkpoint"), str(clip)])
    assert capsys.readouterr().out == ""


def test_predict_refuses_an_all_zero_clip(tiny_dir, tmp_path, capsys):
    np.save(tmp_path / "zeros.npy", np.zeros((30, 2, 25, 3), np.float32))
    with pytest.raises(SystemExit, match=r"^error: .*zeros.npy: all values are zero: no skeleton to classify"):
        main(["predict", "--model", str(tiny_dir), str(tmp_path / "zeros.npy")])
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("kept", [0, 200, -100], ids=["empty", "truncated-header", "truncated-data"])
def test_an_unreadable_weights_file_is_named(tiny_dir, tmp_path, kept):
    weights = tiny_dir / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:kept])
    with pytest.raises(SystemExit, match=rf"^error: {weights}: cannot read the weights"):
        main(["predict", "--model", str(tiny_dir), str(random_clip(tmp_path / "clip.npy"))])


def test_model_folders_that_are_not_checkpoints(tmp_path, monkeypatch):
    clip = str(random_clip(tmp_path / "clip.npy"))
    missing = tmp_path / "no-such-checkpoint"
    with pytest.raises(SystemExit, match=rf"^error: {missing}: no such folder$"):
        main(["predict", "--model", str(missing), clip])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs").mkdir()
    with pytest.raises(SystemExit, match=r"^error: outputs/hglnet: no such folder$"):  # its parent folder is here
        main(["predict", "--model", "outputs/hglnet", clip])
    with pytest.raises(SystemExit, match=r"^error: \./hglnet: no such folder$"):
        main(["predict", "--model", "./hglnet", clip])
    with pytest.raises(SystemExit, match=r"^error: outputs: no config.json in this folder: not a checkpoint"):
        main(["predict", "--model", "outputs", clip])
    with pytest.raises(SystemExit, match=r"^error: clip.npy: is a file, not a checkpoint folder$"):
        main(["export", "--model", "clip.npy", "--output-dir", "out"])
    # a Hub repo id (name or org/name, no such local folder) is looked up on the Hub (offline here)
    with pytest.raises(SystemExit, match=r"^error: some-org/hglnet-ntu60: cannot read its config.json \("):
        main(["predict", "--model", "some-org/hglnet-ntu60", clip])


def test_an_unknown_model_type_is_named_before_any_remote_code_prompt(tiny_dir, tmp_path):
    """The saved config.json carries auto_map (remote code): with an unknown model_type transformers would ask
    whether to run it; the library says which model types it knows instead."""
    config = json.loads((tiny_dir / "config.json").read_text())
    assert "auto_map" in config
    (tiny_dir / "config.json").write_text(json.dumps({**config, "model_type": "mystery"}))
    known = ", ".join(sorted(ARCHITECTURES))
    line = f"error: {tiny_dir}: config.json has model_type 'mystery', not one of this library's: {known}"
    message = f"^{re.escape(line)}$"
    clip = str(random_clip(tmp_path / "clip.npy"))
    with pytest.raises(SystemExit, match=message):
        main(["predict", "--model", str(tiny_dir), clip])
    with pytest.raises(SystemExit, match=message):
        main(["demo", "--model", str(tiny_dir)])
    with pytest.raises(SystemExit, match=message):
        main(["export", "--model", str(tiny_dir), "--output-dir", str(tmp_path / "out")])
    script = Path(sys.executable).parent / "skeleton-models"  # no prompt, whatever stdin is
    done = subprocess.run(
        [str(script), "predict", "--model", str(tiny_dir), clip],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [line]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["quickstart", "--epochs", "0"], "argument --epochs: expected a positive number, got '0'"),
        (["quickstart", "--epochs", "-1"], "argument --epochs: expected a positive number, got '-1'"),
        (["quickstart", "--epochs", "nan"], "argument --epochs: expected a positive number"),
        (["quickstart", "--batch-size", "0"], "argument --batch-size: expected a positive integer, got '0'"),
        (["quickstart", "--window-size", "-4"], "argument --window-size: expected a positive integer"),
        (["quickstart", "--learning-rate", "0"], "argument --learning-rate: expected a positive number"),
        (["quickstart", "--learning-rate", "inf"], "argument --learning-rate: expected a positive number"),
        (["quickstart", "--num-subjects", "1"], "argument --num-subjects: expected an integer >= 2"),
        (["quickstart", "--seed", "-1"], "argument --seed: expected an integer >= 0"),
        (["predict", "--model", "m", "f.npy", "--top-k", "-3"], "argument --top-k: expected a positive integer"),
        (["predict", "--model", "m", "f.npy", "--top-k", "0"], "argument --top-k: expected a positive integer"),
        (["predict", "--model", "m", "f.npy", "--detection-threshold", "1.5"], "--detection-threshold: expected a"),
        (["predict", "--model", "m", "f.npy", "--batch-size", "0"], "argument --batch-size: expected a positive"),
        (["extract-poses", "v", "--output", "o.pkl", "--val-fraction", "1"], "--val-fraction: expected a fraction"),
        (["extract-poses", "v", "--output", "o.pkl", "--val-fraction", "-0.1"], "--val-fraction: expected a frac"),
        (["extract-poses", "v", "--output", "o.pkl", "--max-persons", "0"], "--max-persons: expected a positive"),
        (["demo", "--model", "m", "--port", "70000"], "argument --port: expected a port number in 1..65535"),
        (["demo", "--model", "m", "--top-k", "0"], "argument --top-k: expected a positive integer"),
        (["export", "--model", "m", "--output-dir", "o", "--atol", "-1"], "argument --atol: expected a number >= 0"),
        (["export", "--model", "m", "--output-dir", "o", "--rtol", "nan"], "argument --rtol: expected a number >= 0"),
    ],
)
def test_numeric_arguments_are_validated_by_argparse(argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        build_parser().parse_args(argv)
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("usage: skeleton-models")


def test_extract_poses_checks_the_folder_before_loading_the_detector(tmp_path, monkeypatch):
    def no_models(*args, **kwargs):
        raise AssertionError("the pose models were loaded")

    monkeypatch.setattr(PoseExtractor, "from_pretrained", no_models)
    output = str(tmp_path / "poses.pkl")
    with pytest.raises(SystemExit, match=rf"^error: {tmp_path / 'videos'}: no such folder; expected a folder of"):
        main(["extract-poses", str(tmp_path / "videos"), "--output", output])
    (tmp_path / "videos" / "wave").mkdir(parents=True)
    (tmp_path / "videos" / "wave" / "notes.txt").write_text("no video here")
    with pytest.raises(SystemExit, match=rf"^error: {tmp_path / 'videos'}: no videos found in <class>/ folders"):
        main(["extract-poses", str(tmp_path / "videos"), "--output", output])
    (tmp_path / "videos" / "wave" / "a.mp4").write_bytes(b"")
    with pytest.raises(SystemExit, match=r"^error: --output .*poses.pkl: no such folder"):
        main(["extract-poses", str(tmp_path / "videos"), "--output", str(tmp_path / "missing" / "poses.pkl")])
