import numpy as np
import pytest

from skeleton_models.skeletons import SkeletonLayout, get_layout, list_layouts

LAYOUTS = ["ntu25", "nwucla20", "openpose18", "coco17", "mediapipe_hand21"]


def test_registered_layouts():
    assert set(LAYOUTS) <= set(list_layouts())
    sizes = {name: get_layout(name).num_joints for name in LAYOUTS}
    assert sizes == {"ntu25": 25, "nwucla20": 20, "openpose18": 18, "coco17": 17, "mediapipe_hand21": 21}


@pytest.mark.parametrize("name", LAYOUTS)
def test_layout_is_a_tree_rooted_at_its_centre(name):
    layout = get_layout(name)
    roots = [j for j, p in enumerate(layout.parents) if p == -1]
    assert roots == [layout.center]
    assert len(layout.bones) == layout.num_joints - 1
    for joint in range(layout.num_joints):  # every joint reaches the centre without revisiting a joint
        seen, node = set(), joint
        while node != layout.center:
            assert node not in seen
            seen.add(node)
            node = layout.parents[node]
    assert layout.depth()[layout.center] == 0
    assert len(layout.joint_names) == len(set(layout.joint_names))


@pytest.mark.parametrize("name", LAYOUTS)
def test_mirror_is_an_involution_mapping_left_groups_to_right_groups(name):
    layout = get_layout(name)
    mirror = np.array(layout.mirror)
    assert (mirror[mirror] == np.arange(layout.num_joints)).all()
    left_groups = [g for g in layout.groups if g.startswith("left_")]
    for group in left_groups:
        right = "right_" + group[len("left_") :]
        assert right in layout.groups
        assert {layout.mirror[j] for j in layout.groups[group]} == set(layout.groups[right])
    for group in layout.groups:  # groups without a side are mapped onto themselves
        if not group.startswith(("left_", "right_")):
            assert {layout.mirror[j] for j in layout.groups[group]} == set(layout.groups[group])
    for j, joint in enumerate(layout.joint_names):  # names agree with the mirror map
        if "left" in joint:
            assert layout.joint_names[layout.mirror[j]] == joint.replace("left", "right")


def test_layout_groups_cover_arms_and_legs():
    for name in ["ntu25", "nwucla20", "openpose18", "coco17"]:
        groups = get_layout(name).groups
        assert {"left_arm", "right_arm", "left_leg", "right_leg"} <= set(groups)
    assert {"thumb", "index", "middle", "ring", "pinky"} <= set(get_layout("mediapipe_hand21").groups)
    assert {"left_fingers", "right_fingers"} <= set(get_layout("ntu25").groups)


def _ctrgcn_spatial_graph(num_node, inward_1based):
    """CTR-GCN graph/tools.py get_spatial_graph, transcribed as the reference."""

    def edge2mat(link):
        a = np.zeros((num_node, num_node))
        for i, j in link:
            a[j, i] = 1
        return a

    def normalize_digraph(a):
        dl = a.sum(0)
        dn = np.zeros((num_node, num_node))
        for i in range(num_node):
            if dl[i] > 0:
                dn[i, i] = dl[i] ** (-1)
        return a @ dn

    inward = [(i - 1, j - 1) for i, j in inward_1based]
    outward = [(j, i) for i, j in inward]
    self_link = [(i, i) for i in range(num_node)]
    return np.stack([edge2mat(self_link), normalize_digraph(edge2mat(inward)), normalize_digraph(edge2mat(outward))])


def test_ntu25_matches_ctrgcn_graph():
    ctrgcn_inward = [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10),
                     (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23),
                     (23, 8), (24, 25), (25, 12)]  # fmt: skip
    layout = get_layout("ntu25")
    assert sorted(layout.bones) == sorted((i - 1, j - 1) for i, j in ctrgcn_inward)
    adjacency = layout.adjacency()
    assert adjacency.dtype == np.float32 and adjacency.shape == (3, 25, 25)
    np.testing.assert_allclose(adjacency, _ctrgcn_spatial_graph(25, ctrgcn_inward), atol=1e-7)
    assert layout.joint_names[layout.center] == "spine_shoulder"


def test_ancestors():
    layout = get_layout("ntu25")
    first = layout.ancestors(1)
    assert first[layout.center] == layout.center
    assert all(first[j] == p for j, p in enumerate(layout.parents) if p >= 0)
    right_hand = layout.joint_index("right_hand")
    assert layout.joint_names[layout.ancestors(2)[right_hand]] == "right_elbow"
    assert (layout.ancestors(0) == np.arange(25)).all()
    assert (layout.ancestors(int(layout.depth().max())) == layout.center).all()
    with pytest.raises(ValueError):
        layout.ancestors(-1)


def test_errors_name_what_was_expected():
    with pytest.raises(ValueError, match="unknown skeleton layout 'ntu26'.*ntu25"):
        get_layout("ntu26")
    with pytest.raises(KeyError, match="no joint named 'tail'"):
        get_layout("ntu25").joint_index("tail")
    with pytest.raises(ValueError, match="parent -1"):
        SkeletonLayout("bad", ("a", "b"), parents=(1, -1), center=0, mirror=(0, 1))
