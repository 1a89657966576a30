"""Token masks of skeleton_models.layers.masking against SLiM's Semantic Tube Masking (appendix C, Algorithm 1) and
the masking baselines of its Table 6 (independent random masking, MAMP's motion-aware masking)."""

import numpy as np
import pytest
import torch

from skeleton_models.layers.masking import (
    MASK_KINDS,
    _sample_tubes,
    motion_token_mask,
    random_token_mask,
    semantic_groups,
    semantic_tube_mask,
    token_mask,
)
from skeleton_models.layers.vit import motion_aware_masking
from skeleton_models.skeletons import get_layout

NTU = get_layout("ntu25")
PAPER_GROUPS = [{0, 1, 20, 2, 3}, {4, 5, 6, 7, 21, 22}, {8, 9, 10, 11, 23, 24}, {12, 13, 14, 15}, {16, 17, 18, 19}]


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def connected(joints: set[int], layout=NTU) -> bool:
    """Whether `joints` induce a connected subgraph of the layout's bones."""
    if not joints:
        return False
    seen, todo = set(), [next(iter(joints))]
    while todo:
        j = todo.pop()
        seen.add(j)
        todo += [b for a, b in layout.bones if a == j and b in joints and b not in seen]
        todo += [a for a, b in layout.bones if b == j and a in joints and a not in seen]
    return seen == joints


def assert_one_tube(grid: np.ndarray, groups) -> tuple[int, int]:
    """`grid` (T', V) is exactly frames x joints with contiguous frames and joints connected inside one group;
    returns (h, w)."""
    frames = np.flatnonzero(grid.any(1))
    joints = set(np.flatnonzero(grid.any(0)).tolist())
    assert grid.sum() == len(frames) * len(joints)  # a product set: every masked joint over every masked frame
    assert (np.diff(frames) == 1).all()
    assert connected(joints)
    assert any(joints <= set(g) for g in groups)
    return len(frames), len(joints)


def test_semantic_groups_are_the_papers_five_and_drop_sub_groups():
    groups = semantic_groups("ntu25")
    assert [set(g) for g in groups] == PAPER_GROUPS  # left_fingers / right_fingers are inside the arms
    coco = semantic_groups("coco17")
    assert {frozenset(g) for g in coco} == {
        frozenset(g) for name, g in get_layout("coco17").groups.items() if not name.endswith("_face")
    }
    assert all(connected(set(g)) for g in groups)


def test_stm_shape_dtype_and_masked_counts_meet_the_targets():
    b, t = 256, 8
    mask = semantic_tube_mask(b, t, generator=seeded(3))
    assert mask.shape == (b, t * 25) and mask.dtype == torch.bool and mask.device.type == "cpu"
    counts = mask.sum(1).numpy()
    # the per-sample targets N_mask = round(U(0.5, 0.9) N), from the same stream the function seeds from the generator
    rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=seeded(3))))
    targets = np.round((0.5 + 0.4 * rng.random(b)) * t * 25)
    overshoot = 8 - 1 + 6 / 2  # A_min - 1 + |G|max / 2: the last tube is kept whole
    assert (counts >= targets).all() and (counts - targets <= overshoot).all()
    assert (counts >= 100).all() and (counts <= 180 + overshoot).all()
    assert counts.std() > 10  # the ratio is drawn per sample
    fixed = semantic_tube_mask(64, t, mask_ratio=0.75, generator=seeded(4)).sum(1)
    assert (fixed >= 150).all() and (fixed <= 150 + overshoot).all()


def test_a_single_step_mask_is_one_tube_of_a_connected_subset_of_one_group():
    """With N_mask = 1 Algorithm 1 stops after its first tube, so each mask is exactly one tube."""
    shapes = set()
    for frames, min_area in ((8, 8), (16, 40)):
        mask = semantic_tube_mask(400, frames, mask_ratio=1 / (frames * 25), min_area=min_area, generator=seeded(5))
        for grid in mask.view(400, frames, 25).numpy():
            shapes.add(assert_one_tube(grid, PAPER_GROUPS))
    widths, heights = {w for _, w in shapes}, {h for h, _ in shapes}
    assert widths == {1, 2, 3, 4, 5, 6} and max(heights) > 8  # subsets of every size; long tubes of thin subsets


def test_tubes_have_constant_volume_and_connected_joints():
    rng = np.random.default_rng(0)
    groups = semantic_groups("ntu25")
    group_masks = np.zeros((len(groups), 25), dtype=bool)
    for k, g in enumerate(groups):
        group_masks[k, list(g)] = True
    neighbours = np.zeros((25, 25), dtype=np.float32)
    for child, parent in NTU.bones:
        neighbours[child, parent] = neighbours[parent, child] = 1.0
    area = rng.uniform(8, 100, 2000)
    tubes = _sample_tubes(area, 128, group_masks, neighbours, rng)  # T' = 128: h = round(A / w) is never clamped
    for a, tube in zip(area, tubes):
        h, w = assert_one_tube(tube, PAPER_GROUPS)
        assert abs(h * w - a) <= w / 2  # h w ≈ A: thin subsets are masked longer
    fixed = _sample_tubes(np.full(500, 24.0), 8, group_masks, neighbours, rng)
    starts, ends = set(), set()
    for tube in fixed:
        h, w = assert_one_tube(tube, PAPER_GROUPS)
        assert h == min(max(round(24 / w), 1), 8)
        frames = np.flatnonzero(tube.any(1))
        starts.add(int(frames[0]))
        ends.add(int(frames[-1]))
    assert starts == set(range(5)) and max(ends) == 7  # t ~ U(0, T' - h), h >= 4 here (w <= 6), reaches both ends


