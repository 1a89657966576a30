import collections
import copy
import itertools
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from einops import rearrange
from safetensors.torch import load_file
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from skeleton_models import HGLNetConfig, HGLNetForSkeletonClassification, HGLNetModel, SkeletonProcessor
from skeleton_models.conversion import ConversionError, convert_official
from skeleton_models.data import read_clip
from skeleton_models.layers import ChannelTopologyRefinement, MultiScaleTemporalConv, relation_channels, subset_conv
from skeleton_models.models.hglnet.modeling_hglnet import (
    GlobalSpatialModulation,
    GlobalTemporalAttention,
    LocalSpatialEnhancement,
    safe_mean,
)
from skeleton_models.skeletons import get_layout

from .model_tester import ModelTesterMixin
from .paths import REAL_SAMPLES, needs_shared

TINY = dict(hidden_sizes=[8, 8, 16], strides=[1, 2, 1], num_labels=5, lse_hidden_size=4)
SWITCHES = ["use_gsm", "use_lse", "use_gta", "use_ltc"]
REAL_NTU_CLIP = REAL_SAMPLES / "ntu_rgbd" / "S001C001P001R001A001.skeleton"


class TestHGLNet(ModelTesterMixin):
    model_type = "hglnet"

    def expected_output_shapes(self, config, model_class):
        n, t, c = self.batch_size, self.frames, config.hidden_sizes[-1]
        if model_class is HGLNetModel:  # temporal strides 1, 2, 1
            return {"last_hidden_state": (n, c, t // 2, 25, 2), "pooler_output": (n, c)}
        return {"logits": (n, config.num_labels), "pooler_output": (n, c)}


def tiny_config(**kwargs):
    return HGLNetConfig(**{**TINY, **kwargs})


@pytest.mark.parametrize("switches", list(itertools.product([False, True], repeat=4)))
def test_every_ablation_combination_runs_forward_and_backward(switches):
    """Each combination runs the modules its switches name in every block, and only those (GSM or CTR-GC's
    refinement, LSE, GTA, LTC = the multi-scale TCN when GTA is off); the pooled features are the mean of the last
    block's output and the logits the classifier's; every parameter gets a finite gradient."""
    use_gsm, use_lse, use_gta, use_ltc = switches
    torch.manual_seed(0)
    model = HGLNetForSkeletonClassification(tiny_config(**dict(zip(SWITCHES, switches))))
    ran = collections.Counter()
    kinds = (GlobalSpatialModulation, ChannelTopologyRefinement, LocalSpatialEnhancement, GlobalTemporalAttention)
    for module in model.modules():
        if isinstance(module, (*kinds, MultiScaleTemporalConv)):
            module.register_forward_hook(lambda m, args, out: ran.update([type(m).__name__]))
    x = torch.randn(3, 3, 12, 25, 2)
    out = model(x, labels=torch.tensor([0, 1, 4]), output_hidden_states=True)
    blocks = len(model.hglnet.blocks)
    assert dict(ran) == {
        name: blocks * on
        for name, on in [
            ("GlobalSpatialModulation", use_gsm),
            ("ChannelTopologyRefinement", not use_gsm),
            ("LocalSpatialEnhancement", use_lse),
            ("GlobalTemporalAttention", use_gta),
            ("MultiScaleTemporalConv", use_ltc or not use_gta),
        ]
        if on
    }
    assert out.logits.shape == (3, 5) and out.pooler_output.shape == (3, 16)
    assert [h.shape for h in out.hidden_states] == [(3, 8, 12, 25, 2), (3, 8, 6, 25, 2), (3, 16, 6, 25, 2)]
    torch.testing.assert_close(out.pooler_output, out.hidden_states[-1].mean(dim=(2, 3, 4)))
    torch.testing.assert_close(out.logits, model.classifier(out.pooler_output))  # dropout 0
    out.loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert torch.allclose(out.loss, torch.nn.functional.cross_entropy(out.logits, torch.tensor([0, 1, 4])))


def _count(model, cls):
    return sum(isinstance(m, cls) for m in model.modules())


def test_switches_select_the_modules():
    full = HGLNetModel(tiny_config())
    assert _count(full, GlobalSpatialModulation) == 3 and _count(full, LocalSpatialEnhancement) == 3
    assert _count(full, GlobalTemporalAttention) == 3 and _count(full, ChannelTopologyRefinement) == 0
    baseline = HGLNetModel(tiny_config(use_gsm=False, use_lse=False, use_gta=False, use_ltc=False))
    assert _count(baseline, GlobalSpatialModulation) + _count(baseline, LocalSpatialEnhancement) == 0
    assert _count(baseline, GlobalTemporalAttention) == 0 and _count(baseline, ChannelTopologyRefinement) == 3
    gta_only = HGLNetModel(tiny_config(use_ltc=False))
    assert all(block.temporal.ltc is None and block.temporal.fusion is None for block in gta_only.blocks)
    # Without GTA the temporal module is the multi-scale TCN (= LTC) whatever use_ltc says.
    no_gta = HGLNetModel(tiny_config(use_gta=False, use_ltc=False))
    assert all(block.temporal.ltc is not None and block.temporal.gta is None for block in no_gta.blocks)


def _official_ctrgc_extra_macs(model, x):
    """MACs the official CTR-GC spends on conv1/conv2 over all T frames, which this implementation does on the
    temporal mean (one frame): 2 convs x C_in x rel x (T - 1) x V per sequence."""
    extra = []

    def hook(module, inputs, _):
        b, c_in, t, v = inputs[0].shape
        extra.append(2 * c_in * module.conv1.out_channels * (t - 1) * v * b)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, ChannelTopologyRefinement)]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return sum(extra)


