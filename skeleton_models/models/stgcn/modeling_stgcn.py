"""ST-GCN (Yan et al., AAAI 2018): the official network (yysijie/st-gcn@221c0e1 net/st_gcn.py) with the official
graph (net/utils/graph.py, `stgcn_spatial_graph`); equal to the official code's outputs on the reference fixture
(tests/test_parity.py, fixture ``stgcn``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init
from transformers.utils.generic import can_return_tuple

from ...layers import STGCNBlock, run_graph_blocks, stgcn_spatial_graph
from ...modeling_utils import SkeletonClassifierOutput, SkeletonModelOutput, SkeletonPreTrainedModel, check_inputs
from ...skeletons import get_layout
from .configuration_stgcn import STGCNConfig

__all__ = ["STGCNForSkeletonClassification", "STGCNModel", "STGCNPreTrainedModel"]


class STGCNPreTrainedModel(SkeletonPreTrainedModel):
    config_class = STGCNConfig
    base_model_prefix = "stgcn"
    _no_split_modules = ["STGCNBlock"]


class STGCNModel(STGCNPreTrainedModel):
    """ST-GCN backbone: (N, C, T, V, M) skeletons -> pooled (N, C_last) features (256-d at paper size)."""

    def __init__(self, config: STGCNConfig):
        super().__init__(config)
        layout = get_layout(config.layout)
        adjacency = torch.from_numpy(stgcn_spatial_graph(layout, config.partition))
        # net/st_gcn.py: one input BatchNorm over each person's (V C) features, shared by the persons
        self.data_bn = nn.BatchNorm1d(layout.num_joints * config.in_channels)
        channels = [config.in_channels, *config.hidden_sizes]
        self.blocks = nn.ModuleList(
            STGCNBlock(
                channels[i],
                channels[i + 1],
                adjacency,
                stride,
                config.temporal_kernel_size,
                config.dropout if i > 0 else 0.0,  # the first block has no dropout (kwargs0)
                residual=i > 0,
            )
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
            (N, C_last): the mean over frames and joints, then over persons (net/st_gcn.py's pooling).
        """
        check_inputs(self.config, skeletons=skeletons)
        last, hidden_states = run_graph_blocks(self.data_bn, self.blocks, skeletons, output_hidden_states)
        return SkeletonModelOutput(
            last_hidden_state=last,
            pooler_output=last.mean(dim=(2, 3, 4)),
            hidden_states=hidden_states if output_hidden_states else None,
        )

    def _reset_parameters(self):
        # The official processor/recognition.py `weights_init`, over the whole network after the layers' own
        # initialisations: convolutions N(0, 0.02) with zero bias, BatchNorm weight N(1, 0.02) and zero bias (the
        # edge importances stay at 1).
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                init.normal_(module.weight, 0.0, 0.02)
                if module.bias is not None:
                    init.zeros_(module.bias)
            elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                init.normal_(module.weight, 1.0, 0.02)
                init.zeros_(module.bias)


class STGCNForSkeletonClassification(STGCNPreTrainedModel):
    """ST-GCN with its linear classifier (net/st_gcn.py's 1 x 1 ``fcn`` on the pooled features)."""

    loss_input_names = ("labels",)

    def __init__(self, config: STGCNConfig):
        super().__init__(config)
        self.stgcn = STGCNModel(config)
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
        features = self.stgcn(skeletons, output_hidden_states=output_hidden_states)
        logits = self.classifier(features.pooler_output)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels.to(logits.device).long())
        return SkeletonClassifierOutput(
            loss=loss, logits=logits, pooler_output=features.pooler_output, hidden_states=features.hidden_states
        )

    def _reset_parameters(self):
        # the official fcn is a Conv2d: N(0, 0.02) weights, zero bias
        init.normal_(self.classifier.weight, 0.0, 0.02)
        init.zeros_(self.classifier.bias)
