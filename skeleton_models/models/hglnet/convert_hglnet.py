"""Official CTR-GCN checkpoints -> HGLNet's ``ctrgcn`` preset (``skeleton-models convert --from ctrgcn``).

CTR-GCN (Chen et al., ICCV 2021; code Uason-Chen/CTR-GCN@e13d758, ``model/ctrgcn.py``) is HGLNet with its four
HocSLM switches off (`HGLNetConfig`), so its checkpoints load into the ``ctrgcn`` preset weight for weight. The name
table below maps every parameter and BatchNorm statistic of the official ``Model``; two layouts differ:

- the official ``unit_gcn`` keeps one ``CTRGC`` module per graph subset (``convs.<k>.conv1`` ... ``conv4``), ours one
  convolution per role over the K subsets (`ChannelTopologyRefinement`, `CompositeTopologySpatial.features`), so the
  K per-subset tensors are concatenated along the output channels, subset k in rows ``k * C : (k + 1) * C``;
- the official layers ``l1`` ... ``l10`` are our ``blocks.0`` ... ``blocks.9``.

Equality with the official code is tested by ``tests/test_parity.py`` on ``tests/fixtures/reference/ctrgcn.safetensors``
(written by ``utils/write_fixtures.py ctrgcn``).
"""

from __future__ import annotations

import re

import torch

from ...conversion import Conversion, ConversionError, KeyRule, register_conversion
from ...skeletons import get_layout
from .configuration_hglnet import HGLNetConfig

SOURCE = "Uason-Chen/CTR-GCN@e13d758"
# model/ctrgcn.py, Model.__init__: l5 and l8 are TCN_GCN_unit(..., stride=2), the other eight stride 1; the widths
# (base_channel 64, x2 at l5, x4 at l8) are fixed there too but are read from the weights.
OFFICIAL_STRIDES = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)
# model/ctrgcn.py, TCN_GCN_unit(kernel_size=5, dilations=[1, 2]): the dilations of MultiScale_TemporalConv's two
# dilated branches (not in the weights; the kernel size is read from them).
OFFICIAL_DILATIONS = (1, 2)
# model/ctrgcn.py, CTRGC(rel_reduction=8): relation width in_channels // 8 (8 for the 3-channel input layer).
OFFICIAL_RELATION_REDUCTION = 8


def _block_rules(n: int) -> tuple[KeyRule, ...]:
    """The rules of official layer ``l<n>`` (``TCN_GCN_unit``) -> our ``blocks.<n - 1>`` (`HGLNetBlock`)."""
    official, ours = rf"l{n}\.", f"hglnet.blocks.{n - 1}."
    gcn, spatial = official + r"gcn1\.", ours + "spatial."
    return (
        # unit_gcn: the shared topology PA (3, V, V) and CTR-GC's alpha (one for the K subsets)
        KeyRule(gcn + "PA", spatial + "shared_topology"),
        KeyRule(gcn + "alpha", spatial + "alpha"),
        # CTRGC of subset k: conv1, conv2 (relations), conv4 (relation -> channels), conv3 (features)
        KeyRule(
            gcn + r"convs\.(?P<part>\d+)\.conv(?P<role>[124])\.(?P<p>weight|bias)",
            spatial + r"global_topology.conv\g<role>.\g<p>",
            concat_dim=0,
        ),
        KeyRule(gcn + r"convs\.(?P<part>\d+)\.conv3\.(?P<p>weight|bias)", spatial + r"features.\g<p>", concat_dim=0),
        # unit_gcn's BatchNorm and its down-projection residual (Conv2d, BatchNorm2d) where C_in != C_out
        KeyRule(gcn + r"(bn|down\.[01])\.(\w+)", spatial + r"\1.\2"),
        # MultiScale_TemporalConv: the same branches, the same indices (`MultiScaleTemporalConv`)
        KeyRule(official + r"tcn1\.branches\.([\w.]+)", ours + r"temporal.ltc.branches.\1"),
        # the block residual unit_tcn (1x1 conv, BatchNorm) where the shape changes
        KeyRule(official + r"residual\.(conv|bn)\.(\w+)", ours + r"residual.\1.\2"),
    )


RULES = (
    KeyRule(r"data_bn\.(\w+)", r"hglnet.data_bn.\1"),
    *(rule for n in range(1, len(OFFICIAL_STRIDES) + 1) for rule in _block_rules(n)),
    KeyRule(r"fc\.(weight|bias)", r"classifier.\1"),
)


def _shape(official: dict[str, torch.Tensor], key: str) -> torch.Size:
    if key not in official:
        raise ConversionError(f"ctrgcn ({SOURCE}): no {key!r}; not a checkpoint of CTR-GCN's model/ctrgcn.py Model?")
    return official[key].shape