def test_baseline_matches_official_ctrgcn_size_and_cost():
    """All switches off is CTR-GCN: 1.447 M parameters and 1.955 GMACs for (1, 3, 64, 25, 2), measured from the
    official code (../shared/research/peers.md section 3.1)."""
    model = HGLNetForSkeletonClassification(HGLNetConfig.from_preset("ctrgcn")).eval()
    params = sum(p.numel() for p in model.parameters())
    assert abs(params - 1.447e6) / 1.447e6 < 0.02
    assert params == 1_446_672  # exactly the official count
    x = torch.randn(1, 3, 64, 25, 2)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    macs = counter.get_total_flops() / 2
    official_order_macs = macs + _official_ctrgc_extra_macs(model, x)
    assert abs(official_order_macs - 1.955e9) / 1.955e9 < 0.02
    assert macs < official_order_macs  # the temporal mean first saves ~9 %, with the same output


def test_ctrgc_mean_first_equals_official_conv_first():
    torch.manual_seed(0)
    refine = ChannelTopologyRefinement(16, 32, num_subsets=3)
    x = torch.randn(2, 16, 10, 25)
    rel = relation_channels(16)
    x1 = refine.conv1(x).mean(-2)  # official order: conv over all frames, then the temporal mean
    x2 = refine.conv2(x).mean(-2)
    official = refine.conv4(torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2)))
    torch.testing.assert_close(torch.stack(refine(x), 1), official.view(2, 3, 32, 25, 25), rtol=1e-5, atol=1e-5)
    assert refine.conv1.out_channels == 3 * rel


def test_paper_size_hglnet_is_constructed():
    config = HGLNetConfig()
    assert config.num_labels == 60 and config.hidden_sizes == [64, 64, 64, 64, 128, 128, 128, 256, 256, 256]
    assert all(getattr(config, s) for s in SWITCHES)
    model = HGLNetForSkeletonClassification(config)
    # Regression guard: update together with any deliberate change of the architecture.
    assert sum(p.numel() for p in model.parameters()) == 2_732_730


def _within(std: float, expected: float, tolerance: float = 0.15) -> bool:
    return abs(std / expected - 1) < tolerance


def test_ctrgcn_preset_starts_as_ctrgcn():
    """Every layer of the `ctrgcn` preset starts as in the official CTR-GCN (model/ctrgcn.py: conv_init =
    Kaiming normal fan-out and zero bias; bn_init(bn, 1) except the graph BN at 1e-6; MS-TCN's weights_init
    draws its BN scales from N(1, 0.02); the classifier ~ N(0, sqrt(2 / num_class)); PA = A, alpha = 0).
    On transformers 5 without the base-class fix the containers' convolutions stayed at N(0, 0.02)."""
    torch.manual_seed(0)
    model = HGLNetForSkeletonClassification(HGLNetConfig.from_preset("ctrgcn"))
    adjacency = torch.from_numpy(get_layout("ntu25").adjacency())
    ms_tcn = {id(m) for tcn in model.modules() if isinstance(tcn, MultiScaleTemporalConv) for m in tcn.modules()}
    graph_bns = {id(block.spatial.bn) for block in model.hglnet.blocks}
    convs = bns = 0
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            groups = 3 if name.endswith(("spatial.features", "conv1", "conv2", "conv4")) else 1
            fan_out = module.weight.shape[0] // groups * module.weight[0, 0].numel()
            assert _within(module.weight.std().item(), (2 / fan_out) ** 0.5), (name, module.weight.std().item())
            assert torch.all(module.bias == 0), name
            convs += 1
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            assert torch.all(module.bias == 0), name
            if id(module) in graph_bns:
                assert torch.all(module.weight == 1e-6), name
            elif id(module) in ms_tcn:
                assert abs(module.weight.mean().item() - 1) < 0.02 and 0.005 < module.weight.std().item() < 0.05, name
            else:
                assert torch.all(module.weight == 1), name
            bns += 1
    # per block CTR-GC's conv1, conv2, conv4 and conv3 (fused over subsets) and MS-TCN's 6 convs; 3 graph-unit
    # `down` convs and 2 strided residual convs where the width changes
    assert convs == 10 * 4 + 10 * 6 + 3 + 2
    for block in model.hglnet.blocks:
        assert torch.equal(block.spatial.shared_topology.data, adjacency) and block.spatial.alpha.item() == 0.0
    assert _within(model.classifier.weight.std().item(), (2 / 60) ** 0.5, 0.1)
    assert torch.all(model.classifier.bias == 0) and bns > 0


