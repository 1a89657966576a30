"""Reference fixtures from the official implementations (developer script).

Each fixture is the record of one run of an official model at a small configuration with a fixed seed: its state
dict under its own key names, a fixed input (and mask / noise / timestep where the model takes them) and the
official outputs. Nothing of the official code is copied into this repository: the script imports it from a checkout
given on the command line (``git clone`` of the repository at the commit named in the fixture), runs it, and keeps
only numbers. ``tests/test_parity.py`` converts each fixture's state dict with the architecture's conversion
(`skeleton_models.conversion`) and compares our outputs with the official ones in CI.

    python utils/write_fixtures.py stgcn --checkout /tmp/st-gcn   # -> tests/fixtures/reference/stgcn.safetensors

A fixture file holds ``official.<key>`` (the state dict), ``input.<name>`` and ``output.<name>`` tensors, and its
metadata (conversion, options, source, official call, seed, tolerance) as JSON in the safetensors header.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import math
import re
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn
from torch.overrides import TorchFunctionMode

from skeleton_models.conversion import get_conversion

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "fixtures" / "reference"

# name -> writer(checkout) returning (official state dict, inputs, outputs, metadata)
WRITERS: dict[str, Callable[[Path], tuple[dict, dict, dict, dict]]] = {}


def writer(name: str):
    def register(function):
        WRITERS[name] = function
        return function

    return register


def import_from_checkout(checkout: Path, modules: dict[str, str]):
    """Import files of an official checkout as modules of the given names, in order (a package's ``__init__.py``
    first, as ``{"graph": "graph/__init__.py"}``); returns the last module. The checkout's own absolute imports
    between its files must be among `modules`."""
    module = None
    for name, relative in modules.items():
        if name in sys.modules:
            module = sys.modules[name]
            continue
        path = checkout / relative
        if not path.is_file():
            raise SystemExit(f"{checkout}: no {relative}; is it a checkout of the official repository?")
        locations = [str(path.parent)] if path.name == "__init__.py" else None
        spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=locations)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def checkout_commit(checkout: Path) -> str:
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def save_fixture(name: str, official: dict, inputs: dict, outputs: dict, metadata: dict, folder: Path) -> Path:
    tensors = {f"official.{k}": v for k, v in official.items()}
    tensors |= {f"input.{k}": v for k, v in inputs.items()}
    tensors |= {f"output.{k}": v for k, v in outputs.items()}
    tensors = {k: v.detach().contiguous().clone() for k, v in tensors.items()}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    save_file(tensors, path, metadata={"fixture": json.dumps(metadata, sort_keys=True)})
    return path


class _OfficialCudaOnCPU(TorchFunctionMode):
    """Official code written for a GPU, run on the CPU: a tensor it creates with ``device='cuda'`` is created on the
    CPU, and ``Tensor.cuda()`` leaves a tensor where it is. Nothing else changes."""

    def __torch_function__(self, func, types_, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func is torch.Tensor.cuda:
            return args[0]
        if str(kwargs.get("device", "")).startswith("cuda"):
            kwargs["device"] = "cpu"
        return func(*args, **kwargs)


# -- Shift-GCN (kchengiva/Shift-GCN) ---------------------------------------------------------------------------------
# The official temporal shift (model/Temporal_shift/cuda/shift.py, class Shift) calls a compiled CUDA extension,
# ``shift_cuda``, that cannot run here. The fixture is written with the official Python model and, in place of that
# extension, the functions below: the arithmetic of its kernels (model/Temporal_shift/cuda/shift_cuda_kernel.cu @
# 20276b6) re-derived for the CPU from reading them, written independently of this library's own temporal shift
# (skeleton_models/layers/shift.py, which the fixture then checks). What was read:
# - forward (shift_cuda_forward_kernel, lines 12-76; launched by shift_cuda_forward, lines 405-431): the output has
#   T // stride frames (line 408, integer division) and the input's joints; output (n, c, h, w) is the bilinear mix
#   of the four input points (h * stride + y1 + {0, 1}, w + x1 + {0, 1}), x1 = floorf(xpos[c]), y1 = floorf(ypos[c])
#   (lines 49-51), each read as 0 outside the input (lines 54-68), weights (1 - dx)(1 - dy), dx (1 - dy), (1 - dx) dy,
#   dx dy with dx = xpos - x1, dy = ypos - y1, summed in that order (line 73). shift.py's ShiftFunction.forward
#   (lines 12-22) adds 0.5 to ypos when stride != 1 and saves the shifted ypos for the backward.
# - input gradient, stride 1 (Shift_Bottom_Backward_Stride1, lines 79-152): the same bilinear read, of the output
#   gradient, at the negated offsets -xpos, -ypos (lines 108-109), zero outside.
# - input gradient, stride != 1 (Shift_Bottom_Backward, lines 156-256; the kernel fixes stride 2 and
#   top_height = bottom_height / 2, line 172): input frame h reads output-gradient frame (h + y1') / 2 only when
#   h + y1' is even (C's %, lines 205-243), with y1' = floorf(-ypos), zero outside.
# - offset gradients (Shift_Position_Backward, lines 278-363): per output point, d/dx = (1 - dy)(q21 - q11) +
#   dy (q22 - q12) and d/dy = (1 - dx)(q12 - q11) + dx (q22 - q21) times the output gradient (lines 343-349), then
#   the mean over the batch and the sums over joints and frames (lines 501-509), then applyShiftConstraint
#   (lines 371-395): the xpos gradient becomes 0 and the ypos gradient 0.01 * its sign (1e-4 where it is 0).
# floorf takes a float: a float64 offset is rounded to float32 before its floor (kept below). On a GPU the kernel's
# products may be fused (FMA); they are not here, a difference of float32 rounding only.


def _kernel_floor(offset: torch.Tensor) -> int:
    """``int x1 = floorf(x)``: the offset as a float32, floored."""
    return math.floor(float(offset.to(torch.float32)))


def _kernel_corner(plane: torch.Tensor, source_frames: list, joint_offset: int) -> torch.Tensor:
    """One of the four points of the kernels' bilinear read. `plane` (B, T, V); output frame h is source frame
    ``source_frames[h]`` (None: no frame) and output joint w is source joint ``w + joint_offset``; 0 outside."""
    batch, frames, joints = plane.shape
    out = plane.new_zeros(batch, len(source_frames), joints)
    first, stop = max(0, -joint_offset), min(joints, joints - joint_offset)  # the w whose joint w + offset exists
    for h, frame in enumerate(source_frames):
        if frame is not None and 0 <= frame < frames and first < stop:
            out[:, h, first:stop] = plane[:, frame, first + joint_offset : stop + joint_offset]
    return out


def _kernel_bilinear(plane: torch.Tensor, xpos: torch.Tensor, ypos: torch.Tensor, frames_at) -> tuple:
    """The kernels' bilinear read of `plane` (B, T, V) at the offsets (xpos, ypos) (0-d tensors); `frames_at(dy)`
    gives the source frame of each output frame for an integer frame offset. Returns the mix and its four points
    and fractions (q11, q21, q12, q22, dx, dy): q21 is one joint on, q12 one frame on."""
    x1, y1 = _kernel_floor(xpos), _kernel_floor(ypos)
    dx, dy = xpos - x1, ypos - y1
    q11 = _kernel_corner(plane, frames_at(y1), x1)
    q21 = _kernel_corner(plane, frames_at(y1), x1 + 1)
    q12 = _kernel_corner(plane, frames_at(y1 + 1), x1)
    q22 = _kernel_corner(plane, frames_at(y1 + 1), x1 + 1)
    mix = q11 * (1 - dx) * (1 - dy) + q21 * dx * (1 - dy) + q12 * (1 - dx) * dy + q22 * dx * dy
    return mix, (q11, q21, q12, q22, dx, dy)


def _shift_forward(input, xpos, ypos, stride):
    """``shift_cuda.forward``: (B, C, T, V) -> (B, C, T // stride, V)."""
    batch, channels, frames, joints = input.shape
    rows = frames // stride
    output = input.new_zeros(batch, channels, rows, joints)
    for c in range(channels):
        output[:, c] = _kernel_bilinear(input[:, c], xpos[c], ypos[c], lambda y: [h * stride + y for h in range(rows)])[
            0
        ]
    return output


def _shift_backward(grad_output, input, output, xpos, ypos, stride):
    """``shift_cuda.backward``: [input gradient, xpos gradient, ypos gradient]."""
    batch, channels, frames, joints = input.shape
    rows = frames // stride
    grad_input = torch.zeros_like(input)
    grad_x, grad_y = xpos.new_zeros(channels), ypos.new_zeros(channels)
    if stride == 1:
        back = lambda y: [h + y for h in range(frames)]  # noqa: E731
    else:  # Shift_Bottom_Backward: stride 2 whatever was asked
        back = lambda y: [(h + y) // 2 if (h + y) % 2 == 0 else None for h in range(frames)]  # noqa: E731
    for c in range(channels):
        grad_input[:, c] = _kernel_bilinear(grad_output[:, c], -xpos[c], -ypos[c], back)[0]
        _, (q11, q21, q12, q22, dx, dy) = _kernel_bilinear(
            input[:, c], xpos[c], ypos[c], lambda y: [h * stride + y for h in range(rows)]
        )
        along_x = ((1 - dy) * (q21 - q11) + dy * (q22 - q12)) * grad_output[:, c]
        along_y = ((1 - dx) * (q12 - q11) + dx * (q22 - q21)) * grad_output[:, c]
        grad_x[c] = along_x.mean(0).sum(1).sum(0)
        grad_y[c] = along_y.mean(0).sum(1).sum(0)
    size = grad_y.abs()
    moving = size != 0
    safe = torch.where(moving, size, torch.ones_like(size))
    grad_x = torch.where(moving, grad_x / safe * 0.0, torch.zeros_like(grad_x))
    grad_y = torch.where(moving, grad_y / safe * 0.01, torch.full_like(grad_y, 1e-4))
    return [grad_input, grad_x, grad_y]


def _shift_cuda_on_cpu() -> types.ModuleType:
    """A stand-in for the compiled ``shift_cuda`` extension: the kernels' arithmetic on the CPU (see above)."""
    module = types.ModuleType("shift_cuda")
    module.forward = _shift_forward
    module.backward = _shift_backward
    return module


# The official Model (model/shift_gcn.py lines 178-187): channels 64 x4, 128 x3, 256 x3, stride 2 at l5 and l8, no
# residual in l1. The fixture's tiny configuration: the same ten units, an eighth of the widths.
SHIFTGCN_TINY_WIDTHS = (8, 8, 8, 8, 16, 16, 16, 32, 32, 32)
SHIFTGCN_STRIDES = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)


def official_shiftgcn(checkout: Path, num_class: int, widths: tuple[int, ...] | None = None) -> tuple[nn.Module, str]:
    """The official Shift-GCN ``Model`` on the CPU (its temporal shift: `_shift_cuda_on_cpu`) and the call that
    built it; `widths` rebuilds its ten units with the official ``TCN_GCN_unit`` at other widths."""
    sys.modules.setdefault("shift_cuda", _shift_cuda_on_cpu())
    if not hasattr(np, "int"):  # model/shift_gcn.py lines 108, 114 use np.int, the builtin int (gone in NumPy 1.24)
        np.int = int
    modules = {
        "graph": "graph/__init__.py",  # Model imports its graph by name (graph.ntu_rgb_d.Graph)
        "cuda": "model/Temporal_shift/cuda/__init__.py",  # shift_gcn.py: from cuda.shift import Shift
        "cuda.shift": "model/Temporal_shift/cuda/shift.py",
        "shift_gcn": "model/shift_gcn.py",
    }
    with _OfficialCudaOnCPU():
        official = import_from_checkout(checkout, modules)
        kwargs = dict(
            num_point=25, num_person=2, graph="graph.ntu_rgb_d.Graph", graph_args={"labeling_mode": "spatial"}
        )
        model = official.Model(num_class=num_class, **kwargs)
        call = f"model.shift_gcn.Model(num_class={num_class}, " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        call += ")"
        if widths is not None:
            channels = [3, *widths]
            for i, stride in enumerate(SHIFTGCN_STRIDES):
                unit = official.TCN_GCN_unit(channels[i], channels[i + 1], model.graph.A, stride=stride, residual=i > 0)
                setattr(model, f"l{i + 1}", unit)
            model.fc = nn.Linear(widths[-1], num_class)
            call += (
                " with l1..l10 rebuilt as model.shift_gcn.TCN_GCN_unit(c_in, c_out, A, stride, residual=i > 1) at "
                f"widths {list(widths)} (strides {list(SHIFTGCN_STRIDES)}), fc = nn.Linear({widths[-1]}, {num_class})"
            )
    return model, call


def perturb_shiftgcn(model: nn.Module) -> None:
    """Away from the initialisation, so that a transposed or misplaced tensor shows: batch-norm statistics and
    affine parameters, the temporal shifts' offsets (frames and joints), the feature masks and the biases."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
        for name, parameter in model.named_parameters():
            if name.endswith("ypos"):
                parameter.uniform_(-2.5, 2.5)  # the code draws U(-1, 1); wider reaches the clip's edges
            elif name.endswith("xpos"):
                parameter.uniform_(-1.5, 1.5)  # the code draws U(-1e-8, 1e-8) and its backward never moves it
            elif name.endswith("Feature_Mask"):
                parameter.normal_(0.0, 0.5)
            elif name.endswith(("Linear_bias", "conv.bias", "down.0.bias")):
                parameter.uniform_(-0.2, 0.2)


@writer("shiftgcn")
def write_shiftgcn(checkout: Path) -> tuple[dict, dict, dict, dict]:
    model, call = official_shiftgcn(checkout, num_class=5, widths=SHIFTGCN_TINY_WIDTHS)
    perturb_shiftgcn(model)
    model.eval()
    skeletons = torch.randn(2, 3, 16, 25, 2, requires_grad=True)
    labels = torch.tensor([1, 3])
    with _OfficialCudaOnCPU():
        logits = model(skeletons)
        loss = F.cross_entropy(logits, labels)  # main.py line 222: nn.CrossEntropyLoss()
        (grad,) = torch.autograd.grad(loss, skeletons)
    metadata = {
        "conversion": "shiftgcn",
        "options": {},
        "source": "kchengiva/Shift-GCN",
        "official": call + ", evaluation mode",
        "temporal_shift": "the CUDA kernel's arithmetic re-derived on the CPU (utils/write_fixtures.py "
        "_shift_cuda_on_cpu, from model/Temporal_shift/cuda/shift_cuda_kernel.cu: forward, input and offset "
        "gradients), standing in for the compiled shift_cuda extension; not run on a GPU",
        "seed": 0,
        "atol": 1e-5,
        "rtol": 1e-5,
        "tolerance": "float32 rounding: our shift interpolates along frames, then joints, where the kernel mixes "
        "four points, and the layers sum in other orders (in float64 the two agree to 1e-15 relative); measured "
        "7.6e-6 on logits up to 64 and 4.5e-8 on the input gradient",
        "runner": "classify_with_input_gradient",
    }
    inputs = {"skeletons": skeletons.detach(), "labels": labels}
    outputs = {"logits": logits, "loss": loss, "skeletons_grad": grad}
    return model.state_dict(), inputs, outputs, metadata


# -- MMNet's RGB guidance (bruceyo/MMNet) ----------------------------------------------------------------------------
# net/mmn.py's Model.forward turns the spatiotemporal response of its pretrained skeleton model (self.stgcn's
# extract_feature) into one weight per 45-pixel ROI row of the 225 x 225 RGB mosaic, multiplies the mosaic by them
# and feeds the result to its ResNet-18. The fixture runs that forward with the skeleton model replaced by a fixed
# response map and captures the ResNet's input (a forward pre-hook on resnet.conv1) for an all-ones mosaic: the
# weight map MMNet computed. Checked by tests/test_modeling_bharnet.py against BHaRNet-M's "mmnet-batch" guidance.
MMNET_GUIDANCE_SHAPE = (3, 2, 75, 25, 2)  # N clips, C channels (few: only their norm counts), T' = 300 / 4, V, M
MMNET_ROWS, MMNET_PATCH = 5, 45  # net/mmn.py line 55: 225 rows (5 ROIs x 45 px), 45 * temporal_rgb_frames columns


class _FixedResponse:
    """Stands in for MMNet's pretrained skeleton model (``Model.stgcn``): ``extract_feature`` returns a fixed
    (N, C, T', V, M) response map whatever the skeletons (MMNet reads only their batch size, net/mmn.py line 53)."""

    def __init__(self, features: torch.Tensor):
        self.features = features

    def extract_feature(self, skeletons):
        return None, self.features


def mmnet_response_map() -> torch.Tensor:
    """A fixed (3, 2, 75, 25, 2) response map, non-negative as ReLU features: each clip, person and joint at its own
    scale, so that the persons' activity, the parts and the clips' ranges differ (clip 1's second person is the
    more active one)."""
    n, c, t, v, m = MMNET_GUIDANCE_SHAPE
    person_scale = torch.tensor([[1.0, 0.6], [0.8, 2.5], [3.0, 1.2]])
    joint_scale = torch.empty(n, 1, 1, v, 1).uniform_(0.3, 1.5)
    return F.relu(torch.randn(n, c, t, v, m)) * joint_scale * person_scale[:, None, None, None, :]


@writer("mmnet-guidance")
def write_mmnet_guidance(checkout: Path) -> tuple[dict, dict, dict, dict]:
    mmn = import_from_checkout(checkout, {"net": "net/__init__.py", "net.mmn": "net/mmn.py"})
    official_resnet18 = sys.modules["net.resnet"].resnet18
    # Model.__init__ asks for ImageNet weights (ResNet(pretrained=True), net/mmn.py line 34): not fetched here (the
    # guidance is computed before the ResNet, whose weights do not matter to it).
    mmn.ResNet = lambda pretrained: official_resnet18(pretrained=False)
    graph_args = {"layout": "ntu-rgb+d", "strategy": "spatial"}
    model = mmn.Model(in_channels=3, num_class=60, graph_args=graph_args, edge_importance_weighting=True).eval()
    features = mmnet_response_map()
    model.stgcn = _FixedResponse(features)
    seen = {}
    model.resnet.conv1.register_forward_pre_hook(lambda module, args: seen.setdefault("input", args[0].clone()))
    n = features.shape[0]
    mosaic = torch.ones(n, 3, MMNET_ROWS * MMNET_PATCH, MMNET_ROWS * MMNET_PATCH)
    with _OfficialCudaOnCPU(), torch.no_grad():
        model(torch.zeros(n, 3, 300, 25, 2), mosaic)
    weighted = seen["input"]  # (N, 3, 225, 225): the mosaic times MMNet's weight map
    rows = weighted[:, 0, :, 0]  # (N, 225)
    if not torch.equal(weighted, rows[:, None, :, None].expand_as(weighted)):
        raise SystemExit("MMNet's weight map is not one weight per pixel row: the fixture would not describe it")
    guidance = rows[:, ::MMNET_PATCH]  # (N, 5): one weight per ROI row
    if not torch.equal(rows, guidance.repeat_interleave(MMNET_PATCH, dim=1)):
        raise SystemExit("MMNet's weight map is not one weight per 45-pixel ROI row")
    metadata = {
        "conversion": None,
        "options": {},
        "source": "bruceyo/MMNet",
        "official": "net.mmn.Model(in_channels=3, num_class=60, graph_args=" + repr(graph_args) + ", "
        "edge_importance_weighting=True) in evaluation mode, its ResNet-18 built with pretrained=False, its "
        "stgcn an object whose extract_feature returns input.features; forward(zeros (N, 3, 300, 25, 2), ones "
        "(N, 3, 225, 225)); output.rows: the input of resnet.conv1 (channel 0, column 0: every channel and column "
        "is equal), output.guidance: its first row of each 45-pixel ROI row",
        "temporal_positions": 15,
        "seed": 0,
        "atol": 1e-6,
        "rtol": 0.0,
        "tolerance": "the weights are integers / 127 (MMNet truncates each top-15 mean of the 0-255 map): equal in "
        "float32, or 1/127 apart where a mean rounds across an integer (here every mean is 0.02 or more from one)",
        "checked_by": "tests/test_modeling_bharnet.py::test_mmnet_batch_guidance_is_what_mmnets_code_computes",
    }
    return {}, {"features": features}, {"guidance": guidance, "rows": rows}, metadata


# -- MAMP (maoyunyao/MAMP) and TDSM (KAIST-VICLab/TDSM) ------------------------------------------------------------
def perturb(model: torch.nn.Module, std: float = 0.05) -> None:
    """Add N(0, std^2) to every parameter, in place: the official initialisations leave biases at 0, norms at 1 and
    TDSM's adaLN / final layers at 0 (an all-zero output), so that a swapped or missing name would go unseen."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(std * torch.randn_like(parameter))


def set_batch_norm_statistics(norm: torch.nn.BatchNorm1d) -> None:
    """Running statistics as after training (fresh ones are 0 / 1, which a swapped mean / variance would hide)."""
    with torch.no_grad():
        norm.running_mean.normal_(0.0, 0.5)
        norm.running_var.uniform_(0.5, 2.0)
        norm.num_batches_tracked.fill_(100)


def load_official_mamp(checkout: Path, package: str = "model_mamp"):
    """MAMP's ``transformer`` module of `package`: ``model_mamp`` (pre-training) or ``model`` (evaluation). Its
    ``__init__`` imports ``<package>.transformer``, which imports ``.drop``; both load from the package's folder."""
    import_from_checkout(checkout, {package: f"{package}/__init__.py"})
    return sys.modules[f"{package}.transformer"]


# MAMP at a small size (config/ntu60_xsub_joint/*.yaml with depth 2, width 32, 4 heads, 16 frames), 25 joints.
MAMP_SMALL = dict(
    dim_in=3, dim_feat=32, depth=2, num_heads=4, mlp_ratio=4, num_frames=16, num_joints=25, patch_size=1,
    t_patch_size=4, qkv_bias=True, qk_scale=None, drop_rate=0.0, attn_drop_rate=0.0,
)  # fmt: skip
MAMP_OPTIONS = {"num_attention_heads": 4, "layout": "ntu25", "drop_path_rate": None}


def mamp_metadata(conversion: str, options: dict, official: str, runner: str = "classify", **extra) -> dict:
    return {
        "conversion": conversion,
        "options": options,
        "source": "maoyunyao/MAMP",
        "official": official,
        "seed": 0,
        # float32: the official attention (explicit softmax) and ours (SDPA) sum in other orders
        "atol": 1e-5,
        "rtol": 1e-4,
        "runner": runner,
        "official_torch": torch.__version__,
        **extra,
    }


@writer("mamp")
def write_mamp(checkout: Path):
    """MAMP's evaluation model with its fine-tuning head (model/transformer.py, ``protocol: finetune``), the head's
    hidden width 32 instead of ``ActionHeadFinetune``'s default 2048 (a small fixture), in evaluation mode."""
    transformer = load_official_mamp(checkout, "model")
    model = transformer.Transformer(num_classes=5, drop_path_rate=0.3, protocol="finetune", **MAMP_SMALL)
    model.head = transformer.ActionHeadFinetune(dropout_ratio=0.3, dim_feat=32, num_classes=5, hidden_dim=32)
    perturb(model)
    set_batch_norm_statistics(model.head.bn)
    model.eval()
    skeletons = torch.randn(2, 3, 16, 25, 2)
    with torch.no_grad():
        logits = model(skeletons)
    official = (
        "model.transformer.Transformer(num_classes=5, drop_path_rate=0.3, protocol='finetune', **MAMP_SMALL); "
        "head = ActionHeadFinetune(dropout_ratio=0.3, dim_feat=32, num_classes=5, hidden_dim=32); parameters + "
        "N(0, 0.05^2), BatchNorm statistics set; eval()"
    )
    return (
        model.state_dict(),
        {"skeletons": skeletons},
        {"logits": logits},
        mamp_metadata("mamp", MAMP_OPTIONS, official),
    )


@writer("mamp-linprobe")
def write_mamp_linprobe(checkout: Path):
    """MAMP's evaluation model with the linear probe as main_linprobe.py line 226 builds it (``head.fc`` wrapped:
    BatchNorm1d without affine, eps 1e-6, then the linear layer), in evaluation mode."""
    transformer = load_official_mamp(checkout, "model")
    model = transformer.Transformer(num_classes=5, drop_path_rate=0.0, protocol="linprobe", **MAMP_SMALL)
    model.head.fc = torch.nn.Sequential(torch.nn.BatchNorm1d(32, affine=False, eps=1e-6), model.head.fc)
    perturb(model)
    set_batch_norm_statistics(model.head.fc[0])
    model.eval()
    skeletons = torch.randn(2, 3, 16, 25, 2)
    with torch.no_grad():
        logits = model(skeletons)
    official = (
        "model.transformer.Transformer(num_classes=5, protocol='linprobe', **MAMP_SMALL); head.fc = "
        "Sequential(BatchNorm1d(32, affine=False, eps=1e-6), head.fc) (main_linprobe.py); parameters + "
        "N(0, 0.05^2), BatchNorm statistics set; eval()"
    )
    return (
        model.state_dict(),
        {"skeletons": skeletons},
        {"logits": logits},
        mamp_metadata("mamp", MAMP_OPTIONS, official),
    )


@writer("mamp-pretrain")
def write_mamp_pretrain(checkout: Path):
    """MAMP's pre-training model (model_mamp/transformer.py, motion targets standardised per patch, decoder depth
    2), one forward with its motion-aware masking (ratio 0.9, tau 0.8: the NTU-60 config) and the loss's backward.
    The mask it drew is stored as an input: our model takes it (``mask=``) instead of drawing its own."""
    transformer = load_official_mamp(checkout, "model_mamp")
    model = transformer.Transformer(decoder_dim_feat=32, decoder_depth=2, norm_skes_loss=True, **MAMP_SMALL)
    perturb(model)
    skeletons = torch.randn(2, 3, 16, 25, 2)
    loss, prediction, mask = model(skeletons, mask_ratio=0.9, motion_stride=1, motion_aware_tau=0.8)
    loss.backward()
    official = (
        "model_mamp.transformer.Transformer(decoder_dim_feat=32, decoder_depth=2, norm_skes_loss=True, "
        "**MAMP_SMALL); parameters + N(0, 0.05^2); loss, pred, mask = model(x, mask_ratio=0.9, motion_stride=1, "
        "motion_aware_tau=0.8); loss.backward()"
    )
    options = {"num_attention_heads": 4, "layout": "ntu25", "mask_ratio": 0.9, "mask_tau": 0.8}
    outputs = {
        "loss": loss.detach(),
        "prediction": prediction.detach(),
        "mask": mask,
        "grad_patch_embed": model.joints_embed.proj.weight.grad,
    }
    metadata = mamp_metadata("mamp-pretrain", options, official, runner="pretrain")
    return model.state_dict(), {"skeletons": skeletons, "mask": mask}, outputs, metadata


@writer("tdsm")
def write_tdsm(checkout: Path):
    """TDSM's denoiser (model/dit.py ``DiT``: depth 2, width 32, 4 heads, 16-d features, 16-d conditions; 35 text
    tokens, fixed in the code) on one training step's inputs and the zero-shot scoring, computed as train.py's
    ``Trainer.train`` and ``Trainer.test`` do with the official DiT and noise schedule (diffusers' DDPMScheduler with
    SD-2.1-base's betas and ``num_train_timesteps=50``, as ``Trainer.load_checkpoint``). The text conditions are a
    random (K, 36, 16) table standing for the CLIP states of ``Trainer.text_prompt``."""
    from diffusers import DDPMScheduler  # the official code's noise schedule; only this writer needs diffusers

    dit = import_from_checkout(checkout, {"tdsm_dit": "model/dit.py"})
    model = dit.DiT(in_channels=16, cond_size=16, hidden_size=32, depth=2, num_heads=4, mlp_ratio=4.0)
    perturb(model)
    scheduler = DDPMScheduler(num_train_timesteps=50, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")
    batch, num_classes, margin = 6, 5, 1.0
    features = torch.randn(batch, 1, 16)
    class_embeddings = torch.randn(num_classes, 36, 16)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])  # seen classes 0, 1, 2; unseen 3, 4
    negatives = torch.tensor([1, 2, 0, 0, 0, 1])  # the fourth equals its label: its hinge counts zero, as the code's
    noise = torch.randn(batch, 1, 16)
    timesteps = torch.randint(0, 50, (batch,))
    # Trainer.train: the batch duplicated, the true class's text then the negative's, one noise and t per clip
    model.train()
    noisy = scheduler.add_noise(features.repeat(2, 1, 1), noise.repeat(2, 1, 1), timesteps.repeat(2))
    text = torch.cat((class_embeddings[labels], class_embeddings[negatives]), dim=0)
    prediction = model(noisy, timesteps.repeat(2), text[:, -1, :], text[:, :-1, :])
    target = noise.repeat(2, 1, 1)
    loss_diff = F.mse_loss(prediction[:batch], target[:batch])
    positive = (prediction[:batch] - target[:batch]).pow(2).mean(dim=(1, 2))
    negative = (prediction[batch:] - target[batch:]).pow(2).mean(dim=(1, 2))
    loss_td = (torch.clamp(positive - negative + margin, min=0.0) * (labels != negatives).float()).mean()
    (loss_diff + loss_td).backward()
    # Trainer.test: every unseen class's text under each of the fixed noises at t = idx_inference_step
    model.eval()
    candidates, inference_step = torch.tensor([3, 4]), 25
    inference_noise = torch.randn(3, 1, 16)
    errors = torch.zeros(batch, len(candidates))
    t = torch.ones(batch) * inference_step
    with torch.no_grad():
        for j in range(len(inference_noise)):
            eps = inference_noise[j].repeat(batch, 1, 1)
            noisy = scheduler.add_noise(features, eps, t.long())
            for k, c in enumerate(candidates):
                text = class_embeddings[torch.full((batch,), int(c))]
                predicted = model(noisy, t, text[:, -1, :], text[:, :-1, :])
                errors[:, k] += (predicted - eps).pow(2).mean(dim=(1, 2))
    inputs = {
        "features": features,
        "class_embeddings": class_embeddings,
        "labels": labels,
        "negatives": negatives,
        "noise": noise,
        "timesteps": timesteps,
        "candidates": candidates,
        "inference_noise": inference_noise,
        "inference_timestep": torch.tensor(inference_step),
    }
    outputs = {
        "prediction": prediction[:batch].detach(),
        "loss_diff": loss_diff.detach(),
        "loss_td": loss_td.detach(),
        "grad_feature_embed": model.x_embedder.weight.grad,
        "errors": errors,
    }
    options = {"num_attention_heads": 4, "num_labels": num_classes, "unseen_classes": [3, 4]}
    official = (
        "model.dit.DiT(in_channels=16, cond_size=16, hidden_size=32, depth=2, num_heads=4, mlp_ratio=4.0); "
        "parameters + N(0, 0.05^2); train.py Trainer.train's step (losses, backward) and Trainer.test's errors "
        "with DDPMScheduler(num_train_timesteps=50, beta_start=0.00085, beta_end=0.012, "
        "beta_schedule='scaled_linear')"
    )
    metadata = {
        "conversion": "tdsm",
        "options": options,
        "source": "KAIST-VICLab/TDSM",
        "official": official,
        "seed": 0,
        # float32: the official attention (explicit softmax over the concatenated streams) and ours (SDPA) sum in
        # other orders; errors and losses are means of squares of values ~1
        "atol": 1e-5,
        "rtol": 1e-4,
        "runner": "denoise",
        "official_torch": torch.__version__,
    }
    return model.state_dict(), inputs, outputs, metadata


# -- CTR-GCN and DeGCN (HGLNet's ctrgcn preset, BHaRNet's body-expert) ----------------------------------------------


def import_official_ctrgcn(checkout: Path) -> types.ModuleType:
    """The official CTR-GCN module model/ctrgcn.py (as ``ctrgcn_official``), its ``graph`` package registered under its
    own name (the model resolves ``graph="graph.ntu_rgb_d.Graph"`` by importing it)."""
    checkout = Path(checkout).resolve()
    if not (checkout / "model" / "ctrgcn.py").exists():
        raise SystemExit(f"{checkout} is not a checkout of Uason-Chen/CTR-GCN (no model/ctrgcn.py)")
    modules = {"graph": "graph/__init__.py", "ctrgcn_official": "model/ctrgcn.py"}
    return import_from_checkout(checkout, modules)


def load_official_ctrgcn(checkout: Path) -> type:
    """The official CTR-GCN `Model` class (model/ctrgcn.py; `import_official_ctrgcn`)."""
    return import_official_ctrgcn(checkout).Model


def import_official_degcn(checkout: Path) -> types.ModuleType:
    """The public DeGCN module model/degcn.py (imported as ``degcn_official.degcn``, its package ``degcn_official``);
    its ``graph`` package is CTR-GCN's (the same files), registered as ``graph`` unless a CTR-GCN checkout's already
    is."""
    checkout = Path(checkout).resolve()
    if not (checkout / "model" / "degcn.py").exists():
        raise SystemExit(f"{checkout} is not a checkout of WoominM/DeGCN_pytorch (no model/degcn.py)")
    modules = {
        "graph": "graph/__init__.py",
        "degcn_official": "model/__init__.py",
        "degcn_official.degcn": "model/degcn.py",
    }
    return import_from_checkout(checkout, modules)


def load_official_degcn(checkout: Path) -> type:
    """The public DeGCN `Model` class (model/degcn.py; `import_official_degcn`)."""
    return import_official_degcn(checkout).Model


def _official_call(name: str, kwargs: dict) -> str:
    return f"{name}(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"


# The official CTR-GCN Model (model/ctrgcn.py @ e13d758, Model.__init__ lines 290-303): ten TCN_GCN_unit layers l1 ...
# l10 at widths 64 x4, 128 x3, 256 x3 (base_channel = 64, fixed there), stride 2 at l5 and l8, l1 without residual;
# fc = nn.Linear(256, num_class) with weights drawn from N(0, 2 / num_class). The fixture's tiny configuration: the
# same ten units, built by the official TCN_GCN_unit, at 16 x7, 32 x3 (doubled at l8, a stride-2 unit, as the official
# widths double). Not an eighth (8 x4, 16 x3, 32 x3): at 8 input channels the official CTRGC (model/ctrgcn.py lines
# 155-160) has 8 // 8 = 1 relation channel, where our `relation_channels` gives 8 to every input below 16 channels
# (so that none gets 0), and the fixture would test a network that ours is not; from 16 on the two agree. No official
# configuration has a width below 64.
CTRGCN_TINY_WIDTHS = (16, 16, 16, 16, 16, 16, 16, 32, 32, 32)


def _official_classifier(in_features: int, num_class: int) -> nn.Linear:
    """The official classifier at another width: ``nn.Linear`` with its weight drawn from N(0, 2 / num_class) (CTR-GCN
    model/ctrgcn.py line 303; DeGCN model/degcn.py, Model.__init__, the same draw for each stream's fc)."""
    fc = nn.Linear(in_features, num_class)
    nn.init.normal_(fc.weight, 0.0, math.sqrt(2.0 / num_class))
    return fc


def official_ctrgcn(checkout: Path, num_class: int, widths: tuple[int, ...] | None = None) -> tuple[nn.Module, str]:
    """The official CTR-GCN ``Model`` (NTU graph, 2 persons) and the call that built it; `widths` rebuilds its ten
    units l1 ... l10 with the official ``TCN_GCN_unit`` at other widths (each unit's stride read from the official
    unit it replaces; l1 without residual, as the official Model) and its fc as `_official_classifier` of the last
    width. The official forward (data_bn, the units by name, the pooling, fc) is kept."""
    official = import_official_ctrgcn(checkout)
    kwargs = dict(
        num_class=num_class,
        num_point=25,
        num_person=2,
        graph="graph.ntu_rgb_d.Graph",
        graph_args={"labeling_mode": "spatial"},
    )
    model = official.Model(**kwargs)
    call = _official_call("model.ctrgcn.Model", kwargs)
    if widths is not None:
        units = [getattr(model, f"l{n}") for n in range(1, 11)]
        # MultiScale_TemporalConv's last branch, Conv2d(..., stride=(stride, 1)) (model/ctrgcn.py line 122)
        strides = [unit.tcn1.branches[-1][0].stride[0] for unit in units]
        channels = [units[0].gcn1.in_c, *widths]
        for i, stride in enumerate(strides):
            unit = official.TCN_GCN_unit(channels[i], channels[i + 1], model.graph.A, stride=stride, residual=i > 0)
            setattr(model, f"l{i + 1}", unit)
        model.fc = _official_classifier(widths[-1], num_class)
        call += (
            " with l1..l10 rebuilt as model.ctrgcn.TCN_GCN_unit(c_in, c_out, A=model.graph.A, stride, residual) at "
            f"widths {list(widths)} from {channels[0]} input channels (strides {strides}, read from the official "
            f"units; residual=False for l1 only, as the official Model), fc = nn.Linear({widths[-1]}, {num_class}) "
            f"with weight ~ N(0, 2 / {num_class}) as the official fc"
        )
    return model, call


# The public DeGCN Model (model/degcn.py @ a0a261f, Model.__init__): ten Basic_Blocks from ``self.blockargs`` rows
# [in, out, stride, residual, num_frame, num_joint] at widths 64 x4, 128 x3, 256 x3 (base_channel = 64, fixed there),
# stride 2 at the 5th and 8th, num_frame 64, 32, 16 per stage (base_frame = 64: the clip length its DeTGC clamps to).
# An eighth of the widths is not possible: CTR_GC (model/modules.py lines 126-131) splits in_channels // 8 x 3
# relation channels into num_scale = 4 groups (Basic_Block, line 304), so every block after the first needs
# in_channels // 8 to be a multiple of 4: at least 32 channels. The fixture's tiny configuration: the same blockargs
# (strides, residuals, num_frame 64, 32, 16) with the smallest such width, 32, doubled at the 8th block (a stride-2
# block, as the official widths double) -- 32 x7, 64 x3, a half to a quarter of the official widths.
DEGCN_TINY_WIDTHS = (32, 32, 32, 32, 32, 32, 32, 64, 64, 64)


def official_degcn(checkout: Path, num_class: int, widths: tuple[int, ...] | None = None) -> tuple[nn.Module, str]:
    """The public DeGCN ``Model`` with one stream (NTU graph, 2 persons) and the call that built it; `widths` rebuilds
    its stream with the official ``DeGCN`` (the ``Basic_Block`` sequence) from the official ``blockargs`` with only
    the widths changed (strides, residuals, num_frame and joints as the official rows; ``k``, ``eta`` the Model's
    defaults) and its fc as `_official_classifier` of the last width. The official forward is kept (it returns a
    list of per-stream logits)."""
    official = import_official_degcn(checkout)
    kwargs = dict(
        num_class=num_class,
        num_point=25,
        num_person=2,
        num_stream=1,
        graph="graph.ntu_rgb_d.Graph",
        graph_args={"labeling_mode": "spatial"},
    )
    model = official.Model(**kwargs)
    call = _official_call("model.degcn.Model", kwargs)
    if widths is not None:
        defaults = inspect.signature(official.Model).parameters  # k and eta are not kept by Model
        k, eta = defaults["k"].default, defaults["eta"].default
        channels = [model.blockargs[0][0], *widths]
        rows = [[channels[i], channels[i + 1], *row[2:]] for i, row in enumerate(model.blockargs)]
        model.blockargs = rows
        model.streams = nn.ModuleList([official.DeGCN(rows, model.graph.A, k, eta)])
        model.fc = nn.ModuleList([_official_classifier(widths[-1], num_class)])
        call += (
            f" with streams = [model.degcn.DeGCN(blockargs, A=model.graph.A, k={k}, eta={eta})], blockargs the "
            f"official rows at widths {list(widths)}: {rows}; fc = [nn.Linear({widths[-1]}, {num_class}) with "
            f"weight ~ N(0, 2 / {num_class}) as the official fc]"
        )
    return model, call


def perturb_(model: torch.nn.Module, x: torch.Tensor, generator: torch.Generator) -> None:
    """Move every weight, topology, offset and BatchNorm statistic of an official model off its initial value, so that
    a fixture tests each of them (e.g. CTR-GC's alpha starts at 0, which hides the whole refinement branch).

    Every floating parameter gets N(0, 0.1^2) added; then the BatchNorm statistics are those of a few training-mode
    passes over inputs like `x` (so the activations keep a sane scale in evaluation mode), each then moved too (mean +
    N(0, 0.1^2) std, variance x exp(N(0, 0.2^2))).
    """
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=generator))
        norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the calibration passes
        model.train()
        for _ in range(3):
            model(torch.randn(x.shape, generator=generator))
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
            std = m.running_var.sqrt()
            m.running_mean.add_(0.1 * std * torch.randn(m.running_mean.shape, generator=generator))
            m.running_var.mul_(torch.exp(0.2 * torch.randn(m.running_var.shape, generator=generator)))
    model.eval()


