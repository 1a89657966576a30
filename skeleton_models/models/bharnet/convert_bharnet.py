"""Official DeGCN checkpoints -> BHaRNet's ``body-expert`` preset (``skeleton-models convert --from degcn``).

BHaRNet's expert backbone is the public DeGCN (Myung et al., TIP 2024; code WoominM/DeGCN_pytorch@a0a261f,
``model/degcn.py`` and ``model/modules.py``), and its ``body-expert`` preset (one body stream, no interaction) is
DeGCN's ``Model(num_stream=1)``: the same blocks, one classifier. The name table below maps every parameter, BatchNorm
statistic and temporal offset of the official model, one official tensor per tensor of ours; the official
``streams.0.block-<i>_tcngcn`` is our ``bharnet.streams.0.blocks.<i>``, and the official branch modules of
``MultiScale_TemporalModeling`` (``tcn1``, ``tcn2``, ``maxpool3x1``, ``conv1x1``) are the entries 0-3 of our
`MultiScaleTemporalConv`'s ``branches``.

Equality with the official code is tested by ``tests/test_parity.py`` on ``tests/fixtures/reference/degcn.safetensors``
(written by ``utils/write_fixtures.py degcn``).
"""

from __future__ import annotations

import re

import torch

from ...conversion import Conversion, ConversionError, KeyRule, register_conversion
from ...skeletons import get_layout
from ..hglnet.convert_hglnet import processor_kwargs as ctrgcn_processor_kwargs
from .configuration_bharnet import BHaRNetConfig

SOURCE = "WoominM/DeGCN_pytorch@a0a261f"
# model/degcn.py, Model.blockargs: stride 2 at the 5th and 8th block (widths 64 x4, 128 x3, 256 x3 are fixed there
# too, but are read from the weights).
OFFICIAL_STRIDES = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)
# model/modules.py, MultiScale_TemporalModeling: DeTGC(kernel_size=5, dilation=1) and DeTGC(kernel_size=5,
# dilation=2). Not in the weights: they place the initial offsets (linspace over the dilated kernel's reach) only.
OFFICIAL_KERNEL_SIZE, OFFICIAL_DILATIONS = 5, (1, 2)
OFFICIAL_NEGATIVE_SLOPE = 0.1  # model/modules.py LEAKY_ALPHA
OFFICIAL_LABEL_SMOOTHING = 0.1  # main.py: LabelSmoothingCrossEntropy(eps=0.1), the training loss

_BLOCK = r"streams\.0\.block-(?P<i>\d+)_tcngcn\."
_OURS = r"bharnet.streams.0.blocks.\g<i>."


def _temporal_rules() -> tuple[KeyRule, ...]:
    """MultiScale_TemporalModeling -> `MultiScaleTemporalConv` (negative slope 0.1, deformable dilated branches)."""
    rules = []
    for name, index in (("tcn1", 0), ("tcn2", 1)):  # PointWiseTCN, LeakyReLU, DeTGC
        official, ours = _BLOCK + rf"tcn\.{name}\.", _OURS + f"tcn.branches.{index}."
        rules += [
            KeyRule(official + r"0\.conv\.(?P<p>\w+)", ours + r"0.\g<p>"),
            KeyRule(official + r"0\.bn\.(?P<p>\w+)", ours + r"1.\g<p>"),
            KeyRule(official + r"2\.tr", ours + "3.offsets"),  # DeTGC's learnable offsets
            KeyRule(official + r"2\.conv_out\.0\.(?P<p>\w+)", ours + r"3.conv.\g<p>"),  # Conv3d (eta x 1 x 1)
            KeyRule(official + r"2\.conv_out\.1\.(?P<p>\w+)", ours + r"3.bn.\g<p>"),  # BatchNorm3d -> BatchNorm2d
        ]
    maxpool, conv1x1 = _BLOCK + r"tcn\.maxpool3x1\.", _BLOCK + r"tcn\.conv1x1\."
    rules += [
        KeyRule(maxpool + r"0\.conv\.(?P<p>\w+)", _OURS + r"tcn.branches.2.0.\g<p>"),
        KeyRule(maxpool + r"0\.bn\.(?P<p>\w+)", _OURS + r"tcn.branches.2.1.\g<p>"),
        KeyRule(maxpool + r"3\.(?P<p>\w+)", _OURS + r"tcn.branches.2.4.\g<p>"),  # the BatchNorm after the max-pool
        KeyRule(conv1x1 + r"conv\.(?P<p>\w+)", _OURS + r"tcn.branches.3.0.\g<p>"),
        KeyRule(conv1x1 + r"bn\.(?P<p>\w+)", _OURS + r"tcn.branches.3.1.\g<p>"),
    ]
    return tuple(rules)


