"""BHaRNet's hand data path: the hands2x21 layout, per-person hands -> hand clips, the processor's hand input,
hands assigned to persons, the extraction script (with a fake detector) and the NTU loader's ``hands_dir``."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from skeleton_models import SkeletonProcessor
from skeleton_models.data import ModelInputsDataset, build_report, get_skeleton_spec, load_skeleton_dataset
from skeleton_models.data.ntu import load_ntu_sample
from skeleton_models.data.raw_formats import synthetic_clip, write_ntu_folder, write_ntu_skeleton
from skeleton_models.hands import (
    LEFT,
    RIGHT,
    assign_hands_to_persons,
    fill_missing_frames,
    hand_activity,
    hands_to_clip,
    most_active_person,
)
from skeleton_models.processing_skeleton import compute_stream
from skeleton_models.skeletons import SkeletonLayout, get_layout

from .paths import REAL_SAMPLES, needs_shared

ROOT = Path(__file__).resolve().parents[1]
HANDS = get_layout("hands2x21")
HAND21 = get_layout("mediapipe_hand21")
DUMMIES = [21, 22, 23, 24]
REAL_NTU = sorted((REAL_SAMPLES / "ntu_rgbd").glob("*.skeleton"))
needs_real = needs_shared(REAL_SAMPLES / "ntu_rgbd" / "*.skeleton")


def per_person_hands(t=30, m=2, seed=0, scales=(0.01, 0.2)):
    """(T, M, 2, 21, 3) hands: person k moves with amplitude scales[k] around a fixed pose (never zero)."""
    rng = np.random.default_rng(seed)
    base = 1.0 + rng.uniform(size=(1, 1, 2, 21, 3))
    motion = rng.normal(size=(t, m, 2, 21, 3)) * np.array(scales)[None, :, None, None, None]
    return (base + motion).astype(np.float32)


# -- layout --------------------------------------------------------------------------------------------------------
def test_hands2x21_is_mediapipe_hand_plus_four_isolated_dummies():
    assert HANDS.num_joints == 25 and HANDS.center == 0 and HANDS.joint_names[0] == "wrist"
    assert HANDS.joint_names[:21] == HAND21.joint_names
    assert HANDS.joint_names[21:] == ("dummy_0", "dummy_1", "dummy_2", "dummy_3")
    assert HANDS.isolated == (21, 22, 23, 24) and HAND21.isolated == () and get_layout("ntu25").isolated == ()
    assert HANDS.bones == HAND21.bones and len(HANDS.bones) == 20
    assert not any(j in DUMMIES or p in DUMMIES for j, p in HANDS.bones)
    assert HANDS.mirror == tuple(range(25)) and HANDS.shoulders is None
    assert HANDS.groups["dummy"] == (21, 22, 23, 24)
    assert {k: v for k, v in HANDS.groups.items() if k != "dummy"} == HAND21.groups
    np.testing.assert_array_equal(HANDS.depth(), [*HAND21.depth(), 0, 0, 0, 0])
    assert HANDS.depth().max() == 4  # wrist -> mcp -> pip -> dip -> tip
    for k in (1, 2, 4):
        np.testing.assert_array_equal(HANDS.ancestors(k), [*HAND21.ancestors(k), *DUMMIES])
    index_tip = HANDS.joint_index("index_tip")
    assert HANDS.joint_names[HANDS.ancestors(1)[index_tip]] == "index_dip"
    assert HANDS.joint_names[HANDS.ancestors(3)[index_tip]] == "index_mcp"
    adjacency = HANDS.adjacency()
    assert adjacency.shape == (3, 25, 25) and adjacency.dtype == np.float32
    np.testing.assert_array_equal(adjacency[0], np.eye(25))
    assert not adjacency[1:, DUMMIES].any() and not adjacency[1:, :, DUMMIES].any()  # dummies are unconnected
    np.testing.assert_array_equal(adjacency[:, :21, :21], HAND21.adjacency())
    assert adjacency[1, 0, HANDS.joint_index("thumb_cmc")] == pytest.approx(1.0)  # the wrist gathers from 5 roots


def test_bone_streams_are_zero_at_the_wrist_and_the_dummies():
    rng = np.random.default_rng(1)
    clips = rng.normal(size=(2, 6, 2, 25, 3)).astype(np.float32)
    bone = compute_stream(clips, HANDS, "bone")
    assert not bone[..., [0, *DUMMIES], :].any()
    tip, dip = HANDS.joint_index("pinky_tip"), HANDS.joint_index("pinky_dip")
    np.testing.assert_allclose(bone[..., tip, :], clips[..., tip, :] - clips[..., dip, :])
    bone2 = compute_stream(clips, HANDS, "bone2")
    np.testing.assert_allclose(bone2[..., tip, :], clips[..., tip, :] - clips[..., HANDS.joint_index("pinky_pip"), :])
    assert not bone2[..., DUMMIES, :].any()


def test_layout_validation_allows_only_isolated_extra_roots():
    SkeletonLayout("ok", ("a", "b", "pad"), parents=(-1, 0, -1), center=0, mirror=(0, 1, 2))
    with pytest.raises(ValueError, match=r"joints \[1\] have parent -1 and children"):
        SkeletonLayout("forest", ("a", "b", "c"), parents=(-1, -1, 1), center=0, mirror=(0, 1, 2))
    with pytest.raises(ValueError, match=r"joints \[1\] have a parent that is not -1 or another joint"):
        SkeletonLayout("bad", ("a", "b"), parents=(-1, 7), center=0, mirror=(0, 1))


# -- per-person hands -> hands2x21 clip ----------------------------------------------------------------------------
def test_the_most_active_persons_hands_become_the_two_instances_in_order():
    hands = per_person_hands(m=3, scales=(0.01, 0.3, 0.0))
    hands[:, 2] = 0  # person 2 absent
    activity = hand_activity(hands)
    expected_1 = hands[:, 1].astype(np.float64).var(axis=0).sum()  # every frame detected: plain variance
    assert activity[1] == pytest.approx(expected_1) and activity[2] == -np.inf and activity[0] < activity[1]
    assert most_active_person(hands) == 1
    clip, detected = hands_to_clip(hands)
    assert clip.shape == (30, 2, 25, 3) and clip.dtype == np.float32 and detected.all()
    np.testing.assert_array_equal(clip[:, LEFT, :21], hands[:, 1, 0])
    np.testing.assert_array_equal(clip[:, RIGHT, :21], hands[:, 1, 1])
    assert not clip[:, :, 21:].any()
    np.testing.assert_array_equal(hands_to_clip(hands, person=0)[0][:, :, :21], hands[:, 0])
    tie = np.concatenate([hands[:, 1:2], hands[:, 1:2]], axis=1)
    assert most_active_person(tie) == 0  # ties: the first
    assert most_active_person(np.zeros((4, 2, 2, 21, 3))) == 0
    # A hand's missed frames do not count as motion: zeros would inflate the variance of a still hand.
    still = np.ones((30, 2, 2, 21, 3), dtype=np.float32)
    still[:, 1] += 0.05 * np.random.default_rng(0).normal(size=(30, 2, 21, 3))
    still[::2, 0, 0] = 0  # person 0: perfectly still, detected every other frame
    assert most_active_person(still) == 1
    with pytest.raises(ValueError, match=r"per-person hands of shape \(T, M, 2 hands"):
        hands_to_clip(np.zeros((5, 2, 25, 3)))
    with pytest.raises(ValueError, match=r"person must be in \[0, 3\)"):
        hands_to_clip(hands, person=3)


def test_missed_detections_are_interpolated_held_at_the_edges_and_flagged():
    t = np.arange(14, dtype=np.float32)
    hand = (1.0 + np.arange(63, dtype=np.float32).reshape(21, 3))[None] + 0.5 * t[:, None, None]  # linear in t
    observed = hand.copy()
    missing = [0, 1, 5, 6, 7, 12, 13]
    observed[missing] = 0
    filled, detected = fill_missing_frames(observed)
    np.testing.assert_array_equal(detected, ~np.isin(np.arange(14), missing))
    np.testing.assert_allclose(filled[2:12], hand[2:12], rtol=1e-6)  # the interior gap 5-7 is on the line
    np.testing.assert_array_equal(filled[:2], hand[[2, 2]])  # before the first detection: held
    np.testing.assert_array_equal(filled[12:], hand[[11, 11]])  # after the last: held
    zeros, flags = fill_missing_frames(observed, fill="zero")
    np.testing.assert_array_equal(zeros, observed)
    np.testing.assert_array_equal(flags, detected)
    never, none = fill_missing_frames(np.zeros((5, 21, 3), dtype=np.float32))
    assert not never.any() and not none.any()
    hands = np.stack([observed, hand], axis=1)[:, None]  # (T, 1 person, 2, 21, 3)
    clip, flags = hands_to_clip(hands)
    np.testing.assert_array_equal(flags[:, LEFT], detected)
    assert flags[:, RIGHT].all()
    np.testing.assert_allclose(clip[5:8, LEFT, :21], hand[5:8], rtol=1e-6)
    with pytest.raises(ValueError, match="fill must be one of"):
        fill_missing_frames(observed, fill="nearest")


# -- the processor's hand input ------------------------------------------------------------------------------------
def hand_processor(stream="joint", window=32, **kwargs):
    return SkeletonProcessor(
        window_size=window,
        inputs=[
            {"name": "skeletons", "column": "skeleton", "layout": "ntu25"},
            {"name": "hands", "column": "hands", "layout": "hands2x21", "num_persons": 2, "stream": stream},
        ],
        **kwargs,
    )


def test_processor_hand_input_on_the_synthetic_benchmark(synthetic_tiny):
    rows = synthetic_tiny["train"].with_format("numpy")[:4]
    skeletons, hands = list(rows["skeleton"]), list(rows["hands"])
    assert hands[0].shape[1:] == (2, 2, 21, 3)
    processor = hand_processor()
    assert processor.inputs[1]["center"] == "per_frame"  # hand-centric by default
    batch = processor(skeletons=skeletons, hands=hands, training=True, rng=np.random.default_rng(0))
    assert batch["skeletons"].shape == batch["hands"].shape == (4, 3, 32, 25, 2)
    out = batch["hands"]
    assert torch.isfinite(out).all() and not out[:, :, :, DUMMIES].any() and not out[:, :, :, 0].any()
    assert out[:, :, :, 1:21].abs().amax() > 0.01  # finger keypoints relative to the wrist

    # Evaluation with the whole clip: exactly the most active person's hands, each on its own wrist per frame.
    exact = hand_processor(window=len(skeletons[0]), eval_crop=1.0)
    joint = exact(skeletons=skeletons[:1], hands=hands[:1], return_tensors=None)["hands"][0]  # (C, T, V, M)
    clip, _ = hands_to_clip(hands[0])
    expected = clip.copy()
    expected[:, :, :21] -= clip[:, :, :1]
    np.testing.assert_allclose(joint, expected.transpose(3, 0, 2, 1), atol=1e-6)
    ready = exact(skeletons=skeletons[:1], hands=clip[None], return_tensors=None)["hands"][0]  # (1, T, 2, 25, 3)
    np.testing.assert_array_equal(ready, joint)

    # The instance axis stays {left, right}: swapping the hands swaps the instances, whatever their activity.
    swapped = [h[:, :, ::-1] for h in hands[:1]]
    other = exact(skeletons=skeletons[:1], hands=swapped, return_tensors=None)["hands"][0]
    np.testing.assert_array_equal(other, joint[..., ::-1])

    # Bone and motion streams, from MediaPipe's parents: zero at the wrist and at the dummies.
    streams = {
        s: hand_processor(s, window=len(skeletons[0]), eval_crop=1.0)(
            skeletons=skeletons[:1], hands=hands[:1], return_tensors=None
        )["hands"][0]
        for s in ("bone", "joint_motion", "bone_motion")
    }
    parents = HANDS.ancestors(1)
    np.testing.assert_allclose(streams["bone"], joint - joint[:, :, parents], atol=1e-6)
    assert not streams["bone"][:, :, [0, *DUMMIES]].any() and streams["bone"][:, :, 1:21].any()
    np.testing.assert_allclose(streams["joint_motion"][:, :-1], joint[:, 1:] - joint[:, :-1], atol=1e-6)
    np.testing.assert_allclose(streams["bone_motion"][:, :-1], np.diff(streams["bone"], axis=1), atol=1e-6)
    for s in ("joint_motion", "bone_motion"):
        assert not streams[s][:, -1].any() and not streams[s][:, :, DUMMIES].any()

    # The crop and the rotation are the body's: the same draws as a body-only processor.
    body_only = SkeletonProcessor(window_size=32)(skeletons, training=True, rng=np.random.default_rng(0))
    torch.testing.assert_close(batch["skeletons"], body_only["skeletons"])


def test_model_inputs_dataset_and_for_dataset_with_hands(synthetic_tiny, tmp_path):
    processor = hand_processor(stream="bone")
    dataset = ModelInputsDataset(synthetic_tiny["train"], processor, training=True)
    items = dataset.__getitems__([0, 1, 2])
    assert [tuple(item["hands"].shape) for item in items] == [(3, 32, 25, 2)] * 3
    assert all(not item["hands"][:, :, [0, *DUMMIES]].any() for item in items)
    assert items[0]["labels"].dtype == torch.int64
    derived = SkeletonProcessor.for_dataset(
        synthetic_tiny, inputs=[{"column": "skeleton"}, {"name": "hands", "column": "hands"}], window_size=16
    )
    assert derived.inputs[1] == {
        "name": "hands",
        "column": "hands",
        "layout": "hands2x21",
        "stream": "joint",
        "num_persons": 2,
        "coordinate_dims": 3,
        "center": "per_frame",
        "center_joint": 0,  # the wrist
    }
    derived.save_pretrained(tmp_path)
    assert (tmp_path / "hands.py").exists()  # the processor's remote code includes the hands module
    loaded = SkeletonProcessor.from_pretrained(tmp_path)
    assert loaded.inputs == derived.inputs
    item = ModelInputsDataset(synthetic_tiny["test"], loaded)[0]
    assert item["hands"].shape == (3, 16, 25, 2)


def test_processor_hand_input_errors():
    with pytest.raises(ValueError, match="num_persons must be 2"):
        SkeletonProcessor(inputs=[{"name": "hands", "layout": "hands2x21", "num_persons": 1}])
    with pytest.raises(ValueError, match="center must be True, False or 'per_frame'"):
        SkeletonProcessor(inputs=[{"name": "hands", "layout": "hands2x21", "center": "wrist"}])
    assert SkeletonProcessor(inputs=[{"layout": "hands2x21", "center": False}]).inputs[0]["center"] is False
    processor = SkeletonProcessor(window_size=8, inputs=[{"name": "hands", "layout": "hands2x21"}])
    with pytest.raises(ValueError, match=r"per-person hands \(T, M, 2, 21, C>=3\), got \(10, 2, 21, 3\)"):
        processor(hands=[np.ones((10, 2, 21, 3), dtype=np.float32)])
    with pytest.raises(ValueError, match="has 2 instances"):
        processor(hands=np.ones((10, 1, 25, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="finite values"):
        processor(hands=np.full((10, 2, 2, 21, 3), np.nan, dtype=np.float32))
    alone = processor(hands=per_person_hands(t=12)[None])  # a batch of raw clips, hands as the only input
    assert alone["hands"].shape == (1, 3, 8, 25, 2)


# -- hands -> persons ----------------------------------------------------------------------------------------------
def test_hands_go_to_the_nearest_matching_wrist():
    ntu = get_layout("ntu25")
    lw, rw = ntu.joint_index("left_wrist"), ntu.joint_index("right_wrist")
    body = np.zeros((3, 2, 25, 2), dtype=np.float32)
    body[:, :, :] = [[[300.0, 300.0]], [[900.0, 300.0]]]  # every joint of each person
    body[:, 0, lw], body[:, 0, rw] = (400.0, 200.0), (200.0, 200.0)  # person 0 faces the camera
    body[:, 1, lw], body[:, 1, rw] = (1000.0, 200.0), (800.0, 200.0)
    body[2, 1] = 0  # person 1 absent in frame 2

    def hand_at(x, y):
        keypoints = np.zeros((21, 3), dtype=np.float32)
        keypoints[:, :2] = (x, y)
        keypoints[1:, 1] -= np.arange(1, 21)  # fingers above the wrist
        return keypoints

    hands = np.zeros((3, 4, 21, 3), dtype=np.float32)
    handedness = np.full((3, 4), -1)
    hands[0] = [hand_at(990, 210), hand_at(405, 190), hand_at(210, 205), hand_at(795, 200)]
    handedness[0] = [LEFT, LEFT, RIGHT, RIGHT]
    hands[1, :3] = [hand_at(410, 200), hand_at(420, 200), hand_at(205, 200)]  # two left hands near person 0's
    handedness[1, :3] = [LEFT, LEFT, RIGHT]
    hands[2, :1] = [hand_at(1000, 200)]  # near absent person 1's left wrist
    handedness[2, :1] = [LEFT]
    result = assign_hands_to_persons(hands, handedness, body, "ntu25")
    assert result.hands.shape == (3, 2, 2, 21, 3)
    np.testing.assert_array_equal(result.person[0], [1, 0, 0, 1])
    np.testing.assert_array_equal(result.side[0], [LEFT, LEFT, RIGHT, RIGHT])
    np.testing.assert_array_equal(result.hands[0, 1, LEFT], hands[0, 0])
    np.testing.assert_array_equal(result.hands[0, 0, LEFT], hands[0, 1])
    np.testing.assert_array_equal(result.hands[0, 0, RIGHT], hands[0, 2])
    np.testing.assert_array_equal(result.hands[0, 1, RIGHT], hands[0, 3])
    # Frame 1: the nearer left hand wins person 0's left wrist; the other goes to the next free left wrist.
    np.testing.assert_array_equal(result.person[1], [0, 1, 0, -1])
    np.testing.assert_array_equal(result.hands[1, 0, LEFT], hands[1, 0])
    np.testing.assert_array_equal(result.hands[1, 1, LEFT], hands[1, 1])
    # Frame 2: person 1 is absent, so the hand goes to person 0 -- unless it is too far away.
    np.testing.assert_array_equal(result.person[2, :1], [0])
    capped = assign_hands_to_persons(hands, handedness, body, "ntu25", max_distance=100.0)
    np.testing.assert_array_equal(capped.person[1], [0, -1, 0, -1])
    np.testing.assert_array_equal(capped.person[2, :1], [-1])
    assert not capped.hands[2].any() and not capped.hands[1, 1].any()
    # Without handedness: a mislabelled hand still goes to the wrist it is at.
    wrong = handedness.copy()
    wrong[0] = [RIGHT, RIGHT, LEFT, LEFT]
    free = assign_hands_to_persons(hands, None, body, "ntu25", use_handedness=False)
    np.testing.assert_array_equal(free.person[0], [1, 0, 0, 1])
    np.testing.assert_array_equal(free.side[0], [LEFT, LEFT, RIGHT, RIGHT])
    labelled = assign_hands_to_persons(hands, wrong, body, "ntu25")
    np.testing.assert_array_equal(labelled.side[0], [RIGHT, RIGHT, LEFT, LEFT])  # with labels, labels rule
    with pytest.raises(ValueError, match="'left_wrist' and 'right_wrist'"):
        assign_hands_to_persons(hands, handedness, np.zeros((3, 1, 21, 2)), "mediapipe_hand21")
    with pytest.raises(ValueError, match=r"body must have shape \(T=3, M, V=25"):
        assign_hands_to_persons(hands, handedness, body[:2])
    with pytest.raises(ValueError, match="handedness must be a"):
        assign_hands_to_persons(hands, handedness[:, :2], body)


# -- examples/extract_hands.py -------------------------------------------------------------------------------------
def load_script():
    spec = importlib.util.spec_from_file_location("extract_hands", ROOT / "examples" / "extract_hands.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_keypoints(t: int, side: int) -> np.ndarray:
    """What the fake detector finds in frame t: a hand at x = 100 (left) or 300 (right) + t, y = 100 + row."""
    keypoints = np.zeros((21, 3), dtype=np.float32)
    keypoints[:, 0] = (100.0 if side == LEFT else 300.0) + t
    keypoints[:, 1] = 100.0 + np.arange(21)
    keypoints[:, 2] = -0.01 * np.arange(21)
    return keypoints


def make_fake_detector():
    """A stand-in for MediaPipe: reads the frame number from pixel (0, 0) of the frame; misses the left hand when
    t % 4 == 1; in frame 3 also sees a second, far-away left hand (first in its list)."""

    def detector(frame):
        t = int(frame[0, 0, 0])
        found = [("right", fake_keypoints(t, RIGHT))]
        if t % 4 != 1:
            found.append(("left", fake_keypoints(t, LEFT)))
        if t == 3:
            found.insert(0, ("left", fake_keypoints(t, LEFT) + np.array([500.0, 0.0, 0.0], dtype=np.float32)))
        return found

    detector.closed = []
    detector.close = lambda: detector.closed.append(True)
    return detector


def expected_hands(num_frames: int) -> np.ndarray:
    out = np.zeros((num_frames, 2, 21, 3), dtype=np.float32)
    for t in range(num_frames):
        out[t, RIGHT] = fake_keypoints(t, RIGHT)
        if t % 4 != 1:
            out[t, LEFT] = fake_keypoints(t, LEFT)
    return out


def frames(num_frames: int, size=(12, 16)) -> np.ndarray:
    rng = np.random.default_rng(num_frames)
    video = rng.integers(0, 255, (num_frames, *size, 3), dtype=np.uint8)
    video[:, 0, 0, 0] = np.arange(num_frames)
    return video


def test_extract_hands_script_with_a_fake_detector(tmp_path):
    from PIL import Image

    script = load_script()
    videos = tmp_path / "rgb"
    (videos / "S001C001P001R001A001_rgb").mkdir(parents=True)
    for t, frame in enumerate(frames(9)):
        Image.fromarray(frame).save(videos / "S001C001P001R001A001_rgb" / f"{t:06d}.png")
    np.save(videos / "S001C001P001R001A002_rgb.npy", frames(7))
    (videos / "S001C001P001R001A003_rgb").mkdir()  # no frames
    (videos / "notes.txt").write_text("not a video")
    output = tmp_path / "hands"
    args = ["--videos", str(videos), "--output", str(output), "--detector", "tests.test_hands:make_fake_detector"]
    report = script.main(args)
    assert report["written"] == ["S001C001P001R001A001", "S001C001P001R001A002"]
    assert [r["sample_id"] for r in report["skipped"]] == ["S001C001P001R001A003"]
    assert "no frame images" in report["skipped"][0]["reason"]
    assert json.loads((output / "extract_report.json").read_text()) == report
    for name, count in (("S001C001P001R001A001", 9), ("S001C001P001R001A002", 7)):
        hands = np.load(output / f"{name}.npy")
        assert hands.dtype == np.float32 and hands.shape == (count, 2, 21, 3)
        np.testing.assert_array_equal(hands, expected_hands(count))  # frame 3: the near left hand is kept
    again = script.main(args)
    assert again["written"] == [] and again["existing"] == ["S001C001P001R001A001", "S001C001P001R001A002"]
    # Written files feed the processor as one person's hands; the missed left-hand frames are interpolated.
    clip, detected = hands_to_clip(np.load(output / "S001C001P001R001A001.npy")[:, None])
    np.testing.assert_array_equal(detected[:, LEFT], [t % 4 != 1 for t in range(9)])
    np.testing.assert_allclose(clip[1, LEFT, :21], fake_keypoints(1, LEFT))  # linear in t: 0 and 2 -> 1

    # With body keypoints: each hand goes to the person whose matching wrist is nearest.
    ntu = get_layout("ntu25")
    bodies = np.zeros((7, 2, 25, 2), dtype=np.float32)
    bodies[:, 0] = 50.0  # person 0: far from every hand
    bodies[:, 1] = 200.0
    bodies[:, 1, ntu.joint_index("left_wrist")] = (100.0, 100.0)
    bodies[:, 1, ntu.joint_index("right_wrist")] = (300.0, 100.0)
    (tmp_path / "bodies").mkdir()
    np.save(tmp_path / "bodies" / "S001C001P001R001A002.npy", bodies)
    bodies_args = ["--bodies", str(tmp_path / "bodies"), "--max_distance", "100"]  # frame 3's far hand: no one's
    assigned = script.main([*args[:3], str(tmp_path / "assigned"), *args[4:], *bodies_args])
    assert assigned["written"] == ["S001C001P001R001A002"]
    assert {r["sample_id"] for r in assigned["skipped"]} == {"S001C001P001R001A001", "S001C001P001R001A003"}
    per_person = np.load(tmp_path / "assigned" / "S001C001P001R001A002.npy")
    assert per_person.shape == (7, 2, 2, 21, 3)
    np.testing.assert_array_equal(per_person[:, 1], expected_hands(7))
    assert not per_person[:, 0].any()


def test_extract_hands_script_pieces(tmp_path):
    script = load_script()
    detector = make_fake_detector()
    hands, handedness = script.detect(iter(frames(5)), detector)
    assert hands.shape == (5, 3, 21, 3)  # frame 3 holds three hands
    np.testing.assert_array_equal(handedness[1], [RIGHT, -1, -1])
    with pytest.raises(ValueError, match="handedness 'left' or 'right'"):
        script.detect(iter(frames(2)), lambda frame: [("both", np.zeros((21, 3)))])
    np.save(tmp_path / "bad.npy", np.zeros((3, 4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"expected RGB frames \(T>=1, H, W, 3\) uint8"):
        list(script.read_frames(tmp_path / "bad.npy"))
    sources = script.video_sources(tmp_path)
    assert sources == [("bad", tmp_path / "bad.npy")]
    if importlib.util.find_spec("mediapipe") is None:
        with pytest.raises(SystemExit, match="pip install mediapipe"):
            script.mediapipe_detector()


# -- the NTU loader's hands_dir ------------------------------------------------------------------------------------
def hands_for(num_frames: int) -> np.ndarray:
    """A hands file whose left wrist x is frame index + 1, so that alignment can be read back."""
    hands = np.ones((num_frames, 2, 21, 3), dtype=np.float32)
    hands[:, LEFT, 0, 0] = np.arange(num_frames) + 1
    hands[:, RIGHT] *= 2
    return hands


@needs_real
def test_ntu_hands_dir_joins_real_samples_and_reports_missing_ones(tmp_path):
    raw = tmp_path / "raw"  # the real files, linked (read in place), and a synthetic test-split sample (P003)
    raw.mkdir()
    for path in REAL_NTU:
        (raw / path.name).symlink_to(path)
    write_ntu_folder(raw, ["S001C001P003R001A001"])
    declared = {p.stem: int(p.read_text().split("\n", 1)[0]) for p in sorted(raw.glob("*.skeleton"))}
    hands_dir = tmp_path / "hands"
    hands_dir.mkdir()
    for name in ("S001C001P001R001A001", "S001C001P001R001A002", "S001C001P001R001A003", "S001C001P003R001A001"):
        np.save(hands_dir / f"{name}.npy", hands_for(declared[name]))
    np.save(hands_dir / "S001C001P001R001A004.npy", hands_for(declared["S001C001P001R001A004"] + 5))  # misaligned
    # S001C001P001R001A005: no hands file
    ds = load_skeleton_dataset("ntu60", data_dir=raw, config="xsub", cache_dir=tmp_path / "cache", hands_dir=hands_dir)
    assert ds["train"]["sample_id"] == ["S001C001P001R001A001", "S001C001P001R001A002", "S001C001P001R001A003"]
    assert ds["test"]["sample_id"] == ["S001C001P003R001A001"]
    assert get_skeleton_spec(ds["train"], "hands") == {"coordinate_dims": 3, "layout": "mediapipe_hand21"}
    for row in ds["train"].with_format("numpy"):
        assert row["hands"].shape == (row["num_frames"], 2, 2, 21, 3) == (len(row["skeleton"]), 2, 2, 21, 3)
        np.testing.assert_array_equal(row["hands"][:, 0], hands_for(declared[row["sample_id"]]))  # every frame kept
        assert not row["hands"][:, 1].any()  # one person's hands: the second person is empty
    skipped = {Path(r["file"]).stem: r for r in build_report(ds)["skipped"]}
    assert set(skipped) == {"S001C001P001R001A004", "S001C001P001R001A005"}
    assert all(r["kind"] == "error" and r["split"] == "train" for r in skipped.values())
    missing, misaligned = skipped["S001C001P001R001A005"]["reason"], skipped["S001C001P001R001A004"]["reason"]
    assert "no hands file" in missing and str(hands_dir / "S001C001P001R001A005.npy") in missing
    assert "has 104 frames" in misaligned and "declares 99" in misaligned
    processor = SkeletonProcessor.for_dataset(
        ds, inputs=[{"column": "skeleton"}, {"name": "hands", "column": "hands"}], window_size=16
    )
    item = ModelInputsDataset(ds["train"], processor, training=True)[0]
    assert item["skeletons"].shape == item["hands"].shape == (3, 16, 25, 2)
    body_only = load_skeleton_dataset("ntu60", data_dir=raw, config="xsub", cache_dir=tmp_path / "cache")
    assert "hands" not in body_only["train"].column_names and len(body_only["train"]) == 5


def test_ntu_hands_follow_the_skeletons_kept_frames(tmp_path):
    """Frames without bodies are dropped from the skeleton; the hands keep exactly the same video frames."""
    clip = synthetic_clip(3)[:20]
    clip[[0, 1, 9]] = 0  # no body in frames 0, 1 and 9
    root = tmp_path / "raw"
    root.mkdir()
    frames_list = [[(7, clip[t, 0])] if clip[t, 0].any() else [] for t in range(20)]
    path = write_ntu_skeleton(root / "S001C001P001R001A001.skeleton", frames_list)
    skeleton, actors, kept, declared = load_ntu_sample(path, return_frames=True)
    expected_frames = [t for t in range(20) if t not in (0, 1, 9)]
    assert declared == 20 and kept.tolist() == expected_frames and len(skeleton) == 17 and actors == 1
    np.testing.assert_allclose(skeleton[:, 0], clip[expected_frames, 0], atol=1e-5)
    hands_dir = tmp_path / "hands"
    hands_dir.mkdir()
    np.save(hands_dir / "S001C001P001R001A001.npy", hands_for(20)[:, None])  # (T, 1 person, 2, 21, 3)
    (other,) = write_ntu_folder(root, ["S001C001P003R001A002"])  # a test-split sample (P003)
    np.save(hands_dir / "S001C001P003R001A002.npy", hands_for(int(other.read_text().split("\n", 1)[0])))
    ds = load_skeleton_dataset("ntu60", data_dir=root, cache_dir=tmp_path / "cache", hands_dir=hands_dir)
    row = ds["train"].with_format("numpy")[0]
    np.testing.assert_array_equal(row["hands"][:, 0, LEFT, 0, 0], np.array(expected_frames) + 1)
    with pytest.raises(ValueError, match="hands_dir .* is not a folder"):
        load_skeleton_dataset("ntu60", data_dir=root, cache_dir=tmp_path / "c2", hands_dir=tmp_path / "nowhere")
