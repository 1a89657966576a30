"""ST-GCN configuration (Yan, Xiong, Lin. Spatial temporal graph convolutional networks for skeleton-based action
recognition. AAAI 2018; the official code yysijie/st-gcn @ 221c0e1, net/st_gcn.py and config/st_gcn/ntu-xsub)."""

from __future__ import annotations

from ...configuration_utils import SkeletonConfig
from ...layers import STGCN_PARTITIONS


class STGCNConfig(SkeletonConfig):
    r"""Configuration of [`STGCNModel`] and [`STGCNForSkeletonClassification`].

    Ten ST-GCN blocks (graph convolution with learnable edge importance, a 9 x 1 temporal convolution, residuals),
    global average pooling over frames and joints, the mean over persons and a linear classifier. Its 256-d
    pooled features are the skeleton features of the SMIE-style zero-shot splits TDSM evaluates.

    Args:
        layout, in_channels, num_persons: the skeleton input. The official code has the layouts ``ntu-rgb+d``
            (our ``ntu25``) and ``openpose`` (``openpose18``); other layouts get the same graph rule.
        partition: the "spatial" graph (`skeleton_models.layers.stgcn_spatial_graph`): ``"official"`` as
            net/utils/graph.py computes it (distances to the centre joint known up to one bone only, so most outer
            edges fall into one subset: ``ntu25`` 25 / 40 / 8 weights per subset) or ``"geometric"`` with exact
            distances (the paper's partition; 25 / 24 / 24). Trained official checkpoints need ``"official"``.
        hidden_sizes, strides: channels and temporal stride of each block (net/st_gcn.py: 64 x 4, 128 x 3 with
            stride 2 first, 256 x 3 with stride 2 first).
        temporal_kernel_size: the temporal kernel (9).
        dropout: dropout inside every block but the first, after its temporal convolution (ntu-xsub config: 0.5).
        num_labels: number of classes (NTU-60: 60).
    """

    model_type = "stgcn"
    presets = {
        "stgcn": {},
        "stgcn-small": {"hidden_sizes": [16, 16, 32, 32, 64, 64], "strides": [1, 1, 2, 1, 2, 1], "dropout": 0.0},
    }
    keys_to_ignore_at_inference = ["pooler_output", "hidden_states"]

    def __init__(
        self,
        layout: str = "ntu25",
        in_channels: int = 3,
        num_persons: int = 2,
        hidden_sizes: list[int] | tuple[int, ...] = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256),  # net/st_gcn.py
        strides: list[int] | tuple[int, ...] = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1),
        temporal_kernel_size: int = 9,  # net/st_gcn.py
        dropout: float = 0.5,  # config/st_gcn/ntu-xsub/train.yaml
        partition: str = "official",  # net/utils/graph.py Graph(strategy="spatial"), default max_hop=1
        **kwargs,
    ):
        if "num_labels" not in kwargs and "id2label" not in kwargs:
            kwargs["num_labels"] = 60  # NTU RGB+D 60
        self.layout = layout
        self.in_channels = in_channels
        self.num_persons = num_persons
        self.hidden_sizes = list(hidden_sizes)
        self.strides = list(strides)
        self.temporal_kernel_size = temporal_kernel_size
        self.dropout = dropout
        self.partition = partition
        super().__init__(**kwargs)
        self.check_blocks(self.hidden_sizes, self.strides)
        if temporal_kernel_size % 2 != 1:
            raise ValueError(f"temporal_kernel_size must be odd, got {temporal_kernel_size}")
        if partition not in STGCN_PARTITIONS:
            raise ValueError(f"partition must be one of {STGCN_PARTITIONS}, got {partition!r}")
