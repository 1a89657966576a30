"""Official ST-GCN checkpoints (yysijie/st-gcn@221c0e1, ``net/st_gcn.py`` ``Model``) ->
`STGCNForSkeletonClassification`.

The official network and ours compute the same function (``tests/test_parity.py``, fixture ``stgcn``); the table
below renames its parameters. Two tensors change shape: the edge importances are transposed (the official graph
``A[k, input joint, output joint]`` is read by ``einsum('nkctv,kvw->nctw')``, ours is ``[k, output, input]``, see
`skeleton_models.layers.stgcn_spatial_graph`), and the 1 x 1 convolution ``fcn`` becomes a linear layer.
"""

from __future__ import annotations

import re

import torch

from ...conversion import Conversion, ConversionError, KeyRule, register_conversion
from ...layers import stgcn_spatial_graph
from ...skeletons import get_layout
from .configuration_stgcn import STGCNConfig

SOURCE = "yysijie/st-gcn@221c0e1"
# net/st_gcn.py Model.__init__: the temporal stride of each of the ten st_gcn blocks, fixed in the code (the state
# dict cannot tell a stride).
OFFICIAL_STRIDES = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)
# net/utils/graph.py Graph.get_edge: the official layouts that we have (its 24-joint "ntu_edge" we do not).
OFFICIAL_LAYOUTS = {"ntu25": "ntu-rgb+d", "openpose18": "openpose"}
# tools/ntu_gendata.py max_frame and max_body; tools/kinetics_gendata.py max_frame and num_person_out.
OFFICIAL_FRAMES = 300
OFFICIAL_PERSONS = 2


def _graph_orientation(tensor: torch.Tensor) -> torch.Tensor:
    """(K, V, V) official [k, input, output] -> ours [k, output, input]."""
    return tensor.transpose(-1, -2).contiguous()


def _linear_from_conv(tensor: torch.Tensor) -> torch.Tensor:
    """A 1 x 1 Conv2d weight (out, in, 1, 1) -> a Linear weight (out, in)."""
    return tensor.flatten(1)


RULES = (
    KeyRule(r"data_bn\.(.+)", r"stgcn.data_bn.\1"),
    # st_gcn.gcn: ConvTemporalGraphical, one 1 x 1 convolution giving K x C_out channels (subset-major, as ours)
    KeyRule(r"st_gcn_networks\.(\d+)\.gcn\.conv\.(weight|bias)", r"stgcn.blocks.\1.gcn.features.\2"),
    # st_gcn.tcn = (BatchNorm2d, ReLU, Conv2d (9 x 1), BatchNorm2d, Dropout): its first BatchNorm is our graph conv's
    KeyRule(r"st_gcn_networks\.(\d+)\.tcn\.0\.(.+)", r"stgcn.blocks.\1.gcn.bn.\2"),
    KeyRule(r"st_gcn_networks\.(\d+)\.tcn\.2\.(weight|bias)", r"stgcn.blocks.\1.tcn.conv.\2"),
    KeyRule(r"st_gcn_networks\.(\d+)\.tcn\.3\.(.+)", r"stgcn.blocks.\1.tcn.bn.\2"),
    # st_gcn.residual = (Conv2d 1 x 1 strided, BatchNorm2d) where the channels or the stride change
    KeyRule(r"st_gcn_networks\.(\d+)\.residual\.0\.(weight|bias)", r"stgcn.blocks.\1.residual.conv.\2"),
    KeyRule(r"st_gcn_networks\.(\d+)\.residual\.1\.(.+)", r"stgcn.blocks.\1.residual.bn.\2"),
    KeyRule(r"edge_importance\.(\d+)", r"stgcn.blocks.\1.gcn.edge_importance", _graph_orientation),
    KeyRule(r"fcn\.weight", "classifier.weight", _linear_from_conv),
    KeyRule(r"fcn\.bias", "classifier.bias"),
)
# The official model's graph buffer `A` (Graph(**graph_args).A): a constant, not a weight. A checkpoint may hold it
# or not (torchlight's load_weights accepts both); when it does, `build_config` checks it against our graph.
IGNORED = ("A",)

_BLOCK = re.compile(r"st_gcn_networks\.(\d+)\.tcn\.2\.weight")


def _shape_error(message: str) -> ConversionError:
    return ConversionError(f"stgcn ({SOURCE}): {message}")