RULES = (
    KeyRule(r"data_bn\.(?P<p>\w+)", r"bharnet.streams.0.data_bn.\g<p>"),
    # ST_GC (the 3-channel input block) and CTR_GC: the learnable topology A
    KeyRule(_BLOCK + r"gcn\.A", _OURS + "gcn.topology"),
    KeyRule(_BLOCK + r"gcn\.conv\.(?P<p>weight|bias)", _OURS + r"gcn.features.\g<p>"),  # ST_GC's conv
    # CTR_GC over num_scale channel groups (`GroupedTopologyGraphConv`, the same tensors) and both BatchNorms
    KeyRule(_BLOCK + r"gcn\.(?P<m>conv[1-4]\.(?:weight|bias)|alpha|bn\.\w+)", _OURS + r"gcn.\g<m>"),
    *_temporal_rules(),
    # Basic_Block's residual1 (around the graph conv) and residual2 (around the block), PointWiseTCNs
    KeyRule(_BLOCK + r"residual1\.(?P<m>(?:conv|bn)\.\w+)", _OURS + r"residual_gcn.\g<m>"),
    KeyRule(_BLOCK + r"residual2\.(?P<m>(?:conv|bn)\.\w+)", _OURS + r"residual.\g<m>"),
    KeyRule(r"fc\.0\.(?P<p>weight|bias)", r"classifiers.0.\g<p>"),
)


def _shape(official: dict[str, torch.Tensor], key: str) -> torch.Size:
    if key not in official:
        raise ConversionError(f"degcn ({SOURCE}): no {key!r}; not a checkpoint of DeGCN's model/degcn.py Model?")
    return official[key].shape


def build_config(official: dict[str, torch.Tensor], layout: str = "ntu25", dropout: float = 0.0) -> BHaRNetConfig:
    """The ``body-expert`` preset shaped as the one-stream official model whose state dict is `official`.

    Read from the weights: classes (``fc.0``), widths (each block's graph BatchNorm), input channels and persons
    (``data_bn``: M x V x C features), the CTR-GC channel groups (``num_scale``, from block 1's conv1) and the
    temporal offsets (``eta``). Fixed in the official code (cited at the constants above): the strides, the
    temporal kernel and dilations, the leaky-ReLU slope, the training loss's label smoothing. Options: `layout`
    (the official ``graph``) and `dropout` (the official ``drop_out``, 0 in every DeGCN config).

    The official model's ``k`` argument feeds only the withheld deformable spatial block (``DeSGC``, not in the
    public code), so no checkpoint of the public code depends on it.
    """
    streams = sorted({int(m.group(1)) for key in official if (m := re.match(r"streams\.(\d+)\.", key))})
    if streams and streams != [0]:
        raise ConversionError(
            f"degcn ({SOURCE}): a {len(streams)}-stream checkpoint (num_stream={len(streams)}); only the one-stream "
            "model converts (into BHaRNet's body-expert): the official streams share one input BatchNorm (data_bn), "
            "and each of our backbones has its own"
        )
    blocks = sorted(
        int(m.group(1))
        for key in official
        if (m := re.fullmatch(r"streams\.0\.block-(\d+)_tcngcn\.gcn\.bn\.weight", key))
    )
    if blocks != list(range(len(OFFICIAL_STRIDES))):
        raise ConversionError(
            f"degcn ({SOURCE}): expected the official blocks 0 ... {len(OFFICIAL_STRIDES) - 1} of streams.0, found "
            f"{blocks or 'none'}"
        )
    block = "streams.0.block-{}_tcngcn."
    hidden_sizes = [_shape(official, block.format(i) + "gcn.bn.weight")[0] for i in blocks]
    in_channels = _shape(official, block.format(0) + "gcn.conv.weight")[1]
    num_scales = hidden_sizes[0] // _shape(official, block.format(1) + "gcn.conv1.weight")[1]
    num_joints = get_layout(layout).num_joints
    features = _shape(official, "data_bn.weight")[0]
    if features % (num_joints * in_channels):
        raise ConversionError(
            f"degcn ({SOURCE}): data_bn has {features} features, not persons x {num_joints} joints ({layout}) x "
            f"{in_channels} channels: another layout?"
        )
    return BHaRNetConfig.from_preset(
        "body-expert",
        layout=layout,
        in_channels=in_channels,
        num_persons=features // (num_joints * in_channels),
        hidden_sizes=hidden_sizes,
        strides=list(OFFICIAL_STRIDES),
        num_scales=num_scales,
        num_offsets=_shape(official, block.format(0) + "tcn.tcn1.2.tr")[0],
        temporal_kernel_size=OFFICIAL_KERNEL_SIZE,
        temporal_dilations=list(OFFICIAL_DILATIONS),
        negative_slope=OFFICIAL_NEGATIVE_SLOPE,
        label_smoothing=OFFICIAL_LABEL_SMOOTHING,
        dropout=dropout,
        num_labels=_shape(official, "fc.0.weight")[0],
    )


