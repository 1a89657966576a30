"""Exporting classifiers for deployment without this library: ONNX (``torch.onnx.export``, the dynamo exporter; needs
the optional extra ``skeleton-models[export]``: onnx, onnxscript, onnxruntime) and ``torch.export`` programs.

The exported graph maps the model's inputs (``config.input_specs``: skeletons (N, C, T, V, M), and e.g. BHaRNet's
hands) to ``logits`` (N, num_labels). The batch axis is dynamic for every architecture; the frame axis too where
the architecture takes any number of frames (the graph convolution networks), not for the patch-embedded ViTs
(GFP, SLiM: their position grid is fixed to ``config.num_frames``). Preprocessing stays outside: ship the
checkpoint's ``preprocessor_config.json`` beside the exported file (the CLI does).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .modeling_utils import make_dummy_inputs

try:  # optional: only for checking an export against PyTorch
    import onnxruntime
except ImportError:  # pragma: no cover - exercised where the extra is not installed
    onnxruntime = None

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "EXPORT_FORMATS",
    "check_onnx",
    "compare_onnx",
    "export_model",
    "exported_inputs",
]

EXPORT_FORMATS = ("onnx", "torch.export")
# What `skeleton-models export --check` accepts: largest |logit difference| <= atol + rtol * largest |PyTorch logit|.
# float32 on the CPU, onnxruntime against eager PyTorch, batch 3 and 48 frames after an export at batch 2 and 32
# frames (3 random inputs each), measured: the tiny test models of every classifier 2e-13 .. 1.4e-5 (HGLNet, logits
# up to 15); the quickstart's trained HGLNet and BHaRNet 3e-6 .. 5e-6 (logits up to 9); untrained full-size models,
# whose logits are large, up to 3.5e-4 (hglnet-small, logits up to 155) and 0.24 (hglnet, logits up to 1.9e4): the
# difference grows with the logits, about 1e-6 .. 1.3e-5 of the largest one. The defaults leave a margin of 7x over
# the largest absolute difference of the test models and 8x over the largest relative one; a broken export (e.g.
# a weight changed by 0.1) differs by orders of magnitude more.
DEFAULT_ATOL = 1e-4
DEFAULT_RTOL = 1e-4


class _Logits(nn.Module):
    """The classifier with its inputs as positional arguments and its logits as the only output."""

    def __init__(self, model: nn.Module, names: list[str]):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *inputs):
        return self.model(**dict(zip(self.names, inputs))).logits


def exported_inputs(model, batch_size: int = 2, frames: int = 32) -> tuple[dict[str, torch.Tensor], dict]:
    """Example inputs of `model` (its required inputs, no labels) and their dynamic axes for ``torch.export``:
    ``{name: {0: batch}}``, plus ``{2: frames}`` for skeleton inputs of architectures without a fixed frame count."""
    config = model.config
    inputs = make_dummy_inputs(config, batch_size, frames, with_loss_inputs=(), device=model.device)
    specs = {spec.name: spec for spec in config.input_specs}
    inputs = {k: v for k, v in inputs.items() if not getattr(specs.get(k), "optional", False)}
    batch = torch.export.Dim("batch", min=1, max=4096)
    time = torch.export.Dim("frames", min=8, max=1024)
    dynamic = {}
    for name in inputs:
        spec = specs.get(name)
        dynamic[name] = {0: batch}
        if spec is not None and spec.kind == "skeleton" and spec.frames is None:
            dynamic[name][2] = time
    return inputs, dynamic


def export_model(model, path: str | Path, format: str = "onnx", batch_size: int = 2, frames: int = 32) -> Path:
    """Export `model` (a registered classifier, in eval mode) to `path` (``.onnx`` or ``.pt2``). Returns the path.

    Raises:
        ValueError: an unknown `format`.
        ImportError: ONNX without ``onnxscript`` (``pip install "skeleton-models[export]"``).
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {EXPORT_FORMATS}, got {format!r}")
    model = model.eval()
    inputs, dynamic = exported_inputs(model, batch_size, frames)
    names = list(inputs)
    wrapper = _Logits(model, names).eval()
    args = tuple(inputs.values())
    shapes = (tuple(dynamic[name] for name in names),)  # one entry: the wrapper's *inputs
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        if format == "onnx":
            torch.onnx.export(
                wrapper,
                args,
                str(path),
                input_names=names,
                output_names=["logits"],
                dynamic_shapes=shapes,
                dynamo=True,
            )
        else:
            torch.export.save(torch.export.export(wrapper, args, dynamic_shapes=shapes, strict=False), str(path))
    return path


def compare_onnx(path: str | Path, model, batch_size: int = 3, frames: int = 48) -> tuple[float, float]:
    """(largest absolute difference between onnxruntime's logits of the exported file and PyTorch's, largest
    absolute PyTorch logit), on random inputs of another batch size (and frame count, where that axis is dynamic)
    than the export's. Classes a model leaves out (e.g. TDSM's -inf for non-candidates) must be -inf in both: else
    an AssertionError naming the file."""
    if onnxruntime is None:
        raise ImportError('checking an ONNX export needs onnxruntime: pip install "skeleton-models[export]"')
    inputs, _ = exported_inputs(model, batch_size, frames)
    session = onnxruntime.InferenceSession(str(path))
    (ours,) = session.run(["logits"], {k: v.cpu().numpy() for k, v in inputs.items()})
    with torch.no_grad():
        reference = model.eval()(**inputs).logits.cpu().numpy()
    finite = np.isfinite(reference)
    if not np.array_equal(finite, np.isfinite(ours)) or not np.array_equal(reference[~finite], ours[~finite]):
        raise AssertionError(f"{path}: the exported model's non-finite logits differ from PyTorch's")
    difference = float(np.abs(ours[finite] - reference[finite]).max(initial=0.0))
    return difference, float(np.abs(reference[finite]).max(initial=0.0))


def check_onnx(path: str | Path, model, batch_size: int = 3, frames: int = 48) -> float:
    """The largest absolute logit difference of `compare_onnx`."""
    return compare_onnx(path, model, batch_size, frames)[0]


def copy_processor(checkpoint: str | Path, folder: str | Path) -> None:
    """Copy the checkpoint's ``config.json`` (labels) and ``preprocessor_config.json`` next to the export."""
    for name in ("config.json", "preprocessor_config.json"):
        source = Path(checkpoint) / name
        if source.exists():
            shutil.copy(source, Path(folder) / name)