def our_key(conversion: str, official_key: str) -> str:
    """The name a conversion gives an official parameter (a fixture's gradients are stored under our names)."""
    for rule in get_conversion(conversion).rules:
        if re.fullmatch(rule.pattern, official_key):
            return re.sub(rule.pattern, rule.replacement, official_key)
    raise KeyError(f"{conversion}: no rule maps {official_key}")


def classifier_fixture(
    conversion: str,
    model: torch.nn.Module,
    x: torch.Tensor,
    num_classes: int,
    loss_fn: Callable,
    gradients: list[str],
    generator: torch.Generator,
) -> tuple[dict, dict, dict]:
    """(official state dict, inputs, outputs) of a perturbed official classifier (`perturb_`) for the runner
    ``classify_and_train``: its evaluation-mode logits; then, in training mode (batch statistics), its training loss
    `loss_fn` for fixed labels and the gradients of the official parameters `gradients`, stored under our names as
    ``grad.<name>``."""
    perturb_(model, x, generator)
    state = {key: value.detach().clone() for key, value in model.state_dict().items()}
    labels = torch.randint(0, num_classes, (x.shape[0],), generator=generator)
    with torch.no_grad():
        logits = model.eval()(x)
    loss = loss_fn(model.train()(x), labels)
    loss.backward()
    parameters = dict(model.named_parameters())
    outputs = {"logits": logits, "loss": loss.detach()}
    outputs |= {f"grad.{our_key(conversion, key)}": parameters[key].grad for key in gradients}
    return state, {"skeletons": x, "labels": labels}, outputs


