"""Self-distillation building blocks of skeleton_models.layers.self_distillation (SLiM section 3 / appendix A, after
DINOv2): prototype head, Sinkhorn-Knopp and softmax centering, DINO / iBOT / KoLeo losses, schedules, EMA."""

import math

import pytest
import torch
from torch import nn

from skeleton_models.layers.self_distillation import (
    TEACHER_CENTERINGS,
    DINOHead,
    PrototypeLinear,
    SoftmaxCenter,
    cosine_schedule,
    dino_cross_entropy,
    ema_center,
    ema_update_,
    ibot_patch_loss,
    koleo_loss,
    sinkhorn_knopp,
    softmax_center,
    teacher_momentum_schedule,
    teacher_temperature_schedule,
)


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# -- head ----------------------------------------------------------------------------------------------------------
def test_dino_head_shapes_layers_and_state_dict():
    torch.manual_seed(0)
    head = DINOHead(16, 32, hidden_dim=24, bottleneck_dim=8)
    assert head(torch.randn(2, 5, 16)).shape == (2, 5, 32)
    assert head(torch.randn(3, 16)).shape == (3, 32)
    linears = [m for m in head.mlp if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(16, 24), (24, 24), (24, 8)]
    assert [type(m) for m in head.mlp].count(nn.GELU) == 2
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.LayerNorm)) for m in head.modules())
    keys = set(head.state_dict())
    assert keys == {"mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias", "mlp.4.weight", "mlp.4.bias"} | {
        "last_layer.weight"
    }
    assert not any("weight_g" in k or "weight_v" in k for k in keys)
    assert head.last_layer.weight.shape == (32, 8)
    single = DINOHead(16, 32, bottleneck_dim=8, num_layers=1)
    assert len(single.mlp) == 1 and single.mlp[0].out_features == 8


def test_prototypes_are_normalised_and_inputs_too():
    torch.manual_seed(0)
    head = DINOHead(16, 32, hidden_dim=24, bottleneck_dim=8)
    x = torch.randn(4, 16)
    out = head(x)
    assert out.abs().max() <= 1 + 1e-5  # cosine similarities
    with torch.no_grad():
        head.last_layer.weight.mul_(3.0)
    torch.testing.assert_close(head(x), out)
    # the equivalent (non-deprecated) weight norm with g = 1
    reference = nn.utils.parametrizations.weight_norm(nn.Linear(8, 32, bias=False))
    with torch.no_grad():
        reference.parametrizations.weight.original0.fill_(1.0)
        reference.parametrizations.weight.original1.copy_(head.last_layer.weight)
    z = torch.nn.functional.normalize(torch.randn(4, 8), dim=-1)
    torch.testing.assert_close(head.last_layer(z), reference(z))


def test_head_init_and_state_dict_round_trip():
    torch.manual_seed(0)
    head = DINOHead(64, 128, hidden_dim=256, bottleneck_dim=32)
    weight = head.mlp[2].weight
    assert abs(weight.std().item() - 0.02) < 0.002 and abs(weight.mean().item()) < 0.002
    assert all(m.bias.abs().max() == 0 for m in head.mlp if isinstance(m, nn.Linear))
    bound = 1 / math.sqrt(32)  # nn.Linear's default, as DINOv2's last layer
    assert head.last_layer.weight.abs().max() <= bound
    with torch.no_grad():
        head.mlp[0].bias.fill_(1.0)
    head._reset_parameters()
    assert head.mlp[0].bias.abs().max() == 0
    other = DINOHead(64, 128, hidden_dim=256, bottleneck_dim=32)
    other.load_state_dict(head.state_dict())
    x = torch.randn(3, 64)
    torch.testing.assert_close(other(x), head(x))
    prototypes = PrototypeLinear(4, 6)
    assert prototypes(torch.randn(2, 4)).shape == (2, 6)


# -- centering -----------------------------------------------------------------------------------------------------
def dinov2_sinkhorn(logits, temperature, iterations):
    """DINOv2's sinkhorn_knopp_teacher (single process), written out with its K x B layout and global scalings."""
    q = torch.exp(logits.double() / temperature).t()
    k, b = q.shape
    q = q / q.sum()
    for _ in range(iterations):
        q = q / q.sum(dim=1, keepdim=True) / k
        q = q / q.sum(dim=0, keepdim=True) / b
    return (q * b).t()


