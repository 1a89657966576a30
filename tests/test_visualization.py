import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from skeleton_models import HGLNetConfig, HGLNetForSkeletonClassification, SkeletonProcessor
from skeleton_models.data import synthetic
from skeleton_models.skeletons import get_layout
from skeleton_models.visualization import (
    animate_skeleton,
    hglnet_topologies,
    joint_importance,
    plot_confusion_matrix,
    plot_model_explanation,
    plot_skeleton_frames,
    plot_topology,
)

pytest.importorskip("matplotlib")

SMALL = dict(hidden_sizes=[8, 8], strides=[1, 2], lse_hidden_size=4, num_labels=5)


def model(**overrides) -> HGLNetForSkeletonClassification:
    torch.manual_seed(0)
    return HGLNetForSkeletonClassification(HGLNetConfig(**{**SMALL, **overrides})).eval()


def clip() -> np.ndarray:
    return synthetic.generate_example(14, 1, 1, 1, num_subjects=2, seed=0)["skeleton"]  # handshake: two persons


def test_joint_importance_explains_the_logit():
    """CAM: the mean of the class activations over frames, joints and persons plus the bias is the class logit."""
    net = model()
    x = torch.randn(3, 3, 16, 25, 2)
    out = joint_importance(net, x)
    assert out["importance"].shape == (3, 8, 25, 2)  # the last block's frames (stride 2)
    bias = net.classifier.bias[out["target"]]
    logits = out["logits"].gather(1, out["target"][:, None])[:, 0]
    torch.testing.assert_close(out["importance"].mean(dim=(1, 2, 3)) + bias, logits, rtol=1e-4, atol=1e-4)
    assert (out["target"] == out["logits"].argmax(-1)).all()
    other = joint_importance(net, x, target=2)
    assert (other["target"] == 2).all() and not torch.allclose(other["importance"], out["importance"])
    with pytest.raises(ValueError, match="training mode"):  # dropout before the classifier: not explained
        joint_importance(model(dropout=0.5).train(), x)


def test_topologies_follow_the_switches():
    """Full HGLNet: global (GSM) + local (LSE); switches off: CTR-GC's refinement and the shared adjacency PA;
    gsm_off="none": no global topology. The composite is their sum and changes with the clip."""
    x = torch.randn(2, 3, 16, 25, 2)
    full = hglnet_topologies(model(), x)
    assert set(full) == {"global", "local", "composite"} and full["global"].shape == (2, 25, 25)
    torch.testing.assert_close(full["composite"], full["global"] + full["local"])
    assert not torch.allclose(full["global"][0], full["global"][1])  # sample-dependent (dynamic) topologies
    # The local topology lives on the physical graph (Eq. 6: masked by M).
    off_graph = torch.from_numpy(get_layout("ntu25").adjacency()).sum(0) == 0
    assert (full["local"][:, off_graph] == 0).all() and (full["local"][:, ~off_graph] != 0).any()
    ctrgcn = hglnet_topologies(model(use_gsm=False, use_lse=False), x)
    assert set(ctrgcn) == {"global", "local", "composite"}
    none = hglnet_topologies(model(use_gsm=False, gsm_off="none"), x)
    assert set(none) == {"local", "composite"}
    with pytest.raises(ValueError, match="holds no HGLNet"):
        hglnet_topologies(torch.nn.Linear(2, 2), x)


def test_plots_render(tmp_path):
    raw = clip()
    figure = plot_skeleton_frames(raw, num_frames=4, title="handshake")
    figure.savefig(tmp_path / "frames.png", dpi=60)
    assert len(figure.axes) == 4 and (tmp_path / "frames.png").stat().st_size > 2000
    plot_topology(np.eye(25), ax=None, title="identity").savefig(tmp_path / "topology.png", dpi=60)
    net = model()
    processor = SkeletonProcessor(window_size=16, stream="bone")
    explanation = plot_model_explanation(net, processor, raw)
    explanation.savefig(tmp_path / "explanation.png", dpi=60)
    assert (tmp_path / "explanation.png").stat().st_size > 5000
    assert len(explanation.axes) >= 3 + 3  # 3 key frames, 3 heatmaps (+ colour bars)
    with pytest.raises(ValueError, match=r"clip must be \(T, M, 25, C\)"):
        plot_skeleton_frames(raw[:, :, :20])
    with pytest.raises(ValueError, match=r"matrix must be \(25, 25\)"):
        plot_topology(np.eye(3))


def gif_frames(path) -> list[np.ndarray]:
    with Image.open(path) as image:
        assert image.info["loop"] == 0  # loops forever
        return [np.asarray(frame.convert("RGB"), dtype=np.int16) for frame in ImageSequence.Iterator(image)]