def build_config(official: dict[str, torch.Tensor], layout: str = "ntu25", dropout: float = 0.5) -> STGCNConfig:
    """Our configuration of an official ST-GCN state dict.

    Read from the weights: the classes (``fcn``), the input channels (the first graph convolution), the channels of
    each block (its temporal convolution), the temporal kernel and the joints (``data_bn``). Options, what the state
    dict cannot tell:

    - `layout`: the official ``graph_args["layout"]`` in our names: ``"ntu25"`` (``"ntu-rgb+d"``, the default: the
      NTU configs) or ``"openpose18"`` (``"openpose"``, Kinetics); always ``strategy="spatial"`` (the official
      configs'), the only one with three subsets.
    - `dropout`: in every block but the first (config/st_gcn/ntu-xsub/train.yaml: 0.5; the Kinetics config sets none,
      so 0 there). It matters for training only.

    The strides are the official code's (fixed in ``Model.__init__``). A checkpoint without ``edge_importance``
    (``edge_importance_weighting=False``) is refused: our model always has them (use ones to convert one).
    """
    if layout not in OFFICIAL_LAYOUTS:
        raise _shape_error(
            f"layout {layout!r} is not a layout of the official code; layouts: "
            + ", ".join(f"{ours} (official {theirs!r})" for ours, theirs in OFFICIAL_LAYOUTS.items())
        )
    blocks = sorted(int(match[1]) for key in official if (match := _BLOCK.fullmatch(key)))
    if blocks != list(range(len(OFFICIAL_STRIDES))):
        raise _shape_error(
            f"expected the {len(OFFICIAL_STRIDES)} blocks st_gcn_networks.0-{len(OFFICIAL_STRIDES) - 1} of "
            f"net/st_gcn.py, found blocks {blocks}"
        )
    for key in ("fcn.weight", "data_bn.weight", "st_gcn_networks.0.gcn.conv.weight"):
        if key not in official:
            raise _shape_error(f"no {key}: not a state dict of net/st_gcn.py Model")
    hidden_sizes = [official[f"st_gcn_networks.{i}.tcn.2.weight"].shape[0] for i in blocks]
    first = official["st_gcn_networks.0.gcn.conv.weight"]
    in_channels = first.shape[1]
    subsets = first.shape[0] // hidden_sizes[0]
    if subsets != 3:
        raise _shape_error(
            f"the graph convolutions have {subsets} subset(s): only strategy='spatial' (3 subsets) is converted, "
            "not 'uniform' (1) or 'distance' (2)"
        )
    joints = get_layout(layout).num_joints
    if official["data_bn.weight"].shape[0] != joints * in_channels:
        raise _shape_error(
            f"data_bn has {official['data_bn.weight'].shape[0]} features, not {joints} joints x {in_channels} "
            f"channels: is the layout {layout!r} the checkpoint's?"
        )
    if "A" in official:
        ours = _graph_orientation(torch.from_numpy(stgcn_spatial_graph(layout, "official")))
        graph = official["A"].float()
        if graph.shape != ours.shape or not torch.allclose(graph, ours, rtol=0.0, atol=1e-6):
            raise _shape_error(
                f"the checkpoint's graph A {tuple(graph.shape)} is not the official spatial graph of {layout!r} "
                "(net/utils/graph.py Graph(layout, 'spatial')): another layout or graph"
            )
    fcn = official["fcn.weight"]
    return STGCNConfig(
        layout=layout,
        in_channels=in_channels,
        num_persons=OFFICIAL_PERSONS,
        hidden_sizes=hidden_sizes,
        strides=list(OFFICIAL_STRIDES),
        temporal_kernel_size=official["st_gcn_networks.0.tcn.2.weight"].shape[2],
        dropout=dropout,
        partition="official",
        num_labels=fcn.shape[0],
    )


def processor_kwargs(config: STGCNConfig) -> dict:
    """The `SkeletonProcessor` that prepares clips as the official data of the layout.

    ``ntu25``: tools/ntu_gendata.py + feeder/feeder.py (the NTU configs set no augmentation or window): the raw
    Kinect coordinates in metres (no centring, no view alignment), 2 bodies, 300 frames. ``openpose18``:
    tools/kinetics_gendata.py + feeder/feeder_kinetics.py at test: x, y and the score of 2 persons, 300 frames.
    Our processor: no centring, the 2 persons, the whole clip (``eval_crop=1``; ``p_interval=[1, 1]`` in training),
    no random rotation, 300 frames. Not equivalent (Assumed: the nearest the processor does):

    - the official clip keeps its frames and is padded with zero frames up to 300; ours is resampled to 300 frames
      (a 100-frame clip is stretched 3x), so the model sees no padding frames in its temporal mean;
    - the official data keep the first 2 bodies of the NTU file (per frame, the 2 highest-scoring of Kinetics);
      ours the 2 most active persons of the clip;
    - Kinetics: feeder_kinetics.py subtracts 0.5 from x and y (the frame centre); ours leaves the [0, 1]
      coordinates, so subtract 0.5 from the clips before the processor.
    """
    spec = {"layout": config.layout, "num_persons": OFFICIAL_PERSONS, "center": False}
    if config.layout == "openpose18":
        spec["coordinate_dims"] = 2  # x, y; the score is a third channel
    return {
        "inputs": [spec],
        "window_size": OFFICIAL_FRAMES,
        "eval_crop": 1.0,
        "p_interval": (1.0, 1.0),
        "random_rotation": 0.0,
    }


STGCN_CONVERSION = register_conversion(
    Conversion(
        name="stgcn",
        model_type="stgcn",
        source=SOURCE,
        rules=RULES,
        build_config=build_config,
        processor_kwargs=processor_kwargs,
        ignored=IGNORED,
        notes=(
            "The graph is the official spatial partition as net/utils/graph.py computes it (max_hop=1), so the "
            "converted model gives the official outputs. The processor prepares clips as the official data "
            "(raw coordinates, 2 persons, 300 frames), except that a clip is resampled to 300 frames where the "
            "official data pad it with zero frames, and the 2 most active persons are kept where the official "
            "NTU data keep the first 2 bodies of the file; Kinetics clips need x and y minus 0.5 (the official "
            "feeder's centring) before the processor."
        ),
        options={"layout": "ntu25", "dropout": 0.5},
    )
)
