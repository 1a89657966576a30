# Generated from skeleton_models/layers/masking.py by utils/write_modeling.py; do not edit.
"""Token masks for masked skeleton modelling: SLiM's Semantic Tube Masking and the "limited" baselines it is ablated
against (SLiM, "Less is More: Decoder-Free Masked Modeling for Efficient Skeleton Representation Learning": section
3.3, appendix section C with Algorithm 1, Table 6).

Token grid: T' = T / P_T temporal patches x V joints (P_J = 1), L = T' V tokens in the order of `patchify` and
`motion_aware_masking` (t-major, joints fastest: token t V + v); SLiM's 64 frames at P_T = 8 give 8 x 25 = 200.
Every function returns a bool mask of shape (B, L) in that order (``mask.view(B, T', V)`` is the grid), **True where
the token is masked** -- Algorithm 1's convention (M = 1 on the tubes). SLiM's Eq. 3 writes the opposite polarity
(M ⊙ Z + (1 - M) ⊙ e_mask keeps the tokens where M = 1); with these masks the masked input is
``torch.where(mask[..., None], mask_token, tokens)``. SLiM replaces masked tokens by a learnable mask token
(iBOT-style) instead of dropping them, so the number of masked tokens may differ between samples.

- `semantic_tube_mask`: STM, Algorithm 1 -- tubes of a skeletally connected subset of one anatomical group over
  consecutive temporal patches, of roughly constant volume h w ≈ A, until at least N_mask tokens are masked.
- `random_token_mask`: independent joint masking (uniformly random tokens, SkeletonMAE / MAE).
- `motion_token_mask`: MAMP's motion-aware masking (`motion_aware_masking`), the "Limited: previous motion-aware
  masking" of Table 6, with a per-sample ratio.
- `token_mask`: one entry point selected by a config string (`MASK_KINDS`), with SLiM's per-sample application
  probability (p = 1 for the global view, p = 0.5 for the local views: appendix C, "Dual-role application").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .skeletons import SkeletonLayout, get_layout
from .vit import motion_aware_masking

__all__ = [
    "MASK_KINDS",
    "motion_token_mask",
    "random_token_mask",
    "semantic_groups",
    "semantic_tube_mask",
    "token_mask",
]

MASK_KINDS = ("none", "random", "motion", "stm")

MaskRatio = float | tuple[float, float]


def semantic_groups(layout: str | SkeletonLayout) -> tuple[tuple[int, ...], ...]:
    """The anatomical groups STM draws from: the layout's groups that are not contained in another group (the finer
    sub-groups, e.g. ntu25's ``left_fingers`` inside ``left_arm``, are dropped; of identical groups the first is
    kept), in the layout's order.

    For ntu25 these are SLiM's five regions (appendix C): torso {0, 1, 20, 2, 3}, left arm {4, 5, 6, 7, 21, 22}, right
    arm {8, 9, 10, 11, 23, 24}, left leg {12..15}, right leg {16..19}.
    """
    groups = list(get_layout(layout).groups.values())
    sets = [frozenset(g) for g in groups]
    kept = []
    for i, (group, joints) in enumerate(zip(groups, sets)):
        inside_another = any(joints < other or (joints == other and j < i) for j, other in enumerate(sets) if j != i)
        if not inside_another:
            kept.append(tuple(group))
    return tuple(kept)


def _check_ratio(mask_ratio: MaskRatio) -> tuple[float, float]:
    if isinstance(mask_ratio, (int, float)):
        low = high = float(mask_ratio)
    else:
        try:
            low, high = (float(r) for r in mask_ratio)
        except (TypeError, ValueError):
            raise ValueError(f"mask_ratio must be a float or a (low, high) pair, got {mask_ratio!r}") from None
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"mask_ratio must satisfy 0 <= low <= high <= 1, got {mask_ratio!r}")
    return low, high


def _generator_device(generator: torch.Generator | None) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def _sample_ratios(mask_ratio: MaskRatio, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """(n,) float64 ratios on the CPU: the fixed ratio, or U(low, high) per sample (drawn on the generator's
    device)."""
    low, high = _check_ratio(mask_ratio)
    if low == high:
        return torch.full((n,), low, dtype=torch.float64)
    u = torch.rand(n, generator=generator, device=_generator_device(generator), dtype=torch.float64).cpu()
    return low + (high - low) * u


def _check_counts(batch_size: int, num_frames: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 0:
        raise ValueError(f"batch_size must be an int >= 0, got {batch_size!r}")
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames (temporal patches T') must be an int >= 1, got {num_frames!r}")


def _sample_tubes(
    area: np.ndarray, num_frames: int, group_masks: np.ndarray, neighbours: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One tube per sample (Algorithm 1, steps 5-9): (n,) target areas A -> (n, T', V) bool tubes.

    Step 1: a group G uniformly among the K rows of `group_masks` (K, V) bool; a seed joint uniformly in G; a target
    width k uniformly in {1, ..., |G|}; the subset S grows from the seed by adding, k - 1 times, a joint chosen
    uniformly among the joints of G adjacent (`neighbours`, (V, V) float32, 1 on the bones both ways) to S and not
    in S, stopping early when there is none (a group whose induced subgraph is disconnected gives a subset of the
    seed's component). So S is always skeletally connected inside G; w = |S|.
    Step 2: h = min(max(round(A / w), 1), T'); the start t uniformly in {0, ..., T' - h}. The tube is S x [t, t + h).
    """
    n, v = area.shape[0], group_masks.shape[1]
    rows = np.arange(n)
    sizes = group_masks.sum(1)
    group = rng.integers(0, group_masks.shape[0], n)
    members = group_masks[group]
    subset = np.zeros((n, v), dtype=bool)
    subset[rows, np.where(members, rng.random((n, v)), -1.0).argmax(1)] = True
    width = rng.integers(1, sizes[group] + 1)
    for _ in range(int(sizes.max()) - 1):
        frontier = (subset.astype(np.float32) @ neighbours > 0) & members & ~subset
        grow = (subset.sum(1) < width) & frontier.any(1)
        if not grow.any():
            break
        pick = np.where(frontier, rng.random((n, v)), -1.0).argmax(1)
        subset[rows[grow], pick[grow]] = True
    h = np.clip(np.round(area / subset.sum(1)), 1, num_frames).astype(np.int64)
    start = rng.integers(0, num_frames - h + 1)
    frames = np.arange(num_frames)
    in_time = (frames >= start[:, None]) & (frames < (start + h)[:, None])
    return in_time[:, :, None] & subset[:, None, :]


