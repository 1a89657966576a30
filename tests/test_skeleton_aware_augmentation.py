"""SLiM's Skeleton-Aware Augmentations (appendix D, Algorithms 2-4) and the "Limited" baselines (Table 7)."""

import numpy as np
import pytest

from skeleton_models.augmentation import (
    bone_aware_scaling,
    coordinate_scaling,
    euler_rotation_matrices,
    scale_bones,
    scaling_groups,
    skeleton_aware_augment,
    skeleton_aware_mirror,
    skeleton_aware_rotation,
    skeleton_aware_rotation_angles,
    swap_left_right,
)
from skeleton_models.skeletons import get_layout

NTU = get_layout("ntu25")


def make_clips(n=6, t=5, m=2, v=25, c=3, seed=0, dtype=np.float32):
    """Random clips (N, T, M, V, C) whose second person is padding (all zero) in every clip."""
    clips = np.random.default_rng(seed).normal(size=(n, t, m, v, c)).astype(dtype)
    clips[:, :, 1:] = 0
    return clips


def bone_vectors(clips, layout=NTU):
    """(N, T, M, B, 3) bone vectors child - parent of the layout's bones."""
    child, parent = np.array(layout.bones).T
    return clips[..., child, :3] - clips[..., parent, :3]


def rot(axis, a):
    """Right-handed rotation by angle a about axis 0, 1 or 2, written out by hand."""
    c, s = np.cos(a), np.sin(a)
    return {
        0: np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
        1: np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
        2: np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]),
    }[axis]


# --- rotation (Algorithm 2) ------------------------------------------------------------------------------------------


def test_euler_rotation_matrices_are_rz_ry_rx_built_by_hand():
    angles = np.array([[0.3, -2.0, 0.5], [-0.5, 3.0, -0.1], [0.0, 0.0, 0.0]])
    got = euler_rotation_matrices(angles)
    assert got.shape == (3, 3, 3) and got.dtype == np.float32
    for r, (a, b, g) in zip(got, angles):
        np.testing.assert_allclose(r, rot(2, g) @ rot(1, b) @ rot(0, a), atol=1e-6)
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-6)
        assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-5)


def test_rotation_angles_full_turn_about_vertical_and_bounded_tilts():
    angles = np.rad2deg(skeleton_aware_rotation_angles(4000, np.random.default_rng(0)))
    assert np.abs(angles[:, [0, 2]]).max() <= 30.0
    assert np.abs(angles[:, [0, 2]]).max() > 29.0
    assert np.abs(angles[:, 1]).max() <= 180.0
    assert np.abs(angles[:, 1]).max() > 170.0  # the full 360 deg about y, not the limited range
    z_up = np.rad2deg(skeleton_aware_rotation_angles(4000, np.random.default_rng(0), tilt=10, vertical=90, up_axis=2))
    assert np.abs(z_up[:, :2]).max() <= 10.0 and 80.0 < np.abs(z_up[:, 2]).max() <= 90.0


def test_skeleton_aware_rotation_applies_the_drawn_matrix_and_keeps_bone_lengths():
    clips = make_clips()
    out = skeleton_aware_rotation(clips, np.random.default_rng(3))
    angles = skeleton_aware_rotation_angles(len(clips), np.random.default_rng(3))  # the same draws
    expected = np.stack([x @ (rot(2, g) @ rot(1, b) @ rot(0, a)).T for x, (a, b, g) in zip(clips, angles)])
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert out.dtype == np.float32 and out.shape == clips.shape
    np.testing.assert_allclose(
        np.linalg.norm(bone_vectors(out), axis=-1), np.linalg.norm(bone_vectors(clips), axis=-1), rtol=1e-5, atol=1e-6
    )
    assert not out[:, :, 1].any()  # the padded person stays zero