def test_other_layouts_and_channels():
    model = HGLNetForSkeletonClassification(tiny_config(layout="coco17", in_channels=3, num_persons=1))
    assert model(torch.randn(2, 3, 8, 17, 1)).logits.shape == (2, 5)
    hands = HGLNetForSkeletonClassification(tiny_config(layout="mediapipe_hand21", in_channels=2, num_persons=4))
    assert hands(torch.randn(1, 2, 8, 21, 4)).logits.shape == (1, 5)


@pytest.mark.parametrize(
    "x, message",
    [
        (torch.randn(2, 3, 8, 25), "got a 4-D tensor"),
        (torch.randn(2, 2, 8, 25, 2), r"C=3"),
        (torch.randn(2, 3, 8, 24, 2), r"V=25"),
        (torch.randn(2, 3, 8, 25, 3), r"M=2"),
        (torch.zeros(2, 3, 8, 25, 2, dtype=torch.long), "floating-point"),
        (torch.full((1, 3, 8, 25, 2), float("nan")), "NaN"),
        ([[1.0]], "torch.Tensor"),
    ],
)
def test_bad_input_raises_a_clear_error(x, message):
    model = HGLNetModel(tiny_config())
    with pytest.raises(ValueError, match=message):
        model(x)


def test_config_validation_and_presets():
    with pytest.raises(ValueError, match="same length"):
        HGLNetConfig(hidden_sizes=[8, 8], strides=[1])
    with pytest.raises(ValueError, match="multiple of the 4 temporal branches"):
        HGLNetConfig(hidden_sizes=[6], strides=[1])
    with pytest.raises(ValueError, match="unknown hglnet preset"):
        HGLNetConfig.from_preset("huge")
    small = HGLNetConfig.from_preset("hglnet-small", num_labels=23)
    assert small.num_labels == 23 and len(small.hidden_sizes) == 6
    restored = HGLNetConfig.from_dict(small.to_dict())
    assert restored.hidden_sizes == small.hidden_sizes and restored.use_gta
    coco = HGLNetConfig.from_preset("hglnet-small", layout="coco17", num_persons=1)
    assert coco.input_specs[0].layout == "coco17" and coco.input_specs[0].persons == 1


def test_graph_aggregate_equals_the_einsum_for_every_topology_shape():
    from skeleton_models.layers import graph_aggregate

    torch.manual_seed(0)
    features = torch.randn(4, 3, 8, 10, 25)
    for topology in (torch.randn(4, 3, 8, 25, 25), torch.randn(4, 3, 1, 25, 25), torch.randn(3, 1, 25, 25)):
        reference = torch.einsum("bkcuv,bkctv->bctu", topology.expand(4, 3, 8, 25, 25), features)
        per_subset = topology.unbind(-4) if topology.dim() == 5 else topology.squeeze(1).unbind(0)
        aggregated = graph_aggregate(per_subset, features.unbind(1))
        torch.testing.assert_close(aggregated, reference, rtol=1e-5, atol=1e-4)


def test_ctrgcn_graph_unit_equals_the_official_per_subset_formula():
    """The whole CTR-GCN graph unit (switches off), recomputed as the official unit_gcn + CTRGC do it: per subset,
    conv1/conv2 on every frame then the temporal mean, tanh of the differences, conv4 * alpha + PA, aggregation
    'ncuv,nctv->nctu' of conv3's features, summed over subsets, BatchNorm, `down` residual, ReLU."""
    torch.manual_seed(0)
    model = HGLNetModel(tiny_config(use_gsm=False, use_lse=False, use_gta=False, use_ltc=False)).eval()
    unit = model.blocks[1].spatial  # 8 -> 8 channels
    with torch.no_grad():
        for p in unit.parameters():
            p.add_(0.1 * torch.randn_like(p))  # alpha and the BN away from their initial values
        for name in ("running_mean", "running_var"):
            getattr(unit.bn, name).uniform_(0.5, 1.5)
    x = torch.randn(2, 8, 12, 25)
    k, c_out = unit.num_subsets, unit.bn.num_features
    refine = unit.global_topology
    w1, w2 = refine.conv1.weight.view(k, -1, 8), refine.conv2.weight.view(k, -1, 8)
    b1, b2 = refine.conv1.bias.view(k, -1), refine.conv2.bias.view(k, -1)
    w3, b3 = unit.features.weight.view(k, c_out, 8), unit.features.bias.view(k, c_out)
    w4 = refine.conv4.weight.view(k, c_out, -1)
    b4 = refine.conv4.bias.view(k, c_out)
    y = 0
    for i in range(k):
        x1 = (torch.einsum("rc,nctv->nrtv", w1[i], x) + b1[i][:, None, None]).mean(-2)  # every frame, then mean
        x2 = (torch.einsum("rc,nctv->nrtv", w2[i], x) + b2[i][:, None, None]).mean(-2)
        x3 = torch.einsum("oc,nctv->notv", w3[i], x) + b3[i][:, None, None]
        relation = torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2))
        a = torch.einsum("or,nruv->nouv", w4[i], relation) + b4[i][:, None, None]
        a = a * unit.alpha + unit.shared_topology[i]
        y = y + torch.einsum("ncuv,nctv->nctu", a, x3)
    expected = torch.relu(unit.bn(y) + x)
    with torch.no_grad():
        torch.testing.assert_close(unit(x), expected, rtol=1e-4, atol=1e-5)