def graph_input(frames: int, generator: torch.Generator) -> torch.Tensor:
    """(N=2, C=3, T, V=25, M=2) standard-normal clips, the second with one person (the other zero, as padded)."""
    x = torch.randn(2, 3, frames, 25, 2, generator=generator)
    x[1, ..., 1] = 0
    return x


# Both fixtures are float32 throughout; atol 5e-5 / rtol 1e-5 leave room for two float32 summation orders on other
# machines (the official CTR-GC convolves every frame before the temporal mean, ours after), and a wrong or misplaced
# weight moves the outputs by orders of magnitude more. Measured when they were written (CPU, two threads, torch
# 2.13, the tiny widths above), see GRAPH_TOLERANCE; in float64 (the same weights and inputs, both models cast) ours
# and the official code agree to 2e-14 on every output, so what remains in float32 is rounding.
GRAPH_ATOL, GRAPH_RTOL = 5e-5, 1e-5
GRAPH_TOLERANCE = {
    "ctrgcn": "float32 rounding: |ours - official| 1.4e-6 on logits up to 5.9, 9.5e-7 on the loss, at most 1.5e-6 on "
    "the gradients, the size of the official code's own float32 error (against itself in float64: 1.4e-6 on the "
    "logits, 1.6e-6 on the gradients; on one CPU thread instead of two, against this fixture: 1.9e-6 on the logits); "
    "in float64 the two agree to 4e-15",
    "degcn": "float32 rounding: |ours - official| 3.8e-6 on logits up to 32, 9.5e-7 on the loss, at most 2.4e-7 on "
    "the gradients, the size of the official code's own float32 error (against itself in float64: 4.6e-6 on the "
    "logits, 2.7e-6 on the loss; on one CPU thread instead of two, against this fixture: 1.9e-6 on the logits); in "
    "float64 the two agree to 1.4e-14. The gradients recorded are ones whose float32 value is well conditioned (see "
    "utils/write_fixtures.py degcn)",
}


