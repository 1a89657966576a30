"""The Gradio demo (`skeleton_models.demo`), used as a user would: the page served on localhost and driven over HTTP
with gradio_client (upload a file, press Classify) and, where Chromium and playwright are installed, in a headless
browser -- the label it shows checked against the pipeline's answer for the same clip or video."""

import html
import importlib.util
import os
import socket
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import pipeline

from skeleton_models import ARCHITECTURES
from skeleton_models.data import synthetic
from skeleton_models.pipelines import TASK

from .model_tester import processor_for
from .pose_models import synthetic_frames, tiny_extractor, write_video

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # no telemetry or version check (read when a demo is built)
pytest.importorskip("gradio")

from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from skeleton_models.demo import build_demo  # noqa: E402

# gradio's queue calls pandas APIs that pandas 3 deprecates (gradio's, not this library's)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")

SCREENSHOT_SCRIPT = Path(__file__).resolve().parents[1] / "utils" / "demo_screenshot.py"
CHROMIUM = Path("/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(folder: Path, pose_extractor=None, **config):
    """A tiny HGLNet checkpoint with the synthetic benchmark's class names saved in `folder`, its demo running on
    localhost, and the pipeline of the same checkpoint (what the page's answers are checked against)."""
    arch = ARCHITECTURES["hglnet"]
    torch.manual_seed(0)
    names = dict(enumerate(synthetic.CLASS_NAMES))
    model = arch.classification_class(arch.tiny(num_labels=len(names), id2label=names, **config)).eval()
    model.save_pretrained(folder)
    processor_for(model.config, 16).save_pretrained(folder)
    demo = build_demo(folder, pose_extractor=pose_extractor)
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    try:
        yield SimpleNamespace(
            url=demo.local_url, classify=pipeline(TASK, model=str(folder), pose_extractor=pose_extractor)
        )
    finally:
        demo.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """An ntu25 checkpoint's demo (clips of the synthetic benchmark, raw benchmark files)."""
    with serve(tmp_path_factory.mktemp("checkpoint")) as demo:
        yield demo


def handshake(folder: Path, frames: int = 48) -> tuple[np.ndarray, Path]:
    """A two-person recording of the synthetic benchmark, cut to `frames`, saved as a .npy clip."""
    clip = synthetic.generate_example(14, 2, 1, 1, num_subjects=2, seed=0)["skeleton"][:frames]
    np.save(folder / "handshake.npy", clip)
    return clip, folder / "handshake.npy"


def page_message(error: Exception, path: Path) -> str:
    """What the page says for an error of the pipeline on `path`: its message, the file named by its name."""
    message = str(error).replace(str(path), path.name)
    return message if path.name in message else f"{path.name}: {message}"


def test_a_clip_is_classified_and_animated(served, tmp_path):
    clip, path = handshake(tmp_path)
    label, gif = Client(served.url, verbose=False, analytics_enabled=False).predict(
        handle_file(path), api_name="/predict"
    )
    expected = served.classify(clip, top_k=5)
    assert label["label"] == expected[0]["label"]
    assert [c["label"] for c in label["confidences"]] == [r["label"] for r in expected]
    np.testing.assert_allclose(
        [c["confidence"] for c in label["confidences"]], [r["score"] for r in expected], atol=1e-4
    )
    with Image.open(gif) as image:  # the whole clip (48 frames, under the demo's 64), looping
        assert image.format == "GIF" and image.n_frames == len(clip) and image.info["loop"] == 0


def test_bad_files_show_the_pipelines_message(served, tmp_path):
    client = Client(served.url, verbose=False, analytics_enabled=False)

    def shown(path: Path) -> str:
        with pytest.raises(AppError) as raised:
            client.predict(handle_file(path), api_name="/predict")
        return html.unescape(str(raised.value))  # gradio renders the message as HTML: it is escaped

    broken = tmp_path / "broken.skeleton"
    broken.write_text("not a skeleton file\n")
    with pytest.raises(ValueError) as pipeline_error:
        served.classify(str(broken))
    assert shown(broken) == page_message(pipeline_error.value, broken)  # named, without the server's folder
    assert shown(broken).startswith("broken.skeleton, line 1: ")

    kinetics = tmp_path / "kinetics.npy"  # an openpose18 clip for an ntu25 checkpoint
    np.save(kinetics, np.ones((20, 2, 18, 3), np.float32))
    with pytest.raises(ValueError) as pipeline_error:
        served.classify(np.load(kinetics))
    assert shown(kinetics) == page_message(pipeline_error.value, kinetics)
    assert "kinetics.npy" in shown(kinetics) and "ntu25" in shown(kinetics)

    video = tmp_path / "walk.mp4"  # this checkpoint reads ntu25 clips, not a video's coco17 skeletons
    video.write_bytes(b"not read")
    with pytest.raises(ValueError) as pipeline_error:
        served.classify(str(video))
    assert shown(video) == page_message(pipeline_error.value, video)
    assert shown(video).startswith("walk.mp4: videos give coco17 skeletons")

    with pytest.raises(AppError, match="Upload a file first"):
        client.predict(None, api_name="/predict")


def test_a_video_is_classified_and_its_skeletons_animated(tmp_path):
    """A video -> the pipeline's pose extractor (tiny RT-DETR + VitPose) -> a coco17 checkpoint's top-5, and the
    extracted skeletons animated."""
    extractor = tiny_extractor()
    video = write_video(tmp_path / "walk.mp4", synthetic_frames(num_frames=12))
    with serve(tmp_path / "coco17", pose_extractor=extractor, layout="coco17") as served_video:
        client = Client(served_video.url, verbose=False, analytics_enabled=False)
        label, gif = client.predict(handle_file(video), api_name="/predict")
        expected = served_video.classify(str(video), top_k=5)
    assert [c["label"] for c in label["confidences"]] == [r["label"] for r in expected]
    scores = [c["confidence"] for c in label["confidences"]]
    np.testing.assert_allclose(scores, [r["score"] for r in expected], atol=1e-4)
    with Image.open(gif) as image:
        assert image.n_frames == 12  # one per video frame


@pytest.mark.skipif(
    not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None,
    reason="needs Chromium (/usr/bin/chromium) and the playwright package",
)
def test_the_page_in_a_browser(served, tmp_path):
    """Upload and Classify in headless Chromium (utils/demo_screenshot.py): the page shows the pipeline's top-5 and
    the animation; a broken file shows the pipeline's message."""
    spec = importlib.util.spec_from_file_location("demo_screenshot", SCREENSHOT_SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    clip, path = handshake(tmp_path)
    page = script.classify_in_browser(served.url, path, screenshot=tmp_path / "page.png")
    expected = served.classify(clip, top_k=5)
    assert page["label"] == expected[0]["label"]
    assert [label for label, _ in page["confidences"]] == [r["label"] for r in expected]
    np.testing.assert_allclose([score for _, score in page["confidences"]], [r["score"] for r in expected], atol=1e-4)
    assert page["animation"].endswith("/handshake.gif")
    with Image.open(tmp_path / "page.png") as image:
        assert image.size == (1200, 720)
    broken = tmp_path / "broken.skeleton"
    broken.write_text("not a skeleton file\n")
    with pytest.raises(ValueError) as pipeline_error:
        served.classify(str(broken))
    assert script.classify_in_browser(served.url, broken) == {"error": page_message(pipeline_error.value, broken)}