def test_ctrgcn_whole_block_equals_the_official_formula():
    """One whole CTR-GCN block (switches off) -- graph unit, multi-scale TCN and residual -- recomputed with plain
    functional calls from its weights as the official TCN_GCN_unit and MultiScale_TemporalConv compute it:
    relu(tcn(gcn(x)) + residual(x)), tcn = concat of [1x1 -> BN -> ReLU -> (5x1, dilation d) -> BN] for d = 1, 2,
    [1x1 -> BN -> ReLU -> max-pool 3 -> BN] and [strided 1x1 -> BN]; residual = strided 1x1 -> BN."""
    torch.manual_seed(0)
    config = tiny_config(
        use_gsm=False, use_lse=False, use_gta=False, use_ltc=False, hidden_sizes=[8, 16], strides=[1, 2]
    )
    block = HGLNetModel(config).blocks[1].eval()  # 8 -> 16 channels, temporal stride 2: a projecting residual
    with torch.no_grad():
        for module in block.modules():
            if isinstance(module, torch.nn.BatchNorm2d):  # statistics away from their initial values
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 1.5)
    x = torch.randn(2, 8, 12, 25)

    def bn(module, y):
        return F.batch_norm(
            y, module.running_mean, module.running_var, module.weight, module.bias, False, 0.0, module.eps
        )

    def conv(module, y, stride=1, dilation=1):
        pad = (module.kernel_size[0] - 1) * dilation // 2
        return F.conv2d(y, module.weight, module.bias, stride=(stride, 1), padding=(pad, 0), dilation=(dilation, 1))

    tcn = block.temporal.ltc
    gcn = block.spatial(x)  # the graph unit: its own test above
    branches = []
    for branch, dilation in zip(tcn.branches[:2], (1, 2)):
        hidden = F.relu(bn(branch[1], conv(branch[0], gcn)))
        branches.append(bn(branch[3].bn, conv(branch[3].conv, hidden, stride=2, dilation=dilation)))
    pool = tcn.branches[2]
    hidden = F.relu(bn(pool[1], conv(pool[0], gcn)))
    branches.append(bn(pool[4], F.max_pool2d(hidden, (3, 1), stride=(2, 1), padding=(1, 0))))
    point = tcn.branches[3]
    branches.append(bn(point[1], F.conv2d(gcn, point[0].weight, point[0].bias, stride=(2, 1))))
    residual = bn(block.residual.bn, F.conv2d(x, block.residual.conv.weight, block.residual.conv.bias, stride=(2, 1)))
    expected = F.relu(torch.cat(branches, 1) + residual)
    with torch.no_grad():
        torch.testing.assert_close(block(x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("use_lse", [False, True])
def test_gsm_off_none_removes_the_global_spatial_branch(use_lse):
    """Table 5's "Only LSE" / "w/o GSM" read strictly: with ``gsm_off="none"`` the topology is the local one alone
    (LSE's, or PA), no CTR-GC refinement; the default keeps switches-off = CTR-GCN."""
    torch.manual_seed(0)
    config = tiny_config(use_gsm=False, use_lse=use_lse, gsm_off="none")
    model = HGLNetForSkeletonClassification(config)
    unit = model.hglnet.blocks[1].spatial
    assert not hasattr(unit, "global_topology") and not hasattr(unit, "alpha")
    default = HGLNetForSkeletonClassification(tiny_config(use_gsm=False, use_lse=use_lse))
    refinement = default.hglnet.blocks[1].spatial.global_topology
    assert isinstance(refinement, ChannelTopologyRefinement)
    removed = sum(p.numel() for m in default.hglnet.blocks for p in m.spatial.global_topology.parameters())
    alphas = len(default.hglnet.blocks)
    assert sum(p.numel() for p in default.parameters()) - sum(p.numel() for p in model.parameters()) == removed + alphas
    x = torch.randn(2, 3, 12, 25, 2)
    out = model(x, labels=torch.tensor([0, 1]))
    out.loss.backward()
    assert all(p.grad is not None for n, p in model.named_parameters() if not n.endswith("fusion")), "gradients"
    if not use_lse:  # PA alone: each subset's output is sum_v PA_k[u, v] * conv3_k(x)[v]
        unit.eval()
        h = torch.randn(2, 8, 6, 25)
        features = unit.features(h).view(2, unit.num_subsets, -1, 6, 25)
        expected = torch.einsum("kuv,nkctv->nctu", unit.shared_topology, features)
        with torch.no_grad():
            torch.testing.assert_close(unit(h), torch.relu(unit.bn(expected) + unit.down(h)), rtol=1e-4, atol=1e-5)
    for preset in ("table5-only-local-no-global", "table5-without-gsm-no-global"):
        assert HGLNetConfig.from_preset(preset).gsm_off == "none"
    with pytest.raises(ValueError, match="gsm_off"):
        tiny_config(gsm_off="off")


# -- numerics: any finite input ------------------------------------------------------------------------------------
def old_gta(gta, x):
    """GTA as computed before the overflow guard: SDPA on the unscaled queries and keys."""
    q = rearrange(gta.query(x[:, :, :: gta.stride]), "b c t v -> b 1 t (c v)")
    k = rearrange(gta.key(x), "b c t v -> b 1 t (c v)")
    values = rearrange(gta.value(x), "b c t v -> b 1 t (c v)")
    out = F.scaled_dot_product_attention(q, k, values)
    return gta.bn(rearrange(out, "b 1 t (c v) -> b c t v", v=x.shape[-1]))


def old_gsm(gsm, nodes):
    """GSM's topologies as computed before the overflow guard: SDPA, and the norms of the unscaled q and k."""
    b, num_subsets, r, v = nodes.shape
    heads = num_subsets * r
    tokens = torch.matmul(nodes, gsm.lift_weight.transpose(-1, -2)) + gsm.lift_bias[:, None]
    projection = rearrange(gsm.qkv_weight, "c k w v -> k v (c w)")
    qkv = torch.matmul(tokens.view(b, num_subsets, r * v, v), projection)
    q, key, value = qkv.view(b, heads, v, 3 * v).split(v, dim=-1)
    tokens = tokens.view(b, heads, v, v)
    base = F.scaled_dot_product_attention(q, key, value)
    dots = q @ key.transpose(-1, -2)
    q_norm, k_norm = q.norm(dim=-1), key.norm(dim=-1)
    sim = dots / (q_norm.unsqueeze(-1) * k_norm.unsqueeze(-2)).clamp_min(1e-6)
    sq_dist = q_norm.pow(2).unsqueeze(-1) + k_norm.pow(2).unsqueeze(-2) - 2 * dots
    diff = torch.sigmoid(sq_dist.clamp_min(1e-12).sqrt())
    lam_sim, lam_diff, lam_res = (p.view(1, heads, 1, 1) for p in (gsm.lambda_sim, gsm.lambda_diff, gsm.lambda_res))
    topologies = base * (1 + lam_sim * sim) + lam_diff * diff + lam_res * tokens
    return torch.stack(subset_conv(gsm.project, topologies, num_subsets))


def attention_modules():
    """(name, module, input, new forward, old forward): GTA and GSM with every parameter away from its initial
    value (GSM's similarity and difference terms switched on), in evaluation mode."""
    torch.manual_seed(0)
    gta = GlobalTemporalAttention(8, 8, stride=2, reduction=2).eval()
    gsm = GlobalSpatialModulation(num_subsets=3, relation_channels=4, out_channels=8, num_joints=25)
    with torch.no_grad():
        for module in (gta, gsm):
            module._reset_parameters()  # (standalone: no model's post_init; GSM's parameters start empty)
            for p in module.parameters():
                p.add_(0.3 * torch.randn_like(p))
        gta.bn.running_mean.uniform_(-0.5, 0.5)
        gta.bn.running_var.uniform_(0.5, 1.5)
    return [
        ("gta", gta, torch.randn(2, 8, 10, 25), lambda m, x: m(x), old_gta),
        ("gsm", gsm, torch.randn(2, 3, 4, 25), lambda m, x: torch.stack(m(x)), old_gsm),
    ]


def _as_float64(module):
    return copy.deepcopy(module).double()


def test_attention_is_the_same_function_for_normal_inputs():
    """GTA's and GSM's overflow guard leaves the formula as it was: in float64, new == old to rounding; in float32,
    new = the old formula's float64 value to float32 precision."""
    for name, module, x, new, old in attention_modules():
        exact, module64 = _as_float64(module), _as_float64(module)
        with torch.no_grad():
            reference = old(exact, x.double())
            torch.testing.assert_close(new(module64, x.double()), reference, rtol=1e-12, atol=1e-12, msg=name)
            tolerance = 1e-5 * reference.abs().max().item()  # float32 rounding, as the old code's in float32
            torch.testing.assert_close(new(module, x).double(), reference, rtol=1e-5, atol=tolerance, msg=name)


@pytest.mark.parametrize("scale", [1e10, 1e20, 1e30])
def test_attention_is_finite_for_any_finite_input(scale):
    """Queries and keys beyond ~1e19 overflow float32 in their product (the old code: NaN from 1e20 on) although
    the attention (a convex combination of values), the cosine and the sigmoid of the distance are in range: the
    float32 result is finite and equals the old formula evaluated in float64."""
    for name, module, x, new, old in attention_modules():
        with torch.no_grad():
            got = new(module, x * scale)
            reference = old(_as_float64(module), x.double() * scale)
        assert torch.isfinite(got).all(), name
        torch.testing.assert_close(got.double(), reference, rtol=1e-4, atol=1e-5 * reference.abs().max().item())


def test_the_pooled_mean_cannot_overflow():
    """The pooled features are the mean over frames, joints and persons, bit for bit; where the sum of the last
    features would overflow float32 and their mean does not, the mean still comes out."""
    torch.manual_seed(0)
    model = HGLNetModel(tiny_config()).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 12, 25, 2))
    assert torch.equal(out.pooler_output, out.last_hidden_state.mean(dim=(2, 3, 4)))
    huge = torch.full((2, 16, 32, 25, 2), 3e37)
    assert torch.isinf(huge.mean(dim=(2, 3, 4))).all()  # the plain mean overflows
    torch.testing.assert_close(safe_mean(huge, (2, 3, 4)), torch.full((2, 16), 3e37))


