"""A minimal architecture written the way a user (or the next method issue) adds one: its configuration and models
in its own file, importing skeleton_models like any other code, and one registry record. `test_dummy_architecture`
shows that the common tests, the registry, the Auto classes and remote-code export take it with no other change."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.utils.generic import can_return_tuple

from skeleton_models.configuration_utils import SkeletonConfig
from skeleton_models.modeling_utils import (
    SkeletonClassifierOutput,
    SkeletonModelOutput,
    SkeletonPreTrainedModel,
    check_inputs,
)
from skeleton_models.processing_skeleton import SkeletonProcessor
from skeleton_models.registry import Architecture
from skeleton_models.skeletons import get_layout


class DummyConfig(SkeletonConfig):
    model_type = "dummy-skeleton"
    presets = {"dummy": {}, "dummy-wide": {"hidden_size": 16}}

    def __init__(self, layout="ntu25", in_channels=3, num_persons=2, hidden_size=8, num_blocks=2, **kwargs):
        self.layout, self.in_channels, self.num_persons = layout, in_channels, num_persons
        self.hidden_size, self.num_blocks = hidden_size, num_blocks
        super().__init__(**kwargs)


class DummyBlock(GradientCheckpointingLayer):
    """A residual MLP over channels; holds no parameter itself (a container with its own initialisation)."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden_size)
        self.mlp = nn.Sequential(
            nn.Linear(hidden_size, 2 * hidden_size), nn.GELU(), nn.Linear(2 * hidden_size, hidden_size)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mlp(self.norm(x))

    def _reset_parameters(self):
        init.normal_(self.mlp[0].weight, 0.0, 0.5)
        init.zeros_(self.mlp[2].weight)  # each block starts as the identity
        init.zeros_(self.mlp[0].bias)
        init.zeros_(self.mlp[2].bias)


class DummyPreTrainedModel(SkeletonPreTrainedModel):
    config_class = DummyConfig
    base_model_prefix = "dummy"
    _no_split_modules = ["DummyBlock"]


class DummyModel(DummyPreTrainedModel):
    def __init__(self, config: DummyConfig):
        super().__init__(config)
        self.embed = nn.Linear(config.in_channels, config.hidden_size)
        self.blocks = nn.ModuleList(DummyBlock(config.hidden_size) for _ in range(config.num_blocks))
        self.num_joints = get_layout(config.layout).num_joints
        self.post_init()

    @can_return_tuple
    def forward(self, skeletons: torch.Tensor, output_hidden_states: bool | None = None) -> SkeletonModelOutput:
        """(N, C, T, V, M) -> last_hidden_state (N, H, T, V, M), pooler_output (N, H)."""
        check_inputs(self.config, skeletons=skeletons)
        x = self.embed(rearrange(skeletons, "n c t v m -> n t v m c"))
        hidden = []
        for block in self.blocks:
            x = block(x)
            hidden.append(rearrange(x, "n t v m h -> n h t v m"))
        last = rearrange(x, "n t v m h -> n h t v m")
        return SkeletonModelOutput(
            last_hidden_state=last,
            pooler_output=last.mean(dim=(2, 3, 4)),
            hidden_states=tuple(hidden) if output_hidden_states else None,
        )


class DummyForSkeletonClassification(DummyPreTrainedModel):
    loss_input_names = ("labels",)

    def __init__(self, config: DummyConfig):
        super().__init__(config)
        self.dummy = DummyModel(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(self, skeletons, labels=None, output_hidden_states=None) -> SkeletonClassifierOutput:
        features = self.dummy(skeletons, output_hidden_states=output_hidden_states)
        logits = self.classifier(features.pooler_output)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return SkeletonClassifierOutput(
            loss=loss, logits=logits, pooler_output=features.pooler_output, hidden_states=features.hidden_states
        )


DUMMY = Architecture(
    model_type="dummy-skeleton",
    config_class=DummyConfig,
    base_model_class=DummyModel,
    task_classes={"AutoModelForVideoClassification": DummyForSkeletonClassification},
    tiny_config=dict(num_labels=3),
    processor_class=SkeletonProcessor,
    title="Dummy",
    paper="(a test architecture)",
)
