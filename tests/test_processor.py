import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoFeatureExtractor

from skeleton_models import SkeletonProcessor
from skeleton_models.augmentation import crop_resize, random_rotation, rotation_matrices
from skeleton_models.processing_skeleton import compute_stream, parse_stream
from skeleton_models.skeletons import get_layout

NTU = get_layout("ntu25")


def clip(t=40, m=1, seed=0, v=25, c=3):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(t, m, v, c)) + np.array([0.0, 0.0, 3.0])[:c]).astype(np.float32)


def ctrgcn_valid_crop_resize(data, valid_frame_num, p, window):
    """CTR-GCN feeders/tools.py valid_crop_resize, evaluation branch, transcribed as the reference (C, T, V, M)."""
    c, t, v, m = data.shape
    bias = int((1 - p) * valid_frame_num / 2)
    data = data[:, bias : valid_frame_num - bias]
    cropped = data.shape[1]
    x = torch.tensor(data).permute(0, 2, 3, 1).reshape(c * v * m, cropped)[None, None]
    x = F.interpolate(x, size=(c * v * m, window), mode="bilinear", align_corners=False).squeeze()
    return x.view(c, v, m, window).permute(0, 3, 1, 2).numpy()


@pytest.mark.parametrize("length, window", [(100, 64), (37, 64), (64, 64), (300, 32)])
def test_eval_crop_matches_ctrgcn(length, window):
    data = clip(length, 2)  # (T, M, V, C)
    ours = crop_resize(data[None], np.array([0]), np.array([length]), window, 0.95)[0]
    reference = ctrgcn_valid_crop_resize(data.transpose(3, 0, 2, 1), length, 0.95, window)  # (C, T, V, M)
    np.testing.assert_allclose(ours, reference.transpose(1, 3, 2, 0), rtol=1e-5, atol=1e-5)


def test_training_crop_is_random_within_bounds_and_reproducible():
    t = 120
    ramp = np.broadcast_to(np.arange(t, dtype=np.float32)[:, None, None, None], (t, 1, 2, 3))[None].repeat(8, 0)
    start, length = np.full(8, 10), np.full(8, 100)
    a = crop_resize(ramp, start, length, 16, (0.5, 1.0), np.random.default_rng(0))
    b = crop_resize(ramp, start, length, 16, (0.5, 1.0), np.random.default_rng(0))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (8, 16, 1, 2, 3)
    assert a.min() >= 10 and a.max() <= 109  # only frames of the valid interval
    assert len({round(float(x), 3) for x in a[:, 0, 0, 0, 0]}) > 1  # different offsets across the batch
    assert (np.diff(a[..., 0, 0, 0], axis=1) >= 0).all()  # time order kept
    with pytest.raises(ValueError, match="rng"):
        crop_resize(ramp, start, length, 16, (0.5, 1.0))


def test_output_shapes_for_single_clip_list_and_batch():
    processor = SkeletonProcessor(window_size=16)
    single = processor(clip(30))
    assert single["skeletons"].shape == (1, 3, 16, 25, 2) and single["skeletons"].dtype == torch.float32
    batch = processor([clip(30), clip(55, m=2), clip(12, m=3)], labels=[0, 1, 2])
    assert batch["skeletons"].shape == (3, 3, 16, 25, 2)
    assert batch["labels"].tolist() == [0, 1, 2]
    stacked = processor(np.stack([clip(20, seed=i) for i in range(4)]), return_tensors=None)
    assert isinstance(stacked["skeletons"], np.ndarray) and stacked["skeletons"].shape == (4, 3, 16, 25, 2)


def test_most_active_persons_are_kept_and_missing_ones_are_zero():
    """The processor keeps the persons who move most -- summed variance of their coordinates over the frames in
    which they are present (CTR-GCN's ranking) -- most active first: not the widest (spread over the joints is not
    motion), not one present for a few frames (its absent frames are not zeros to the variance); missing persons
    are zero."""
    t = 20
    rng = np.random.default_rng(0)
    sway = np.sin(np.linspace(0, 2 * np.pi, t))[:, None, None]
    small_body = 0.1 * rng.normal(size=(25, 3))
    data = np.zeros((t, 4, 25, 3), dtype=np.float32)
    data[:, 0] = 2.0 * rng.normal(size=(25, 3)) + 0.001 * rng.normal(size=(t, 25, 3))  # wide, still
    data[:5, 1] = 3.0 + 0.01 * rng.normal(size=(5, 25, 3))  # 5 frames, nearly still
    data[:, 2] = small_body + 0.3 * sway  # sways a little
    data[:, 3] = small_body + 1.0 * sway  # sways most
    processor = SkeletonProcessor(window_size=t, eval_crop=1.0, inputs=[{"name": "skeletons", "center": False}])
    out = processor(data, return_tensors=None)["skeletons"][0]  # (C, T, V, M): persons 3 then 2
    np.testing.assert_allclose(out.transpose(3, 1, 2, 0), data[:, [3, 2]].transpose(1, 0, 2, 3), atol=1e-6)
    six = SkeletonProcessor(window_size=t, eval_crop=1.0, inputs=[{"name": "skeletons", "center": False}])
    six.num_persons = 6
    padded = six(data, return_tensors=None)["skeletons"][0].transpose(3, 1, 2, 0)  # (M, T, V, C)
    np.testing.assert_allclose(padded[:4], data[:, [3, 2, 1, 0]].transpose(1, 0, 2, 3), atol=1e-6)
    assert padded.shape[0] == 6 and not padded[4:].any()


