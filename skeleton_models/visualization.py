"""Figures of clips and of what a model learnt: a clip's skeleton over time (key frames, or an animated GIF),
HGLNet's learned global and local joint topologies, and each joint's importance for the predicted class (HocSLM,
section 4.5 and Fig. 6).

The numbers come from the functions without plotting (`joint_importance`, `hglnet_topologies`); the ``plot_*``
functions draw them with matplotlib, an optional dependency (``pip install "skeleton-models[viz]"``)::

    from skeleton_models import visualization
    figure = visualization.plot_model_explanation(model, processor, clip)   # clip: (T, M, V, C), a dataset row
    figure.savefig("explanation.png")
    visualization.animate_skeleton(clip, "ntu25", "clip.gif")              # the whole clip, looping

Reading (the paper does not define them): a joint's importance is its class activation (CAM: the predicted class's
classifier weights times the last block's features at that joint and frame, whose mean over joints, frames and
persons plus the bias is exactly the class logit), drawn as circle radii like Fig. 6; a block's global topology is
the GSM output (Eq. 5, times lambda_g of Eq. 7) and its local topology the LSE output (Eq. 6, times lambda_l), each
averaged over subsets and channels for the first person; where a switch replaces a branch, its replacement (CTR-GC's
refinement, the shared adjacency PA).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .models.hglnet.modeling_hglnet import HGLNetModel
from .processing_skeleton import SkeletonProcessor
from .skeletons import SkeletonLayout, get_layout

if TYPE_CHECKING:  # matplotlib is optional: imported where a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "animate_skeleton",
    "hglnet_topologies",
    "joint_importance",
    "plot_confusion_matrix",
    "plot_model_explanation",
    "plot_skeleton_frames",
    "plot_topology",
]

PERSON_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)  # no display needed; an interactive backend already chosen stays
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            'skeleton_models.visualization draws with matplotlib: pip install "skeleton-models[viz]"'
        ) from error
    return plt


def _backbone(model) -> HGLNetModel:
    """The HGLNet inside an HGLNet or HocSLM model."""
    for candidate in (model, getattr(model, "hglnet", None), getattr(getattr(model, "hocslm", None), "hglnet", None)):
        if isinstance(candidate, HGLNetModel):
            return candidate
    raise ValueError(f"{type(model).__name__} holds no HGLNet: topologies are drawn for HGLNet and HocSLM models")


# -- numbers -----------------------------------------------------------------------------------------------------
@torch.no_grad()
def joint_importance(model, skeletons: torch.Tensor, target: int | torch.Tensor | None = None) -> dict:
    """Class activation of every joint, frame and person (Reading: see the module docstring).

    Args:
        model: a classifier whose logits are a linear ``classifier`` over the mean of its last block's features
            (HGLNet, HocSLM); in evaluation mode.
        skeletons: (N, C, T, V, M) model inputs.
        target: the class to explain per clip (an int or (N,) tensor); default the predicted class.

    Returns:
        ``{"importance": (N, T', V, M) class activations (T' the last block's frames), "target": (N,),
        "logits": (N, num_labels)}``. ``importance.mean((1, 2, 3)) + bias[target] == logits[target]``.
    """
    classifier = getattr(model, "classifier", None)
    if not isinstance(classifier, torch.nn.Linear):
        raise ValueError(f"{type(model).__name__} has no linear `classifier`: joint_importance needs one")
    out = model(skeletons, output_hidden_states=True)
    features = out.hidden_states[-1]  # (N, C, T', V, M)
    if target is None:
        target = out.logits.argmax(-1)
    target = torch.as_tensor(target, device=features.device).expand(features.shape[0])
    weights = classifier.weight[target]  # (N, C)
    importance = torch.einsum("nctvm,nc->ntvm", features.float(), weights.float())
    explained = importance.mean(dim=(1, 2, 3)) + classifier.bias[target].float()
    chosen = out.logits.gather(1, target[:, None])[:, 0].float()
    if not torch.allclose(explained, chosen, rtol=1e-3, atol=1e-3):
        raise ValueError(
            f"{type(model).__name__}'s logits are not a linear classifier over the mean of its last hidden state "
            "(or it is in training mode): its class activations would not explain them"
        )
    return {"importance": importance, "target": target, "logits": out.logits}


@torch.no_grad()
def hglnet_topologies(model, skeletons: torch.Tensor, block: int = -1) -> dict[str, torch.Tensor]:
    """The joint topologies one HGLNet block used for each clip: ``{"global", "local", "composite"}``, each
    (N, V, V), averaged over subsets and channels for the first person (row u, column v: how much joint u
    aggregates from joint v). ``"global"`` is absent when the configuration has no global branch
    (``gsm_off="none"``)."""
    backbone = _backbone(model)
    spatial = backbone.blocks[block].spatial
    captured = {}

    def keep(name):
        def hook(module, inputs, output):  # the global topologies are added to in place later: copy them now
            parts = output if isinstance(output, (tuple, list)) else output.unbind(1)
            captured[name] = torch.stack([p.detach().float().clone() for p in parts], dim=1)  # (B, K, C|1, V, V)

        return hook

    handles = []
    if spatial.use_global:
        handles.append(spatial.global_topology.register_forward_hook(keep("global")))
    if spatial.use_lse:
        handles.append(spatial.local_topology.register_forward_hook(keep("local")))
    try:
        model(skeletons)
    finally:
        for handle in handles:
            handle.remove()
    n, m = skeletons.shape[0], skeletons.shape[-1]
    out = {}
    if "global" in captured:  # already scaled by lambda_g (Eq. 7) or CTR-GC's alpha
        out["global"] = captured["global"].mean(dim=(1, 2)).view(n, m, *captured["global"].shape[-2:])[:, 0]
    if "local" in captured:
        local = captured["local"].mean(dim=(1, 2)).view(n, m, *captured["local"].shape[-2:])[:, 0]
        out["local"] = local * spatial.fusion[1].float() if spatial.fused else local
    else:  # CTR-GCN's shared adjacency PA
        shared = spatial.shared_topology.detach().float().mean(0)
        out["local"] = (shared * spatial.fusion[1].float() if spatial.fused else shared).expand(n, -1, -1)
    out["composite"] = out["local"] + out["global"] if "global" in out else out["local"]
    return out


# -- figures -------------------------------------------------------------------------------------------------------
def _image_xy(points: np.ndarray, layout: SkeletonLayout) -> np.ndarray:
    """(..., C) joint coordinates -> (..., 2) drawing coordinates (right, up). Kinect's camera space (3-D, or its
    first two axes): x points to the camera's left, so the horizontal axis is -x, and `up_axis` is up. A 2-D pose
    estimator's layout (`SkeletonLayout.image_coordinates`): image coordinates (x, y[, score]), y pointing down."""
    if layout.image_coordinates:
        return np.stack([points[..., 0], -points[..., 1]], axis=-1)
    up_axis = layout.up_axis if points.shape[-1] >= 3 else 1
    across = 0 if up_axis != 0 else 2
    return np.stack([-points[..., across], points[..., up_axis]], axis=-1)


