# Generated from skeleton_models/layers/self_distillation.py by utils/write_modeling.py; do not edit.
"""Teacher-student self-distillation building blocks (DINO / iBOT / DINOv2) for SLiM's decoder-free pre-training.

SLiM ("Less is More: Decoder-Free Masked Modeling for Efficient Skeleton Representation Learning", section 3 and
appendix A) trains a student f_θ against an EMA teacher f_φ (φ ← τ φ + (1 - τ) θ, τ: 0.994 → 1) with two
3-layer-MLP prototype heads (hidden 2048, bottleneck 256, K = 65,536): h_CL on the class token for the global-local
contrastive loss (Eq. 6) and h_MAE on the patch tokens for the masked feature modeling loss (Eq. 4, iBOT), teacher
targets centred with Sinkhorn-Knopp, plus a KoLeo regulariser of weight 0.1. This module holds those pieces; the
paper gives no code, so they follow DINOv2 (facebookresearch/dinov2: ``layers/dino_head.py``,
``loss/dino_clstoken_loss.py``, ``loss/ibot_patch_loss.py``, ``loss/koleo_loss.py``, ``train/ssl_meta_arch.py``,
``utils/utils.py::CosineScheduler``), re-implemented here.

Shapes: N rows (samples, or tokens), K prototypes, B sequences, L patch tokens per sequence, D features.

- `DINOHead` / `PrototypeLinear`: the projection head (MLP, L2-normalisation, weight-normalised prototypes).
- Teacher centering, both exposed since SLiM names Sinkhorn-Knopp only in appendix A: `sinkhorn_knopp` (DINOv2's
  ``sinkhorn_knopp_teacher``, SLiM's choice) and DINO's softmax centering (`softmax_center`, `ema_center`,
  `SoftmaxCenter`).
- Losses: `dino_cross_entropy` (Eq. 6, per student/teacher view pair), `ibot_patch_loss` (Eq. 4), `koleo_loss`.
- Schedules and EMA: `cosine_schedule`, `teacher_momentum_schedule`, `teacher_temperature_schedule`, `ema_update_`.

Single process throughout: where DINOv2 all-reduces (Sinkhorn-Knopp sums, the centre's batch mean, the number of
masked patches) these functions use the local batch only.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init

from .vit import mlp

__all__ = [
    "TEACHER_CENTERINGS",
    "DINOHead",
    "PrototypeLinear",
    "SoftmaxCenter",
    "cosine_schedule",
    "dino_cross_entropy",
    "ema_center",
    "ema_update_",
    "ibot_patch_loss",
    "koleo_loss",
    "sinkhorn_knopp",
    "softmax_center",
    "teacher_momentum_schedule",
    "teacher_temperature_schedule",
]

TEACHER_CENTERINGS = ("sinkhorn_knopp", "softmax_center")


# -- head ----------------------------------------------------------------------------------------------------------
class PrototypeLinear(nn.Module):
    """Prototype layer: logits against K unit-norm prototypes, ``F.linear(x, normalize(weight, dim=1))``.
    (..., in_features) -> (..., out_features).

    Equivalent to DINO's ``weight_norm(nn.Linear(in_features, out_features, bias=False))`` with ``weight_g`` = 1
    (DINO v1's ``norm_last_layer=True``; DINOv2 fills ``weight_g`` with 1 at init), but holds a single parameter
    ``weight`` (K, in_features), the direction ``weight_v``: no deprecated ``torch.nn.utils.weight_norm``, no
    ``weight_g`` / ``weight_v`` keys, and it saves, loads and compiles like any parameter. With L2-normalised inputs
    (`DINOHead`) the logits are cosine similarities in [-1, 1].

    Init (`_reset_parameters`): nn.Linear's default, U(-1 / sqrt(in_features), 1 / sqrt(in_features)), as DINOv2,
    whose ``trunc_normal_`` init is applied to the MLP before the last layer is created. The scale does not change
    the outputs but sets the prototypes' effective step size (the gradient of the direction scales as 1 / |w|).
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self._reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, F.normalize(self.weight, dim=1))

    def _reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class DINOHead(nn.Module):
    """DINO / iBOT / DINOv2 projection head (DINOv2 ``layers/dino_head.py``): MLP, L2-normalise, prototypes.
    (..., in_dim) -> (..., out_dim) logits.

    ``mlp``: Linear(in_dim, hidden_dim), GELU, [Linear(hidden_dim, hidden_dim), GELU] x (num_layers - 2),
    Linear(hidden_dim, bottleneck_dim) (a single Linear(in_dim, bottleneck_dim) for num_layers = 1); no
    normalisation layers (DINOv2's default ``use_bn=False``). Then L2-normalisation over the bottleneck (eps 1e-12,
    1e-6 in float16, as DINOv2) and ``last_layer``, a `PrototypeLinear` (bottleneck_dim -> out_dim). The names
    ``mlp`` / ``last_layer`` are DINOv2's, whose parameter groups single out ``"last_layer"`` (frozen for the first
    epoch).

    SLiM (appendix A): h_CL and h_MAE are two such heads ("3-layer MLP projection heads", hidden 2048, bottleneck
    256, K = 65,536 prototypes), on the class token and on the patch tokens. Assumed: separate heads (the paper
    names two; DINOv2's default config shares one), GELU and no normalisation layer, as DINOv2.

    Init (`_reset_parameters`): trunc_normal(std 0.02) weights and zero biases for the MLP's linears, as DINOv2;
    the prototypes keep their own init (`PrototypeLinear`).
    """

    def __init__(
        self, in_dim: int, out_dim: int, hidden_dim: int = 2048, bottleneck_dim: int = 256, num_layers: int = 3
    ):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.mlp = mlp([in_dim, *[hidden_dim] * (num_layers - 1), bottleneck_dim])
        self.last_layer = PrototypeLinear(bottleneck_dim, out_dim)
        self._reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.mlp(x)
        x = F.normalize(x, dim=-1, eps=1e-6 if x.dtype == torch.float16 else 1e-12)
        return self.last_layer(x)

    def _reset_parameters(self):
        for module in self.mlp:
            if isinstance(module, nn.Linear):
                init.trunc_normal_(module.weight, std=0.02)
                init.zeros_(module.bias)