def test_other_layouts():
    for name, frames in (("coco17", 4), ("openpose18", 2), ("hands2x21", 8)):
        layout = get_layout(name)
        mask = semantic_tube_mask(32, frames, name, generator=seeded(1))
        assert mask.shape == (32, frames * layout.num_joints)
        assert (mask.sum(1) >= round(0.5 * frames * layout.num_joints)).all()


def test_determinism_and_devices():
    a = semantic_tube_mask(16, 8, generator=seeded(7))
    assert torch.equal(a, semantic_tube_mask(16, 8, generator=seeded(7)))
    assert not torch.equal(a, semantic_tube_mask(16, 8, generator=seeded(8)))
    torch.manual_seed(11)
    b = semantic_tube_mask(16, 8)
    torch.manual_seed(11)
    assert torch.equal(b, semantic_tube_mask(16, 8))
    for kind in ("random", "stm"):
        assert torch.equal(token_mask(kind, 8, 8, generator=seeded(2)), token_mask(kind, 8, 8, generator=seeded(2)))
    if torch.cuda.is_available():
        on_gpu = semantic_tube_mask(16, 8, generator=seeded(7), device="cuda")
        assert on_gpu.device.type == "cuda" and torch.equal(on_gpu.cpu(), a)


def test_random_masking_counts():
    mask = random_token_mask(64, 8, 25, 0.75, generator=seeded(0))
    assert mask.shape == (64, 200) and mask.dtype == torch.bool
    assert (mask.sum(1) == 200 - int(200 * 0.25)).all()
    varied = random_token_mask(256, 8, 25, generator=seeded(0)).sum(1)
    assert (varied >= 100).all() and (varied <= 180).all() and varied.float().std() > 10
    assert not torch.equal(mask[0], mask[1])


def test_motion_masking_reuses_mamps_ranking():
    torch.manual_seed(0)
    patches = torch.randn(6, 8, 25, 24)
    ours = motion_token_mask(patches, 0.9, 0.8, generator=seeded(1))
    _, theirs, _ = motion_aware_masking(patches, 0.9, 0.8, generator=seeded(1))
    assert ours.dtype == torch.bool and torch.equal(ours, theirs.bool())
    varied = motion_token_mask(torch.randn(128, 8, 25, 24), (0.5, 0.9), generator=seeded(1)).sum(1)
    assert (varied >= 100).all() and (varied <= 180).all() and varied.float().std() > 10
    via_dispatch = token_mask("motion", 6, 8, patches=patches, mask_ratio=0.9, generator=seeded(1))
    assert torch.equal(via_dispatch, ours)
    with pytest.raises(ValueError, match="T' >= 2"):
        motion_token_mask(torch.randn(2, 1, 25, 24), 0.9)


def test_dispatcher_kinds_and_application_probability():
    assert MASK_KINDS == ("none", "random", "motion", "stm")
    patches = torch.randn(200, 8, 25, 3)
    for kind in MASK_KINDS:
        assert not token_mask(kind, 200, 8, patches=patches, probability=0.0, generator=seeded(0)).any()
    assert not token_mask("none", 4, 8).any() and token_mask("none", 4, 8).shape == (4, 200)
    full = token_mask("stm", 200, 8, generator=seeded(0))
    assert torch.equal(full, semantic_tube_mask(200, 8, generator=seeded(0)))  # probability 1 draws nothing more
    half = token_mask("stm", 200, 8, probability=0.5, generator=seeded(0))
    applied = half.any(1)
    assert 0.35 < applied.float().mean() < 0.65
    assert torch.equal(half[applied], full[applied])  # the kept masks are the p = 1 ones


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown mask kind"):
        token_mask("tube", 2, 8)
    with pytest.raises(ValueError, match="needs the patches"):
        token_mask("motion", 2, 8)
    with pytest.raises(ValueError, match="do not match"):
        token_mask("motion", 2, 8, patches=torch.randn(2, 4, 25, 3))
    with pytest.raises(ValueError, match="probability"):
        token_mask("stm", 2, 8, probability=1.5)
    for ratio in ((0.9, 0.5), 1.5, -0.1, (0.5,), "high"):
        with pytest.raises(ValueError, match="mask_ratio"):
            semantic_tube_mask(2, 8, mask_ratio=ratio)
    with pytest.raises(ValueError, match="cover"):
        semantic_tube_mask(2, 8, groups=[(0, 1, 2)])
    with pytest.raises(ValueError, match="joint indices"):
        semantic_tube_mask(2, 8, groups=[(0, 25)])
    with pytest.raises(ValueError, match="non-empty"):
        semantic_tube_mask(2, 8, groups=[()])
    with pytest.raises(ValueError, match="min_area"):
        semantic_tube_mask(2, 8, min_area=0)
    with pytest.raises(ValueError, match="max_area_fraction"):
        semantic_tube_mask(2, 8, max_area_fraction=0)
    with pytest.raises(ValueError, match="batch_size"):
        semantic_tube_mask(-1, 8)
    with pytest.raises(ValueError, match="num_frames"):
        random_token_mask(2, 0, 25)
    with pytest.raises(ValueError, match="unknown skeleton layout"):
        semantic_tube_mask(2, 8, "ntu26")
    assert semantic_tube_mask(0, 8).shape == (0, 200)
