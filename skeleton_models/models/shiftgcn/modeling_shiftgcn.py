"""Shift-GCN (Cheng et al., CVPR 2020) as the official code builds it (kchengiva/Shift-GCN model/shift_gcn.py), with
the temporal shift in plain PyTorch instead of its CUDA extension (`skeleton_models.layers.AdaptiveTemporalShift`)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.utils.generic import can_return_tuple

from ...layers import AdaptiveTemporalShift, NonLocalSpatialShift, TemporalConv, run_graph_blocks
from ...layers.initialization import constant_norm_init, kaiming_conv_init
from ...modeling_utils import SkeletonClassifierOutput, SkeletonModelOutput, SkeletonPreTrainedModel, check_inputs
from ...skeletons import get_layout
from .configuration_shiftgcn import ShiftGCNConfig

__all__ = ["ShiftGCNForSkeletonClassification", "ShiftGCNModel", "ShiftGCNPreTrainedModel"]


class ShiftGraphConv(nn.Module):
    """The code's ``Shift_gcn``: shift in -> x * (tanh(mask) + 1) -> pointwise linear -> shift out -> BatchNorm over
    each frame's (V C) features -> + down(x) -> ReLU. (B, C_in, T, V) -> (B, C_out, T, V)."""

    def __init__(self, in_channels: int, out_channels: int, num_joints: int):
        super().__init__()
        self.shift_in = NonLocalSpatialShift(in_channels, num_joints, direction=1)
        self.shift_out = NonLocalSpatialShift(out_channels, num_joints, direction=-1)
        self.feature_mask = nn.Parameter(torch.empty(num_joints, in_channels))
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.bn = nn.BatchNorm1d(num_joints * out_channels)
        if in_channels != out_channels:
            self.down = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
        else:
            self.down = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[2]
        mask = rearrange(torch.tanh(self.feature_mask) + 1, "v c -> 1 c 1 v")
        y = torch.einsum("nctv,cd->ndtv", self.shift_in(x) * mask, self.weight) + self.bias[:, None, None]
        y = rearrange(self.shift_out(y), "n c t v -> (n t) (v c)")
        y = rearrange(self.bn(y), "(n t) (v c) -> n c t v", t=t, v=x.shape[3])
        return F.relu(y + self.down(x))

    def _reset_parameters(self):
        init.zeros_(self.feature_mask)  # tanh(0) + 1 = 1: no masking at the start
        init.normal_(self.weight, 0.0, math.sqrt(1.0 / self.weight.shape[1]))
        init.zeros_(self.bias)
        constant_norm_init(self.bn, 1.0)
        if isinstance(self.down, nn.Sequential):
            kaiming_conv_init(self.down[0])
            constant_norm_init(self.down[1], 1.0)