def test_sinkhorn_rows_sum_to_one_and_match_dinov2():
    logits = torch.randn(12, 7, generator=seeded()).requires_grad_()
    probs = sinkhorn_knopp(logits, 0.5, iterations=3)
    assert not probs.requires_grad  # teacher targets: no gradient
    assert probs.dtype == torch.float32 and probs.shape == (12, 7)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(12))
    torch.testing.assert_close(probs.double(), dinov2_sinkhorn(logits.detach(), 0.5, 3), atol=1e-6, rtol=1e-5)


def test_sinkhorn_balances_the_prototypes():
    logits = torch.randn(64, 8, generator=seeded(1)) * 2 + torch.linspace(0, 3, 8)  # skewed towards prototype 7
    temperature = 0.5
    plain = torch.softmax(logits / temperature, dim=1).sum(dim=0)
    assert plain.max() / plain.min() > 5  # the uncentred assignment is far from uniform
    balanced = sinkhorn_knopp(logits, temperature, iterations=100)
    torch.testing.assert_close(balanced.sum(dim=1), torch.ones(64))
    torch.testing.assert_close(balanced.sum(dim=0), torch.full((8,), 64 / 8), atol=1e-3, rtol=1e-3)
    few = sinkhorn_knopp(logits, temperature, iterations=3).sum(dim=0)
    assert (few - 8).abs().max() < (plain - 8).abs().max()


def test_sinkhorn_is_stable_and_float32():
    large = torch.tensor([[100.0, 0.0, -100.0], [0.0, 100.0, 50.0]], dtype=torch.bfloat16)
    probs = sinkhorn_knopp(large, 0.04)  # exp(2500) would overflow without the max subtraction
    assert probs.dtype == torch.float32 and torch.isfinite(probs).all()
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(2))
    assert sinkhorn_knopp(torch.zeros(0, 5), 0.07).shape == (0, 5)
    with pytest.raises(ValueError):
        sinkhorn_knopp(torch.zeros(2, 3, 4), 0.07)


def test_softmax_centering_and_ema_center():
    assert TEACHER_CENTERINGS == ("sinkhorn_knopp", "softmax_center")
    logits = torch.randn(6, 5, generator=seeded(2))
    centering = SoftmaxCenter(5)
    assert "center" in centering.state_dict()
    torch.testing.assert_close(centering(logits, 0.1), torch.softmax(logits / 0.1, dim=-1))
    centering.update(logits)
    torch.testing.assert_close(centering.center, 0.1 * logits.mean(dim=0))
    centering.update(logits)
    torch.testing.assert_close(centering.center, (0.9 * 0.1 + 0.1) * logits.mean(dim=0))
    # a per-prototype offset is removed by the matching centre; (..., K) inputs
    offset = torch.arange(5.0)
    torch.testing.assert_close(
        softmax_center(logits[None] + offset, offset, 0.2), torch.softmax(logits[None] / 0.2, dim=-1)
    )
    center = torch.ones(5)
    new = ema_center(center, logits.view(2, 3, 5), momentum=0.5)
    torch.testing.assert_close(new, 0.5 + 0.5 * logits.mean(dim=0))
    assert torch.equal(center, torch.ones(5))


