"""SLiM's hierarchical multi-view temporal sampling (section 3 and appendix B): `skeleton_models.multiview`."""

import numpy as np
import pytest

from skeleton_models.multiview import (
    LOCAL_SPECS,
    VIEW_LENGTHS,
    check_view_lengths,
    cut_views,
    sample_views,
    valid_frame_range,
    view_lengths,
)


def ramp_clips(n, t, valid, m=1, v=2, c=3, dtype=np.float32):
    """Clips whose every coordinate at frame f is f + 1 before `valid` (an int or (n,) lengths) and 0 after."""
    valid = np.broadcast_to(np.asarray(valid), (n,))
    frames = np.arange(t, dtype=np.float64)
    values = (frames[None, :] + 1) * (frames[None, :] < valid[:, None])
    return np.broadcast_to(values[:, :, None, None, None], (n, t, m, v, c)).astype(dtype)


def random_clips(n, t, m=2, v=25, c=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, t, m, v, c)).astype(np.float32)


def durations(intervals):
    return intervals[..., 1] - intervals[..., 0]


def test_shapes_dtypes_and_view_lengths():
    out = sample_views(random_clips(3, 100), None, np.random.default_rng(0))
    assert out.global_views.shape == (3, 2, 64, 2, 25, 3) and out.global_views.dtype == np.float32
    assert list(out.local_views) == [32, 16, 8] == list(out.local_intervals)
    for frames, views in out.local_views.items():
        assert views.shape == (3, 2, frames, 2, 25, 3) and views.dtype == np.float32
        assert out.local_intervals[frames].shape == (3, 2, 2) and out.local_intervals[frames].dtype == np.int64
    assert out.global_intervals.shape == (3, 2, 2) and out.global_intervals.dtype == np.int64
    assert out.valid_intervals.tolist() == [[0, 100]] * 3 and out.anchor == 0
    assert view_lengths() == VIEW_LENGTHS == (64, 32, 16, 8)
    assert view_lengths(48, ((24, (0.3, 0.6)),)) == (48, 24)
    double = sample_views(random_clips(2, 50).astype(np.float64), None, np.random.default_rng(0))
    assert double.global_views.dtype == np.float64 and double.local_views[8].dtype == np.float64

    custom = sample_views(
        random_clips(2, 80), None, np.random.default_rng(0), 48, local_specs=((24, (0.5, 0.5)),), local_per_scale=3
    )
    assert custom.global_views.shape[:3] == (2, 2, 48) and list(custom.local_views) == [24]
    assert custom.local_views[24].shape[:3] == (2, 3, 24)
    half = durations(custom.anchor_interval)[:, None] // 2
    np.testing.assert_array_equal(durations(custom.local_intervals[24]), np.broadcast_to(half, (2, 3)))


def test_global_intervals_cover_half_to_all_of_the_valid_frames():
    rng = np.random.default_rng(1)
    lengths = rng.integers(40, 301, size=300)
    out = sample_views(ramp_clips(300, 300, lengths), lengths, rng, local_specs=())
    start, end = out.global_intervals[..., 0], out.global_intervals[..., 1]
    assert (start >= 0).all() and (end <= lengths[:, None]).all() and (end > start).all()
    fraction = durations(out.global_intervals) / lengths[:, None]
    # floor(p * length) whole frames: at most one frame below the 50 % bound
    assert (fraction >= 0.5 - 1 / lengths[:, None]).all() and (fraction <= 1).all()
    assert fraction.min() < 0.52 and fraction.max() > 0.98  # the whole range is drawn
    assert (fraction < 0.75).mean() == pytest.approx(0.5, abs=0.08)  # uniform fraction
    assert (start == 0).mean() < 0.2 and (end == lengths[:, None]).mean() < 0.2  # random placement
    assert (out.global_intervals[:, 0] != out.global_intervals[:, 1]).any(axis=1).mean() > 0.9  # independent views