class ShiftTemporalConv(nn.Module):
    """The code's ``Shift_tcn``: BatchNorm -> temporal shift -> pointwise conv -> ReLU -> strided temporal shift ->
    BatchNorm. (B, C, T, V) -> (B, C_out, ceil(T / stride), V)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, init_scale: float):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_channels)
        self.shift_in = AdaptiveTemporalShift(in_channels, 1, init_scale)
        self.linear = nn.Conv2d(in_channels, out_channels, 1)
        self.shift_out = AdaptiveTemporalShift(out_channels, stride, init_scale)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn2(self.shift_out(F.relu(self.linear(self.shift_in(self.bn(x))))))

    def _reset_parameters(self):
        # the code: Kaiming fan-out weight; the bias keeps PyTorch's default (uniform +-1/sqrt(fan_in))
        init.kaiming_normal_(self.linear.weight, mode="fan_out")
        bound = 1 / math.sqrt(self.linear.weight.shape[1])
        init.uniform_(self.linear.bias, -bound, bound)
        constant_norm_init(self.bn, 1.0)
        constant_norm_init(self.bn2, 1.0)


class ShiftGCNBlock(GradientCheckpointingLayer):
    """The code's ``TCN_GCN_unit``: ReLU(temporal(graph(x)) + residual(x)). (B, C_in, T, V) -> (B, C_out, T', V)."""

    def __init__(self, config: ShiftGCNConfig, in_channels: int, out_channels: int, stride: int, residual: bool):
        super().__init__()
        v = get_layout(config.layout).num_joints
        self.gcn = ShiftGraphConv(in_channels, out_channels, v)
        self.tcn = ShiftTemporalConv(out_channels, out_channels, stride, config.temporal_shift_init)
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = TemporalConv(in_channels, out_channels, kernel_size=1, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.tcn(self.gcn(x))
        if self.residual is not None:
            y = y + self.residual(x)
        return F.relu(y)


class ShiftGCNPreTrainedModel(SkeletonPreTrainedModel):
    config_class = ShiftGCNConfig
    base_model_prefix = "shiftgcn"
    _no_split_modules = ["ShiftGCNBlock"]


class ShiftGCNModel(ShiftGCNPreTrainedModel):
    """Shift-GCN backbone: (N, C, T, V, M) skeletons -> pooled (N, C_last) features (256-d at paper size)."""

    def __init__(self, config: ShiftGCNConfig):
        super().__init__(config)
        layout = get_layout(config.layout)
        self.data_bn = nn.BatchNorm1d(config.num_persons * layout.num_joints * config.in_channels)  # as CTR-GCN
        channels = [config.in_channels, *config.hidden_sizes]
        self.blocks = nn.ModuleList(
            ShiftGCNBlock(config, channels[i], channels[i + 1], stride, residual=i > 0)
            for i, stride in enumerate(config.strides)
        )
        self.gradient_checkpointing = False
        self.post_init()

    @can_return_tuple
    def forward(self, skeletons: torch.Tensor, output_hidden_states: bool | None = None) -> SkeletonModelOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) float tensor: batch, coordinates, frames, joints, persons.
            output_hidden_states: also return every block's output, each (N, C_i, T_i, V, M).

        Returns:
            `SkeletonModelOutput` with ``last_hidden_state`` (N, C_last, T', V, M) and ``pooler_output``
            (N, C_last), the mean over frames and joints, then over persons.
        """
        check_inputs(self.config, skeletons=skeletons)
        last, hidden_states = run_graph_blocks(self.data_bn, self.blocks, skeletons, output_hidden_states)
        return SkeletonModelOutput(
            last_hidden_state=last,
            pooler_output=last.mean(dim=(2, 3, 4)),
            hidden_states=hidden_states if output_hidden_states else None,
        )

    def _reset_parameters(self):
        constant_norm_init(self.data_bn, 1.0)


class ShiftGCNForSkeletonClassification(ShiftGCNPreTrainedModel):
    """Shift-GCN with its linear classifier."""

    loss_input_names = ("labels",)

    def __init__(self, config: ShiftGCNConfig):
        super().__init__(config)
        self.shiftgcn = ShiftGCNModel(config)
        self.classifier = nn.Linear(config.hidden_sizes[-1], config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        skeletons: torch.Tensor,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
    ) -> SkeletonClassifierOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) float tensor.
            labels: optional (N,) class indices; when given, ``loss`` is the mean cross-entropy.
            output_hidden_states: also return every block's output.

        Returns:
            `SkeletonClassifierOutput` with ``logits`` (N, num_labels) and ``pooler_output`` (N, C_last).
        """
        features = self.shiftgcn(skeletons, output_hidden_states=output_hidden_states)
        logits = self.classifier(features.pooler_output)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels.to(logits.device).long())
        return SkeletonClassifierOutput(
            loss=loss, logits=logits, pooler_output=features.pooler_output, hidden_states=features.hidden_states
        )

    def _reset_parameters(self):
        # the code: fc weight N(0, sqrt(2 / num_class)); the bias keeps PyTorch's default
        init.normal_(self.classifier.weight, 0.0, math.sqrt(2.0 / self.config.num_labels))
        bound = 1 / math.sqrt(self.classifier.in_features)
        init.uniform_(self.classifier.bias, -bound, bound)