# -- teacher centering ---------------------------------------------------------------------------------------------
@torch.no_grad()
def sinkhorn_knopp(teacher_logits: torch.Tensor, temperature: float, iterations: int = 3) -> torch.Tensor:
    """Sinkhorn-Knopp teacher targets (SwAV; DINOv2 ``sinkhorn_knopp_teacher``): (N, K) logits -> (N, K) float32
    probabilities, each row summing to 1, the prototypes' marginals pushed towards uniform (N / K each).

    Q = exp(logits / temperature), then ``iterations`` times: divide each prototype's column by its sum over the N
    rows, then each row by its sum over the K prototypes. DINOv2's extra global scalings (1 / ΣQ, 1 / K, 1 / B,
    x B) cancel and are left out; the global maximum is subtracted before the exponential (cancels too, avoids
    overflow) and sums are clamped away from 0 (a prototype whose exponentials all underflow keeps mass 0 instead of
    turning into NaN). Computed in float32, without gradients.

    SLiM (appendix A): "For prototype centering, we adopt the Sinkhorn-Knopp algorithm"; Assumed: DINOv2's 3
    iterations. For the class token (Eq. 6) N is the batch of teacher anchor views; for iBOT (Eq. 4) the rows are
    the masked patch tokens of the batch (DINOv2 normalises over their all-reduced count; here the local ones).
    Single process: DINOv2's all-reduces of the sums are left out.
    """
    if teacher_logits.dim() != 2:
        raise ValueError(f"teacher_logits must be (N, K), got shape {tuple(teacher_logits.shape)}")
    q = teacher_logits.float() / temperature
    if q.shape[0] == 0:
        return q
    tiny = torch.finfo(torch.float32).tiny
    q.sub_(q.max()).exp_()
    for _ in range(iterations):
        q.div_(q.sum(dim=0, keepdim=True).clamp_min_(tiny))  # each prototype: total weight 1 (DINOv2: 1 / K)
        q.div_(q.sum(dim=1, keepdim=True).clamp_min_(tiny))  # each sample: a distribution over the prototypes
    return q


@torch.no_grad()
def softmax_center(teacher_logits: torch.Tensor, center: torch.Tensor, temperature: float) -> torch.Tensor:
    """DINO's centering and sharpening: softmax((teacher_logits - center) / temperature) over the prototypes.
    (..., K) logits, (K,) centre -> (..., K) float32 probabilities, without gradients (DINOv2
    ``softmax_center_teacher``). The alternative to `sinkhorn_knopp` (DINOv2's default ``train.centering``)."""
    return F.softmax((teacher_logits.float() - center.float()) / temperature, dim=-1)