def _drawable(clip: np.ndarray, layout: str | SkeletonLayout) -> tuple[SkeletonLayout, np.ndarray, np.ndarray, tuple]:
    """A clip ready to draw: its layout, image coordinates (T, M, V, 2), which persons are present (T, M) and the
    axis limits ((x0, x1), (y0, y1)) that frame every frame alike."""
    layout = get_layout(layout) if isinstance(layout, str) else layout
    clip = np.asarray(clip, dtype=np.float32)
    if clip.ndim != 4 or clip.shape[2] != layout.num_joints:
        raise ValueError(f"clip must be (T, M, {layout.num_joints}, C) for {layout.name!r}, got {clip.shape}")
    xy = _image_xy(clip[..., : min(3, clip.shape[-1])], layout)
    present = np.abs(clip).max(axis=(2, 3)) > 0  # (T, M)
    valid = xy[present].reshape(-1, 2)
    low, high = (valid.min(0), valid.max(0)) if len(valid) else (np.full(2, -1.0), np.full(2, 1.0))
    pad = 0.08 * float((high - low).max() or 1.0)
    return layout, xy, present, ((low[0] - pad, high[0] + pad), (low[1] - pad, high[1] + pad))


def _draw_frame(ax: Axes, layout: SkeletonLayout, xy: np.ndarray, present: np.ndarray, limits: tuple, title: str):
    """One frame's skeletons (xy: (M, V, 2), present: (M,)) into `ax`: bones and joints, a colour per person."""
    bones = np.array(layout.bones).T  # (2, bones): child, parent
    for m in np.flatnonzero(present):
        colour = PERSON_COLOURS[m % len(PERSON_COLOURS)]
        segments = np.stack([xy[m, bones[0]], xy[m, bones[1]], np.full((bones.shape[1], 2), np.nan)], axis=1)
        ax.plot(*segments.reshape(-1, 2).T, color=colour, linewidth=1.5)  # one line per person, NaN-separated
        ax.scatter(*xy[m].T, s=4, color=colour, zorder=3)
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=8)


