# Generated from skeleton_models/skeletons.py by utils/write_modeling.py; do not edit.
"""Skeleton joint layouts.

A layout is data: joint names, the parent of each joint (the bones), the centre joint (root of the joint tree),
the left/right mirror map and anatomical groups. Models build their graph from `config.layout`, the processor
derives bone streams from the parents, and augmentations use the mirror map, so one architecture runs on any
layout registered here.

Sources (see also ../shared/data/facts/):
- ntu25: Kinect v2 joint order and the CTR-GCN bone list (Uason-Chen/CTR-GCN graph/ntu_rgb_d.py), centre 21 (1-based);
  origin 2 (spine middle), the joint CTR-GCN's ``seq_transformation.py::seq_translation`` (and 2s-AGCN's and pyskl's
  pre-normalisation) translates every clip to.
- nwucla20: Kinect v1 order, CTR-GCN graph/ucla.py (centre = shoulder centre, the root of its edge list); origin
  index 1 (spine), as CTR-GCN's ``feeders/feeder_ucla.py`` (``value - value[0, 1, :]``).
- openpose18: ST-GCN `openpose` layout (yysijie/st-gcn net/utils/graph.py), centre 1 (neck).
- coco17: COCO keypoint names (detectron2) with pyskl's `coco` edges, centre 0 (nose).
- mediapipe_hand21: MediaPipe hand landmarks, pyskl's `handmp` tree rooted at the wrist.
- hands2x21: BHaRNet's hand input (section III-F): mediapipe_hand21's 21 joints plus 4 isolated dummy nodes, so that a
  hand clip has the 25 nodes of an ntu25 body clip; its instance axis is {left hand, right hand} of one person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["SkeletonLayout", "get_layout", "register_layout", "list_layouts"]


@dataclass(frozen=True)
class SkeletonLayout:
    """A joint layout.

    Attributes:
        name: registry key, e.g. ``"ntu25"``.
        joint_names: one name per joint, in the order the joints are stored.
        parents: parent index of every joint; ``-1`` for the centre joint (the root of the joint tree) and for
            isolated joints (padding nodes without bones, e.g. the dummies of ``hands2x21``; see `isolated`).
        center: index of the centre joint.
        mirror: index of each joint's left/right counterpart (itself for joints on the mid-line).
        groups: anatomical groups, name -> joint indices. Left/right groups are named ``left_*`` / ``right_*``.
        up_axis: index of the coordinate axis that points up in the data's native frame (1 = y for Kinect).
        shoulders: ``(left, right)`` shoulder joints, used for view alignment; ``None`` when the layout has none.
        origin: the joint the processor translates clips to (`origin_joint`) when it differs from the centre joint
            (the reference preprocessing of ``ntu25`` and ``nwucla20`` centres on the spine, not the graph's root).
        image_coordinates: the keypoints of 2-D pose estimators: image coordinates (x right, y down), the third
            channel a score; False for camera space (Kinect: x to the camera's left, y up).
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    center: int
    mirror: tuple[int, ...]
    groups: dict[str, tuple[int, ...]] = field(default_factory=dict)
    up_axis: int = 1
    shoulders: tuple[int, int] | None = None
    origin: int | None = None
    image_coordinates: bool = False

    def __post_init__(self):
        v = len(self.joint_names)
        if self.origin is not None and not 0 <= self.origin < v:
            raise ValueError(f"layout {self.name!r}: origin {self.origin} is not a joint index (0..{v - 1})")
        if len(self.parents) != v or len(self.mirror) != v:
            raise ValueError(f"layout {self.name!r}: joint_names, parents and mirror must all have {v} entries")
        if not 0 <= self.center < v or self.parents[self.center] != -1:
            raise ValueError(f"layout {self.name!r}: the centre joint {self.center} must have parent -1")
        bad = [j for j, p in enumerate(self.parents) if not -1 <= p < v or p == j]
        if bad:
            raise ValueError(f"layout {self.name!r}: joints {bad} have a parent that is not -1 or another joint")
        roots = {j for j, p in enumerate(self.parents) if p == -1} - {self.center}
        with_children = sorted(roots & set(self.parents))
        if with_children:
            raise ValueError(
                f"layout {self.name!r}: joints {with_children} have parent -1 and children but are not the centre "
                f"joint {self.center}; besides the centre, only isolated joints (without children) may have parent -1"
            )

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def origin_joint(self) -> int:
        """The joint preprocessing centres clips on: `origin`, else the centre joint."""
        return self.center if self.origin is None else self.origin

    @property
    def isolated(self) -> tuple[int, ...]:
        """Joints outside the joint tree: parent -1 but not the centre (padding nodes, e.g. ``hands2x21``'s
        dummies). They have no bones, are their own ancestors (zero bone streams) and aggregate only themselves in
        `adjacency`."""
        return tuple(j for j, p in enumerate(self.parents) if p == -1 and j != self.center)

    @property
    def bones(self) -> tuple[tuple[int, int], ...]:
        """Inward edges ``(child, parent)``: every joint of the tree except the centre, pointing towards the centre
        (isolated joints have none)."""
        return tuple((j, p) for j, p in enumerate(self.parents) if p >= 0)

    def ancestors(self, k: int = 1) -> np.ndarray:
        """Index of each joint's k-th ancestor; the walk stops at the centre joint (its own ancestor). Isolated
        joints are their own ancestors.

        ``x - x[..., ancestors(1), :]`` is the bone stream (zero at the centre and at isolated joints, as in CTR-GCN's
        bone pairs); ``ancestors(2)`` gives the second-order ("long bone") stream of HocSLM's 6-stream ensemble.
        """
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        step = np.array([p if p >= 0 else j for j, p in enumerate(self.parents)], dtype=np.int64)
        out = np.arange(self.num_joints, dtype=np.int64)
        for _ in range(k):
            out = step[out]
        return out

    def depth(self) -> np.ndarray:
        """Number of bones between each joint and the centre joint (0 for isolated joints)."""
        depth = np.zeros(self.num_joints, dtype=np.int64)
        for j in range(self.num_joints):
            node = j
            while self.parents[node] >= 0:
                node = self.parents[node]
                depth[j] += 1
                if depth[j] > self.num_joints:
                    raise ValueError(f"layout {self.name!r}: the parents contain a cycle through joint {j}")
        return depth

    def adjacency(self) -> np.ndarray:
        """CTR-GCN's 3-subset spatial graph, float32 of shape (3, V, V): identity, inward, outward.

        ``A[k, u, v] != 0`` means joint ``u`` aggregates from joint ``v`` in subset ``k``; the inward and outward
        subsets are column-normalised (``A @ D^-1``), exactly as ``graph/tools.py::get_spatial_graph``. Isolated
        joints appear only in the identity subset.
        """
        v = self.num_joints
        identity = np.eye(v, dtype=np.float64)
        inward = np.zeros((v, v), dtype=np.float64)
        for child, parent in self.bones:
            inward[parent, child] = 1.0
        outward = inward.T.copy()
        return np.stack([identity, _normalize_columns(inward), _normalize_columns(outward)]).astype(np.float32)

    def joint_index(self, name: str) -> int:
        try:
            return self.joint_names.index(name)
        except ValueError:
            joints = list(self.joint_names)
            raise KeyError(f"layout {self.name!r} has no joint named {name!r}; joints: {joints}") from None


def _normalize_columns(a: np.ndarray) -> np.ndarray:
    degree = a.sum(0)
    inv = np.where(degree > 0, 1.0 / np.maximum(degree, 1e-12), 0.0)
    return a * inv[None, :]


def _parents_from_edges(num_joints: int, edges: list[tuple[int, int]], center: int) -> tuple[int, ...]:
    """Parents from (child, parent) edges, checked to form a tree rooted at `center`."""
    parents = [-1] * num_joints
    for child, parent in edges:
        if parents[child] != -1:
            raise ValueError(f"joint {child} has two parents")
        parents[child] = parent
    if parents[center] != -1:
        raise ValueError(f"centre joint {center} has a parent")
    return tuple(parents)


def _mirror_from_pairs(num_joints: int, pairs: list[tuple[int, int]]) -> tuple[int, ...]:
    mirror = list(range(num_joints))
    for a, b in pairs:
        mirror[a], mirror[b] = b, a
    return tuple(mirror)


_REGISTRY: dict[str, SkeletonLayout] = {}


def register_layout(layout: SkeletonLayout, overwrite: bool = False) -> SkeletonLayout:
    """Register a layout under ``layout.name`` so that configs and processors can refer to it by name."""
    if layout.name in _REGISTRY and not overwrite:
        raise ValueError(f"a layout named {layout.name!r} is already registered")
    layout.depth()  # raises on cycles
    _REGISTRY[layout.name] = layout
    return layout


def get_layout(layout: str | SkeletonLayout) -> SkeletonLayout:
    """Return a registered layout by name (a `SkeletonLayout` is returned unchanged)."""
    if isinstance(layout, SkeletonLayout):
        return layout
    try:
        return _REGISTRY[layout]
    except KeyError:
        raise ValueError(f"unknown skeleton layout {layout!r}; registered layouts: {sorted(_REGISTRY)}") from None


def list_layouts() -> list[str]:
    return sorted(_REGISTRY)


# --- ntu25: Kinect v2 (NTU RGB+D 60/120, PKU-MMD) ---------------------------------------------------------------
_NTU_NAMES = (
    "spine_base", "spine_mid", "neck", "head",
    "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_shoulder", "right_elbow", "right_wrist", "right_hand",
    "left_hip", "left_knee", "left_ankle", "left_foot",
    "right_hip", "right_knee", "right_ankle", "right_foot",
    "spine_shoulder", "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb",
)  # fmt: skip
# CTR-GCN graph/ntu_rgb_d.py inward pairs (1-based, child -> parent).
_NTU_EDGES_1 = [
    (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10), (12, 11),
    (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23), (23, 8), (24, 25),
    (25, 12),
]  # fmt: skip
register_layout(
    SkeletonLayout(
        name="ntu25",
        joint_names=_NTU_NAMES,
        parents=_parents_from_edges(25, [(c - 1, p - 1) for c, p in _NTU_EDGES_1], center=20),
        center=20,
        origin=1,  # spine middle: CTR-GCN seq_translation (joint 2, 1-based)
        mirror=_mirror_from_pairs(
            25, [(4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19), (21, 23), (22, 24)]
        ),  # fmt: skip
        groups={
            "torso": (0, 1, 2, 3, 20),
            "left_arm": (4, 5, 6, 7, 21, 22),
            "right_arm": (8, 9, 10, 11, 23, 24),
            "left_leg": (12, 13, 14, 15),
            "right_leg": (16, 17, 18, 19),
            "left_fingers": (21, 22),
            "right_fingers": (23, 24),
        },
        up_axis=1,
        shoulders=(4, 8),
    )
)

# --- nwucla20: Kinect v1 (Northwestern-UCLA) -----------------------------------------------------------------------
_UCLA_NAMES = (
    "hip_center", "spine", "shoulder_center", "head",
    "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_shoulder", "right_elbow", "right_wrist", "right_hand",
    "left_hip", "left_knee", "left_ankle", "left_foot",
    "right_hip", "right_knee", "right_ankle", "right_foot",
)  # fmt: skip
_UCLA_EDGES_1 = [
    (1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7), (9, 3), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13),
    (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19),
]  # fmt: skip
register_layout(
    SkeletonLayout(
        name="nwucla20",
        joint_names=_UCLA_NAMES,
        parents=_parents_from_edges(20, [(c - 1, p - 1) for c, p in _UCLA_EDGES_1], center=2),
        center=2,
        origin=1,  # spine: CTR-GCN feeder_ucla, value - value[0, 1, :]
        mirror=_mirror_from_pairs(20, [(4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19)]),
        groups={
            "torso": (0, 1, 2, 3),
            "left_arm": (4, 5, 6, 7),
            "right_arm": (8, 9, 10, 11),
            "left_leg": (12, 13, 14, 15),
            "right_leg": (16, 17, 18, 19),
        },
        up_axis=1,
        shoulders=(4, 8),
    )
)

# --- openpose18 (Kinetics-Skeleton) ---------------------------------------------------------------------------------
_OPENPOSE_NAMES = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip
_OPENPOSE_EDGES = [
    (4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5), (8, 2), (5, 1), (2, 1), (0, 1),
    (15, 0), (14, 0), (17, 15), (16, 14),
]  # fmt: skip
register_layout(
    SkeletonLayout(
        name="openpose18",
        joint_names=_OPENPOSE_NAMES,
        parents=_parents_from_edges(18, _OPENPOSE_EDGES, center=1),
        center=1,
        mirror=_mirror_from_pairs(18, [(2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13), (14, 15), (16, 17)]),
        groups={
            "torso": (0, 1),
            "head": (0, 14, 15, 16, 17),
            "left_arm": (5, 6, 7),
            "right_arm": (2, 3, 4),
            "left_leg": (11, 12, 13),
            "right_leg": (8, 9, 10),
            "left_face": (15, 17),
            "right_face": (14, 16),
        },
        up_axis=1,  # image y points down; "up" here means the vertical image axis
        shoulders=(5, 2),
        image_coordinates=True,  # OpenPose keypoints (Kinetics-Skeleton)
    )
)

# --- coco17 (2D pose estimators; pyskl annotations) -----------------------------------------------------------------
_COCO_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)  # fmt: skip
_COCO_EDGES = [
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5), (10, 8), (8, 6), (5, 0), (6, 0),
    (1, 0), (3, 1), (2, 0), (4, 2),
]  # fmt: skip
register_layout(
    SkeletonLayout(
        name="coco17",
        joint_names=_COCO_NAMES,
        parents=_parents_from_edges(17, _COCO_EDGES, center=0),
        center=0,
        mirror=_mirror_from_pairs(17, [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]),
        groups={
            "head": (0, 1, 2, 3, 4),
            "left_arm": (5, 7, 9),
            "right_arm": (6, 8, 10),
            "left_leg": (11, 13, 15),
            "right_leg": (12, 14, 16),
            "left_face": (1, 3),
            "right_face": (2, 4),
        },
        up_axis=1,
        shoulders=(5, 6),
        image_coordinates=True,  # COCO keypoints (pyskl's 2-D annotations, PoseExtractor)
    )
)