@pytest.mark.parametrize("anchor", [0, 1])
def test_local_intervals_lie_inside_the_anchor_interval_at_the_scale_fraction(anchor):
    rng = np.random.default_rng(2)
    lengths = rng.integers(60, 301, size=200)
    out = sample_views(ramp_clips(200, 300, lengths), lengths, rng, anchor=anchor)
    anchor_start, anchor_end = out.global_intervals[:, anchor, 0], out.global_intervals[:, anchor, 1]
    anchor_length = (anchor_end - anchor_start)[:, None]
    for frames, (lo, hi) in LOCAL_SPECS:
        local = out.local_intervals[frames]
        assert (local[..., 0] >= anchor_start[:, None]).all() and (local[..., 1] <= anchor_end[:, None]).all()
        fraction = durations(local) / anchor_length
        assert (durations(local) >= 1).all()
        assert (fraction >= lo - 1 / anchor_length).all() and (fraction <= hi).all(), frames
        width = hi - lo
        assert fraction.min() < lo + 0.1 * width and fraction.max() > hi - 0.1 * width, frames
        # placed uniformly inside the anchor: some crops near its start, some near its end, not all at one place
        slack = anchor_length - durations(local)
        offset = (local[..., 0] - anchor_start[:, None]) / np.maximum(slack, 1)
        assert offset.min() < 0.1 and offset.max() > 0.9 and 0.4 < offset.mean() < 0.6, frames
    other = out.global_intervals[:, 1 - anchor]
    local = np.concatenate(list(out.local_intervals.values()), axis=1)
    assert ((local[..., 0] < other[:, None, 0]) | (local[..., 1] > other[:, None, 1])).any()  # not anchored on it


def test_views_of_a_ramp_are_the_linear_interpolation_of_their_interval():
    rng = np.random.default_rng(3)
    lengths = rng.integers(10, 301, size=40)
    out = sample_views(ramp_clips(40, 300, lengths), lengths, rng)
    groups = [(64, out.global_intervals, out.global_views)]
    groups += [(f, out.local_intervals[f], out.local_views[f]) for f in out.local_views]
    for frames, intervals, views in groups:
        first, kept = intervals[..., :1], durations(intervals)[..., None]  # (N, K, 1)
        position = np.clip((np.arange(frames) + 0.5) * kept / frames - 0.5, 0, kept - 1)
        expected = first + position + 1  # the ramp's value at that (fractional) frame position
        np.testing.assert_allclose(views[..., 0, 0, 0], expected, rtol=1e-5)
        np.testing.assert_array_equal(views, np.broadcast_to(views[..., :1, :1, :1], views.shape))
        # downsampled views: an exact linear ramp, one interval cell (kept / frames frames) per step
        down = kept[..., 0] >= frames
        steps = np.diff(views[..., 0, 0, 0], axis=-1)
        np.testing.assert_allclose(steps[down], np.broadcast_to((kept / frames)[down], steps[down].shape), rtol=1e-4)
        assert (steps >= -1e-5).all()  # never reversed