@writer("ctrgcn")
def ctrgcn(checkout: Path) -> tuple[dict, dict, dict, dict]:
    """The official CTR-GCN (model/ctrgcn.py ``Model``, 5 classes) with its ten units rebuilt by the official
    ``TCN_GCN_unit`` at a quarter to an eighth of the official widths (`CTRGCN_TINY_WIDTHS`, `official_ctrgcn`), 16
    frames; every weight and statistic perturbed (`perturb_`). Outputs: the logits, the training loss (main.py:
    ``nn.CrossEntropyLoss``) and four gradients."""
    model, call = official_ctrgcn(checkout, num_class=5, widths=CTRGCN_TINY_WIDTHS)
    generator = torch.Generator().manual_seed(0)
    x = graph_input(16, generator)
    gradients = ["data_bn.weight", "l1.gcn1.alpha", "l5.gcn1.PA", "fc.weight"]
    state, inputs, outputs = classifier_fixture(
        "ctrgcn", model, x, 5, torch.nn.functional.cross_entropy, gradients, generator
    )
    metadata = {
        "conversion": "ctrgcn",
        "options": {},
        "source": "Uason-Chen/CTR-GCN",
        "official": call,
        "loss": "main.py: nn.CrossEntropyLoss()",
        "seed": 0,
        "atol": GRAPH_ATOL,
        "rtol": GRAPH_RTOL,
        "tolerance": GRAPH_TOLERANCE["ctrgcn"],
        "runner": "classify_and_train",
    }
    return state, inputs, outputs, metadata


