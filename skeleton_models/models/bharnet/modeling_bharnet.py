"""BHaRNet: body and hand expert streams with cross-attention (Cho & Kim, IROS 2025, arXiv 2503.14960).

Notation of the paper: F (N, C, T, I, V) is a stream's GCN output, with I instances (the body's persons, the two
hands). Tensors here keep the library's (N, C, T, V, M) order, M being the paper's I. Backbones take and return
(B, C, T, V) with B = batch x instances.

Where the paper leaves a choice, the reading taken is written next to the code as "Reading:" / "Assumed:".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from transformers import ResNetConfig, ResNetModel
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.utils import ModelOutput
from transformers.utils.generic import can_return_tuple

from ...layers import (
    CrossAttention,
    GroupedTopologyGraphConv,
    MultiScaleTemporalConv,
    StaticTopologyGraphConv,
    STGCNBlock,
    classifier_init,
    constant_norm_init,
    kaiming_conv_init,
    run_graph_blocks,
    stgcn_spatial_graph,
)
from ...modeling_utils import SkeletonPreTrainedModel, check_inputs
from ...rgb import roi_joint_indices
from ...skeletons import get_layout
from .configuration_bharnet import BHaRNetConfig


@dataclass
class BHaRNetModelOutput(ModelOutput):
    """Features of the BHaRNet streams and branches.

    Args:
        last_hidden_state: (N, C, T', V, M) the first stream's GCN features (the body's, when it has one).
        pooler_output: (N, B, C) the pooled features of each classifier branch, in ``config.branch_names`` order.
        stream_hidden_states: every stream's GCN features, each (N, C, T', V_s, M_s), in ``config.streams`` order.
        hidden_states: with ``output_hidden_states``, the first stream's per-block features, each (N, C_i, T_i, V, M).
        rgb_pooler_output: (N, C_rgb) the RGB stream's pooled ResNet features (BHaRNet-M).
        rgb_guidance: (N, P) the weight of each ROI row of the mosaic, from the body features (BHaRNet-M).
    """

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    stream_hidden_states: tuple[torch.Tensor, ...] | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    rgb_pooler_output: torch.Tensor | None = None
    rgb_guidance: torch.Tensor | None = None


@dataclass
class BHaRNetClassifierOutput(ModelOutput):
    """Output of `BHaRNetForSkeletonClassification`.

    Args:
        loss: lambda_B L_B + lambda_H L_H + lambda_cpl L_cpl (Eq. 4), + lambda_rgb L_rgb with an RGB stream, when
            `labels` were given.
        logits: (N, num_labels) the fused prediction: the sum (Eq. 11; expertized models) or the mean (section
            III-B) of the branch logits, ``config.fusion``, plus ``rgb_fusion_weight`` x the RGB logits with an RGB
            stream.
        skeleton_logits, rgb_logits: (N, num_labels) the skeleton and the RGB part of ``logits`` (BHaRNet-M; Table
            V's "Pose" and "RGB" columns).
        loss_rgb: the RGB stream's cross-entropy (BHaRNet-M).
        rgb_guidance: (N, P) the weight of each ROI row of the mosaic (BHaRNet-M).
        branch_logits: (N, B, num_labels) each branch's logits, in ``config.branch_names`` order.
        loss_body, loss_hand: the individual terms L_B, L_H (Eq. 2; of the interactive branches when expertized).
        loss_complementary: L_cpl (Eq. 3), the cross-entropy of the fused logits.
        pooler_output: (N, B, C) the pooled features of each branch.
        hidden_states: with ``output_hidden_states``, the first stream's per-block features.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    branch_logits: torch.Tensor | None = None
    loss_body: torch.Tensor | None = None
    loss_hand: torch.Tensor | None = None
    loss_complementary: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    skeleton_logits: torch.Tensor | None = None
    rgb_logits: torch.Tensor | None = None
    loss_rgb: torch.Tensor | None = None
    rgb_guidance: torch.Tensor | None = None


# -- backbones -------------------------------------------------------------------------------------------------------
class PointwiseConv(nn.Module):
    """DeGCN's ``PointWiseTCN``: a (grouped, strided) 1x1 convolution and BatchNorm. (B, C_in, T, V) -> (B, C_out,
    ceil(T / stride), V)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, groups: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=(stride, 1), groups=groups)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class DeGCNBlock(GradientCheckpointingLayer):
    """DeGCN's ``Basic_Block`` (public code): graph conv + residual, leaky ReLU, multi-scale temporal modelling with
    deformable temporal convolutions + residual, leaky ReLU. (B, C_in, T, V) -> (B, C_out, T / stride, V).

    The 3-channel input block uses a plain learnable-topology graph conv (DeGCN's ``ST_GC``), the others CTR-GC over
    `num_scales` channel groups; the withheld deformable spatial block (DeSGC) is not reproduced.
    """

    def __init__(self, config: BHaRNetConfig, in_channels: int, out_channels: int, stride: int, first: bool, adjacency):
        super().__init__()
        residual = not first  # DeGCN: the input block has no block residual
        # DeGCN switches on `in_channels == 3`, i.e. the first block, which reads raw coordinates (any C here)
        groups = 1 if first else config.num_scales
        if first:
            self.gcn = StaticTopologyGraphConv(in_channels, out_channels, adjacency, topology="additive")
        else:
            self.gcn = GroupedTopologyGraphConv(in_channels, out_channels, adjacency, groups)
        self.tcn = MultiScaleTemporalConv(
            out_channels,
            out_channels,
            config.temporal_kernel_size,
            stride,
            config.temporal_dilations,
            negative_slope=config.negative_slope,
            num_offsets=config.num_offsets,
        )
        self.residual_gcn = (
            PointwiseConv(in_channels, out_channels, groups=groups) if in_channels != out_channels else None
        )
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = PointwiseConv(in_channels, out_channels, stride=stride, groups=groups)
        self.negative_slope = config.negative_slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.gcn(x) + (x if self.residual_gcn is None else self.residual_gcn(x))
        y = self.tcn(F.leaky_relu(y, self.negative_slope))
        if self.residual is not None:
            y = y + self.residual(x)
        return F.leaky_relu(y, self.negative_slope)

    def _reset_parameters(self):
        # DeGCN's `init_param` over the whole block (runs after the layers' own initialisations): Kaiming-normal
        # fan-out with the leaky-ReLU gain (a = 0.1) for every convolution, BatchNorm weight 1 and bias 0.
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Conv3d)):
                kaiming_conv_init(module, negative_slope=self.negative_slope)
            elif isinstance(module, nn.BatchNorm2d):
                constant_norm_init(module, 1.0)


class ExpertBackbone(nn.Module):
    """One expert's GCN (section III-A, Eq. 1): input BatchNorm and a stack of DeGCN or ST-GCN blocks.

    (N, C, T, V, M) -> (N, C_last, T', V, M), and every block's output with ``output_hidden_states``.

    DeGCN: CTR-GCN's graph of the layout and one input BatchNorm over each frame's (M V C) features. ST-GCN: as
    `STGCNModel` (yysijie/st-gcn@221c0e1 net/st_gcn.py), its spatial graph (`stgcn_spatial_graph`) and one input
    BatchNorm over each instance's (V C) features, shared by the instances.
    """

    def __init__(self, config: BHaRNetConfig, layout: str, in_channels: int, num_instances: int):
        super().__init__()
        layout = get_layout(layout)
        channels = [in_channels, *config.hidden_sizes]
        if config.backbone == "degcn":
            adjacency = torch.from_numpy(layout.adjacency())
            self.data_bn = nn.BatchNorm1d(num_instances * layout.num_joints * in_channels)
        else:
            adjacency = torch.from_numpy(stgcn_spatial_graph(layout, config.stgcn_partition))
            self.data_bn = nn.BatchNorm1d(layout.num_joints * in_channels)

        def block(i: int, stride: int) -> nn.Module:
            if config.backbone == "degcn":
                return DeGCNBlock(config, channels[i], channels[i + 1], stride, first=i == 0, adjacency=adjacency)
            return STGCNBlock(
                channels[i],
                channels[i + 1],
                adjacency,
                stride,
                config.stgcn_kernel_size,
                config.stgcn_dropout if i > 0 else 0.0,  # net/st_gcn.py: the input block gets no dropout
                residual=i > 0,  # ST-GCN: the input block has no residual
            )

        self.blocks = nn.ModuleList(block(i, stride) for i, stride in enumerate(config.strides))

    def forward(self, x: torch.Tensor, output_hidden_states: bool = False):
        return run_graph_blocks(self.data_bn, self.blocks, x, output_hidden_states)


# -- interaction -----------------------------------------------------------------------------------------------------
class BodyHandCrossAttention(nn.Module):
    """Eq. 5 over all tokens: F~_B = CrossAttn(F_B -> F_H), F~_H = CrossAttn(F_H -> F_B).

    Each stream's T' x V x I positions are tokens of C channels; body tokens attend to hand tokens and vice
    versa. (N, C, T', V, M) x 2 -> pooled (N, C) x 2 (GAP over the tokens): the attended context only; the residual
    of the non-expertized models (``config.cross_attention_residual``) is added by `BHaRNetModel`.
    """

    def __init__(self, config: BHaRNetConfig, dim: int):
        super().__init__()
        kwargs = dict(num_heads=config.attention_heads, kernel=config.attention_kernel)
        kwargs["num_features"] = config.performer_features
        self.body = CrossAttention(dim, seed=1, **kwargs)
        self.hand = CrossAttention(dim, seed=2, **kwargs)

    def forward(self, body: torch.Tensor, hand: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        body_tokens = rearrange(body, "n c t v m -> n (t v m) c")
        hand_tokens = rearrange(hand, "n c t v m -> n (t v m) c")
        return self.body(body_tokens, hand_tokens).mean(1), self.hand(hand_tokens, body_tokens).mean(1)


class PoolingAttentionModule(nn.Module):
    """PAM (Eqs. 6-8): for each axis alpha in {T, V, I}, both streams are pooled over the other two axes
    (F^alpha, tokens along alpha), cross-attend (Eq. 7), and are pooled over alpha (Eq. 8); the three results are
    summed (Fig. 3: "the three are summed"). (N, C, T', V, M) x 2 -> (N, C) x 2.

    Reading: one cross-attention per axis and direction (their linear maps are the figure's "linear" boxes). The
    residual of BHaRNet-P (``config.cross_attention_residual``) is added once around the whole module by
    `BHaRNetModel` (a residual per axis would add each stream's own features three times).
    """

    axes = {"t": 2, "v": 3, "i": 4}  # positions of T, V, I in (N, C, T, V, M)

    def __init__(self, config: BHaRNetConfig, dim: int):
        super().__init__()
        kwargs = dict(num_heads=config.attention_heads, kernel=config.attention_kernel)
        kwargs["num_features"] = config.performer_features
        self.body = nn.ModuleDict({a: CrossAttention(dim, seed=10 + i, **kwargs) for i, a in enumerate(self.axes)})
        self.hand = nn.ModuleDict({a: CrossAttention(dim, seed=20 + i, **kwargs) for i, a in enumerate(self.axes)})

    def forward(self, body: torch.Tensor, hand: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        body_out, hand_out = 0, 0
        for name, axis in self.axes.items():
            others = tuple(a for a in (2, 3, 4) if a != axis)
            body_tokens = body.mean(dim=others).transpose(1, 2)  # (N, L_alpha, C), Eq. 6
            hand_tokens = hand.mean(dim=others).transpose(1, 2)
            body_out = body_out + self.body[name](body_tokens, hand_tokens).mean(1)  # Eqs. 7-8
            hand_out = hand_out + self.hand[name](hand_tokens, body_tokens).mean(1)
        return body_out, hand_out


# -- RGB (BHaRNet-M) -------------------------------------------------------------------------------------------------
def rgb_guidance_weights(body: torch.Tensor, roi_joints: list[int], topk: int, norm: str) -> torch.Tensor:
    """BHaRNet-M's RGB guidance: (N, C, T', V, M) body GCN features -> (N, P) weights of the ROI rows.

    Per joint the L2 norm of the features over channels, (N, T', V, M) (MMNet net/mmn.py line 46); the more active
    person (the larger summed response, line 57); for each ROI joint the mean of its `topk` largest values over T'
    (lines 62-64); `norm` (`BHaRNetConfig.rgb_guidance_norm`) says where the scaling happens:

    - ``"parts-clip"`` / ``"parts-batch"``: after the top-k mean, the P part weights min-max scaled to [0, 2] per
      clip / over the batch.
    - ``"mmnet-batch"`` / ``"mmnet-clip"``: MMNet's order, before it: the response map min-max scaled to 0-255
      over the whole batch (line 52) / over each clip; the top-k mean truncated to an integer (MMNet's weight
      array is an integer one, line 55) and divided by 127 (line 77). Person ties go to the last person, as
      MMNet's ``>`` (line 57). A constant map (MMNet: a division by zero) gives weights 0.
    """
    response = body.detach().float()
    response = (response * response).sum(dim=1).sqrt()  # (N, T', V, M)
    mmnet = norm in ("mmnet-batch", "mmnet-clip")
    if mmnet:
        dims = (0, 1, 2, 3) if norm == "mmnet-batch" else (1, 2, 3)
        low, high = response.amin(dim=dims, keepdim=True), response.amax(dim=dims, keepdim=True)
        response = 255 * (response - low) / (high - low).clamp_min(torch.finfo(response.dtype).tiny)
    activity = response.sum(dim=(1, 2))  # (N, M)
    if mmnet:
        person = activity.shape[-1] - 1 - activity.flip(-1).argmax(dim=-1)  # the last of equals
    else:
        person = activity.argmax(dim=-1)  # the first of equals
    response = response.gather(-1, person[:, None, None, None].expand(*response.shape[:-1], 1))[..., 0]
    parts = response[:, :, roi_joints]  # (N, T', P)
    weight = parts.topk(min(topk, parts.shape[1]), dim=1).values.mean(dim=1)  # (N, P)
    if mmnet:
        return weight.floor() / 127
    dims = (1,) if norm == "parts-clip" else (0, 1)
    low, high = weight.amin(dim=dims, keepdim=True), weight.amax(dim=dims, keepdim=True)
    return 2 * (weight - low) / (high - low).clamp_min(1e-6)


class GuidedRGBStream(nn.Module):
    """BHaRNet-M's RGB stream (section III-E, Fig. 4 right), in MMNet's manner: the rows of an ROI mosaic are scaled
    by the body features' response at each row's joint (`rgb_guidance_weights`; MMNet net/mmn.py, read in
    `../shared/research/methods.md` section 4), then a ResNet reads the mosaic. The guidance is detached: the RGB
    stream has "its own training path" and does not train the body stream (Reading).
    """

    def __init__(self, config: BHaRNetConfig):
        super().__init__()
        self.config = config
        self.backbone = ResNetModel(ResNetConfig(**config.rgb_backbone))
        self.roi_joints = roi_joint_indices(config.layout, config.rgb_roi_joints)  # a list: no buffer to load

    def guidance(self, body: torch.Tensor) -> torch.Tensor:
        """(N, C, T', V, M) body GCN features -> (N, P) row weights (`rgb_guidance_weights`)."""
        config = self.config
        return rgb_guidance_weights(body, self.roi_joints, config.rgb_guidance_topk, config.rgb_guidance_norm)

    def forward(self, pixel_values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """`pixel_values` (N, 3, P x S, F x S) normalised ROI mosaic, `weight` (N, P) -> pooled features (N, C)."""
        rows = weight.repeat_interleave(self.config.rgb_patch_size, dim=1)  # (N, P x S): a weight per pixel row
        guided = pixel_values * rows[:, None, :, None].to(pixel_values.dtype)
        return self.backbone(guided).pooler_output.flatten(1)

    def _reset_parameters(self):
        # transformers' ResNet init (ResNetPreTrainedModel._init_weights): Kaiming-normal fan_out convolutions,
        # batch norms 1 / 0; it does not run by itself inside another model.
        for module in self.backbone.modules():
            if isinstance(module, nn.Conv2d):
                kaiming_conv_init(module)
            elif isinstance(module, nn.BatchNorm2d):
                constant_norm_init(module, 1.0)


# -- models ----------------------------------------------------------------------------------------------------------
class BHaRNetPreTrainedModel(SkeletonPreTrainedModel):
    config_class = BHaRNetConfig
    base_model_prefix = "bharnet"
    _no_split_modules = ["DeGCNBlock", "STGCNBlock"]


class BHaRNetModel(BHaRNetPreTrainedModel):
    """BHaRNet's streams and feature interaction: body skeletons (N, C, T, V, M) and hands (N, C, T, 25, 2) ->
    the pooled features of each classifier branch (N, B, C)."""

    def __init__(self, config: BHaRNetConfig):
        super().__init__(config)
        self.streams = nn.ModuleList(
            ExpertBackbone(config, config.layout, config.in_channels, config.num_persons)
            if stream == "body"
            else ExpertBackbone(config, config.hand_layout, config.hand_in_channels, config.hand_instances)
            for stream in config.streams
        )
        dim = config.hidden_sizes[-1]
        if config.interaction == "none":
            self.interaction = None
        elif config.pooling == "pam":
            self.interaction = PoolingAttentionModule(config, dim)
        else:
            self.interaction = BodyHandCrossAttention(config, dim)
        self.rgb = GuidedRGBStream(config) if config.rgb_stream else None
        self.guidance_gcn = None
        if config.rgb_stream and config.rgb_guidance_source == "body_gcn":
            self.guidance_gcn = ExpertBackbone(config, config.layout, config.in_channels, config.num_persons)
        self.gradient_checkpointing = False
        self.post_init()

    def apply_freezing(self) -> None:
        """The separate guidance GCN (BHaRNet-M with Table V's "Body GCN") is fixed: its guidance is detached, so
        nothing would train it (MMNet's guidance model is pretrained and fixed too)."""
        if self.guidance_gcn is not None:
            self.guidance_gcn.requires_grad_(False)

    def train(self, mode: bool = True):
        """`nn.Module.train`, except that the fixed guidance GCN stays in evaluation mode (its batch-norm
        statistics do not move)."""
        super().train(mode)
        if self.guidance_gcn is not None:
            self.guidance_gcn.eval()
        return self

    @can_return_tuple
    def forward(
        self,
        skeletons: torch.Tensor | None = None,
        hands: torch.Tensor | None = None,
        pixel_values: torch.Tensor | None = None,
        expert_only: bool | None = None,
        output_hidden_states: bool | None = None,
    ) -> BHaRNetModelOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) body skeletons (streams with ``"body"``).
            hands: (N, C, T, 25, 2) the two hands of the most active person, `hands2x21` layout (streams with
                ``"hand"``).
            pixel_values: (N, 3, P x S, F x S) the normalised RGB ROI mosaic (``config.rgb_stream``; see
                `skeleton_models.rgb`).
            expert_only: skip the interactive branches (BHaRNet-E's light inference, section III-E); default
                ``config.expert_only``.
            output_hidden_states: also return the first stream's per-block features.

        Returns:
            `BHaRNetModelOutput`; ``pooler_output`` is (N, B, C) over ``config.branch_names`` (the expert branches
            only, with `expert_only`).
        """
        config = self.config
        expert_only = config.expert_only if expert_only is None else expert_only
        if expert_only and not config.expertized:
            raise ValueError("expert_only needs a model with expertized branches (config.expertized)")
        given = {"skeletons": skeletons, "hands": hands, "pixel_values": pixel_values}
        for spec in config.input_specs:
            if given[spec.name] is None:
                raise ValueError(f"this BHaRNet (streams {config.streams}) needs the input `{spec.name}`")
        check_inputs(config, **{k: v for k, v in given.items() if v is not None})
        features, hidden_states = [], ()
        for i, (stream, backbone) in enumerate(zip(config.streams, self.streams)):
            out, states = backbone(skeletons if stream == "body" else hands, output_hidden_states and i == 0)
            features.append(out)
            hidden_states = hidden_states or states
        pooled = [f.mean(dim=(2, 3, 4)) for f in features]  # GAP over T', V and instances
        if self.interaction is not None and not expert_only:
            body = features[config.streams.index("body")]
            hand = features[config.streams.index("hand")]
            interactive = self.interaction(body, hand)  # F~_B, F~_H (Eqs. 5-8), pooled
            if config.cross_attention_residual:
                # Assumed for the non-expertized models (see the config): each branch keeps its own stream's
                # features, GAP(F_B) + GAP(CrossAttn(F_B -> F_H)), so that stage 2 starts from the experts.
                by_stream = dict(zip(config.streams, pooled))
                interactive = (by_stream["body"] + interactive[0], by_stream["hand"] + interactive[1])
            if config.expertized:
                # Eqs. 9-10: F_1 = F_B, F_2 = F_H (expertized), F_3 = F~_B, F_4 = F~_H (interactive)
                by_stream = dict(zip(config.streams, pooled))
                pooled = [by_stream["body"], by_stream["hand"], *interactive]
            else:
                pooled = list(interactive)
        elif expert_only:
            by_stream = dict(zip(config.streams, pooled))
            pooled = [by_stream["body"], by_stream["hand"]]
        rgb_pooled = guidance = None
        if self.rgb is not None:
            if config.rgb_guidance_source == "none":
                guidance = pixel_values.new_ones(pixel_values.shape[0], len(config.rgb_roi_joints))
            else:
                if self.guidance_gcn is not None:
                    with torch.no_grad():
                        guide = self.guidance_gcn(skeletons)[0]
                else:
                    guide = features[config.streams.index("body")]
                guidance = self.rgb.guidance(guide)
            rgb_pooled = self.rgb(pixel_values, guidance)
        return BHaRNetModelOutput(
            last_hidden_state=features[0],
            pooler_output=torch.stack(pooled, dim=1),
            stream_hidden_states=tuple(features),
            hidden_states=hidden_states if output_hidden_states else None,
            rgb_pooler_output=rgb_pooled,
            rgb_guidance=guidance,
        )


class BHaRNetForSkeletonClassification(BHaRNetPreTrainedModel):
    """BHaRNet with one linear classifier per branch and the joint-training loss of Eqs. 2-4."""

    loss_input_names = ("labels",)

    def __init__(self, config: BHaRNetConfig):
        super().__init__(config)
        self.bharnet = BHaRNetModel(config)
        self.dropout = nn.Dropout(config.dropout)
        self.classifiers = nn.ModuleList(
            nn.Linear(config.hidden_sizes[-1], config.num_labels) for _ in config.branch_names
        )
        self.rgb_classifier = None
        if config.rgb_stream:
            self.rgb_classifier = nn.Linear(config.rgb_backbone["hidden_sizes"][-1], config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        skeletons: torch.Tensor | None = None,
        hands: torch.Tensor | None = None,
        pixel_values: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        expert_only: bool | None = None,
        output_hidden_states: bool | None = None,
    ) -> BHaRNetClassifierOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) body skeletons; hands: (N, C, T, 25, 2) hands; pixel_values: (N, 3, H, W) the
                RGB ROI mosaic of BHaRNet-M (see `BHaRNetModel`).
            labels: optional (N,) class indices; when given, ``loss`` is Eq. 4 and its terms are returned.
            expert_only: run only the expertized branches (section III-E); default ``config.expert_only``.
            output_hidden_states: also return the first stream's per-block features.

        Returns:
            `BHaRNetClassifierOutput` with the fused ``logits`` (N, num_labels) and ``branch_logits`` (N, B, K).
        """
        config = self.config
        expert_only = config.expert_only if expert_only is None else expert_only
        features = self.bharnet(
            skeletons, hands, pixel_values, expert_only=expert_only, output_hidden_states=output_hidden_states
        )
        pooled = self.dropout(features.pooler_output)
        branch_logits = torch.stack([fc(pooled[:, b]) for b, fc in enumerate(self.classifiers[: pooled.shape[1]])], 1)
        # y = sum_i y_i (Eq. 11, the expertized models' default) or their mean (section III-B), config.fusion
        skeleton_logits = branch_logits.sum(1) if config.fusion == "sum" else branch_logits.mean(1)
        logits, rgb_logits, loss_rgb = skeleton_logits, None, None
        if self.rgb_classifier is not None:
            rgb_logits = self.rgb_classifier(self.dropout(features.rgb_pooler_output))
            logits = skeleton_logits + config.rgb_fusion_weight * rgb_logits
        loss = loss_body = loss_hand = loss_cpl = None
        if labels is not None:
            labels = labels.to(logits.device).long()

            def ce(x):
                return F.cross_entropy(x, labels, label_smoothing=config.label_smoothing)

            names = config.branch_names[: branch_logits.shape[1]]
            if len(names) == 1:
                loss = ce(skeleton_logits)
            elif expert_only:
                loss = loss_cpl = ce(skeleton_logits)  # the light path is for inference; the fused prediction's loss
            else:
                # Eq. 2: individual terms -- of the interactive branches only when expertized (section III-D)
                individual = [n for n in names if not n.endswith("_expert")]
                terms = {n: ce(branch_logits[:, names.index(n)]) for n in individual}
                body_terms = [t for n, t in terms.items() if n.startswith("body")]
                hand_terms = [t for n, t in terms.items() if n.startswith("hand")]
                loss_body = torch.stack(body_terms).sum() if body_terms else None
                loss_hand = torch.stack(hand_terms).sum() if hand_terms else None
                loss_cpl = ce(skeleton_logits)  # Eq. 3, on the fused logits of the body-hand branches
                loss = config.lambda_cpl * loss_cpl
                if loss_body is not None:
                    loss = loss + config.lambda_body * loss_body
                if loss_hand is not None:
                    loss = loss + config.lambda_hand * loss_hand
            if rgb_logits is not None:
                loss_rgb = ce(rgb_logits)  # the RGB stream's own training path (Fig. 4 right)
                loss = loss + config.lambda_rgb * loss_rgb
        return BHaRNetClassifierOutput(
            loss=loss,
            logits=logits,
            branch_logits=branch_logits,
            loss_body=loss_body,
            loss_hand=loss_hand,
            loss_complementary=loss_cpl,
            pooler_output=features.pooler_output,
            hidden_states=features.hidden_states,
            skeleton_logits=skeleton_logits if rgb_logits is not None else None,
            rgb_logits=rgb_logits,
            loss_rgb=loss_rgb,
            rgb_guidance=features.rgb_guidance,
        )

    @torch.no_grad()
    def load_experts(self, body=None, hand=None, guide=None) -> None:
        """Initialise the streams from separately trained experts (section IV-A: "the expertized model is
        initialized from pre-trained weights ... and fine-tuned with our dual-stream architecture").

        `body` / `hand`: `BHaRNetForSkeletonClassification` models (or checkpoint folders) of the ``body-expert`` /
        ``hand-expert`` presets with the same backbone. Each expert's backbone is copied into this model's stream
        of that kind, and its classifier into that stream's branch (the expert branch when expertized).
        `guide`: a body expert whose backbone becomes the separate guidance GCN of BHaRNet-M with
        ``rgb_guidance_source="body_gcn"`` (MMNet's pretrained skeleton model).
        """
        for kind, expert in (("body", body), ("hand", hand), ("guide", guide)):
            if expert is None:
                continue
            if not isinstance(expert, BHaRNetForSkeletonClassification):
                expert = BHaRNetForSkeletonClassification.from_pretrained(expert)
            wanted = "body" if kind == "guide" else kind
            if expert.config.streams != [wanted]:
                raise ValueError(f"the {kind} expert must have streams ['{wanted}'], got {expert.config.streams}")
            if kind == "guide":
                if self.bharnet.guidance_gcn is None:
                    raise ValueError("this model has no guidance GCN (rgb_stream with rgb_guidance_source='body_gcn')")
                self.bharnet.guidance_gcn.load_state_dict(expert.bharnet.streams[0].state_dict())
                continue
            if kind not in self.config.streams:
                raise ValueError(f"this model has no {kind} stream (streams {self.config.streams})")
            index = self.config.streams.index(kind)
            self.bharnet.streams[index].load_state_dict(expert.bharnet.streams[0].state_dict())
            branch = self.config.branch_names.index(f"{kind}_expert" if self.config.expertized else kind)
            self.classifiers[branch].load_state_dict(expert.classifiers[0].state_dict())

    @torch.no_grad()
    def load_rgb_backbone(self, checkpoint) -> None:
        """Initialise the RGB stream's ResNet from a transformers ResNet checkpoint (folder or Hub id, e.g.
        ``"microsoft/resnet-18"``, ImageNet-pretrained as MMNet's and BHaRNet-M's ResNet-18), whose configuration
        must match ``config.rgb_backbone``."""
        if self.bharnet.rgb is None:
            raise ValueError("this model has no RGB stream (config.rgb_stream is False)")
        if isinstance(checkpoint, (str, bytes)) or hasattr(checkpoint, "__fspath__"):
            checkpoint = ResNetModel.from_pretrained(checkpoint, dtype=torch.float32)
        self.bharnet.rgb.backbone.load_state_dict(checkpoint.state_dict())

    def _reset_parameters(self):
        for classifier in self.classifiers:
            classifier_init(classifier)  # DeGCN: N(0, sqrt(2 / num_class)) per stream head
        if self.rgb_classifier is not None:
            classifier_init(self.rgb_classifier)
