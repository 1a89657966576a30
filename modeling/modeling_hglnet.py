# Generated from skeleton_models/models/hglnet/modeling_hglnet.py by utils/write_modeling.py; do not edit.
"""HGLNet: the hierarchical global-local skeleton network of HocSLM (Wang et al., arXiv 2603.27103).

Notation of the paper: V joints (its N), T frames, C channels, K graph subsets. Every module takes and returns
(B, C, T, V) tensors with B = batch x persons, except where its docstring says otherwise.

Where an equation leaves a choice, the reading taken is written next to the code as "Reading:".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.utils.generic import can_return_tuple

from .graph import ChannelTopologyRefinement, graph_aggregate, relation_channels, subset_conv
from .temporal import MultiScaleTemporalConv, TemporalConv
from .initialization import classifier_init, constant_norm_init, kaiming_conv_init, lecun_normal_init
from .backbone import run_graph_blocks
from .modeling_utils import SkeletonClassifierOutput, SkeletonModelOutput, SkeletonPreTrainedModel, check_inputs
from .skeletons import get_layout
from .configuration_hglnet import HGLNetConfig

# Products of two activations (attention logits, squared norms, variances) overflow float32 for activations beyond
# ~1e19, which a clip in the wrong unit reaches within a few blocks, while the quantity computed from them (a softmax,
# a cosine, a normalisation) is in range. Before such a product, the operands are divided by
# max(1, max|entry| / 2**50): by exactly 1 (no change at all) up to 2**50 ~ 1e15, else by what keeps every product of
# two entries, summed over up to 2**27 terms, below 2**127. Each formula then scales its result back.
_PRODUCT_RANGE = 2.0**-50


def overflow_divisor(*tensors: torch.Tensor, dim: tuple[int, ...] = (-2, -1)) -> torch.Tensor:
    """``max(1, max|entry| * 2**-50)`` over `dim` of all `tensors` (equal in the other dims), `dim` kept as size
    1; a constant for autograd."""
    peak = torch.stack([t.detach().abs().amax(dim=dim, keepdim=True) for t in tensors]).amax(0)
    return (peak * _PRODUCT_RANGE).clamp_min(1.0)


def scaled_softmax(dots: torch.Tensor, scale: torch.Tensor, temperature: float) -> torch.Tensor:
    """``softmax(scale**2 * temperature * dots)`` over the last dim, finite for any finite `dots` and `scale` (`dots`
    the logits of q / scale and k / scale): the row maximum is subtracted before the logits are scaled back, so a
    difference beyond the float range becomes -inf (weight 0) instead of an overflow."""
    shifted = dots - dots.amax(dim=-1, keepdim=True)
    return torch.softmax(shifted * (scale * temperature) * scale, dim=-1)


def safe_mean(x: torch.Tensor, dim: tuple[int, ...]) -> torch.Tensor:
    """``x.mean(dim)`` whose sum cannot overflow while the mean is in range (for up to 2**32 entries): the entries
    are scaled by 2**-32 before the sum and back after -- exact, so the same bits as ``x.mean(dim)`` except for
    entries below ~1e-28, which lose bits as subnormals."""
    return (x * 2.0**-32).mean(dim=dim) * 2.0**32


def tiny_floor(value: float, scale: torch.Tensor) -> torch.Tensor:
    """``value / scale**2``, the floor `value` of a product of two unscaled entries, for the scaled ones; kept
    above the smallest normal float, where a huge `scale` would make it 0."""
    return (value / (scale * scale)).clamp_min(torch.finfo(scale.dtype).tiny)


class SpatialPreprocessing(nn.Module):
    """Feature preprocessing block of CTS (Eq. 1, first line): X = GeLU(omega(GAP_T(X_s))), for K subsets.

    (B, C_in, T, V) -> node features (B, K, R, V) with R = C_in / r.
    """

    def __init__(self, in_channels: int, num_subsets: int, reduction: int):
        super().__init__()
        self.num_subsets = num_subsets
        self.out_channels = relation_channels(in_channels, reduction)
        self.reduce = nn.Conv1d(in_channels, num_subsets * self.out_channels, kernel_size=1)  # omega

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = F.gelu(self.reduce(x.mean(dim=2)))
        return rearrange(nodes, "b (k r) v -> b k r v", k=self.num_subsets)

    def _reset_parameters(self):
        # Assumed (the paper gives no initialisations): LeCun-normal, so that the node features keep the scale of
        # the input. With CTR-GCN's Kaiming fan-out gain the node variance is 2r (16x for r = 8): LSE's energy X^T X
        # swamps the physical-graph prior; on the synthetic benchmark's quickstart recipe that cost 4 points of top-1.
        lecun_normal_init(self.reduce)


class GlobalSpatialModulation(nn.Module):
    """GSM (Eqs. 1-5): channel-wise global topologies from self-attention between joints, for K subsets.

    Node features (B, K, R, V) -> K topologies, each (B, C_out, V, V).
    """

    def __init__(self, num_subsets: int, relation_channels: int, out_channels: int, num_joints: int):
        super().__init__()
        k, r, v = num_subsets, relation_channels, num_joints
        # Eq. 1, second line: "Linear maps X in R^{R x V} to R^{R x V x V}". Reading: one Linear V -> V*V per subset,
        # shared by its R channels, so that each channel's X~_i is V joint tokens of dimension V.
        self.lift_weight = nn.Parameter(torch.empty(k, v * v, v))
        self.lift_bias = nn.Parameter(torch.empty(k, v * v))
        # Eq. 2: W_Q, W_K, W_V in R^{V x V}, shared by all channels. Reading: they project the token features
        # (standard attention projections), and each of the R channels is one attention head.
        self.qkv_weight = nn.Parameter(torch.empty(3, k, v, v))
        # Eq. 4: per-channel modulation coefficients; Eq. 5: per-channel residual weights.
        self.lambda_sim = nn.Parameter(torch.empty(k, r))
        self.lambda_diff = nn.Parameter(torch.empty(k, r))
        self.lambda_res = nn.Parameter(torch.empty(k, r))
        self.project = nn.Conv2d(k * r, k * out_channels, kernel_size=1, groups=k)  # W^0 of Eq. 5
        self.num_subsets, self.num_joints = k, v

    def forward(self, nodes: torch.Tensor, scale: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        """K topologies (B, C_out, V, V), multiplied by `scale` (Eq. 7's lambda_g) when given.

        All subsets at once: the K x R channels are the attention heads, and each subset's projections are one
        batched product (half the kernels of a loop over the subsets, and as fast or faster on the CPU).
        """
        b, num_subsets, r, v = nodes.shape
        heads = num_subsets * r
        # X~ (Eq. 1): per subset a Linear V -> V*V, shared by its R channels: (B, K, R, V*V)
        tokens = torch.matmul(nodes, self.lift_weight.transpose(-1, -2)) + self.lift_bias[:, None]
        projection = rearrange(self.qkv_weight, "c k w v -> k v (c w)")  # Eq. 2's W_Q, W_K, W_V side by side
        qkv = torch.matmul(tokens.view(b, num_subsets, r * v, v), projection)  # (B, K, R*V, 3V)
        q, key, value = qkv.view(b, heads, v, 3 * v).split(v, dim=-1)  # 4-D heads
        tokens = tokens.view(b, heads, v, v)
        # Eqs. 2-3 from one product of q/c and k/c, c = `overflow_divisor` per head (1 unless an entry exceeds 2**50),
        # each formula scaled back exactly: finite for any finite input.
        c = overflow_divisor(q, key)
        q, key = q / c, key / c
        dots = q @ key.transpose(-1, -2)
        base = scaled_softmax(dots, c, v**-0.5) @ value  # Eq. 2: Softmax(QK^T / sqrt(V)) V
        # Eq. 3: cosine similarity q_u.k_v / (|q_u||k_v|) and sigmoid(||q_u - k_v||_2)
        q_norm, k_norm = q.norm(dim=-1), key.norm(dim=-1)
        sim = dots / torch.maximum(q_norm.unsqueeze(-1) * k_norm.unsqueeze(-2), tiny_floor(1e-6, c))
        sq_dist = q_norm.pow(2).unsqueeze(-1) + k_norm.pow(2).unsqueeze(-2) - 2 * dots
        diff = torch.sigmoid(torch.maximum(sq_dist, tiny_floor(1e-12, c)).sqrt() * c)
        lam_sim, lam_diff, lam_res = (
            p.view(1, heads, 1, 1) for p in (self.lambda_sim, self.lambda_diff, self.lambda_res)
        )
        topologies = base * (1 + lam_sim * sim) + lam_diff * diff + lam_res * tokens  # Eqs. 4-5
        return subset_conv(self.project, topologies, num_subsets, scale)  # W^0 of Eq. 5

    def _reset_parameters(self):
        std = self.num_joints**-0.5  # keeps the token scale of the node features
        init.normal_(self.lift_weight, 0.0, std)
        init.zeros_(self.lift_bias)
        init.normal_(self.qkv_weight, 0.0, std)
        # Reading: the modulation starts neutral (lambda_sim = lambda_diff = 0) and the residual weight at 1.
        init.zeros_(self.lambda_sim)
        init.zeros_(self.lambda_diff)
        init.ones_(self.lambda_res)
        kaiming_conv_init(self.project, groups=self.num_subsets)


class LocalSpatialEnhancement(nn.Module):
    """LSE (Eq. 6): A_l = M * G * ReLU(E) + gamma * M on the physical mask M, for K subsets.

    Node features (B, K, R, V) -> topologies (B, K, 1, V, V), shared by all output channels. E = X^T X is the
    association energy between joints and G = sigmoid(MLP(flatten(X))) a per-sample gate.
    Reading: X is the preprocessed node features of Eq. 1 (Fig. 2 feeds the preprocessing block to both GSM and
    LSE), and M is each subset's normalised physical adjacency, so that gamma * M starts as CTR-GCN's topology.
    """

    def __init__(self, relation_channels: int, masks: torch.Tensor, hidden_size: int):
        super().__init__()
        k, v = masks.shape[0], masks.shape[-1]
        self.gate_in_weight = nn.Parameter(torch.empty(k, hidden_size, relation_channels * v))
        self.gate_in_bias = nn.Parameter(torch.empty(k, hidden_size))
        self.gate_out_weight = nn.Parameter(torch.empty(k, v * v, hidden_size))
        self.gate_out_bias = nn.Parameter(torch.empty(k, v * v))
        self.gamma = nn.Parameter(torch.empty(k))
        self.register_buffer("mask", masks.clone(), persistent=False)
        self._mask_init = masks.clone()

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        v = self.mask.shape[-1]
        energy = torch.einsum("bkru,bkrv->bkuv", nodes, nodes)
        flat = rearrange(nodes, "b k r v -> b k (r v)")
        hidden = F.relu(torch.einsum("bkf,khf->bkh", flat, self.gate_in_weight) + self.gate_in_bias)
        gate = torch.sigmoid(torch.einsum("bkh,kgh->bkg", hidden, self.gate_out_weight) + self.gate_out_bias)
        gate = rearrange(gate, "b k (u w) -> b k u w", u=v)
        topology = self.mask * gate * F.relu(energy) + rearrange(self.gamma, "k -> k 1 1") * self.mask
        return rearrange(topology, "b k u v -> b k 1 u v")

    def _reset_parameters(self):
        for weight, bias in ((self.gate_in_weight, self.gate_in_bias), (self.gate_out_weight, self.gate_out_bias)):
            init.normal_(weight, 0.0, weight.shape[-1] ** -0.5)
            init.zeros_(bias)
        init.ones_(self.gamma)
        init.copy_(self.mask, self._mask_init)


class CompositeTopologySpatial(nn.Module):
    """CTS (section 3.2): graph convolution over K subsets with a composite topology (Eq. 7).

    (B, C_in, T, V) -> (B, C_out, T, V). For subset k: ``A_k = lambda_g * global_k + lambda_l * local_k``, features
    ``X_k = conv_k(x)``, output ``sum_k A_k X_k`` per channel, then BatchNorm, residual and ReLU as in CTR-GCN's
    unit_gcn. See `HGLNetConfig` for what the switches put in place of GSM and LSE.
    """

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor, config: HGLNetConfig):
        super().__init__()
        k, v = adjacency.shape[0], adjacency.shape[-1]
        self.num_subsets = k
        self.use_gsm, self.use_lse = config.use_gsm, config.use_lse
        self.fused = self.use_gsm or self.use_lse
        self.features = nn.Conv2d(in_channels, k * out_channels, kernel_size=1)  # CTR-GC's conv3, per subset
        if self.fused:
            self.preprocess = SpatialPreprocessing(in_channels, k, config.relation_reduction)
            self.fusion = nn.Parameter(torch.empty(2))  # Eq. 7: lambda_g, lambda_l
        self.use_global = self.use_gsm or config.gsm_off == "ctr_gc"  # gsm_off="none": no global spatial branch
        if self.use_gsm:
            self.global_topology = GlobalSpatialModulation(k, self.preprocess.out_channels, out_channels, v)
        elif self.use_global:
            self.global_topology = ChannelTopologyRefinement(in_channels, out_channels, k, config.relation_reduction)
            self.alpha = nn.Parameter(torch.empty(1))  # CTR-GC's alpha, shared by the subsets
        if self.use_lse:
            self.local_topology = LocalSpatialEnhancement(
                self.preprocess.out_channels, adjacency, config.lse_hidden_size
            )
        else:
            self.shared_topology = nn.Parameter(adjacency.clone())  # CTR-GCN's PA
            self._adjacency_init = adjacency.clone()
        self.bn = nn.BatchNorm2d(out_channels)
        if in_channels != out_channels:
            self.down = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
        else:
            self.down = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = self.preprocess(x) if self.fused else None
        # The global topologies come out of their last convolution already weighted (Eq. 7's lambda_g; CTR-GC's
        # alpha) and the local ones are added in place: one pass over each (B, C, V, V) topology.
        weight = self.alpha if self.use_global and not self.use_gsm else None
        if self.fused:
            weight = self.fusion[0] if weight is None else self.fusion[0] * weight
        if self.use_gsm:
            topologies = self.global_topology(nodes, weight)
        elif self.use_global:
            topologies = self.global_topology(x, weight)  # CTR-GC: alpha * relations
        else:
            topologies = None  # no global spatial branch: the local topologies alone
        if self.use_lse:
            local_topologies = self.local_topology(nodes).unbind(1)  # K x (B, 1, V, V)
        else:
            local_topologies = self.shared_topology.unbind(0)  # PA: K x (V, V)
        if self.fused:
            local_topologies = [self.fusion[1] * local for local in local_topologies]
        if topologies is None:
            topologies = local_topologies
        else:
            topologies = [glo.add_(loc) for glo, loc in zip(topologies, local_topologies)]
        features = subset_conv(self.features, x, self.num_subsets)  # CTR-GC's conv3 per subset
        return F.relu(self.bn(graph_aggregate(topologies, features)) + self.down(x))

    def _reset_parameters(self):
        kaiming_conv_init(self.features, groups=self.num_subsets)
        if self.fused:
            init.ones_(self.fusion)
        if self.use_global and not self.use_gsm:
            init.zeros_(self.alpha)
        if not self.use_lse:
            init.copy_(self.shared_topology, self._adjacency_init)
        if isinstance(self.down, nn.Sequential):
            kaiming_conv_init(self.down[0])
            constant_norm_init(self.down[1], 1.0)
        constant_norm_init(self.bn, 1e-6)  # CTR-GCN: the graph branch starts near zero


class GlobalTemporalAttention(nn.Module):
    """GTA (Eq. 8): every output frame attends to all input frames; S = Softmax(QK^T / sqrt(C' V)) V.

    (B, C_in, T, V) -> (B, C_out, ceil(T / stride), V). Frames are tokens with C * V features. Reading: with
    stride s, queries are taken from every s-th frame, so GTA keeps the stride of the LTC branch it is fused with;
    a BatchNorm closes the branch like every LTC branch.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, reduction: int):
        super().__init__()
        qk_channels = max(1, in_channels // reduction)
        self.query = nn.Conv2d(in_channels, qk_channels, 1)
        self.key = nn.Conv2d(in_channels, qk_channels, 1)
        self.value = nn.Conv2d(in_channels, out_channels, 1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = x.shape[-1]
        q = rearrange(self.query(x[:, :, :: self.stride]), "b c t v -> b 1 t (c v)")
        k = rearrange(self.key(x), "b c t v -> b 1 t (c v)")
        values = rearrange(self.value(x), "b c t v -> b 1 t (c v)")
        # Eq. 8 from the product of q/c and k/c, c = `overflow_divisor` (1 unless an entry exceeds 2**50)
        c = overflow_divisor(q, k)
        dots = (q / c) @ (k / c).transpose(-1, -2)
        out = scaled_softmax(dots, c, q.shape[-1] ** -0.5) @ values  # 1/sqrt(C' V), as Eq. 8
        # BatchNorm takes a contiguous input (it would copy a permuted one itself; torch.compile's backward of a
        # permuted view into BatchNorm fails on torch 2.13)
        return self.bn(rearrange(out, "b 1 t (c v) -> b c t v", v=v).contiguous())

    def _reset_parameters(self):
        # Assumed (the paper gives no initialisations): queries and keys LeCun-normal, so that the attention logits
        # start at unit scale. With Kaiming's fan-out gain their std is ~2r (16 for r = 8): the softmax starts one-hot;
        # on the synthetic benchmark's quickstart recipe that cost 16 points of top-1. Values as CTR-GCN's convs.
        lecun_normal_init(self.query)
        lecun_normal_init(self.key)
        kaiming_conv_init(self.value)
        constant_norm_init(self.bn, 1.0)


class DualPathHierarchicalTemporal(nn.Module):
    """DHT (section 3.3): S_T = lambda_g * GTA(x) + lambda_l * LTC(x) (Eq. 10).

    (B, C, T, V) -> (B, C, ceil(T / stride), V). A single branch is used as is.
    """

    def __init__(self, channels: int, stride: int, config: HGLNetConfig):
        super().__init__()
        self.gta = GlobalTemporalAttention(channels, channels, stride, config.gta_reduction) if config.use_gta else None
        use_ltc = config.use_ltc or not config.use_gta
        self.ltc = (
            MultiScaleTemporalConv(channels, channels, config.temporal_kernel_size, stride, config.temporal_dilations)
            if use_ltc
            else None
        )
        self.fusion = nn.Parameter(torch.ones(2)) if (self.gta is not None and self.ltc is not None) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fusion is None:
            return self.gta(x) if self.gta is not None else self.ltc(x)
        return self.fusion[0] * self.gta(x) + self.fusion[1] * self.ltc(x)

    def _reset_parameters(self):
        if self.fusion is not None:
            init.ones_(self.fusion)


class HGLNetBlock(GradientCheckpointingLayer):
    """One HGLNet block: CTS -> DHT, plus a (strided) residual and ReLU. (B, C_in, T, V) -> (B, C_out, T', V)."""

    def __init__(
        self,
        config: HGLNetConfig,
        in_channels: int,
        out_channels: int,
        stride: int,
        residual: bool,
        adjacency: torch.Tensor,
    ):
        super().__init__()
        self.spatial = CompositeTopologySpatial(in_channels, out_channels, adjacency, config)
        self.temporal = DualPathHierarchicalTemporal(out_channels, stride, config)
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = TemporalConv(in_channels, out_channels, kernel_size=1, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.temporal(self.spatial(x))
        if self.residual is not None:
            y = y + self.residual(x)
        return F.relu(y)


class HGLNetPreTrainedModel(SkeletonPreTrainedModel):
    config_class = HGLNetConfig
    base_model_prefix = "hglnet"
    _no_split_modules = ["HGLNetBlock"]


class HGLNetModel(HGLNetPreTrainedModel):
    """HGLNet backbone: (N, C, T, V, M) skeletons -> pooled (N, C_last) features."""

    def __init__(self, config: HGLNetConfig):
        super().__init__(config)
        layout = get_layout(config.layout)
        self.num_joints = layout.num_joints
        adjacency = torch.from_numpy(layout.adjacency())
        self.data_bn = nn.BatchNorm1d(config.num_persons * layout.num_joints * config.in_channels)
        channels = [config.in_channels, *config.hidden_sizes]
        self.blocks = nn.ModuleList(
            HGLNetBlock(config, channels[i], channels[i + 1], stride, residual=i > 0, adjacency=adjacency)
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
            (N, C_last), the mean over persons, frames and joints.
        """
        check_inputs(self.config, skeletons=skeletons)
        last, hidden_states = run_graph_blocks(self.data_bn, self.blocks, skeletons, output_hidden_states)
        return SkeletonModelOutput(
            last_hidden_state=last,
            pooler_output=safe_mean(last, (2, 3, 4)),
            hidden_states=hidden_states if output_hidden_states else None,
        )


class HGLNetForSkeletonClassification(HGLNetPreTrainedModel):
    """HGLNet with mean pooling and a linear classifier (the T0 baseline of Table 6)."""

    loss_input_names = ("labels",)

    def __init__(self, config: HGLNetConfig):
        super().__init__(config)
        self.hglnet = HGLNetModel(config)
        self.dropout = nn.Dropout(config.dropout)
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
        features = self.hglnet(skeletons, output_hidden_states=output_hidden_states)
        logits = self.classifier(self.dropout(features.pooler_output))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels.to(logits.device).long())
        return SkeletonClassifierOutput(
            loss=loss, logits=logits, pooler_output=features.pooler_output, hidden_states=features.hidden_states
        )

    def _reset_parameters(self):
        classifier_init(self.classifier)
