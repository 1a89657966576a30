"""A Gradio demo of a skeleton action classifier: upload a clip, a raw benchmark file or a video, see the top actions
and the skeleton animated.

Needs the ``demo`` extra (gradio and matplotlib): ``pip install "skeleton-models[demo]"``. Launch it from Python::

    from skeleton_models.demo import build_demo

    build_demo("outputs/hglnet").launch()  # a checkpoint folder or a Hub id; serves http://127.0.0.1:7860

The page takes a ``.npy`` clip (T, M, V, C), a raw benchmark file (NTU ``.skeleton``, NW-UCLA / Kinetics-Skeleton
``.json``, PKU-MMD ``.txt``) or a video (``.mp4``, ``.avi``, ``.mov``, ``.mkv``, ``.webm``; for a checkpoint of
``coco17`` clips), reads it as the ``skeleton-action-recognition`` pipeline does (`read_clip`, or the pipeline's
`PoseExtractor` for a video: ``pose_extractor``), classifies the clip with the checkpoint through the pipeline and shows
the top-k classes (a ``gr.Label``) next to the clip as an animated GIF, drawn in the layout of the checkpoint's
processor. A file that cannot be read or classified shows the pipeline's message as an error in the page. The API
endpoint is ``/predict``: ``gradio_client.Client(url).predict(handle_file(path), api_name="/predict")`` returns the
label and the GIF's path.

A Hugging Face Space running this demo for a Hub checkpoint is in ``spaces/skeleton-action-recognition``.
"""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

from transformers import pipeline

try:  # the demo extra; the rest of the library (and the CLI, which names this module) works without it
    import gradio as gr
except ImportError:  # pragma: no cover - exercised where gradio is absent
    gr = None

from .data import PoseExtractor
from .data.video import VIDEO_SUFFIXES
from .pipelines import TASK
from .visualization import animate_skeleton

__all__ = ["SKELETON_SUFFIXES", "build_demo"]

SKELETON_SUFFIXES = (".npy", ".skeleton", ".json", ".txt")  # what read_clip reads; the upload takes videos too


def _error_message(error: Exception, path: Path) -> str:
    """The error's message for the page: the upload's file name instead of its server path, always named, and
    escaped (gradio renders error messages as HTML)."""
    message = str(error).replace(str(path), path.name)
    if path.name not in message:
        message = f"{path.name}: {message}"
    return html.escape(message, quote=False)


def build_demo(
    model: str | os.PathLike,
    *,
    top_k: int = 5,
    pose_extractor: PoseExtractor | None = None,
    fps: float = 30.0,
    max_frames: int = 64,
) -> gr.Blocks:
    """The demo's page for one checkpoint (not launched: call ``.launch()`` on it).

    Args:
        model: a checkpoint folder or Hub id of a registered classifier with its saved processor.
        top_k: how many classes the label shows.
        pose_extractor: what the pipeline extracts a video's skeletons with (default: `PoseExtractor`'s
            pretrained models from the Hub, loaded at the first video).
        fps: the frame rate the animation plays clips at (Kinect: 30).
        max_frames: at most this many frames in the animation (evenly spaced).

    Returns:
        A `gradio.Blocks` with an upload, a "Classify" button, the top-k label and the animated skeleton; its
        endpoint ``/predict`` takes the file and returns ``(label, gif_path)``.
    """
    if gr is None:
        raise ImportError('the demo needs gradio: pip install "skeleton-models[demo]"')
    classify = pipeline(TASK, model=str(model), pose_extractor=pose_extractor)
    layout = classify.feature_extractor.layout
    config = classify.model.config
    animations = Path(tempfile.mkdtemp(prefix="skeleton-demo-"))

    def predict(upload: str | None) -> tuple[dict[str, float], str]:
        if upload is None:
            raise gr.Error("Upload a file first.")
        path = Path(upload)
        try:
            # The pipeline's own reading of a path (a raw file, or a video's extracted skeletons): the clip is read
            # once, for the classifier and the animation, with the errors that classifying the path would raise.
            clip = classify.read_clip(str(path))
            result = classify(clip, top_k=top_k)
        except Exception as error:  # every failure of reading or classifying is shown on the page
            raise gr.Error(_error_message(error, path)) from error
        # One file per upload name, rewritten by the next upload of that name: gradio copies it into its cache
        # (keyed by content) before the next event runs, as the event runs one at a time (concurrency_limit=1).
        gif = animate_skeleton(clip, layout, animations / f"{path.stem}.gif", fps=fps, max_frames=max_frames)
        return {r["label"]: r["score"] for r in result}, str(gif)

    name = Path(model).name if Path(model).is_dir() else str(model)  # a folder's name, a Hub id
    description = (
        f"**{name}**: {config.model_type}, {config.num_labels} classes, layout `{layout}`. "
        "Upload a clip in this layout (`.npy`, (T, M, V, C)), a raw benchmark file (NTU `.skeleton`, NW-UCLA / "
        "Kinetics `.json`, PKU-MMD `.txt`) or, for a checkpoint of `coco17` clips, a video; then press **Classify**."
    )
    with gr.Blocks(title="Skeleton action recognition") as demo:
        gr.Markdown("# Skeleton action recognition")
        gr.Markdown(description)
        with gr.Row():
            with gr.Column():
                upload = gr.File(
                    label="Clip, raw skeleton file or video",
                    file_types=[*SKELETON_SUFFIXES, *sorted(VIDEO_SUFFIXES)],
                    type="filepath",
                    elem_id="upload",
                )
                button = gr.Button("Classify", variant="primary")
            with gr.Column():
                label = gr.Label(num_top_classes=top_k, label=f"Top {top_k} actions", elem_id="actions")
                animation = gr.Image(label="Skeleton", format="gif", interactive=False, elem_id="skeleton")
        button.click(predict, inputs=upload, outputs=[label, animation], api_name="predict", concurrency_limit=1)
    return demo