def test_centring_on_the_spine_middle_of_the_first_person(tmp_path):
    """As CTR-GCN's seq_translation: joint 2 (1-based, spine middle) of person 0 at its first valid frame; any
    joint on request; a processor saved before `center_joint` existed keeps the graph centre it was trained with."""
    data = clip(20, 2)
    data[:3] = 0  # leading empty frames are skipped
    data[10:, 1] = 0  # the second person leaves
    processor = SkeletonProcessor(window_size=17, eval_crop=1.0)
    spine_mid = NTU.joint_index("spine_mid")
    assert processor.center_joint == NTU.origin_joint == spine_mid == 1
    out = processor(data, return_tensors=None)["skeletons"][0]  # (C, T, V, M)
    np.testing.assert_allclose(out[:, 0, spine_mid, 0], 0.0, atol=1e-6)
    assert not out[:, -3:, :, 1].any()  # a missing person stays zero after centring
    expected = data[3, 0, 5] - data[3, 0, spine_mid]
    np.testing.assert_allclose(out[:, 0, 5, 0], expected, rtol=1e-5)
    other = SkeletonProcessor(window_size=17, eval_crop=1.0, center_joint=NTU.center)
    moved = other(data, return_tensors=None)["skeletons"][0]
    np.testing.assert_allclose(moved[:, 0, NTU.center, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(moved[:, 0, 5, 0], data[3, 0, 5] - data[3, 0, NTU.center], rtol=1e-5)
    # Saved and reloaded: explicit in the file. A file without the field is an old processor: the graph centre.
    other.save_pretrained(tmp_path / "new")
    assert SkeletonProcessor.from_pretrained(tmp_path / "new").center_joint == NTU.center
    saved = json.loads((tmp_path / "new" / "preprocessor_config.json").read_text())
    for spec in saved["inputs"]:
        del spec["center_joint"]
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "preprocessor_config.json").write_text(json.dumps(saved))
    old = SkeletonProcessor.from_pretrained(tmp_path / "old")
    assert old.center_joint == NTU.center
    np.testing.assert_array_equal(old(data, return_tensors=None)["skeletons"], moved[None])
    assert SkeletonProcessor(layout="nwucla20").center_joint == 1  # CTR-GCN feeder_ucla: value - value[0, 1]
    switched = SkeletonProcessor(center_joint=3)
    switched.layout = "coco17"  # a new layout takes its own centring joint
    assert switched.center_joint == get_layout("coco17").center
    with pytest.raises(ValueError, match="center_joint must be a joint of 'ntu25'"):
        SkeletonProcessor(center_joint=25)


def test_streams():
    data = clip(10, 1)[None]  # (N, T, M, V, C)
    assert parse_stream("joint") == (0, False) and parse_stream("bone2_motion") == (2, True)
    bone = compute_stream(data, NTU, "bone")
    elbow, shoulder = NTU.joint_index("left_elbow"), NTU.joint_index("left_shoulder")
    np.testing.assert_allclose(bone[..., elbow, :], data[..., elbow, :] - data[..., shoulder, :])
    assert not bone[..., NTU.center, :].any()
    # Against InfoGCN's k-th mode x' = (I - A_outward^k) x: equal except at joints fewer than k bones from the
    # centre (documented in compute_stream), where InfoGCN keeps the raw coordinates.
    a_outward = np.zeros((25, 25))
    for child, parent in NTU.bones:
        a_outward[child, parent] = 1.0
    for k in (1, 2, 3):
        info = np.einsum("uv,ntmvc->ntmuc", np.eye(25) - np.linalg.matrix_power(a_outward, k), data)
        ours = compute_stream(data, NTU, f"bone{k}" if k > 1 else "bone")
        differ = np.flatnonzero(~np.isclose(info, ours, atol=1e-6).all(axis=(0, 1, 2, 4)))
        np.testing.assert_array_equal(differ, np.flatnonzero(NTU.depth() < k))
    assert sorted(np.flatnonzero(NTU.depth() < 2) + 1) == [2, 3, 5, 9, 21]
    bone2 = compute_stream(data, NTU, "bone2")
    wrist = NTU.joint_index("left_wrist")
    np.testing.assert_allclose(bone2[..., wrist, :], data[..., wrist, :] - data[..., shoulder, :])
    motion = compute_stream(data, NTU, "joint_motion")
    np.testing.assert_allclose(motion[:, :-1], data[:, 1:] - data[:, :-1])
    assert not motion[:, -1].any()
    bone_motion = compute_stream(data, NTU, "bone_motion")
    np.testing.assert_allclose(bone_motion[:, :-1], bone[:, 1:] - bone[:, :-1], rtol=1e-5, atol=1e-6)
    scored = np.concatenate([data[..., :2], np.full(data.shape[:-1] + (1,), 0.5, np.float32)], -1)
    scored_bone = compute_stream(scored, NTU, "bone", coordinate_dims=2)
    np.testing.assert_allclose(scored_bone[..., 2], 0.5)  # scores averaged, not differenced
    for bad in ["bones", "bone0", "joint_velocity", "motion"]:
        with pytest.raises(ValueError, match="stream"):
            parse_stream(bad)


def test_random_rotation_keeps_bone_lengths_and_zeros():
    data = clip(12, 2)[None].repeat(3, 0)
    data[:, :, 1] = 0
    rotated = random_rotation(data, 0.3, np.random.default_rng(0))
    bones = lambda x: np.linalg.norm(compute_stream(x, NTU, "bone"), axis=-1)  # noqa: E731
    np.testing.assert_allclose(bones(rotated), bones(data), rtol=1e-4)
    assert not rotated[:, :, 1].any()
    assert not np.allclose(rotated, data)
    r = rotation_matrices(np.random.default_rng(1).uniform(-1, 1, size=(5, 3)))
    np.testing.assert_allclose(r @ r.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (5, 3, 3)), atol=1e-6)