@needs_shared(REAL_NTU_CLIP)
@pytest.mark.parametrize("scale", [1e4, 1e6])
def test_a_real_clip_in_another_unit_gives_finite_logits(scale):
    """A real NTU clip scaled by 10^4 or 10^6 (coordinates in another unit): finite logits, equal to the same model
    in float64. The old code gave NaN at 10^6.

    Two blocks: HGLNet is not scale-equivariant. LSE's energy X^T X and the aggregation A X make a block's output
    grow up to the cube of its input, so the exact values (float64) of the 3-block test model reach ~1e43 before
    block 3's graph BatchNorm at 10^4 and 4e62 in its logits at 10^5 (the paper's 10-block model overflows even
    float64 at 10^2): no float32 evaluation of these equations can be finite there."""
    clip = read_clip(REAL_NTU_CLIP)
    x = SkeletonProcessor()(clip * scale)["skeletons"]
    torch.manual_seed(0)
    model = HGLNetForSkeletonClassification(tiny_config(hidden_sizes=[8, 16], strides=[1, 2])).eval()
    with torch.no_grad():
        logits = model(x).logits
        exact = _as_float64(model)(x.double()).logits
    assert torch.isfinite(logits).all()
    assert exact.abs().max() > 1e10  # far from the logits of normal inputs (~1)
    torch.testing.assert_close(logits.double(), exact, rtol=1e-4, atol=1e-5 * exact.abs().max().item())