def build_config(official: dict[str, torch.Tensor], layout: str = "ntu25", dropout: float = 0.0) -> HGLNetConfig:
    """The ``ctrgcn`` preset shaped as the official model whose state dict is `official`.

    Read from the weights: classes (``fc``), widths (each layer's ``gcn1.bn``), input channels (``l1``'s conv3),
    persons (``data_bn``: M x V x C features) and the temporal kernel. Fixed in the official ``Model`` (cited at
    the constants above): the strides, the dilations, the relation reduction. Options: `layout` (the official
    ``graph`` argument; the name table checks its joint count against the topology PA) and `dropout` (the official
    ``drop_out``, default 0 as in every CTR-GCN config; no effect on inference).
    """
    layers = sorted(
        int(match.group(1)) for key in official if (match := re.fullmatch(r"l(\d+)\.gcn1\.bn\.weight", key))
    )
    if layers != list(range(1, len(OFFICIAL_STRIDES) + 1)):
        raise ConversionError(
            f"ctrgcn ({SOURCE}): expected the official layers l1 ... l{len(OFFICIAL_STRIDES)}, found "
            f"{[f'l{n}' for n in layers] or 'none'}"
        )
    hidden_sizes = [_shape(official, f"l{n}.gcn1.bn.weight")[0] for n in layers]
    in_channels = _shape(official, "l1.gcn1.convs.0.conv3.weight")[1]
    num_joints = get_layout(layout).num_joints
    features = _shape(official, "data_bn.weight")[0]
    if features % (num_joints * in_channels):
        raise ConversionError(
            f"ctrgcn ({SOURCE}): data_bn has {features} features, not persons x {num_joints} joints ({layout}) x "
            f"{in_channels} channels: another layout?"
        )
    return HGLNetConfig.from_preset(
        "ctrgcn",
        layout=layout,
        in_channels=in_channels,
        num_persons=features // (num_joints * in_channels),
        hidden_sizes=hidden_sizes,
        strides=list(OFFICIAL_STRIDES),
        temporal_kernel_size=_shape(official, "l1.tcn1.branches.0.3.conv.weight")[2],
        temporal_dilations=list(OFFICIAL_DILATIONS),
        relation_reduction=OFFICIAL_RELATION_REDUCTION,
        dropout=dropout,
        num_labels=_shape(official, "fc.weight")[0],
    )


def processor_kwargs(config: HGLNetConfig) -> dict:
    """CTR-GCN's NTU RGB+D preprocessing (config/nturgbd-cross-subject/default.yaml, the same in the other three NTU
    configs; feeders/feeder_ntu.py, feeders/tools.py ``valid_crop_resize``): the valid frames cropped -- centred,
    95 % at test (``p_interval: [0.95]``), a random 50-100 % in training (``p_interval: [0.5, 1]``) -- and resampled
    to ``window_size: 64``; ``random_rot: True`` (theta 0.3) in training; the joint stream (``bone: False, vel:
    False``); clips centred on joint 2 (spine middle) of the first person at its first valid frame
    (data/ntu/seq_transformation.py ``seq_translation``), which is the ``ntu25`` layout's origin joint.

    Assumed for a layout other than ``ntu25``: the same NTU pipeline. CTR-GCN's NW-UCLA feeder (feeders/feeder_ucla.py:
    per-clip min-max normalisation, 52 frames by random index sampling) is not what `SkeletonProcessor` does.
    """
    return {
        "layout": config.layout,
        "num_persons": config.num_persons,
        "stream": "joint",
        "window_size": 64,
        "p_interval": (0.5, 1.0),
        "eval_crop": 0.95,
        "random_rotation": 0.3,
        "center_joint": get_layout(config.layout).origin_joint,
    }


CTRGCN = register_conversion(
    Conversion(
        name="ctrgcn",
        model_type="hglnet",
        source=SOURCE,
        rules=RULES,
        build_config=build_config,
        processor_kwargs=processor_kwargs,
        options={"layout": "ntu25", "dropout": 0.0},
        notes=(
            "CTR-GCN (Chen et al., ICCV 2021) is HGLNet's `ctrgcn` preset (the four HocSLM switches off), and its "
            "checkpoints load into it weight for weight; the outputs were compared with the official code's on a "
            "fixture (tests/test_parity.py). The official CTR-GC applies its relation convolutions to every frame "
            "and then averages over time; this implementation averages first (the convolutions are affine: the same "
            "result up to float rounding, with (T - 1) / T fewer of their multiply-adds). The processor is set up as "
            "CTR-GCN's NTU RGB+D preprocessing (valid frames centre-cropped to 95 % and resampled to 64 at test; "
            "clips centred on the spine middle)."
        ),
    )
)