@writer("degcn")
def degcn(checkout: Path) -> tuple[dict, dict, dict, dict]:
    """The public DeGCN (model/degcn.py ``Model``) with one stream, 5 classes, its stream rebuilt by the official
    ``DeGCN`` from the official block rows at the smallest widths its CTR_GC accepts (`DEGCN_TINY_WIDTHS`,
    `official_degcn`), 64 frames (the only clip length its deformable temporal convolution reads correctly: it
    clamps its sampling positions to ``num_frame - 1`` = 63, 31, 15 per stage); every weight, offset and statistic
    perturbed (`perturb_`). Outputs: the logits, the training loss and four gradients. The loss is main.py's
    ``LabelSmoothingCrossEntropy(eps=0.1)``, computed as ``F.cross_entropy(label_smoothing=0.1)``: the same formula
    (eps / classes x the sum of -log p, plus (1 - eps) x the NLL), and main.py itself cannot be imported without
    apex, thop and tensorboardX."""
    model, call = official_degcn(checkout, num_class=5, widths=DEGCN_TINY_WIDTHS)
    forward = model.forward
    model.forward = lambda x: forward(x)[0]  # the one stream's logits (the official forward returns a list)
    generator = torch.Generator().manual_seed(0)
    x = graph_input(64, generator)
    # Gradients whose float32 value is well conditioned: against the official code in float64, the official float32
    # gradients of these four are within 9e-6 of their largest entry (2e-7 absolute), where those of the graph
    # convolutions, of data_bn and of the blocks before the last are off by 1e-4 to 4e-2 of theirs (sums that
    # training-mode BatchNorm makes cancel to ~0 at this batch of 4; in evaluation mode the median parameter's
    # is within 1e-6). The offsets of the last block's first deformable branch are among them.
    gradients = [
        "streams.0.block-9_tcngcn.tcn.tcn1.2.tr",
        "streams.0.block-9_tcngcn.tcn.tcn1.0.bn.weight",
        "streams.0.block-9_tcngcn.tcn.conv1x1.bn.weight",
        "fc.0.weight",
    ]

    def loss_fn(logits, labels):
        return torch.nn.functional.cross_entropy(logits, labels, label_smoothing=0.1)

    state, inputs, outputs = classifier_fixture("degcn", model, x, 5, loss_fn, gradients, generator)
    metadata = {
        "conversion": "degcn",
        "options": {},
        "source": "WoominM/DeGCN_pytorch",
        "official": call,
        "loss": "main.py: LabelSmoothingCrossEntropy(eps=0.1), as F.cross_entropy(label_smoothing=0.1)",
        "seed": 0,
        "atol": GRAPH_ATOL,
        "rtol": GRAPH_RTOL,
        "tolerance": GRAPH_TOLERANCE["degcn"],
        "runner": "classify_and_train",
    }
    return state, inputs, outputs, metadata


