"""Official Shift-GCN checkpoints -> `ShiftGCNForSkeletonClassification` (``skeleton-models convert --from
shiftgcn``).

The official code: kchengiva/Shift-GCN @ 20276b6, model/shift_gcn.py (``Model``: ``data_bn``, ten ``TCN_GCN_unit``
``l1`` .. ``l10``, ``fc``); its released checkpoints (save_models/ntu_ShiftGCN_joint_xsub.pt, ...) are state dicts
of that model. The parity test: tests/fixtures/reference/shiftgcn.safetensors (utils/write_fixtures.py).
"""

from __future__ import annotations

import torch

from ...conversion import Conversion, ConversionError, KeyRule, register_conversion
from .configuration_shiftgcn import ShiftGCNConfig

__all__ = ["SHIFTGCN_CONVERSION"]

NUM_UNITS = 10  # l1 .. l10 (model/shift_gcn.py Model.__init__)
# The official Model's temporal strides (model/shift_gcn.py: TCN_GCN_unit(64, 128, A, stride=2) at l5 and
# TCN_GCN_unit(128, 256, A, stride=2) at l8); a checkpoint does not record them.
OFFICIAL_STRIDES = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)
NUM_JOINTS = 25  # Shift_gcn hard-codes 25 joints (its Feature_Mask, bn and index arrays)
_NORM = r"(weight|bias|running_mean|running_var|num_batches_tracked)"


def _drop_unit_dims(tensor: torch.Tensor) -> torch.Tensor:
    """The official ``Linear_bias`` (1, 1, C) -> (C,) and ``Feature_Mask`` (1, V, C) -> (V, C): the leading
    broadcast dimensions dropped (an official tensor without them keeps its shape and is refused by shape)."""
    while tensor.dim() > 1 and tensor.shape[0] == 1:
        tensor = tensor[0]
    return tensor


def _unit_rules(unit: int) -> tuple[KeyRule, ...]:
    """The name table of the official ``l{unit}`` -> our ``blocks.{unit - 1}``."""
    old, new = rf"l{unit}\.", f"shiftgcn.blocks.{unit - 1}."
    return (
        # Shift_gcn (gcn1) -> ShiftGraphConv (gcn)
        KeyRule(old + r"gcn1\.Linear_weight", new + "gcn.weight"),
        KeyRule(old + r"gcn1\.Linear_bias", new + "gcn.bias", _drop_unit_dims),
        KeyRule(old + r"gcn1\.Feature_Mask", new + "gcn.feature_mask", _drop_unit_dims),
        KeyRule(old + r"gcn1\.bn\." + _NORM, new + r"gcn.bn.\1"),
        KeyRule(old + r"gcn1\.down\.([01])\." + _NORM, new + r"gcn.down.\1.\2"),
        # Shift_tcn (tcn1) -> ShiftTemporalConv (tcn)
        KeyRule(old + r"tcn1\.(bn|bn2)\." + _NORM, new + r"tcn.\1.\2"),
        KeyRule(old + r"tcn1\.(shift_in|shift_out)\.(xpos|ypos)", new + r"tcn.\1.\2"),
        KeyRule(old + r"tcn1\.temporal_linear\.(weight|bias)", new + r"tcn.linear.\1"),
        # the strided / widening residual: tcn(kernel_size=1) -> TemporalConv
        KeyRule(old + r"residual\.(conv|bn)\." + _NORM, new + r"residual.\1.\2"),
    )


RULES = (
    KeyRule(r"data_bn\." + _NORM, r"shiftgcn.data_bn.\1"),
    *(rule for unit in range(1, NUM_UNITS + 1) for rule in _unit_rules(unit)),
    KeyRule(r"fc\.(weight|bias)", r"classifier.\1"),
)
# Shift_gcn's index arrays of the non-local spatial shift (model/shift_gcn.py lines 108-118, frozen nn.Parameters):
# fixed by the channel count, rebuilt by our NonLocalSpatialShift; `build_config` checks them.
IGNORED = (r"l\d+\.gcn1\.shift_(in|out)",)


def _spatial_shift_index(channels: int, direction: int) -> torch.Tensor:
    """The (V * C,) index Shift_gcn selects its (frame, joint-major) features with: joint i, channel j reads joint
    (i + direction * j) mod V, channel j."""
    joints, offsets = torch.arange(NUM_JOINTS)[:, None], torch.arange(channels)[None, :]
    return (((joints + direction * offsets) % NUM_JOINTS) * channels + offsets).reshape(-1)