# -- GSM, LSE and GTA against the paper's equations, in plain loops --------------------------------------------------
def _softmax(row: list[float]) -> list[float]:
    top = max(row)
    weights = [math.exp(x - top) for x in row]
    return [w / sum(weights) for w in weights]


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _perturbed(module):
    """A standalone module (no model's post_init: its own initialisation) in float64, evaluation mode, every
    parameter moved off its initial value."""
    torch.manual_seed(0)
    module._reset_parameters()
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return module.double().eval()


def gsm_by_the_paper(gsm, nodes, weight: float, printed_projections=False, bias=False):
    """Eq. 1 (second line) to Eq. 5 and Eq. 7's lambda_g, one sample b, subset k and channel i at a time, over
    joints u, v and token features w.

    Readings where the paper's notation leaves a choice: X~_i = Linear(X_i) maps channel i's N joint values to an
    N x N matrix whose row u is joint u's token (one Linear per subset, shared by its channels); A_sim and A_diff
    compare joint u's query with joint v's key; X^_i of Eq. 5 is X~_i. Q_i = X~_i W_Q^T (the code's reading), or
    with ``printed_projections`` W_Q X~_i as Eq. 2 prints it; W^0 without a bias (Eq. 5), or with ``bias`` the
    code's."""
    x = nodes.tolist()
    batch, subsets, channels, n = nodes.shape
    lift_w, lift_b, w_qkv = gsm.lift_weight.tolist(), gsm.lift_bias.tolist(), gsm.qkv_weight.tolist()
    lam_sim, lam_diff, lam_res = gsm.lambda_sim.tolist(), gsm.lambda_diff.tolist(), gsm.lambda_res.tolist()
    w0, b0 = gsm.project.weight[:, :, 0, 0].tolist(), gsm.project.bias.tolist()
    out_channels = gsm.project.out_channels // subsets
    out = [[[[[0.0] * n for _ in range(n)] for _ in range(out_channels)] for _ in range(batch)] for _ in range(subsets)]
    for b in range(batch):
        for k in range(subsets):
            fused = []  # A_g^i + lambda_i X^_i for every channel i
            for i in range(channels):
                xt = [[0.0] * n for _ in range(n)]  # Eq. 1: X~_i = Linear(X_i)
                for u in range(n):
                    for w in range(n):
                        xt[u][w] = sum(lift_w[k][u * n + w][j] * x[b][k][i][j] for j in range(n)) + lift_b[k][u * n + w]
                projected = []  # Eq. 2: Q_i, K_i, V_i
                for m in range(3):
                    p = [[0.0] * n for _ in range(n)]
                    for u in range(n):
                        for w in range(n):
                            if printed_projections:
                                p[u][w] = sum(w_qkv[m][k][u][j] * xt[j][w] for j in range(n))
                            else:
                                p[u][w] = sum(xt[u][j] * w_qkv[m][k][w][j] for j in range(n))
                    projected.append(p)
                q, key, value = projected
                a = [[0.0] * n for _ in range(n)]
                for u in range(n):
                    dots = [sum(q[u][w] * key[v][w] for w in range(n)) for v in range(n)]
                    attention = _softmax([dot / math.sqrt(n) for dot in dots])
                    for v in range(n):
                        base = sum(attention[j] * value[j][v] for j in range(n))  # Eq. 2
                        norms = math.sqrt(sum(e * e for e in q[u])) * math.sqrt(sum(e * e for e in key[v]))
                        sim = dots[v] / norms  # Eq. 3
                        diff = _sigmoid(math.sqrt(sum((q[u][w] - key[v][w]) ** 2 for w in range(n))))
                        a_g = base * (1 + lam_sim[k][i] * sim) + lam_diff[k][i] * diff  # Eq. 4
                        a[u][v] = a_g + lam_res[k][i] * xt[u][v]  # Eq. 5's A_g^i + lambda_i X^_i
                fused.append(a)
            for c in range(out_channels):  # Eq. 5: Concat(...) W^0; Eq. 7: times lambda_g
                row = k * out_channels + c
                for u in range(n):
                    for v in range(n):
                        total = sum(w0[row][i] * fused[i][u][v] for i in range(channels)) + (b0[row] if bias else 0.0)
                        out[k][b][c][u][v] = weight * total
    return torch.tensor(out, dtype=torch.float64)