def test_rotation_tilts_the_up_vector_by_at_most_the_sum_of_the_tilts():
    # R = Rz Ry Rx: cos(tilt of y) = cos a cos g + sin a sin g sin b >= cos(|a| + |g|), so the bound is 2 * 30 deg, and
    # it is reached (b = -90 deg): a bound of sqrt(2) * 30 deg would be wrong.
    n = 20000
    up = np.zeros((n, 1, 1, 1, 3), np.float32)
    up[..., 1] = 1
    out = skeleton_aware_rotation(up, np.random.default_rng(1))
    angles = skeleton_aware_rotation_angles(n, np.random.default_rng(1))
    tilt = np.rad2deg(np.arccos(np.clip(out[:, 0, 0, 0, 1], -1, 1)))
    bound = np.rad2deg(np.abs(angles[:, 0]) + np.abs(angles[:, 2]))
    assert np.all(tilt <= bound + 1e-3)
    assert tilt.max() <= 60.0 and tilt.max() > np.sqrt(2) * 30
    flat = skeleton_aware_rotation(make_clips(), np.random.default_rng(2), tilt=0)
    np.testing.assert_allclose(flat[..., 1], make_clips()[..., 1], atol=1e-6)  # no tilt: heights unchanged


# --- mirroring (Algorithm 3) -----------------------------------------------------------------------------------------


def test_ntu25_mirror_map_is_the_papers_swap_pairs():
    pairs_1based = [(5, 9), (6, 10), (7, 11), (8, 12), (13, 17), (14, 18), (15, 19), (16, 20), (22, 24), (23, 25)]
    expected = list(range(25))
    for a, b in pairs_1based:
        expected[a - 1], expected[b - 1] = b - 1, a - 1
    assert list(NTU.mirror) == expected


def test_mirroring_twice_is_the_identity():
    clips = make_clips()
    once = skeleton_aware_mirror(clips, NTU)
    assert not np.array_equal(once, clips)
    np.testing.assert_array_equal(skeleton_aware_mirror(once, NTU), clips)
    assert once.dtype == np.float32 and once.shape == clips.shape


def test_mirroring_moves_a_left_point_with_positive_x_to_the_right_with_negative_x():
    clips = np.zeros((1, 1, 1, 25, 3), np.float32)
    left_hand, right_hand = NTU.joint_index("left_hand"), NTU.joint_index("right_hand")
    clips[0, 0, 0, left_hand] = [0.5, 0.2, 3.0]
    out = skeleton_aware_mirror(clips, "ntu25")
    np.testing.assert_array_equal(out[0, 0, 0, right_hand], np.array([-0.5, 0.2, 3.0], np.float32))
    assert not out[0, 0, 0, left_hand].any()


def test_limited_mirroring_swaps_indices_without_negation():
    clips = make_clips()
    out = swap_left_right(clips, NTU)
    np.testing.assert_array_equal(out, clips[..., list(NTU.mirror), :])
    np.testing.assert_array_equal(np.sign(out[..., 0]), np.sign(clips[..., list(NTU.mirror), 0]))
    np.testing.assert_array_equal(out[..., 0], -skeleton_aware_mirror(clips, NTU)[..., 0])


# --- bone-aware scaling (Algorithm 4) --------------------------------------------------------------------------------


def test_scaling_groups_of_ntu25_are_the_papers_five_groups():
    groups = scaling_groups(NTU)
    assert {k: sorted(v) for k, v in groups.items()} == {
        "torso": [0, 1, 2, 3, 20],
        "left_arm": [4, 5, 6, 7, 21, 22],
        "right_arm": [8, 9, 10, 11, 23, 24],
        "left_leg": [12, 13, 14, 15],
        "right_leg": [16, 17, 18, 19],
    }
    for name in ["nwucla20", "openpose18", "coco17", "mediapipe_hand21"]:  # a partition for every layout
        joints = [j for g in scaling_groups(name).values() for j in g]
        assert len(joints) == len(set(joints))
    with pytest.raises(ValueError, match="groups"):
        scaling_groups(NTU, [(0, 1), (1, 2)])