def build_config(official: dict[str, torch.Tensor]) -> ShiftGCNConfig:
    """Our configuration from an official state dict: widths from each unit's ``Linear_weight``, the input channels
    and persons from ``data_bn`` (num_person * in_channels * 25 features), the classes from ``fc``; the strides are
    the official Model's (`OFFICIAL_STRIDES`). The spatial shift index arrays must be the official ones."""
    missing = [
        f"l{u}.gcn1.Linear_weight" for u in range(1, NUM_UNITS + 1) if f"l{u}.gcn1.Linear_weight" not in official
    ]
    if missing or "data_bn.weight" not in official or "fc.weight" not in official:
        absent = missing + [k for k in ("data_bn.weight", "fc.weight") if k not in official]
        raise ConversionError(f"shiftgcn: not a Shift-GCN Model state dict (no {', '.join(absent)})")
    widths = [official[f"l{u}.gcn1.Linear_weight"].shape for u in range(1, NUM_UNITS + 1)]
    in_channels = widths[0][0]
    persons, rest = divmod(official["data_bn.weight"].numel(), NUM_JOINTS * in_channels)
    if rest:
        raise ConversionError(
            f"shiftgcn: data_bn has {official['data_bn.weight'].numel()} features, not num_person x {in_channels} "
            f"channels x {NUM_JOINTS} joints"
        )
    for unit, (c_in, c_out) in enumerate(widths, start=1):
        for name, channels, direction in (("shift_in", c_in, 1), ("shift_out", c_out, -1)):
            key = f"l{unit}.gcn1.{name}"
            if key in official and not torch.equal(official[key].long(), _spatial_shift_index(channels, direction)):
                raise ConversionError(
                    f"shiftgcn: {key} is not Shift-GCN's non-local shift of {channels} channels over {NUM_JOINTS} "
                    "joints (model/shift_gcn.py): this model cannot reproduce it"
                )
    return ShiftGCNConfig(
        layout="ntu25",
        in_channels=in_channels,
        num_persons=persons,
        hidden_sizes=[c_out for _, c_out in widths],
        strides=list(OFFICIAL_STRIDES),
        num_labels=official["fc.weight"].shape[0],
    )


def processor_kwargs(config: ShiftGCNConfig) -> dict:
    """The `SkeletonProcessor` closest to Shift-GCN's NTU preprocessing (its data are 2s-AGCN's: data_gen/
    ntu_gendata.py, max_frame = 300, two persons; data_gen/preprocess.py pre_normalization; the test feeder,
    config/nturgbd-cross-subject/train_joint.yaml, takes every frame: window_size -1, no normalization):

    - 300 frames (max_frame), the whole clip (``eval_crop=1``);
    - centred on joint 1 (0-based: the middle of the spine) in every frame: pre_normalization subtracts the first
      person's joint 1 of each frame (``main_body_center = skeleton[0][:, 1:2, :]``). Reading: ``per_frame``
      centres each person on its own joint 1 -- the same for one person; a second person keeps no offset to the
      first here;
    - the joint stream (the released checkpoints are the joint models).

    Not reproduced (the processor has no such step): pre_normalization's loop padding (a clip shorter than 300
    frames is repeated; here its frames are resampled to 300) and its two rotations (the first person's
    hip-to-spine bone to the z axis and shoulders to the x axis, at the first frame). Data prepared by the official
    data_gen scripts carry both; feed such data, or expect a shift from the training distribution.
    """
    spec = {
        "name": "skeletons",
        "layout": config.layout,
        "num_persons": config.num_persons,
        "stream": "joint",
        "center": "per_frame",
        "center_joint": 1,
    }
    return {"inputs": [spec], "window_size": 300, "eval_crop": 1.0}


SHIFTGCN_CONVERSION = register_conversion(
    Conversion(
        name="shiftgcn",
        model_type="shiftgcn",
        source="kchengiva/Shift-GCN@20276b6",
        rules=RULES,
        build_config=build_config,
        processor_kwargs=processor_kwargs,
        ignored=IGNORED,
        notes=(
            "The official temporal shift is a CUDA extension; this model computes the same bilinear shift in plain "
            "PyTorch (checked against a CPU re-derivation of the official kernel, tests/test_parity.py). The "
            "processor centres every frame on joint 1 and takes 300 frames as Shift-GCN's data; it neither "
            "loop-pads short clips nor applies the official pre-normalisation's rotations (see "
            "convert_shiftgcn.processor_kwargs)."
        ),
    )
)
