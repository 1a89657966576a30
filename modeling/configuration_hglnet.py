# Generated from skeleton_models/models/hglnet/configuration_hglnet.py by utils/write_modeling.py; do not edit.
"""HGLNet configuration (HocSLM's skeleton network; Wang et al., arXiv 2603.27103, sections 3.2-3.3)."""

from __future__ import annotations

from .configuration_utils import SkeletonConfig


class HGLNetConfig(SkeletonConfig):
    r"""Configuration of [`HGLNetModel`] and [`HGLNetForSkeletonClassification`].

    Defaults are the paper's NTU-60 setting: a CTR-GCN-shaped 10-block network whose spatial module is CTS
    (GSM + LSE) and whose temporal module is DHT (GTA + LTC).

    The four switches reproduce Tables 4-5 (section 4.4). Each one upgrades the CTR-GCN component it replaces, so
    with all four off the network *is* CTR-GCN (Chen et al., ICCV 2021):

    | switch    | on                                                    | off (CTR-GCN component)                   |
    |-----------|-------------------------------------------------------|-------------------------------------------|
    | `use_gsm` | global channel-wise topology from GSM (Eqs. 1-5)      | CTR-GC's refinement alpha*conv4(tanh(.))  |
    | `use_lse` | local topology from LSE on the physical mask (Eq. 6)  | the learnable shared topology PA          |
    | `use_gta` | global temporal attention branch (Eq. 8)              | no global temporal branch                 |
    | `use_ltc` | local multi-scale temporal conv branch (Eq. 9)        | dropped, only when `use_gta` is on        |

    With either spatial switch on the two topologies are fused with learnable weights (Eq. 7); with both temporal
    branches they are fused with learnable weights (Eq. 10). LTC *is* CTR-GCN's multi-scale TCN (Eq. 9 lists its
    four branches), so without GTA the temporal module is that TCN whatever `use_ltc` says.
    Table 5 rows: baseline = all off; "only local" = `use_lse, use_ltc`; "w/o GSM" = `use_lse, use_gta, use_ltc`;
    "w/o GTA" = `use_gsm, use_lse, use_ltc`; HGLNet = all on. "Only LSE" and "w/o GSM" can also be read as *no*
    global spatial branch at all (the topology is LSE's alone): ``gsm_off="none"`` gives that reading (presets
    `table5-only-local-no-global`, `table5-without-gsm-no-global`); the default ``gsm_off="ctr_gc"`` keeps
    switches-off = CTR-GCN.

    Args:
        layout: skeleton layout name (see `skeleton_models.skeletons`); the graph comes from it.
        in_channels: channels per joint (3 for x, y, z; 3 for x, y, score).
        num_persons: persons per sample M; the input BatchNorm normalises M * V * C features.
        hidden_sizes: output channels of each block (CTR-GCN: 64 x4, 128 x3, 256 x3).
        strides: temporal stride of each block (CTR-GCN: 2 at the 5th and 8th block).
        temporal_kernel_size, temporal_dilations: LTC / MS-TCN branches (Eq. 9: k=5, d in {1, 2}).
        relation_reduction: channel reduction r of CTR-GC's relations and of GSM/LSE's preprocessing (Eq. 1).
        lse_hidden_size: hidden width of LSE's gating MLP (Eq. 6; the paper does not give it).
        gta_reduction: channel reduction of GTA's query/key projections (Eq. 8; the paper does not give it).
        gsm_off: what ``use_gsm=False`` leaves in GSM's place: ``"ctr_gc"`` (CTR-GC's channel-wise refinement, so
            that all switches off is CTR-GCN) or ``"none"`` (no global spatial branch).
        dropout: dropout before the classifier (CTR-GCN: 0).
        num_labels: number of classes (NTU-60: 60).
    """

    model_type = "hglnet"
    # "hglnet" is the paper's NTU-60 network; "ctrgcn" the CTR-GCN baseline of Tables 4-5; "hglnet-small" the
    # narrow variant that `skeleton-models quickstart` trains on 2 CPU cores in a few minutes.
    presets = {
        "hglnet": {},
        "ctrgcn": {"use_gsm": False, "use_lse": False, "use_gta": False, "use_ltc": False},
        "hglnet-small": {"hidden_sizes": [16, 16, 32, 32, 64, 64], "strides": [1, 1, 2, 1, 2, 1]},
        # Table 5's "Only LSE" / "w/o GSM" read as without any global spatial branch
        "table5-only-local-no-global": {"use_gsm": False, "gsm_off": "none", "use_gta": False},
        "table5-without-gsm-no-global": {"use_gsm": False, "gsm_off": "none"},
    }
    keys_to_ignore_at_inference = ["pooler_output", "hidden_states"]  # the Trainer gathers only the logits

    def __init__(
        self,
        layout: str = "ntu25",
        in_channels: int = 3,
        num_persons: int = 2,
        hidden_sizes: list[int] | tuple[int, ...] = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256),  # CTR-GCN's
        strides: list[int] | tuple[int, ...] = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1),
        temporal_kernel_size: int = 5,  # Eq. 9
        temporal_dilations: list[int] | tuple[int, ...] = (1, 2),  # Eq. 9
        use_gsm: bool = True,  # Table 5
        use_lse: bool = True,  # Table 5
        use_gta: bool = True,  # Table 5
        use_ltc: bool = True,  # Table 5
        relation_reduction: int = 8,  # CTR-GC's rel_reduction; Eq. 1's r
        lse_hidden_size: int = 16,
        gta_reduction: int = 8,
        gsm_off: str = "ctr_gc",
        dropout: float = 0.0,
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
        self.temporal_dilations = list(temporal_dilations)
        self.use_gsm = use_gsm
        self.use_lse = use_lse
        self.use_gta = use_gta
        self.use_ltc = use_ltc
        self.relation_reduction = relation_reduction
        self.lse_hidden_size = lse_hidden_size
        self.gta_reduction = gta_reduction
        self.gsm_off = gsm_off
        self.dropout = dropout
        if gsm_off not in ("ctr_gc", "none"):
            raise ValueError(f"gsm_off must be 'ctr_gc' or 'none', got {gsm_off!r}")
        super().__init__(**kwargs)
        branches = len(self.temporal_dilations) + 2
        self.check_blocks(self.hidden_sizes, self.strides, branches, f"the {branches} temporal branches")