def _gsm_case(bias: bool):
    gsm = _perturbed(GlobalSpatialModulation(num_subsets=2, relation_channels=3, out_channels=2, num_joints=4))
    if not bias:
        with torch.no_grad():
            gsm.project.bias.zero_()
    return gsm, torch.randn(2, 2, 3, 4, dtype=torch.float64)


def _check_gsm(gsm, nodes, expected):
    with torch.no_grad():
        got = torch.stack(gsm(nodes, torch.tensor(0.7, dtype=torch.float64)))  # (K, B, C, V, V)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_gsm_is_eqs_1_to_5():
    gsm, nodes = _gsm_case(bias=False)
    _check_gsm(gsm, nodes, gsm_by_the_paper(gsm, nodes, 0.7))


@pytest.mark.xfail(
    strict=True,
    reason="Eq. 2 prints Q_i = W_Q X~_i (W_Q left-multiplies X~_i: it mixes joints); the code projects each joint's "
    "token, X~_i W_Q^T (GlobalSpatialModulation.forward: `qkv = torch.matmul(tokens, projection)`, a 'Reading:' "
    "in its __init__)",
)
def test_gsm_projects_as_eq_2_prints():
    gsm, nodes = _gsm_case(bias=False)
    _check_gsm(gsm, nodes, gsm_by_the_paper(gsm, nodes, 0.7, printed_projections=True))


@pytest.mark.xfail(
    strict=True,
    reason="Eq. 5 is Concat(...) W^0, no bias; the code's W^0, GlobalSpatialModulation.project (nn.Conv2d), has a "
    "bias (zero at initialisation, learned)",
)
def test_gsm_eq_5_has_no_bias():
    gsm, nodes = _gsm_case(bias=True)
    _check_gsm(gsm, nodes, gsm_by_the_paper(gsm, nodes, 0.7))


def test_gsm_with_its_bias_is_eqs_1_to_5_plus_the_bias():
    """The deviation above is the bias alone."""
    gsm, nodes = _gsm_case(bias=True)
    _check_gsm(gsm, nodes, gsm_by_the_paper(gsm, nodes, 0.7, bias=True))


def lse_by_the_paper(lse, nodes):
    """Eq. 6 for every sample b and subset k, over joints u, v: E = X^T X, G = sigmoid(MLP(Flatten(X))),
    A_l = M . G . ReLU(E) + gamma M. Readings: the MLP is Linear -> ReLU -> Linear (the paper does not say), its
    output read as an N x N matrix; Flatten in (channel, joint) order."""
    x = nodes.tolist()
    batch, subsets, channels, n = nodes.shape
    mask, gamma = lse.mask.tolist(), lse.gamma.tolist()
    w1, b1 = lse.gate_in_weight.tolist(), lse.gate_in_bias.tolist()
    w2, b2 = lse.gate_out_weight.tolist(), lse.gate_out_bias.tolist()
    hidden_size = len(b1[0])
    out = [[[[0.0] * n for _ in range(n)] for _ in range(subsets)] for _ in range(batch)]
    for b in range(batch):
        for k in range(subsets):
            flat = [x[b][k][r][j] for r in range(channels) for j in range(n)]
            hidden = [
                max(0.0, sum(w1[k][h][f] * flat[f] for f in range(len(flat))) + b1[k][h]) for h in range(hidden_size)
            ]
            for u in range(n):
                for v in range(n):
                    energy = sum(x[b][k][r][u] * x[b][k][r][v] for r in range(channels))
                    gate = _sigmoid(sum(w2[k][u * n + v][h] * hidden[h] for h in range(hidden_size)) + b2[k][u * n + v])
                    out[b][k][u][v] = mask[k][u][v] * gate * max(energy, 0.0) + gamma[k] * mask[k][u][v]
    return torch.tensor(out, dtype=torch.float64)


def test_lse_is_eq_6():
    torch.manual_seed(1)
    mask = (torch.rand(2, 4, 4) < 0.5).double()  # a physical 0/1 mask per subset
    lse = _perturbed(LocalSpatialEnhancement(relation_channels=3, masks=mask, hidden_size=5))
    nodes = torch.randn(2, 2, 3, 4, dtype=torch.float64)  # energies of both signs: ReLU(E) matters
    with torch.no_grad():
        got = lse(nodes)
    assert got.shape == (2, 2, 1, 4, 4)
    torch.testing.assert_close(got[:, :, 0], lse_by_the_paper(lse, nodes), rtol=1e-10, atol=1e-10)