def semantic_tube_mask(
    batch_size: int,
    num_frames: int,
    layout: str | SkeletonLayout = "ntu25",
    *,
    groups: Sequence[Sequence[int]] | None = None,
    mask_ratio: MaskRatio = (0.5, 0.9),
    min_area: float = 8,
    max_area_fraction: float = 0.5,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """SLiM's Semantic Tube Masking (section 3.3; appendix C, Algorithm 1): (B, T' V) bool, True = masked.

    Per sample, with N = T' V tokens: N_mask = round(r N), r ~ U(mask_ratio) (SLiM: [0.5, 0.9]); C = 0; while
    C < N_mask: P_max = min(N_mask - C, A_max), A ~ U(A_min, P_max), one tube (`_sample_tubes`: a connected joint
    subset S of a random group, h = min(max(round(A / |S|), 1), T') consecutive temporal patches at a random start)
    is OR-ed into the mask and C = the mask's count. A_min = `min_area` (SLiM: 8), A_max = `max_area_fraction` N
    (SLiM: 0.5 N).

    As in Algorithm 1 the last tube is kept whole, so a sample's count can exceed N_mask (by less than
    max(A_min, |G|) + |G| / 2 tokens, |G| the largest group; tubes may also overlap earlier ones). A is continuous;
    when P_max < A_min (the last steps), A ~ U(A_min, P_max) is read as Python's ``random.uniform`` reads reversed
    bounds, a value between P_max and A_min. The loop runs for all samples at once (a sample stops drawing tubes when
    its count is reached) in numpy, on a stream seeded by one draw from `generator` (a CPU generator), so a seed
    gives the same masks on any device.

    Args:
        batch_size: B.
        num_frames: T', the number of temporal patches (SLiM: 64 frames / P_T 8 = 8).
        layout: the joint layout (name or `SkeletonLayout`): V, and the bones that define "skeletally connected".
        groups: the semantic joint groups G_1..G_K; default `semantic_groups(layout)`.
        mask_ratio: a fixed ratio, or the (low, high) range r is drawn from per sample.
        min_area: A_min, the smallest target tube area per step, in tokens.
        max_area_fraction: A_max / N.
        generator: a CPU ``torch.Generator`` (None: torch's default CPU generator).
        device: where the mask is returned (default CPU).

    Returns:
        (B, T' V) bool, token t V + v masked where True.
    """
    _check_counts(batch_size, num_frames)
    layout = get_layout(layout)
    v = layout.num_joints
    groups = semantic_groups(layout) if groups is None else tuple(tuple(int(j) for j in g) for g in groups)
    if not groups or any(len(g) == 0 for g in groups):
        raise ValueError(f"groups must be a non-empty list of non-empty joint-index groups, got {groups!r}")
    if any(not 0 <= j < v for g in groups for j in g):
        raise ValueError(f"group joint indices must lie in [0, {v}) for layout {layout.name!r}, got {groups!r}")
    if not min_area > 0:
        raise ValueError(f"min_area must be > 0, got {min_area!r}")
    if not 0 < max_area_fraction <= 1:
        raise ValueError(f"max_area_fraction must lie in (0, 1], got {max_area_fraction!r}")
    if generator is not None and generator.device.type != "cpu":
        raise ValueError(f"semantic_tube_mask draws on the CPU; pass a CPU generator, not one on {generator.device}")
    low, high = _check_ratio(mask_ratio)
    n_tokens = num_frames * v
    covered = len({j for g in groups for j in g})
    if round(high * n_tokens) > covered * num_frames:
        raise ValueError(
            f"the groups cover {covered} of {v} joints ({covered * num_frames} of {n_tokens} tokens), fewer than the "
            f"{round(high * n_tokens)} tokens a ratio of {high} asks to mask"
        )

    group_masks = np.zeros((len(groups), v), dtype=bool)
    for k, g in enumerate(groups):
        group_masks[k, list(g)] = True
    neighbours = np.zeros((v, v), dtype=np.float32)
    for child, parent in layout.bones:
        neighbours[child, parent] = neighbours[parent, child] = 1.0

    # the numpy stream is seeded from `generator` (torch's default CPU generator without one)
    rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
    target = np.round((low + (high - low) * rng.random(batch_size)) * n_tokens)
    a_max = max_area_fraction * n_tokens
    mask = np.zeros((batch_size, num_frames, v), dtype=bool)
    count = np.zeros(batch_size)
    active = np.flatnonzero(count < target)
    while active.size:
        p_max = np.minimum(target[active] - count[active], a_max)
        area = min_area + (p_max - min_area) * rng.random(active.size)  # random.uniform, reversed bounds too
        mask[active] |= _sample_tubes(area, num_frames, group_masks, neighbours, rng)
        count[active] = mask[active].sum((1, 2))
        active = active[count[active] < target[active]]
    return torch.from_numpy(mask.reshape(batch_size, n_tokens)).to(device if device is not None else "cpu")


def random_token_mask(
    batch_size: int,
    num_frames: int,
    num_joints: int,
    mask_ratio: MaskRatio = (0.5, 0.9),
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Independent joint masking (SkeletonMAE; MAE's random masking): (B, T' V) bool, True = masked.

    Each sample masks L - int(L (1 - r)) of its L = T' V tokens uniformly at random (MAE's / MAMP's count), r the
    fixed ratio or r ~ U(low, high) per sample. Draws are made on the generator's device (CPU without one).
    """
    _check_counts(batch_size, num_frames)
    if isinstance(num_joints, bool) or not isinstance(num_joints, int) or num_joints < 1:
        raise ValueError(f"num_joints must be an int >= 1, got {num_joints!r}")
    length = num_frames * num_joints
    ratios = _sample_ratios(mask_ratio, batch_size, generator)
    keep = torch.floor(length * (1 - ratios)).long()
    noise = torch.rand(batch_size, length, generator=generator, device=_generator_device(generator))
    rank = noise.argsort(1).argsort(1).cpu()
    return (rank >= keep[:, None]).to(device if device is not None else "cpu")


def motion_token_mask(
    patches: torch.Tensor,
    mask_ratio: MaskRatio = (0.5, 0.9),
    tau: float = 0.8,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """MAMP's motion-aware masking ("Limited: previous motion-aware masking", SLiM Table 6) as a (N, T' V) bool
    mask on ``patches.device``, True = masked.

    The token ranking is `motion_aware_masking`'s (Gumbel-perturbed softmax of the patch motion at temperature tau;
    tau <= 0: uniform); each sample masks all but its int(L (1 - r)) lowest-ranked tokens, r the fixed ratio (then
    exactly ``motion_aware_masking(...)[1].bool()``) or r ~ U(low, high) per sample, drawn after the ranking.

    Args:
        patches: (N, T', V, P) patchified coordinates (`patchify`); T' >= 2 (the motion needs two temporal patches).
        mask_ratio: a fixed ratio or a (low, high) range.
        tau: MAMP's temperature (0.80 for NTU-60 / PKU-MMD, 0.75 for NTU-120).
        generator: as for `motion_aware_masking` (its device is where the noise is drawn).
    """
    if patches.dim() != 4:
        raise ValueError(f"patches must be (N, T', V, P), got shape {tuple(patches.shape)}")
    if patches.shape[1] < 2:
        raise ValueError(f"motion-aware masking needs T' >= 2 temporal patches, got {patches.shape[1]}")
    low, _ = _check_ratio(mask_ratio)
    n, length = patches.shape[0], patches.shape[1] * patches.shape[2]
    _, _, ids_restore = motion_aware_masking(patches, low, tau, generator=generator)
    keep = [int(length * (1 - r)) for r in _sample_ratios(mask_ratio, n, generator).tolist()]
    keep = torch.tensor(keep, dtype=torch.long, device=patches.device)
    return ids_restore >= keep[:, None]


def token_mask(
    kind: str,
    batch_size: int,
    num_frames: int,
    layout: str | SkeletonLayout = "ntu25",
    *,
    patches: torch.Tensor | None = None,
    mask_ratio: MaskRatio = (0.5, 0.9),
    probability: float = 1.0,
    tau: float = 0.8,
    groups: Sequence[Sequence[int]] | None = None,
    min_area: float = 8,
    max_area_fraction: float = 0.5,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """A (B, T' V) bool token mask (True = masked) of the `kind` a config names (one of `MASK_KINDS`):

    - ``"none"``: nothing masked;
    - ``"random"``: `random_token_mask` (independent joint masking);
    - ``"motion"``: `motion_token_mask` (MAMP; needs `patches`, (B, T', V, P) with V = the layout's joints);
    - ``"stm"``: `semantic_tube_mask` (SLiM; uses `groups`, `min_area`, `max_area_fraction`).

    `probability` is SLiM's per-sample application probability (appendix C, "Dual-role application": 1.0 for the
    global view of the MFM objective, 0.5 for the local views of GLCL): each sample keeps its mask with that
    probability and is left unmasked (all False) otherwise. The Bernoulli draws come after the masks' draws, so with
    probability 1 (no draw) the result equals the underlying function's. Returned on `device` (default: the
    patches' device for ``"motion"``, else the CPU).
    """
    if kind not in MASK_KINDS:
        raise ValueError(f"unknown mask kind {kind!r}; expected one of {MASK_KINDS}")
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"probability must lie in [0, 1], got {probability!r}")
    _check_counts(batch_size, num_frames)
    _check_ratio(mask_ratio)
    layout = get_layout(layout)
    v = layout.num_joints
    if kind == "motion":
        if patches is None:
            raise ValueError('kind "motion" needs the patches (B, T\', V, P) to measure motion')
        if tuple(patches.shape[:3]) != (batch_size, num_frames, v):
            raise ValueError(
                f"patches of shape {tuple(patches.shape)} do not match batch_size {batch_size}, num_frames "
                f"{num_frames} and the {v} joints of layout {layout.name!r}"
            )
    if device is None:
        device = patches.device if kind == "motion" else torch.device("cpu")
    if kind == "none" or probability == 0.0:
        return torch.zeros(batch_size, num_frames * v, dtype=torch.bool, device=device)
    if kind == "random":
        mask = random_token_mask(batch_size, num_frames, v, mask_ratio, generator=generator, device=device)
    elif kind == "motion":
        mask = motion_token_mask(patches, mask_ratio, tau, generator=generator).to(device)
    else:
        mask = semantic_tube_mask(
            batch_size,
            num_frames,
            layout,
            groups=groups,
            mask_ratio=mask_ratio,
            min_area=min_area,
            max_area_fraction=max_area_fraction,
            generator=generator,
            device=device,
        )
    if probability < 1.0:
        draw = torch.rand(batch_size, generator=generator, device=_generator_device(generator))
        mask = mask & (draw < probability).to(device)[:, None]
    return mask