def processor_kwargs(config: BHaRNetConfig) -> dict:
    """DeGCN's NTU RGB+D preprocessing, which is CTR-GCN's (the ``ctrgcn`` conversion's `processor_kwargs`): its
    feeder and crop code are CTR-GCN's (feeders/feeder_ntu.py and
    feeders/tools.py are the same files up to line endings), configured in config/nturgbd-cross-subject/default.yaml
    (the same in the other NTU configs): ``window_size: 64``; ``p_interval: [0.95]`` at test (centred crop of the
    valid frames, resampled to 64), ``[0.5, 1]`` in training; ``random_rot: True`` (theta 0.3); the joint stream
    (``bone: False, vel: False``); ``random_shift: True`` is read by the feeder but never used. Clips centred on
    joint 2 (spine middle) of the first person at its first valid frame (data/ntu/seq_transformation.py
    ``seq_translation``), the ``ntu25`` layout's origin joint.

    Assumed for a layout other than ``ntu25``: the same NTU pipeline (DeGCN's NW-UCLA feeder is another one).
    """
    return ctrgcn_processor_kwargs(config)


DEGCN = register_conversion(
    Conversion(
        name="degcn",
        model_type="bharnet",
        source=SOURCE,
        rules=RULES,
        build_config=build_config,
        processor_kwargs=processor_kwargs,
        options={"layout": "ntu25", "dropout": 0.0},
        notes=(
            "The public DeGCN with one stream (num_stream=1) is BHaRNet's `body-expert` preset, and its checkpoints "
            "load into it weight for weight; the outputs were compared with the official code's on a fixture "
            "(tests/test_parity.py). Its deformable spatial block (DeSGC) is not in the public code and so not here "
            "either. The official deformable temporal convolution clamps its sampling positions to the frames of a "
            "64-frame clip (num_frame 64, 32, 16 per stage), so it reads only 64-frame clips correctly; this one "
            "clamps to the clip's own length, the same on 64 frames. Two-stream checkpoints (num_stream=2, the "
            "official configs' default) are refused: their streams share one input BatchNorm. The processor is set "
            "up as DeGCN's NTU RGB+D preprocessing (CTR-GCN's feeder: valid frames centre-cropped to 95 % and "
            "resampled to 64 at test; clips centred on the spine middle); the training loss keeps its label "
            "smoothing 0.1 (main.py)."
        ),
    )
)