# -- losses --------------------------------------------------------------------------------------------------------
def test_dino_cross_entropy_by_hand():
    student = torch.tensor([[0.1, 0.2, -0.3], [0.5, -0.5, 0.0]])
    teacher = torch.tensor([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    rows = []
    for s, t in zip(student.tolist(), teacher.tolist()):
        z = [v / 0.1 for v in s]
        log_norm = math.log(sum(math.exp(v) for v in z))
        rows.append(-sum(p * (v - log_norm) for p, v in zip(t, z)))
    expected = sum(rows) / len(rows)
    assert dino_cross_entropy(student, teacher, 0.1).item() == pytest.approx(expected, rel=1e-5)
    assert dino_cross_entropy(student[None], teacher[None], 0.1).item() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError):
        dino_cross_entropy(student, teacher[:1])


def test_dino_cross_entropy_is_minimal_at_the_teacher():
    teacher = torch.softmax(torch.randn(4, 6, generator=seeded(3)), dim=-1)
    temperature = 0.1
    best = (temperature * teacher.log()).requires_grad_()  # softmax(best / temperature) == teacher
    loss = dino_cross_entropy(best, teacher, temperature)
    entropy = -(teacher * teacher.log()).sum(-1).mean()
    torch.testing.assert_close(loss, entropy)
    loss.backward()
    assert best.grad.abs().max() < 1e-6
    perturbations = torch.randn(20, 4, 6, generator=seeded(4)) * 0.05
    assert all(dino_cross_entropy(best.detach() + p, teacher, temperature) > loss for p in perturbations)


def ibot_by_hand(student, teacher, mask, temperature):
    per_sequence = []
    for b in range(student.shape[0]):
        terms = [
            -(teacher[b, i] * torch.log_softmax(student[b, i] / temperature, dim=-1)).sum()
            for i in range(student.shape[1])
            if mask[b, i]
        ]
        per_sequence.append(sum(terms) / len(terms) if terms else torch.tensor(0.0))
    return sum(per_sequence) / len(per_sequence)


def test_ibot_patch_loss_matches_a_loop_in_both_layouts():
    student = torch.randn(3, 5, 4, generator=seeded(5))
    teacher = torch.softmax(torch.randn(3, 5, 4, generator=seeded(6)), dim=-1)
    mask = torch.tensor([[1, 0, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]], dtype=torch.bool)  # 3, 1, 0 masked
    expected = ibot_by_hand(student, teacher, mask, 0.1)
    dense = ibot_patch_loss(student, teacher, mask, 0.1)
    gathered = ibot_patch_loss(student[mask], teacher[mask], mask, 0.1)
    torch.testing.assert_close(dense, expected)
    torch.testing.assert_close(gathered, expected)
    # per-sequence weighting: not the plain mean over the 4 masked tokens
    flat_mean = dino_cross_entropy(student[mask], teacher[mask], 0.1)
    assert not torch.allclose(dense, flat_mean)


def test_ibot_patch_loss_zero_masks_and_garbage_outside_the_mask():
    student = torch.randn(2, 4, 3, generator=seeded(7), requires_grad=True)
    teacher = torch.softmax(torch.randn(2, 4, 3, generator=seeded(8)), dim=-1)
    mask = torch.tensor([[1, 1, 0, 0], [0, 0, 0, 0]], dtype=torch.bool)
    poisoned = torch.where(mask[..., None], teacher, torch.nan)
    loss = ibot_patch_loss(student, poisoned, mask)
    assert torch.isfinite(loss)
    torch.testing.assert_close(loss, ibot_by_hand(student.detach(), teacher, mask, 0.1))
    loss.backward()
    assert torch.isfinite(student.grad).all() and student.grad[1].abs().max() == 0
    none = torch.zeros(2, 4, dtype=torch.bool)
    assert ibot_patch_loss(student, teacher, none).item() == 0.0
    empty = ibot_patch_loss(student[none], teacher[none], none)
    assert empty.item() == 0.0


def test_koleo_on_a_regular_polygon():
    n = 6
    angles = torch.arange(n) * 2 * math.pi / n
    points = torch.stack([angles.cos(), angles.sin(), torch.zeros(n)], dim=1) * torch.rand(n, 1, generator=seeded(9))
    side = 2 * math.sin(math.pi / n)  # chord between neighbours on the unit circle (points are normalised)
    assert koleo_loss(points).item() == pytest.approx(-math.log(side + 1e-8), abs=1e-5)
    square = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    assert koleo_loss(square).item() == pytest.approx(-math.log(math.sqrt(2)), abs=1e-6)
    antipodal = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])  # the neighbour is the other point, never the point itself
    assert koleo_loss(antipodal).item() == pytest.approx(-math.log(2.0), abs=1e-6)