def plot_skeleton_frames(
    clip: np.ndarray,
    layout: str | SkeletonLayout = "ntu25",
    frames: list[int] | None = None,
    num_frames: int = 6,
    importance: np.ndarray | None = None,
    axes: list[Axes] | None = None,
    title: str | None = None,
) -> Figure:
    """A clip's skeleton at several frames, side by side (bones per person; optional joint-importance circles).

    Args:
        clip: (T, M, V, C) joint coordinates (a dataset row's ``skeleton``; 2-D or 3-D; all-zero persons skipped).
        layout: the clip's layout (its bones and up axis).
        frames: which frames to draw (default `num_frames` evenly spaced).
        importance: optional (T, V, M) non-negative weights (e.g. `joint_importance` resampled to T frames): a
            circle at each joint with area proportional to its weight, largest = the same size in every panel.
        axes: draw into these (one per frame) instead of a new figure.
    """
    plt = _pyplot()
    layout, xy, present, limits = _drawable(clip, layout)
    frames = list(frames) if frames is not None else np.linspace(0, len(xy) - 1, num_frames).round().astype(int)
    if axes is None:
        figure, axes = plt.subplots(1, len(frames), figsize=(1.8 * len(frames), 2.6), squeeze=False)
        axes = list(axes[0])
    figure = axes[0].figure
    scale = None if importance is None else float(np.max(importance)) or 1.0
    for ax, t in zip(axes, frames):
        _draw_frame(ax, layout, xy[t], present[t], limits, f"frame {t}")
        if importance is None:
            continue
        for m in np.flatnonzero(present[t]):
            sizes = 220.0 * np.clip(importance[t, :, m], 0, None) / scale
            ax.scatter(*xy[t, m].T, s=sizes, facecolors="none", edgecolors="crimson", linewidths=1.0, zorder=4)
    if title:
        figure.suptitle(title, fontsize=9)
    return figure


def animate_skeleton(
    clip: np.ndarray,
    layout: str | SkeletonLayout,
    path: str | os.PathLike,
    fps: float = 30.0,
    max_frames: int = 64,
    size: float = 3.0,
    dpi: int = 80,
    title: str | None = None,
) -> Path:
    """Write a clip's skeletons as an animated GIF (looping), drawn as `plot_skeleton_frames` draws one frame.

    Args:
        clip: (T, M, V, C) joint coordinates (2-D or 3-D; all-zero persons skipped), e.g. `read_clip`'s output.
        layout: the clip's layout (its bones and up axis).
        path: the GIF to write.
        fps: the clip's frame rate (Kinect: 30): the GIF plays in real time.
        max_frames: at most this many frames, evenly spaced, when the clip is longer (each then shown longer).
        size: the square image's side in inches; `dpi` pixels per inch.
        title: drawn above the frame number.

    Returns:
        `path`, holding ``min(T, max_frames)`` frames of ``size * dpi`` pixels square.
    """
    plt = _pyplot()
    from matplotlib.animation import PillowWriter  # matplotlib is optional (see _pyplot)

    layout, xy, present, limits = _drawable(clip, layout)
    frames = np.unique(np.linspace(0, len(xy) - 1, min(len(xy), max_frames)).round().astype(int))
    figure, ax = plt.subplots(figsize=(size, size))
    writer = PillowWriter(fps=fps * len(frames) / len(xy))  # the whole clip lasts T / fps seconds
    try:
        with writer.saving(figure, str(path), dpi):
            for t in frames:
                ax.clear()
                _draw_frame(ax, layout, xy[t], present[t], limits, f"{title}, frame {t}" if title else f"frame {t}")
                writer.grab_frame()
    finally:
        plt.close(figure)
    return Path(path)