# --- mediapipe_hand21 (one hand; left and right hands are separate skeletons of this layout) -------------------------
_HAND_NAMES = (
    "wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_mcp", "index_pip", "index_dip", "index_tip",
    "middle_mcp", "middle_pip", "middle_dip", "middle_tip",
    "ring_mcp", "ring_pip", "ring_dip", "ring_tip",
    "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)  # fmt: skip
register_layout(
    SkeletonLayout(
        name="mediapipe_hand21",
        joint_names=_HAND_NAMES,
        parents=(-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19),
        center=0,
        mirror=tuple(range(21)),  # a single hand has no left/right joints
        groups={
            "palm": (0, 1, 5, 9, 13, 17),
            "thumb": (1, 2, 3, 4),
            "index": (5, 6, 7, 8),
            "middle": (9, 10, 11, 12),
            "ring": (13, 14, 15, 16),
            "pinky": (17, 18, 19, 20),
        },
        up_axis=1,
        shoulders=None,
    )
)

# --- hands2x21 (BHaRNet's hand input: the two hands of one person, padded to 25 nodes) ------------------------------
# Nodes 0-20 are mediapipe_hand21's joints (the hand-centric graph: MediaPipe's tree rooted at the wrist), nodes
# 21-24 are isolated dummy nodes that pad a hand to the 25 nodes of an ntu25 body clip ("augmenting with dummy
# keypoints", BHaRNet III-F), so that the body and hand experts are the same backbone at the same cost (Table III).
# The dummies are zero in every stream and have no bones. The instance axis M = 2 of a hands2x21 clip is {left hand,
# right hand} of one person (skeleton_models.hands builds such clips); the mirror map is the identity because a hand
# has no left/right joints -- mirroring a clip swaps the two instances instead.
_HAND21 = get_layout("mediapipe_hand21")
_NUM_HAND_DUMMIES = 4
register_layout(
    SkeletonLayout(
        name="hands2x21",
        joint_names=_HAND21.joint_names + tuple(f"dummy_{i}" for i in range(_NUM_HAND_DUMMIES)),
        parents=_HAND21.parents + (-1,) * _NUM_HAND_DUMMIES,
        center=_HAND21.center,
        mirror=tuple(range(_HAND21.num_joints + _NUM_HAND_DUMMIES)),
        groups={**_HAND21.groups, "dummy": tuple(range(_HAND21.num_joints, _HAND21.num_joints + _NUM_HAND_DUMMIES))},
        up_axis=_HAND21.up_axis,
        shoulders=None,
    )
)