def gta_by_the_paper(gta, x):
    """Eq. 8 for every sample: S = Softmax(QK^T / sqrt(C N)) and S V, over frames i, j; frames are tokens of C x N
    features (channel c, joint n); phi_Q, phi_K, phi_V are 1x1 convolutions (over channels, per joint and frame).
    Reading: with stride s, the queries are every s-th frame."""
    xs = x.tolist()
    batch, c_in, frames, n = x.shape

    def phi(conv):  # [b][t][c * N + n]
        w, bias = conv.weight[:, :, 0, 0].tolist(), conv.bias.tolist()
        return [
            [
                [
                    sum(w[c][ci] * xs[b][ci][t][j] for ci in range(c_in)) + bias[c]
                    for c in range(len(bias))
                    for j in range(n)
                ]
                for t in range(frames)
            ]
            for b in range(batch)
        ]

    q, k, v = phi(gta.query), phi(gta.key), phi(gta.value)
    query_frames = range(0, frames, gta.stride)
    c_out = gta.value.out_channels
    out = [[[[0.0] * n for _ in query_frames] for _ in range(c_out)] for _ in range(batch)]
    for b in range(batch):
        for i, t in enumerate(query_frames):
            d = len(q[b][t])  # C N
            s = _softmax([sum(q[b][t][f] * k[b][j][f] for f in range(d)) / math.sqrt(d) for j in range(frames)])
            for c in range(c_out):
                for joint in range(n):
                    out[b][c][i][joint] = sum(s[j] * v[b][j][c * n + joint] for j in range(frames))
    return torch.tensor(out, dtype=torch.float64)


def _gta_case(stride: int, identity_norm: bool):
    gta = _perturbed(GlobalTemporalAttention(4, 3, stride=stride, reduction=1))  # Q, K with all C channels
    with torch.no_grad():
        if identity_norm:
            gta.bn.reset_parameters()
            gta.bn.eps = 0.0
        else:
            gta.bn.running_mean.uniform_(-0.5, 0.5)
            gta.bn.running_var.uniform_(0.5, 1.5)
    return gta, 2 * torch.randn(2, 4, 6, 5, dtype=torch.float64)


@pytest.mark.parametrize("stride", [1, 2])
def test_gta_is_eq_8(stride):
    """With its closing BatchNorm the identity (see the xfail test below)."""
    gta, x = _gta_case(stride, identity_norm=True)
    with torch.no_grad():
        torch.testing.assert_close(gta(x), gta_by_the_paper(gta, x), rtol=1e-10, atol=1e-10)


@pytest.mark.xfail(
    strict=True,
    reason="Eq. 8's output is S V; the code's GTA normalises it with a BatchNorm (GlobalTemporalAttention.bn, "
    "'a BatchNorm closes the branch like every LTC branch')",
)
def test_gta_eq_8_has_no_batchnorm():
    gta, x = _gta_case(1, identity_norm=False)
    with torch.no_grad():
        torch.testing.assert_close(gta(x), gta_by_the_paper(gta, x), rtol=1e-10, atol=1e-10)


CTRGCN_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "reference" / "ctrgcn.safetensors"


def test_ctrgcn_conversion_joins_the_subsets_and_refuses_a_missing_one():
    """The official CTR-GCN keeps one CTRGC per graph subset (``convs.<k>``); the conversion stacks subset k into rows
    k * C ... (k + 1) * C of our convolutions, and refuses a checkpoint without one of the subsets by name.
    (Parity with the official outputs: tests/test_parity.py on the same fixture.)"""
    official = {k.removeprefix("official."): v for k, v in load_file(CTRGCN_FIXTURE).items() if k[:9] == "official."}
    spatial = convert_official("ctrgcn", official).hglnet.blocks[4].spatial  # l5, a stride-2 unit
    width = official["l5.gcn1.convs.0.conv3.weight"].shape[0]  # the unit's output channels (the fixture's widths)
    relation = official["l5.gcn1.convs.0.conv1.weight"].shape[0]  # its relation channels
    assert spatial.features.weight.shape[0] == 3 * width  # the three subsets in one convolution
    for k in range(3):
        rows = slice(width * k, width * (k + 1))
        torch.testing.assert_close(spatial.features.weight[rows], official[f"l5.gcn1.convs.{k}.conv3.weight"])
        torch.testing.assert_close(spatial.global_topology.conv4.bias[rows], official[f"l5.gcn1.convs.{k}.conv4.bias"])
    torch.testing.assert_close(
        spatial.global_topology.conv1.weight[relation : 2 * relation], official["l5.gcn1.convs.1.conv1.weight"]
    )
    fewer = {key: value for key, value in official.items() if key != "l5.gcn1.convs.1.conv1.bias"}
    with pytest.raises(
        ConversionError,
        match=r"official keys with a part missing \(1: hglnet\.blocks\.4\.spatial\.global_topology\.conv1\.bias "
        r"has no part 1 \(parts of l5\.gcn1\.convs\.0\.conv1\.bias\)\)",
    ):
        convert_official("ctrgcn", fewer)
