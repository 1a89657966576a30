# Generated from skeleton_models/models/shiftgcn/configuration_shiftgcn.py by utils/write_modeling.py; do not edit.
"""Shift-GCN configuration (Cheng, Zhang, He, Chen, Cheng, Lu. Skeleton-based action recognition with shift graph
convolutional network. CVPR 2020; the official code kchengiva/Shift-GCN @ 20276b6, model/shift_gcn.py)."""

from __future__ import annotations

from .configuration_utils import SkeletonConfig


class ShiftGCNConfig(SkeletonConfig):
    r"""Configuration of [`ShiftGCNModel`] and [`ShiftGCNForSkeletonClassification`].

    Ten Shift-GCN blocks: a non-local spatial shift, a learnable joint-and-channel mask, a pointwise linear map and
    the reverse spatial shift (the graph part), then an adaptive temporal shift, a pointwise convolution and a
    strided adaptive temporal shift (the temporal part), with residuals; mean pooling and a linear classifier. Its
    256-d pooled features are the skeleton features of the SynSE-protocol zero-shot splits (TDSM, SA-DVAE).

    Args:
        layout, in_channels, num_persons: the skeleton input.
        hidden_sizes, strides: channels and temporal stride of each block (model/shift_gcn.py: 64 x 4, 128 x 3
            with stride 2 first, 256 x 3 with stride 2 first).
        temporal_shift_init: the temporal shifts' initial offsets are drawn from U(-s, s) frames (the code: 1).
        num_labels: number of classes (NTU-60: 60).
    """

    model_type = "shiftgcn"
    presets = {
        "shiftgcn": {},
        "shiftgcn-small": {"hidden_sizes": [16, 16, 32, 32, 64, 64], "strides": [1, 1, 2, 1, 2, 1]},
    }
    keys_to_ignore_at_inference = ["pooler_output", "hidden_states"]

    def __init__(
        self,
        layout: str = "ntu25",
        in_channels: int = 3,
        num_persons: int = 2,
        hidden_sizes: list[int] | tuple[int, ...] = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256),  # the code
        strides: list[int] | tuple[int, ...] = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1),
        temporal_shift_init: float = 1.0,  # the code's init_scale=1
        **kwargs,
    ):
        if "num_labels" not in kwargs and "id2label" not in kwargs:
            kwargs["num_labels"] = 60  # NTU RGB+D 60
        self.layout = layout
        self.in_channels = in_channels
        self.num_persons = num_persons
        self.hidden_sizes = list(hidden_sizes)
        self.strides = list(strides)
        self.temporal_shift_init = temporal_shift_init
        super().__init__(**kwargs)
        self.check_blocks(self.hidden_sizes, self.strides)