@torch.no_grad()
def ema_center(center: torch.Tensor, teacher_logits: torch.Tensor, momentum: float = 0.9) -> torch.Tensor:
    """DINO's centre update: momentum * center + (1 - momentum) * (mean of the teacher logits over all rows).
    (K,) centre, (..., K) logits -> new (K,) centre (a new tensor; the argument is left alone).

    DINOv2 (``update_center``, momentum 0.9) averages the all-reduced batch; here the local batch only. For patch
    tokens pass the rows the loss uses (e.g. the masked ones); DINOv2's iBOT centre averages per image first."""
    batch_mean = teacher_logits.detach().float().reshape(-1, teacher_logits.shape[-1]).mean(dim=0)
    return center * momentum + batch_mean.to(center.dtype) * (1 - momentum)


class SoftmaxCenter(nn.Module):
    """DINO's softmax centering with its EMA centre as a module: (..., K) teacher logits -> (..., K) probabilities.

    ``center`` (K,) is a persistent buffer (zeros at init, saved with the model for resumption). Use as DINOv2,
    which applies the previous steps' centre and then updates it with the current batch::

        probs = centering(teacher_logits, teacher_temperature)
        centering.update(teacher_logits)

    Assumed alternative: SLiM uses Sinkhorn-Knopp (appendix A); this is exposed for the ablation / DINO default.
    """

    def __init__(self, num_prototypes: int, momentum: float = 0.9):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("center", torch.zeros(num_prototypes))

    def forward(self, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
        return softmax_center(teacher_logits, self.center, temperature)

    @torch.no_grad()
    def update(self, teacher_logits: torch.Tensor) -> None:
        self.center.copy_(ema_center(self.center, teacher_logits, self.momentum))

    def _reset_parameters(self):
        init.zeros_(self.center)


# -- losses --------------------------------------------------------------------------------------------------------
def dino_cross_entropy(
    student_logits: torch.Tensor, teacher_probs: torch.Tensor, student_temperature: float = 0.1
) -> torch.Tensor:
    """DINO cross-entropy between teacher targets and the student's tempered softmax, averaged over rows.
    (..., K) student logits, (..., K) teacher probabilities -> scalar
    mean(-Σ_k teacher_k log_softmax(student / student_temperature)_k).

    SLiM's Eq. 6 term for one student view k: -p^t_{G1,cls} log p^s_{k,cls}, the batch mean (DINOv2 ``DINOLoss``
    for one student/teacher pair; sum the calls over the views V = {G2, L1, L2, L3}). Assumed: student temperature
    0.1 (DINOv2; SLiM gives none). Computed in float32 (the log-softmax over K = 65,536 is imprecise in bf16, as
    DINOv2's xformers path casts too). The teacher targets carry no gradient in self-distillation: compute them
    under ``torch.no_grad`` (`sinkhorn_knopp` and `softmax_center` do).
    """
    if student_logits.shape != teacher_probs.shape:
        raise ValueError(f"shapes differ: student {tuple(student_logits.shape)}, teacher {tuple(teacher_probs.shape)}")
    log_probs = F.log_softmax(student_logits.float() / student_temperature, dim=-1)
    return -(teacher_probs.float() * log_probs).sum(dim=-1).mean()


def ibot_patch_loss(
    student_patch_logits: torch.Tensor,
    teacher_patch_probs: torch.Tensor,
    mask: torch.Tensor,
    student_temperature: float = 0.1,
) -> torch.Tensor:
    """iBOT masked-patch cross-entropy (SLiM's L_MFM, Eq. 4; DINOv2 ``iBOTPatchLoss``): each sequence's
    cross-entropy averaged over its masked tokens, then averaged over the B sequences. -> scalar.

    Two layouts, with ``mask`` (B, L) bool, True where the student's token was masked:

    - dense: student logits and teacher probabilities (B, L, K); the unmasked tokens get weight 0 (DINOv2
      ``forward``). No data-dependent shapes (compile-friendly); the teacher is zeroed outside the mask, so
      whatever it holds there cannot produce a NaN.
    - gathered: (N_masked, K) rows in the order of ``tokens[mask]`` (B-major, then L), N_masked = mask.sum(); each
      row weighted by 1 / (its sequence's number of masked tokens) and the sum divided by B (DINOv2
      ``forward_masked``). The row count is not checked against the mask (that would synchronise the device).

    A sequence with no masked token contributes 0 and still counts in the mean over B (DINOv2's ``clamp(min=1)`` and
    division by B), so the loss stays finite (0 when no token is masked at all). Assumed: student temperature 0.1
    and the per-sequence weighting, as DINOv2 (Eq. 4 writes a plain sum over the masked tokens). Float32.
    """
    if student_patch_logits.shape != teacher_patch_probs.shape:
        raise ValueError(
            f"shapes differ: student {tuple(student_patch_logits.shape)}, teacher {tuple(teacher_patch_probs.shape)}"
        )
    if mask.dim() != 2:
        raise ValueError(f"mask must be (B, L), got shape {tuple(mask.shape)}")
    mask = mask.bool()
    per_sequence = 1.0 / mask.sum(dim=1).clamp(min=1).float()  # (B,)
    log_probs = F.log_softmax(student_patch_logits.float() / student_temperature, dim=-1)
    if student_patch_logits.dim() == 3:
        if student_patch_logits.shape[:2] != mask.shape:
            raise ValueError(f"mask {tuple(mask.shape)} does not match logits {tuple(student_patch_logits.shape)}")
        teacher = torch.where(mask[..., None], teacher_patch_probs.float(), 0.0)
        cross_entropy = -(teacher * log_probs).sum(dim=-1)  # (B, L), 0 outside the mask
        return (cross_entropy.sum(dim=1) * per_sequence).mean()
    if student_patch_logits.dim() != 2:
        raise ValueError(f"logits must be (B, L, K) or (N_masked, K), got shape {tuple(student_patch_logits.shape)}")
    cross_entropy = -(teacher_patch_probs.float() * log_probs).sum(dim=-1)  # (N_masked,)
    weights = per_sequence[:, None].expand_as(mask)[mask]  # (N_masked,)
    return (cross_entropy * weights).sum() / mask.shape[0]


def koleo_loss(features: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """KoLeo regulariser (Kozachenko-Leonenko entropy estimator; Sablayrolles et al. 2019, "Spreading vectors for
    similarity search"; DINOv2 ``KoLeoLoss``): (N, D) features, or (..., N, D) sets of N each -> scalar
    -mean_i log(|x_i - x_nn(i)| + eps) on the
    L2-normalised rows, nn(i) the nearest other row (largest inner product, the row itself excluded). Lower when the
    rows are spread uniformly over the sphere.

    The neighbour search carries no gradient; the distances are taken in float32 (DINOv2 disables autocast; here
    the matmul may run in low precision under autocast, which only affects the choice of neighbour). DINOv2's
    ``PairwiseDistance(eps=1e-8)`` adds eps to the difference vector; here the plain distance (its gradient is 0,
    not NaN, for coincident rows).

    SLiM (appendix A): weight 0.1, "to encourage the local features to be spread uniformly across the unit sphere".
    DINOv2 applies it to the student's backbone class tokens, one call per global view (``chunk(2)``: never between
    views of the same sample); with leading dimensions, each set's neighbours are searched within the set and the
    mean runs over every row of every set. Needs N >= 2.
    """
    if features.dim() < 2 or features.shape[-2] < 2:
        raise ValueError(f"features must be (..., N, D) with N >= 2, got shape {tuple(features.shape)}")
    x = F.normalize(features.float(), dim=-1, eps=eps)
    with torch.no_grad():
        dots = x @ x.transpose(-1, -2)
        self_pairs = torch.eye(x.shape[-2], dtype=torch.bool, device=x.device)
        neighbour = dots.masked_fill(self_pairs, float("-inf")).argmax(dim=-1)  # (..., N)
    nearest = torch.take_along_dim(x, neighbour.unsqueeze(-1), dim=-2)
    distances = torch.linalg.vector_norm(x - nearest, dim=-1)
    return -torch.log(distances + eps).mean()


# -- schedules and EMA ---------------------------------------------------------------------------------------------
def cosine_schedule(
    start: float,
    end: float,
    step: int,
    total_steps: int,
    warmup_steps: int = 0,
    warmup_start: float = 0.0,
) -> float:
    """Value at ``step`` of a linear warm-up then cosine schedule (DINOv2 ``CosineScheduler``).

    - step < warmup_steps: linear from ``warmup_start`` (step 0) towards ``start`` (reached at warmup_steps);
    - warmup_steps <= step < total_steps: end + (start - end) (1 + cos(π s)) / 2, s = (step - warmup_steps) /
      (total_steps - warmup_steps), i.e. ``start`` at the end of the warm-up, ``end`` at total_steps;
    - step >= total_steps: ``end``.

    Differs from DINOv2's arrays by at most one step (its ``np.linspace`` reaches the warm-up target one step
    earlier and its cosine stops one step short of the final value). Uses, in steps (epochs x iterations per epoch):
    teacher momentum `teacher_momentum_schedule`; teacher temperature `teacher_temperature_schedule`; SLiM's
    learning rate ``cosine_schedule(2e-4, 1e-6, step, 150 epochs, warmup_steps=20 epochs)`` (section 4.2); DINOv2's
    weight decay ``cosine_schedule(0.04, 0.4, step, total_steps)`` (Assumed: SLiM gives none).
    """
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(f"need 0 <= warmup_steps <= total_steps, got {warmup_steps}, {total_steps}")
    if step < warmup_steps:
        return warmup_start + (start - warmup_start) * step / warmup_steps
    if step >= total_steps:
        return end
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return end + 0.5 * (start - end) * (1.0 + math.cos(math.pi * progress))


def teacher_momentum_schedule(step: int, total_steps: int, start: float = 0.994, end: float = 1.0) -> float:
    """Teacher EMA momentum τ: cosine from 0.994 to 1 over the whole training (SLiM section 4.2; DINOv2's
    ``momentum_teacher`` schedule, 0.992 by default, 0.994 in its ViT-L config)."""
    return cosine_schedule(start, end, step, total_steps)


def teacher_temperature_schedule(
    step: int, warmup_steps: int, warmup_temperature: float = 0.04, temperature: float = 0.07
) -> float:
    """Teacher temperature: linear warm-up 0.04 -> 0.07 over ``warmup_steps``, then constant (DINOv2
    ``warmup_teacher_temp`` 0.04, ``teacher_temp`` 0.07, ``warmup_teacher_temp_epochs`` 30). Assumed: SLiM gives no
    temperatures; DINOv2's values, warm-up over 30 of SLiM's 150 epochs."""
    return cosine_schedule(temperature, temperature, step, warmup_steps, warmup_steps, warmup_temperature)


@torch.no_grad()
def ema_update_(teacher: nn.Module, student: nn.Module, momentum: float) -> None:
    """In-place EMA of the student into the teacher: φ ← momentum φ + (1 - momentum) θ (SLiM section 3.1; DINOv2
    ``update_teacher`` with ``_foreach_mul_`` / ``_foreach_add_``), for every parameter, frozen ones included;
    buffers (e.g. normalisation statistics) are copied from the student. momentum = 1 leaves the teacher unchanged,
    0 copies the student, both exactly.

    Both modules must have the same parameter and buffer names (a ValueError names the difference), with matching
    shapes, devices and dtypes. ``momentum`` is a Python float (e.g. from `teacher_momentum_schedule`).
    """
    teacher_params, student_params = dict(teacher.named_parameters()), dict(student.named_parameters())
    teacher_buffers, student_buffers = dict(teacher.named_buffers()), dict(student.named_buffers())
    for kind, ours, theirs in (
        ("parameters", teacher_params, student_params),
        ("buffers", teacher_buffers, student_buffers),
    ):
        if ours.keys() != theirs.keys():
            only_teacher, only_student = sorted(ours.keys() - theirs.keys()), sorted(theirs.keys() - ours.keys())
            raise ValueError(
                f"teacher and student {kind} differ: teacher only {only_teacher}, student only {only_student}"
            )
    names = list(teacher_params)
    if names:
        targets = [teacher_params[name] for name in names]
        sources = [student_params[name] for name in names]
        torch._foreach_mul_(targets, momentum)
        torch._foreach_add_(targets, sources, alpha=1.0 - momentum)
    for name, buffer in teacher_buffers.items():
        buffer.copy_(student_buffers[name])