def algorithm4_loop(clip, layout, factors, root):
    """Algorithm 4 for one clip (T, M, V, C), literally: bones, scale, rebuild joint by joint in topological order."""
    neighbours = {j: set() for j in range(layout.num_joints)}
    for child, parent in layout.bones:
        neighbours[child].add(parent)
        neighbours[parent].add(child)
    parent, order = {root: root}, [root]
    for node in order:
        for other in sorted(neighbours[node]):
            if other not in parent:
                parent[other] = node
                order.append(other)
    out = clip.astype(np.float64)
    for j in order[1:]:
        out[..., j, :] = out[..., parent[j], :] + factors[j] * (clip[..., j, :] - clip[..., parent[j], :])
    return out


@pytest.mark.parametrize("root", [None, 0, 1])
def test_scale_bones_matches_algorithm4_joint_by_joint(root):
    clips = make_clips(n=3)
    factors = np.random.default_rng(5).uniform(0.5, 1.5, size=(3, 25))
    out = scale_bones(clips, NTU, factors, root=root)
    for clip, f, o in zip(clips, factors, out):
        np.testing.assert_allclose(o, algorithm4_loop(clip, NTU, f, NTU.center if root is None else root), atol=1e-5)


def test_bone_aware_scaling_keeps_root_and_directions_and_scales_lengths_by_group():
    clips = make_clips(n=8)
    clips[0, 2] = 0  # a missing frame
    out = bone_aware_scaling(clips, NTU, np.random.default_rng(7))
    assert out.dtype == np.float32 and out.shape == clips.shape
    np.testing.assert_array_equal(out[..., NTU.center, :], clips[..., NTU.center, :])  # root trajectory kept
    assert not out[:, :, 1].any() and not out[0, 2].any()  # padded person and missing frame stay zero
    before, after = bone_vectors(clips)[1:, :, 0], bone_vectors(out)[1:, :, 0]  # the real person, no missing frame
    cos = (before * after).sum(-1) / np.linalg.norm(before, axis=-1) / np.linalg.norm(after, axis=-1)
    np.testing.assert_allclose(cos, 1.0, atol=1e-5)  # directions kept
    ratio = np.linalg.norm(after, axis=-1) / np.linalg.norm(before, axis=-1)  # (N, T, B)
    ratio = ratio[:, 0]  # one factor per clip: the same in every frame
    child = np.array(NTU.bones)[:, 0]
    group_factors = []
    for joints in scaling_groups(NTU).values():
        in_group = ratio[:, np.isin(child, joints)]
        np.testing.assert_allclose(in_group, in_group[:, :1].repeat(in_group.shape[1], 1), rtol=1e-4)
        group_factors.append(in_group[:, 0])
    group_factors = np.stack(group_factors, 1)
    assert np.all((group_factors >= 0.85 - 1e-5) & (group_factors <= 1.15 + 1e-5))
    assert np.all(np.ptp(group_factors, axis=1) > 1e-3)  # independent factors per group


def test_bone_aware_scaling_with_another_root_and_layout():
    clips = make_clips(n=2, v=18)
    layout = get_layout("openpose18")
    out = bone_aware_scaling(clips, layout, np.random.default_rng(0), root=8)
    np.testing.assert_array_equal(out[..., 8, :], clips[..., 8, :])
    assert not np.allclose(out[..., 1, :], clips[..., 1, :])


# --- limited scaling -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_axis", [True, False])
def test_coordinate_scaling_scales_each_axis_by_one_factor_per_clip(per_axis):
    clips = make_clips()
    clips[:, :, 1] = 1.0  # a constant person, so that every ratio is defined
    out = coordinate_scaling(clips, np.random.default_rng(0), per_axis=per_axis)
    ratio = out[:, :, 1] / clips[:, :, 1]  # (N, T, V, 3)
    per_clip = ratio[:, 0, 0]  # (N, 3)
    np.testing.assert_allclose(ratio, np.broadcast_to(per_clip[:, None, None], ratio.shape), rtol=1e-6)
    assert np.all((per_clip >= 0.85) & (per_clip <= 1.15))
    assert (np.ptp(per_clip, axis=1) > 1e-3).all() == per_axis