def test_upsampled_views_start_and_end_on_the_interval_end_frames():
    clips = random_clips(16, 30)  # every interval is at most 30 frames: every 64- and 32-frame view is upsampled
    out = sample_views(clips, None, np.random.default_rng(4))
    n = np.arange(16)[:, None]
    groups = [(out.global_intervals, out.global_views)] + [(out.local_intervals[f], out.local_views[f]) for f in (32,)]
    for intervals, views in groups:
        np.testing.assert_allclose(views[:, :, 0], clips[n, intervals[..., 0]], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(views[:, :, -1], clips[n, intervals[..., 1] - 1], rtol=1e-6, atol=1e-6)
    # an interval exactly as long as the view is copied frame for frame
    same = cut_views(clips, np.array([[[5, 21], [0, 16]]] * 16), 16)
    np.testing.assert_array_equal(same[:, 0], clips[:, 5:21])
    np.testing.assert_array_equal(same[:, 1], clips[:, :16])


def test_views_never_sample_padding_or_frames_past_valid_lengths():
    clips = random_clips(12, 300)
    clips[:, 40:] = 1e6  # not padding by value: only valid_lengths tells
    out = sample_views(clips, np.full(12, 40), np.random.default_rng(5))
    assert (out.global_intervals[..., 1] <= 40).all() and out.valid_intervals.tolist() == [[0, 40]] * 12
    assert np.abs(out.global_views).max() < 1e3
    assert all(np.abs(views).max() < 1e3 for views in out.local_views.values())

    padded = ramp_clips(6, 300, 40)
    padded[:, :10] = 0  # leading empty frames are not valid either (like SkeletonProcessor)
    for valid_lengths in (None, np.full(6, 300)):
        out = sample_views(padded, valid_lengths, np.random.default_rng(6))
        assert out.valid_intervals.tolist() == [[10, 40]] * 6
        assert (out.global_intervals[..., 0] >= 10).all() and (out.global_intervals[..., 1] <= 40).all()
        assert (out.global_views > 0).all() and all((views > 0).all() for views in out.local_views.values())
    start, end = valid_frame_range(padded, [5, 20, 40, 300, 0, 11])
    assert start.tolist() == [0, 10, 10, 10, 0, 10] and end.tolist() == [5, 20, 40, 40, 0, 11]


def test_seeded_determinism():
    clips = random_clips(4, 120)
    kwargs = dict(augment_views="all", layout="ntu25", augment_kwargs={"probability": 0.5})
    a = sample_views(clips, [120, 90, 60, 30], np.random.default_rng(7), **kwargs)
    b = sample_views(clips, [120, 90, 60, 30], np.random.default_rng(7), **kwargs)
    c = sample_views(clips, [120, 90, 60, 30], np.random.default_rng(8), **kwargs)
    np.testing.assert_array_equal(a.global_views, b.global_views)
    np.testing.assert_array_equal(a.global_intervals, b.global_intervals)
    for frames in a.local_views:
        np.testing.assert_array_equal(a.local_views[frames], b.local_views[frames])
        np.testing.assert_array_equal(a.local_intervals[frames], b.local_intervals[frames])
    assert not np.array_equal(a.global_intervals, c.global_intervals)


def test_augmentation_changes_views_only_when_enabled():
    clips = random_clips(5, 100)
    full = {"probability": 1.0}

    def run(augment_views, augment_kwargs=full, seed=9, **kwargs):
        return sample_views(
            clips, None, np.random.default_rng(seed), augment_views=augment_views, layout="ntu25",
            augment_kwargs=augment_kwargs, **kwargs,
        )  # fmt: skip

    plain = run("none")
    np.testing.assert_array_equal(plain.global_views, cut_views(clips, plain.global_intervals, 64))
    for mode, changes_global, changes_local in (("all", True, True), ("global", True, False), ("local", False, True)):
        out = run(mode)
        np.testing.assert_array_equal(out.global_intervals, plain.global_intervals)  # intervals are drawn first
        assert (np.abs(out.global_views - plain.global_views).max(axis=(2, 3, 4, 5)) > 1e-3).all() == changes_global
        assert np.array_equal(out.global_views, plain.global_views) != changes_global
        for frames, views in out.local_views.items():
            np.testing.assert_array_equal(out.local_intervals[frames], plain.local_intervals[frames])
            assert (np.abs(views - plain.local_views[frames]).max(axis=(2, 3, 4, 5)) > 1e-3).all() == changes_local
            assert np.array_equal(views, plain.local_views[frames]) != changes_local
    off = {"rotation": "none", "mirroring": "none", "scaling": "none"}
    np.testing.assert_array_equal(run("all", off).global_views, plain.global_views)
    # every view gets its own draws: two identical global views (whole clip) differ once augmented
    same = run("all", full, global_range=(1.0, 1.0), local_specs=())
    np.testing.assert_array_equal(same.global_intervals[:, 0], same.global_intervals[:, 1])
    assert (np.abs(same.global_views[:, 0] - same.global_views[:, 1]).max(axis=(1, 2, 3, 4)) > 1e-3).all()


def test_check_view_lengths_and_invalid_arguments():
    assert check_view_lengths(4) == (16, 8, 4, 2) and check_view_lengths(8) == (8, 4, 2, 1)
    with pytest.raises(ValueError, match="multiples"):
        check_view_lengths(16)
    clips, rng = random_clips(2, 20, v=25), np.random.default_rng(0)
    bad = [
        dict(anchor=2),
        dict(augment_views="some"),
        dict(augment_views="all"),  # no layout
        dict(global_range=(0.5, 1.5)),
        dict(local_specs=((8, (0.1, 0.2)), (8, (0.2, 0.3)))),
        dict(local_specs=((0, (0.1, 0.2)),)),
        dict(local_per_scale=0),
        dict(augment_views="all", layout="ntu25", augment_kwargs={"rng": rng}),
    ]
    for kwargs in bad:
        with pytest.raises(ValueError):
            sample_views(clips, None, rng, **kwargs)
    for valid_lengths in ([21, 3], [3], [-1, 2]):
        with pytest.raises(ValueError, match="valid_lengths"):
            sample_views(clips, valid_lengths, rng)
    with pytest.raises(ValueError):
        sample_views(clips, None, np.random.RandomState(0))
    with pytest.raises(ValueError):
        sample_views(clips.astype(np.int64), None, rng)