def coloured(frame: np.ndarray) -> np.ndarray:
    """Pixels of a person's colour (the axes' box and the title are black on white)."""
    return (frame.max(-1) - frame.min(-1)) > 60


def test_animation_draws_every_frame(tmp_path):
    raw = clip()  # 182 frames, two persons
    frames = gif_frames(animate_skeleton(raw, "ntu25", tmp_path / "clip.gif", max_frames=24, title="handshake"))
    assert len(frames) == 24 and frames[0].shape == (240, 240, 3)  # subsampled to max_frames, 3 in x 80 dpi
    assert all(coloured(f).sum() > 300 for f in frames)  # skeletons drawn in every frame
    assert not np.array_equal(coloured(frames[0]), coloured(frames[12]))  # and they move
    # A short 2-D clip of one person (the other all zero, skipped): every frame, at the clip's frame rate.
    one = raw[:10].copy()
    one[:, 1] = 0
    path = animate_skeleton(one[..., :2], get_layout("ntu25"), tmp_path / "short.gif", fps=10)
    with Image.open(path) as image:
        assert image.n_frames == 10 and image.info["duration"] == 100
    orange = np.array([255, 127, 14])  # tab:orange, the second person's colour
    assert all(coloured(f).sum() > 100 and not (np.abs(f - orange).sum(-1) < 30).any() for f in gif_frames(path))
    with pytest.raises(ValueError, match=r"clip must be \(T, M, 25, C\)"):
        animate_skeleton(raw[:, :, :20], "ntu25", tmp_path / "wrong.gif")


def test_image_coordinates_are_drawn_upright():
    """A 2-D pose estimator's clip (coco17: image coordinates, y down, then a score) is drawn head up, the person's
    left on the right as it is in the image."""
    layout = get_layout("coco17")
    heights = {"nose": 0.0, "eye": -0.05, "ear": -0.02, "shoulder": 0.2, "elbow": 0.4, "wrist": 0.55, "hip": 0.6}
    heights.update(knee=0.8, ankle=1.0)
    pose = np.zeros((1, 1, layout.num_joints, 3), np.float32)
    for j, name in enumerate(layout.joint_names):
        x = 0.2 if name.startswith("left") else -0.2 if name.startswith("right") else 0.0  # facing the camera
        pose[0, 0, j] = (x, heights[name.split("_")[-1]], 0.9)
    drawn = plot_skeleton_frames(pose, layout, frames=[0]).axes[0].collections[0].get_offsets()  # the joints
    joint = layout.joint_names.index
    assert drawn[joint("nose"), 1] > drawn[joint("left_hip"), 1] > drawn[joint("left_ankle"), 1]
    assert drawn[joint("left_shoulder"), 0] > drawn[joint("right_shoulder"), 0]


def test_confusion_matrix_image_is_row_normalised(tmp_path):
    confusion = np.array([[3, 1], [0, 0]])
    figure = plot_confusion_matrix(confusion, ["a", "b"], title="t")
    np.testing.assert_allclose(figure.axes[0].images[0].get_array(), [[0.75, 0.25], [0, 0]])  # empty row stays 0
    figure.savefig(tmp_path / "confusion.png", dpi=60)
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["a", "b"]
    with pytest.raises(ValueError, match="2 class names"):
        plot_confusion_matrix(np.eye(3), ["a", "b"])


def test_plot_explanation_example(tmp_path):
    """The example draws a saved checkpoint's figures for named classes of a dataset's test split."""
    folder = tmp_path / "ckpt"
    names = synthetic.CLASS_NAMES
    net = model(num_labels=len(names), id2label=dict(enumerate(names)))
    net.save_pretrained(folder)
    SkeletonProcessor(window_size=16).save_pretrained(folder)
    script = Path(__file__).resolve().parents[1] / "examples" / "plot_explanation.py"
    options = '{"num_subjects": 2, "num_replications": 1}'
    base = [sys.executable, str(script), "--checkpoint", str(folder), "--dataset_options", options]
    env = dict(os.environ, HF_DATASETS_CACHE=str(tmp_path / "cache"), HF_HUB_OFFLINE="1")
    done = subprocess.run(
        [*base, "--classes", "hug", "--output_dir", str(tmp_path / "figs")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert {p.name for p in (tmp_path / "figs").iterdir()} == {"hug_frames.png", "hug_explanation.png"}
    wrong = subprocess.run([*base, "--classes", "dance"], capture_output=True, text=True, timeout=300, env=env)
    assert wrong.returncode != 0 and "'dance' is not a class of synthetic" in wrong.stderr