# --- composition -----------------------------------------------------------------------------------------------------

MODES = [
    ("skeleton_aware", "skeleton_aware", "bone_aware"),
    ("limited", "limited", "limited"),
    ("skeleton_aware", "none", "none"),
    ("none", "skeleton_aware", "none"),
    ("none", "none", "bone_aware"),
    ("limited", "none", "none"),
    ("none", "limited", "none"),
    ("none", "none", "limited"),
]


@pytest.mark.parametrize("rotation,mirroring,scaling", MODES)
def test_probability_zero_keeps_and_probability_one_changes_every_clip(rotation, mirroring, scaling):
    clips = make_clips()
    kwargs = dict(rotation=rotation, mirroring=mirroring, scaling=scaling)
    kept = skeleton_aware_augment(clips, NTU, np.random.default_rng(0), probability=0.0, **kwargs)
    np.testing.assert_array_equal(kept, clips)
    assert kept is not clips
    changed = skeleton_aware_augment(clips, "ntu25", np.random.default_rng(0), probability=1.0, **kwargs)
    assert changed.dtype == np.float32 and changed.shape == clips.shape
    assert all(not np.allclose(a, b) for a, b in zip(changed, clips))
    assert not changed[:, :, 1].any()  # padding stays zero


def test_probability_one_mirroring_alone_is_the_mirror_and_half_augments_about_half():
    clips = make_clips(n=2000, t=1, m=1)
    rng = np.random.default_rng(0)
    out = skeleton_aware_augment(clips, NTU, rng, rotation="none", scaling="none", probability=1.0)
    np.testing.assert_array_equal(out, skeleton_aware_mirror(clips, NTU))
    half = skeleton_aware_augment(clips, NTU, rng, rotation="none", scaling="none")
    fraction = np.mean([not np.array_equal(a, b) for a, b in zip(half, clips)])
    assert 0.45 < fraction < 0.55


def test_float64_and_extra_channels_are_preserved():
    clips = make_clips(n=3, c=4, dtype=np.float64)
    out = skeleton_aware_augment(clips, NTU, np.random.default_rng(0), probability=1.0)
    assert out.dtype == np.float64 and out.shape == clips.shape
    np.testing.assert_array_equal(np.sort(out[..., 3], -1), np.sort(clips[..., 3], -1))  # scores only move


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(rotation="full"), "rotation"),
        (dict(mirroring="geometric"), "mirroring"),
        (dict(scaling="skeleton_aware"), "scaling"),
        (dict(probability=1.5), "probability"),
        (dict(scale_range=(1.2, 0.8)), "scale_range"),
        (dict(tilt=-5), "tilt"),
        (dict(limited_angle=400), "limited_angle"),
        (dict(groups=[(0, 1), (1, 4)]), "groups"),
        (dict(root=99), "root"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}"):
        skeleton_aware_augment(make_clips(), NTU, np.random.default_rng(0), **{"probability": 1.0, **kwargs})


def test_bad_inputs_raise_value_error():
    with pytest.raises(ValueError, match="`rng`"):
        skeleton_aware_augment(make_clips(), NTU, rng=0)
    with pytest.raises(ValueError, match="`clips`"):
        skeleton_aware_augment(make_clips(v=20), NTU, np.random.default_rng(0))
    with pytest.raises(ValueError, match="`clips`"):
        skeleton_aware_rotation(make_clips()[0], np.random.default_rng(0))
    with pytest.raises(ValueError, match="`up_axis`"):
        skeleton_aware_rotation(make_clips(), np.random.default_rng(0), up_axis=3)
    with pytest.raises(ValueError, match="`factors`"):
        scale_bones(make_clips(), NTU, np.ones((2, 25)))