def test_augmentation_only_in_training():
    processor = SkeletonProcessor(window_size=16)
    data = clip(50, 2)
    a = processor(data)["skeletons"]
    b = processor(data)["skeletons"]
    torch.testing.assert_close(a, b)
    c = processor(data, training=True, rng=np.random.default_rng(0))["skeletons"]
    d = processor(data, training=True, rng=np.random.default_rng(0))["skeletons"]
    torch.testing.assert_close(c, d)
    assert not torch.allclose(a, c)


def test_view_alignment_makes_the_shoulders_frontal():
    data = clip(8, 1)
    angle = 0.7
    rot = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]], np.float32)
    data = data @ rot.T
    processor = SkeletonProcessor(window_size=8, eval_crop=1.0, align_view=True)
    out = processor(data, return_tensors=None)["skeletons"][0]  # (C, T, V, M)
    left, right = NTU.shoulders
    across = out[:, 0, right, 0] - out[:, 0, left, 0]
    assert abs(across[2]) < 1e-5 and across[0] > 0
    with pytest.raises(ValueError, match="shoulders"):
        SkeletonProcessor(layout="mediapipe_hand21", align_view=True)


def test_save_and_load(tmp_path):
    processor = SkeletonProcessor(
        layout="coco17",
        window_size=48,
        num_persons=1,
        stream="bone_motion",
        coordinate_dims=2,
        p_interval=(0.6, 0.9),
        random_rotation=0.0,
    )
    processor.save_pretrained(tmp_path)
    loaded = SkeletonProcessor.from_pretrained(tmp_path)
    assert loaded.to_dict() == processor.to_dict()
    assert loaded.window_size == 48 and loaded.p_interval == [0.6, 0.9]
    data = clip(30, 1, v=17, c=3)
    torch.testing.assert_close(loaded(data)["skeletons"], processor(data)["skeletons"])
    assert isinstance(AutoFeatureExtractor.from_pretrained(tmp_path), SkeletonProcessor)


@pytest.mark.parametrize(
    "data, message",
    [
        (np.zeros((10, 1, 24, 3), np.float32), r"clip 0: expected shape \(T, M, V=25"),
        (np.zeros((10, 25, 3), np.float32), "one clip"),
        (np.full((10, 1, 25, 3), np.nan, np.float32), "clip 0: contains NaN"),
        ([clip(5), clip(5, c=2)], "clip 1"),
        ([], "non-empty"),
        # persons and frames swapped: (M, T, V, C)
        (np.ones((2, 40, 25, 3), np.float32), r"reads as 2 frames of 40 persons.*transpose\(1, 0, 2, 3\)"),
        # joints and persons swapped: (T, V, M, C)
        (np.ones((40, 25, 2, 3), np.float32), r"a \(T, V, M, C\) clip\? give clip.transpose\(0, 2, 1, 3\)"),
    ],
)
def test_bad_input_raises_a_clear_error(data, message):
    with pytest.raises(ValueError, match=message):
        SkeletonProcessor()(data)