# -- ST-GCN (yysijie/st-gcn) ------------------------------------------------------------------------------------
STGCN_MODULES = {
    "net": "net/__init__.py",
    "net.utils": "net/utils/__init__.py",
    "net.utils.graph": "net/utils/graph.py",
    "net.utils.tgcn": "net/utils/tgcn.py",
    "net.st_gcn": "net/st_gcn.py",
}
# net/st_gcn.py Model.__init__: (output channels, temporal stride) of its ten st_gcn blocks.
STGCN_BLOCKS = [(64, 1)] * 4 + [(128, 2), (128, 1), (128, 1), (256, 2), (256, 1), (256, 1)]
STGCN_CALL = (
    "net.st_gcn.Model(in_channels=3, num_class=5, graph_args={'layout': 'ntu-rgb+d', 'strategy': 'spatial'}, "
    "edge_importance_weighting=True, dropout=0.5)"
)


def official_stgcn(checkout: Path, width_divisor: int = 8, dtype: torch.dtype = torch.float32):
    """The official ST-GCN for the NTU layout, its graph, BatchNorm statistics and edge importances set to random
    values, in evaluation mode; and a description of how it was built.

    The official Model fixes its widths (64 / 128 / 256: 3.08 M parameters, a 12 MB state dict). With
    `width_divisor` > 1 its ten blocks, edge importances and classifier are rebuilt from the official ``st_gcn``
    class with the same calls at 1 / `width_divisor` of the channels (same strides, dropout, residual kinds; the
    official graph, data_bn and forward unchanged), so the fixture stays small; no official code is edited."""
    st_gcn = import_from_checkout(checkout, STGCN_MODULES)
    model = st_gcn.Model(
        in_channels=3,
        num_class=5,
        graph_args={"layout": "ntu-rgb+d", "strategy": "spatial"},
        edge_importance_weighting=True,
        dropout=0.5,
    )
    call = STGCN_CALL
    if width_divisor > 1:
        kernel_size = (9, model.A.size(0))  # Model.__init__: (temporal_kernel_size, spatial_kernel_size)
        blocks, in_channels = [], 3
        for i, (channels, stride) in enumerate(STGCN_BLOCKS):
            channels //= width_divisor
            if i == 0:  # Model.__init__: the input block has no residual and no dropout
                blocks.append(st_gcn.st_gcn(in_channels, channels, kernel_size, stride, residual=False))
            else:
                blocks.append(st_gcn.st_gcn(in_channels, channels, kernel_size, stride, dropout=0.5))
            in_channels = channels
        model.st_gcn_networks = torch.nn.ModuleList(blocks)
        model.edge_importance = torch.nn.ParameterList(torch.nn.Parameter(torch.ones(model.A.size())) for _ in blocks)
        model.fcn = torch.nn.Conv2d(in_channels, 5, kernel_size=1)
        widths = sorted({channels // width_divisor for channels, _ in STGCN_BLOCKS})
        call += (
            f"; then st_gcn_networks, edge_importance and fcn rebuilt with net.st_gcn.st_gcn at widths {widths} "
            f"(the official {[64, 128, 256]} / {width_divisor}), same strides, dropout and residuals"
        )
    # Random BatchNorm affine parameters and edge importances; BatchNorm statistics those of a calibration batch
    # (so that the signal neither vanishes nor explodes through the ten blocks and the logits depend on the input),
    # then perturbed at random. The comparison covers them all.
    generator = torch.Generator().manual_seed(1)
    norms = [m for m in model.modules() if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d))]
    with torch.no_grad():
        for norm in norms:
            norm.weight.copy_(torch.rand(norm.num_features, generator=generator) + 0.5)
            norm.bias.copy_(torch.randn(norm.num_features, generator=generator) * 0.1)
            norm.momentum = None  # a cumulative average: after one batch, its statistics
        for importance in model.edge_importance:
            importance.copy_(torch.rand(importance.shape, generator=generator) + 0.5)
        model.train()
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.eval()
        model(torch.randn(4, 3, 16, 25, 2, generator=generator))
        for norm in norms:
            norm.momentum = 0.1  # the official (PyTorch's default)
            noise = torch.randn(norm.num_features, generator=generator)
            norm.running_mean.add_(noise * 0.1 * norm.running_var.sqrt())
            norm.running_var.mul_(torch.rand(norm.num_features, generator=generator) * 0.5 + 0.75)
    call += (
        "; BatchNorm affine parameters and edge importances random, BatchNorm statistics those of a calibration "
        "batch randn(4, 3, 16, 25, 2) perturbed at random (all seed 1); eval()"
    )
    return model.to(dtype).eval(), call