def test_koleo_decreases_when_points_spread():
    base = torch.randn(1, 8, generator=seeded(10))
    clustered = base + 0.05 * torch.randn(16, 8, generator=seeded(11))
    spread = torch.randn(16, 8, generator=seeded(12))
    assert koleo_loss(spread) < koleo_loss(clustered)
    # a gradient step on the loss spreads the points
    x = clustered.clone().requires_grad_()
    koleo_loss(x).backward()
    with torch.no_grad():
        stepped = x - 0.5 * x.grad
    assert koleo_loss(stepped) < koleo_loss(clustered)
    duplicates = torch.ones(3, 4, requires_grad=True)
    loss = koleo_loss(duplicates)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(duplicates.grad).all()
    with pytest.raises(ValueError):
        koleo_loss(torch.randn(1, 4))


# -- schedules and EMA ---------------------------------------------------------------------------------------------
def test_cosine_schedule_endpoints_and_warmup():
    assert cosine_schedule(1.0, 0.0, 0, 100) == pytest.approx(1.0)
    assert cosine_schedule(1.0, 0.0, 50, 100) == pytest.approx(0.5)
    assert cosine_schedule(1.0, 0.0, 100, 100) == 0.0
    assert cosine_schedule(1.0, 0.0, 1000, 100) == 0.0
    values = [cosine_schedule(1.0, 0.0, s, 100) for s in range(101)]
    assert all(a >= b for a, b in zip(values, values[1:]))
    # SLiM's learning rate: linear warm-up from 0 over 20 steps, then cosine 2e-4 -> 1e-6
    lr = [cosine_schedule(2e-4, 1e-6, s, 150, warmup_steps=20) for s in range(151)]
    assert lr[0] == 0.0 and lr[10] == pytest.approx(1e-4) and lr[20] == pytest.approx(2e-4)
    assert all(b > a for a, b in zip(lr[:20], lr[1:21]))
    assert lr[85] == pytest.approx((2e-4 + 1e-6) / 2) and lr[150] == pytest.approx(1e-6)
    assert cosine_schedule(1.0, 2.0, 3, 10, warmup_steps=4, warmup_start=0.5) == pytest.approx(0.875)
    with pytest.raises(ValueError):
        cosine_schedule(1.0, 0.0, 0, 10, warmup_steps=11)


def test_teacher_schedules():
    assert teacher_momentum_schedule(0, 1000) == pytest.approx(0.994)
    assert teacher_momentum_schedule(500, 1000) == pytest.approx(0.997)
    assert teacher_momentum_schedule(1000, 1000) == 1.0
    momenta = [teacher_momentum_schedule(s, 1000) for s in range(0, 1001, 10)]
    assert all(b >= a for a, b in zip(momenta, momenta[1:]))
    assert teacher_temperature_schedule(0, 30) == pytest.approx(0.04)
    assert teacher_temperature_schedule(15, 30) == pytest.approx(0.055)
    assert teacher_temperature_schedule(30, 30) == pytest.approx(0.07)
    assert teacher_temperature_schedule(10_000, 30) == pytest.approx(0.07)
    assert teacher_temperature_schedule(0, 0) == pytest.approx(0.07)


def small_model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_ema_update_momentum_extremes_and_buffers():
    teacher, student = small_model(0), small_model(1)
    student.train()(torch.randn(8, 3))  # moves the student's running statistics
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    ema_update_(teacher, student, 1.0)
    for name, param in teacher.named_parameters():
        assert torch.equal(param, before[name])
    for name, buffer in teacher.named_buffers():
        assert torch.equal(buffer, student.get_buffer(name))  # buffers are copied
    ema_update_(teacher, student, 0.0)
    for param, other in zip(teacher.parameters(), student.parameters()):
        assert torch.equal(param, other)
    teacher = small_model(0)
    ema_update_(teacher, student, 0.75)
    expected = 0.75 * before["0.weight"] + 0.25 * student[0].weight
    torch.testing.assert_close(teacher[0].weight, expected)
    assert teacher[0].weight.requires_grad and teacher[0].weight.grad is None


def test_ema_update_requires_identical_names():
    with pytest.raises(ValueError, match="parameters"):
        ema_update_(nn.Sequential(nn.Linear(3, 4)), nn.Sequential(nn.Identity(), nn.Linear(3, 4)), 0.5)
    with pytest.raises(ValueError, match="buffers"):
        ema_update_(SoftmaxCenter(4), nn.Module(), 0.5)