def test_many_persons_with_more_frames_are_accepted():
    """Six persons over 40 frames is a plausible crowd clip, not a swapped one: the most active two are kept."""
    out = SkeletonProcessor(window_size=8)(np.random.default_rng(0).normal(size=(40, 6, 25, 3)).astype(np.float32))
    assert out["skeletons"].shape == (1, 3, 8, 25, 2)


def test_bad_options_raise():
    with pytest.raises(ValueError, match="unknown skeleton layout"):
        SkeletonProcessor(layout="ntu")
    with pytest.raises(ValueError, match="p_interval"):
        SkeletonProcessor(p_interval=(0.9, 0.5))
    with pytest.raises(ValueError, match="stream"):
        SkeletonProcessor(stream="velocity")


def test_named_inputs_share_the_crop_and_the_rotation():
    """Several inputs of one clip get the same temporal crop and random rotation, so that they stay aligned: a
    second input that is a copy of the first comes out identical, also in training."""
    data = clip(40, 2)
    both = SkeletonProcessor(
        window_size=16,
        inputs=[{"name": "skeletons"}, {"name": "copy", "column": "copy", "stream": "bone"}],
    )
    assert both.model_input_names == ["skeletons", "copy"] and both.columns == ["skeleton", "copy"]
    out = both(data, copy=data, training=True, rng=np.random.default_rng(3))
    single = SkeletonProcessor(window_size=16)(data, training=True, rng=np.random.default_rng(3))
    torch.testing.assert_close(out["skeletons"], single["skeletons"])  # same draws as a one-input processor
    bone = SkeletonProcessor(window_size=16, stream="bone")(data, training=True, rng=np.random.default_rng(3))
    torch.testing.assert_close(out["copy"], bone["skeletons"])
    with pytest.raises(ValueError, match=r"missing \['copy'\]"):
        both(data)
    with pytest.raises(ValueError, match="same lengths"):
        both(data, copy=data[:30])
    with pytest.raises(ValueError, match="not both"):
        SkeletonProcessor(layout="ntu25", inputs=[{"name": "skeletons"}])
    with pytest.raises(ValueError, match="distinct names"):
        SkeletonProcessor(inputs=[{"name": "a"}, {"name": "a"}])


def test_named_inputs_save_and_load(tmp_path):
    processor = SkeletonProcessor(
        window_size=12,
        inputs=[
            {"name": "skeletons"},
            {"name": "hands", "column": "hands", "layout": "mediapipe_hand21", "center": False},
        ],
    )
    processor.save_pretrained(tmp_path)
    loaded = SkeletonProcessor.from_pretrained(tmp_path)
    assert loaded.inputs == processor.inputs and loaded.window_size == 12
    hands = np.random.default_rng(0).normal(size=(20, 2, 21, 3)).astype(np.float32)
    a, b = processor(clip(20, 2), hands=hands), loaded(clip(20, 2), hands=hands)
    assert a.keys() == b.keys() == {"skeletons", "hands"} and all(torch.equal(a[k], b[k]) for k in a)
    assert a["hands"].shape == (1, 3, 12, 21, 2)
    old = SkeletonProcessor.from_dict({"layout": "coco17", "stream": "bone", "num_persons": 1, "coordinate_dims": 2})
    assert (old.layout, old.stream, old.num_persons, old.coordinate_dims) == ("coco17", "bone", 1, 2)


def test_the_layout_travels_with_the_dataset_feature(synthetic_tiny, tmp_path):
    """The skeleton columns say which layout they hold in their feature's id, which survives Parquet."""
    import datasets

    from skeleton_models.processing_skeleton import get_skeleton_spec

    split = synthetic_tiny["test"]
    assert get_skeleton_spec(split) == {"coordinate_dims": 3, "layout": "ntu25"}
    assert get_skeleton_spec(split, "hands") == {"coordinate_dims": 3, "layout": "mediapipe_hand21"}
    split.select(range(3)).to_parquet(tmp_path / "x.parquet")
    back = datasets.load_dataset("parquet", data_files=str(tmp_path / "x.parquet"))["train"]
    assert get_skeleton_spec(back) == get_skeleton_spec(split)
    processor = SkeletonProcessor.for_dataset(back, window_size=8)
    assert (processor.layout, processor.num_persons, processor.coordinate_dims) == ("ntu25", 2, 3)
    with pytest.raises(ValueError, match="does not say which skeleton layout"):
        get_skeleton_spec(back.cast_column("skeleton", datasets.Array4D((None, 2, 25, 3), "float32")))