def stgcn_inputs(dtype: torch.dtype = torch.float32) -> dict:
    """A fixed input: (N=2, C=3, T=16, V=25, M=2) skeletons ~ N(0, 1) (seed 2) and labels for the loss."""
    generator = torch.Generator().manual_seed(2)
    skeletons = torch.randn(2, 3, 16, 25, 2, generator=generator).to(dtype)
    return {"skeletons": skeletons, "labels": torch.tensor([1, 3])}


def run_official_stgcn(model, inputs: dict) -> dict:
    """The official outputs the `stgcn` runner of tests/test_parity.py reproduces: logits, the cross-entropy (the
    official processor/recognition.py loss, nn.CrossEntropyLoss) and its gradient with respect to the input, and
    the graph ``A`` (net/st_gcn.py's buffer, [k, input joint, output joint])."""
    skeletons = inputs["skeletons"].clone().requires_grad_(True)
    logits = model(skeletons)
    loss = torch.nn.functional.cross_entropy(logits, inputs["labels"])
    (gradient,) = torch.autograd.grad(loss, skeletons)
    return {"logits": logits, "loss": loss, "skeletons_grad": gradient, "graph": model.A}


@writer("stgcn")
def write_stgcn(checkout: Path):
    model, call = official_stgcn(checkout)
    inputs = stgcn_inputs()
    outputs = run_official_stgcn(model, inputs)
    # `A` is a constant of graph_args, not a weight: the conversion ignores it (and checks it when a checkpoint has
    # it); the fixture keeps it as the output `graph`, which the runner compares with our graph.
    official = {key: value for key, value in model.state_dict().items() if key != "A"}
    metadata = {
        "conversion": "stgcn",
        "options": {"layout": "ntu25"},
        "source": "yysijie/st-gcn",
        "official": call,
        "seed": 0,
        # float32: our graph convolution sums the three subsets by batched matrix products where the official code
        # uses one einsum, so the sums run in other orders. Measured (torch 2.13 CPU): logits 1.8e-7 (values up to
        # 1.0), loss 0, input gradient 9.3e-9 (values up to 2.1e-2), graph 0; in float64 all below 1e-15 relative.
        # The tolerance leaves 5x (logits) to 100x (gradient) that.
        "atol": 1e-6,
        "rtol": 1e-5,
        "runner": "stgcn",
    }
    return official, inputs, outputs, metadata


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=sorted(WRITERS), help="the fixture")
    parser.add_argument("--checkout", required=True, type=Path, help="a checkout of the official repository")
    parser.add_argument("--output", type=Path, default=REFERENCE, help="the fixture folder")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    official, inputs, outputs, metadata = WRITERS[args.name](args.checkout.resolve())
    metadata.setdefault("commit", checkout_commit(args.checkout))
    path = save_fixture(args.name, official, inputs, outputs, metadata, args.output)
    size = path.stat().st_size / 1024
    print(f"wrote {path} ({size:.0f} KB; {metadata['source']}@{metadata['commit']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
