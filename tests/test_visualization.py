import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from skeleton_models import HGLNetConfig, HGLNetForSkeletonClassification, SkeletonProcessor
from skeleton_models.data import synthetic
from skeleton_models.skeletons import get_layout
from skeleton_models.visualization import (
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
