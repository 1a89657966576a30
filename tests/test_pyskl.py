import os
import pickle

import numpy as np
import pytest
import torch
from transformers import AutoModelForVideoClassification, TrainingArguments

from skeleton_models import HGLNetConfig, HGLNetForSkeletonClassification, SkeletonProcessor
from skeleton_models.cli import main
from skeleton_models.data import build_report, get_skeleton_spec, load_skeleton_dataset
from skeleton_models.data.parsing import SkeletonParseError
from skeleton_models.data.pyskl import load_pickle
from skeleton_models.data.raw_formats import project_2d, synthetic_clip, write_pyskl_annotations
from skeleton_models.training import build_trainer

CLASSES = ["wave", "squat", "jump"]


def coco_annotation(name, label, seed):
    """A 2-D COCO-17 annotation as a top-down pose estimator exports it: pixels, scores, image shape."""
    clip = synthetic_clip([1, 7, 8][label], seed=seed)  # wave right, squat, jump
    keypoint = project_2d(clip, "coco17")[:, :1].transpose(1, 0, 2, 3)  # (M=1, T, 17, 2)
    score = np.full(keypoint.shape[:3], 0.8, np.float32)
    return {"frame_dir": name, "label": label, "keypoint": keypoint, "keypoint_score": score, "img_shape": (1080, 1920)}


@pytest.fixture(scope="module")
def coco_pickle(tmp_path_factory):
    root = tmp_path_factory.mktemp("pyskl")
    annotations = [coco_annotation(f"clip{i:03d}", i % 3, seed=i) for i in range(24)]
    split = {"xsub_train": [f"clip{i:03d}" for i in range(18)], "xsub_val": [f"clip{i:03d}" for i in range(18, 24)]}
    split["xsub_val"].append("not_annotated")
    annotations.append({"frame_dir": "broken", "label": 1, "keypoint": np.zeros((1, 5, 17, 2), np.float32)[..., :1]})
    split["xsub_train"].append("broken")
    return write_pyskl_annotations(root / "my_poses.pkl", annotations, split)


def test_2d_coco_annotations(coco_pickle, tmp_path):
    ds = load_skeleton_dataset(
        "pyskl", data_dir=coco_pickle.parent, protocol="xsub", class_names=CLASSES, cache_dir=tmp_path
    )
    assert len(ds["train"]) == 18 and len(ds["test"]) == 6
    assert ds["train"].features["skeleton"].shape == (None, 2, 17, 3)
    assert ds["train"].features["label"].names == CLASSES
    assert get_skeleton_spec(ds) == {"coordinate_dims": 2, "layout": "coco17"}
    row = ds["train"].with_format("numpy")[0]
    assert np.abs(row["skeleton"][..., :2]).max() <= 1.0  # PreNormalize2D to [-1, 1]
    np.testing.assert_allclose(row["skeleton"][:, 0, :, 2], 0.8)  # the score channel
    assert not row["skeleton"][:, 1].any() and row["num_persons"] == 1
    reasons = {r["file"].split("#")[-1]: r["reason"] for r in build_report(ds)["skipped"]}
    assert "2 (x, y) or 3 (x, y, z) channels" in reasons["broken"]
    assert "without an annotation" in reasons["not_annotated"]
    with pytest.raises(ValueError, match=r"no split \['train', 'val'\].*xsub_train"):
        load_skeleton_dataset("pyskl", data_dir=coco_pickle, cache_dir=tmp_path / "c2")


def test_3d_ntu_annotations_in_float16(tmp_path):
    annotations = [
        {
            "frame_dir": f"S001C001P001R001A{a:03d}",
            "label": a - 1,
            "keypoint": synthetic_clip(a, seed=a).transpose(1, 0, 2, 3).astype(np.float16),
        }
        for a in (1, 2, 3, 4)
    ]
    path = write_pyskl_annotations(
        tmp_path / "ntu60_3danno.pkl",
        annotations,
        {"xview_train": [a["frame_dir"] for a in annotations[:3]], "xview_val": [annotations[3]["frame_dir"]]},
    )
    ds = load_skeleton_dataset("pyskl", data_dir=path, protocol="xview", class_names="ntu60", cache_dir=tmp_path)
    assert ds["train"].features["label"].names[0] == "drink water" and ds["train"].features["label"].num_classes == 60
    assert get_skeleton_spec(ds) == {"coordinate_dims": 3, "layout": "ntu25"}
    np.testing.assert_allclose(
        ds["test"].with_format("numpy")[0]["skeleton"], synthetic_clip(4, seed=4).astype(np.float16).astype(np.float32)
    )


class Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    Exploit.marker = marker
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"split": {}, "annotations": [Exploit()]}))
    with pytest.raises(SkeletonParseError, match=r"refusing to load the global (posix|os)\.system"):
        load_pickle(path)
    with pytest.raises(SkeletonParseError, match="refusing"):
        load_skeleton_dataset("pyskl", data_dir=path, cache_dir=tmp_path / "cache")
    assert not marker.exists()
    for payload in (pickle.dumps(torch.nn.Linear(2, 2)), pickle.dumps(eval)):
        path.write_bytes(payload)
        with pytest.raises(SkeletonParseError, match="refusing"):
            load_pickle(path)
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(SkeletonParseError, match="the pyskl format"):
        load_skeleton_dataset("pyskl", data_dir=path, cache_dir=tmp_path / "cache2")
    path.write_bytes(b"\x80\x04garbage")
    with pytest.raises(SkeletonParseError, match="not a readable pickle"):
        load_pickle(path)


@pytest.mark.slow
def test_own_data_end_to_end_build_train_predict(coco_pickle, tmp_path, capsys):
    """The documented path for your own pose-estimator output: pyskl pickle -> dataset -> Trainer -> predict."""
    ds = load_skeleton_dataset(
        "pyskl", data_dir=coco_pickle, protocol="xsub", class_names=CLASSES, cache_dir=tmp_path / "cache"
    )
    processor = SkeletonProcessor.for_dataset(ds, window_size=16)
    assert (processor.layout, processor.coordinate_dims, processor.num_persons) == ("coco17", 2, 2)
    config = HGLNetConfig.from_preset(
        "hglnet-small", layout="coco17", in_channels=3, num_persons=2, num_labels=3, id2label=dict(enumerate(CLASSES))
    )
    torch.manual_seed(0)
    model = HGLNetForSkeletonClassification(config)
    args = TrainingArguments(
        str(tmp_path / "run"),
        max_steps=4,
        per_device_train_batch_size=6,
        learning_rate=2e-3,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
        use_cpu=True,
    )
    trainer = build_trainer(model, processor, ds["train"], ds["test"], args)
    trainer.train()
    assert "eval_top1" in trainer.evaluate()
    model.save_pretrained(tmp_path / "model")
    processor.save_pretrained(tmp_path / "model")
    clip = ds["test"].with_format("numpy")[0]["skeleton"]
    np.save(tmp_path / "clip.npy", clip)
    capsys.readouterr()  # drop the Trainer's output
    assert main(["predict", "--model", str(tmp_path / "model"), str(tmp_path / "clip.npy"), "--top-k", "3"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "clip.npy: top-3 of 3 classes"
    assert {line.split()[1] for line in printed[1:]} == set(CLASSES)
    reloaded = AutoModelForVideoClassification.from_pretrained(tmp_path / "model").eval()
    with torch.no_grad():
        torch.testing.assert_close(reloaded(**processor(clip)).logits, model.eval()(**processor(clip)).logits)