def plot_topology(
    matrix: np.ndarray | torch.Tensor, layout: str | SkeletonLayout = "ntu25", ax: Axes | None = None, title: str = ""
) -> Figure:
    """A (V, V) joint topology as a heatmap, rows and columns labelled with 1-based joint numbers."""
    plt = _pyplot()
    layout = get_layout(layout) if isinstance(layout, str) else layout
    matrix = np.asarray(matrix.detach().cpu() if isinstance(matrix, torch.Tensor) else matrix, dtype=np.float32)
    if matrix.shape != (layout.num_joints, layout.num_joints):
        raise ValueError(f"matrix must be ({layout.num_joints}, {layout.num_joints}), got {matrix.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.0))
    image = ax.imshow(matrix, cmap="viridis")
    ticks = np.arange(0, layout.num_joints, 4)
    ax.set_xticks(ticks, [str(i + 1) for i in ticks], fontsize=6)
    ax.set_yticks(ticks, [str(i + 1) for i in ticks], fontsize=6)
    ax.set_xlabel("joint v", fontsize=7)
    ax.set_ylabel("joint u (aggregates from v)", fontsize=7)
    ax.set_title(title, fontsize=8)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04).ax.tick_params(labelsize=6)
    return ax.figure


def plot_confusion_matrix(
    confusion: np.ndarray, class_names: list[str], normalize: bool = True, title: str = "", ax: Axes | None = None
) -> Figure:
    """A (K, K) confusion matrix (rows: true class, columns: predicted; counts) as an image: each row divided by its
    count with ``normalize`` (so the diagonal is each class's recall), classes labelled on both axes."""
    plt = _pyplot()
    confusion = np.asarray(confusion, dtype=np.float64)
    k = len(class_names)
    if confusion.shape != (k, k):
        raise ValueError(f"confusion must be ({k}, {k}) for {k} class names, got {confusion.shape}")
    shown = confusion / np.maximum(confusion.sum(1, keepdims=True), 1) if normalize else confusion
    if ax is None:
        size = max(4.0, 0.28 * k + 2)
        _, ax = plt.subplots(figsize=(size, size * 0.9))
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(range(k), class_names, rotation=90, fontsize=6)
    ax.set_yticks(range(k), class_names, fontsize=6)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04).ax.tick_params(labelsize=6)
    ax.figure.tight_layout()
    return ax.figure


def plot_model_explanation(
    model, processor: SkeletonProcessor, clip: np.ndarray, num_frames: int = 3, block: int = -1, class_names=None
) -> Figure:
    """Fig. 6 of HocSLM for one clip: key frames with each joint's importance for the predicted class, and the
    global, local and composite topologies of one HGLNet block.

    Args:
        model: an HGLNet or HocSLM classifier (put in evaluation mode here).
        processor: the checkpoint's processor (`SkeletonProcessor`, or HocSLM's `SkeletonTextProcessor`): the
            model's input stream; the drawing uses the same processing with the joint stream.
        clip: one raw clip (T, M, V, C), e.g. a dataset row's ``skeleton``.
        num_frames: key frames to draw, evenly spaced over the processed window.
        block: which block's topologies (default the last).
        class_names: names of the classes for the title (default the model's ``id2label``).
    """
    plt = _pyplot()
    processor = getattr(processor, "feature_extractor", processor)  # a HocSLM checkpoint's text processor
    model.eval()
    device = next(model.parameters()).device
    inputs = processor(clip, training=False)[processor.model_input_names[0]].to(device)
    joints = copy.deepcopy(processor)
    joints.stream = "joint"
    drawn = joints(clip, training=False, return_tensors=None)[joints.model_input_names[0]][0]  # (C, T, V, M)
    explained = joint_importance(model, inputs)
    importance = explained["importance"][0].cpu().numpy()  # (T', V, M)
    window = drawn.shape[1]
    per_frame = importance[np.minimum(np.arange(window) * importance.shape[0] // window, importance.shape[0] - 1)]
    topologies = hglnet_topologies(model, inputs, block)
    names = class_names or model.config.id2label
    target = int(explained["target"][0])
    figure = plt.figure(figsize=(2.0 * max(num_frames, len(topologies)) + 1, 6.0), layout="constrained")
    top, bottom = figure.subfigures(2, 1, height_ratios=[1.0, 1.0])
    frames = np.linspace(0, window - 1, num_frames).round().astype(int)
    plot_skeleton_frames(
        np.transpose(drawn, (1, 3, 2, 0)),
        processor.layout,
        frames=frames,
        importance=np.clip(per_frame, 0, None),
        axes=list(np.atleast_1d(top.subplots(1, num_frames))),
    )
    top.suptitle(f"predicted: {names.get(target, target) if hasattr(names, 'get') else names[target]}", fontsize=9)
    axes = np.atleast_1d(bottom.subplots(1, len(topologies)))
    number = block % len(_backbone(model).blocks) + 1
    for ax, (name, matrix) in zip(axes, topologies.items()):
        plot_topology(matrix[0], processor.layout, ax=ax, title=f"{name} topology, block {number}")
    return figure
