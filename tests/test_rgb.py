"""RGB for BHaRNet-M: ROI mosaics, the synthetic colour camera, image inputs of the processor, the NTU extraction
script and the NTU loader's ``rgb_dir``."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from skeleton_models import BHaRNetConfig, BHaRNetForSkeletonClassification
from skeleton_models.data import build_report, load_skeleton_dataset
from skeleton_models.data.raw_formats import synthetic_clip, write_ntu_folder, write_ntu_skeleton
from skeleton_models.data.synthetic import generate_example
from skeleton_models.data.synthetic.render import FRAME_SIZE, project, render_frame
from skeleton_models.processing_skeleton import SkeletonProcessor
from skeleton_models.registry import get_architecture
from skeleton_models.rgb import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    roi_frame_indices,
    roi_joint_indices,
    roi_mosaic,
)
from skeleton_models.training import processor_for_model

ROOT = Path(__file__).resolve().parents[1]


def test_mmnet_roi_joints_are_mmnets_ntu_indices():
    assert roi_joint_indices("ntu25") == [3, 11, 7, 18, 14]  # MMNet net/mmn.py, 0-based
    assert roi_joint_indices("nwucla20") == [3, 11, 7, 18, 14]
    with pytest.raises(ValueError, match="layout 'coco17' has no joints"):
        roi_joint_indices("coco17")


def test_roi_frame_indices_are_segment_centres():
    np.testing.assert_array_equal(roi_frame_indices(100, 5), [10, 30, 50, 70, 90])
    np.testing.assert_array_equal(roi_frame_indices(3, 5), [0, 0, 1, 2, 2])
    with pytest.raises(ValueError):
        roi_frame_indices(0, 5)


def test_roi_mosaic_tiles_exact_crops_rows_parts_columns_frames():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (3, 40, 50, 3), dtype=np.uint8)
    s = 8
    corners = rng.integers(0, 30, (3, 2, 2))  # (F, P, (x0, y0)) of crops inside the frame
    centres = corners + (s - 1) / 2  # pixel i's centre is at i: a box of the tile's size samples the crop exactly
    mosaic = roi_mosaic(frames, centres, s, s)
    assert mosaic.shape == (2 * s, 3 * s, 3) and mosaic.dtype == np.uint8
    for f in range(3):
        for p in range(2):
            x0, y0 = corners[f, p]
            np.testing.assert_array_equal(
                mosaic[p * s : (p + 1) * s, f * s : (f + 1) * s], frames[f, y0 : y0 + s, x0 : x0 + s]
            )
    # an untracked joint (NaN) is a black tile; a box half outside the frame is black there
    centres = centres.astype(float)
    centres[1, 0] = np.nan
    centres[2, 1] = (-0.5, 20.0)  # the box's left half lies left of the frame
    mosaic = roi_mosaic(frames, centres, s, s)
    assert not mosaic[:s, s : 2 * s].any()
    assert not mosaic[s:, 2 * s : 2 * s + s // 2].any() and mosaic[s:, 2 * s + s // 2 + 1 :].any()
    # a twice larger box is downsampled into the tile
    assert roi_mosaic(frames, centres, 2 * s, s).shape == (2 * s, 3 * s, 3)
    with pytest.raises(ValueError, match=r"frames must be RGB frames \(F, H, W, 3\) uint8"):
        roi_mosaic(frames.astype(np.float32), centres, s, s)
    with pytest.raises(ValueError, match=r"centres must be \(F=3, P, 2\)"):
        roi_mosaic(frames, centres[:2], s, s)


def test_synthetic_colour_camera_draws_the_skeleton_where_it_projects():
    example = generate_example(0, 1, 1, 1, 10, 0)
    skeleton, hands = example["skeleton"], example["hands"]
    background = np.full((FRAME_SIZE, FRAME_SIZE, 3), 200, np.uint8)
    frame = render_frame(skeleton[10], hands[10], background)
    drawn = (frame != background).any(-1)
    assert 0.02 < drawn.mean() < 0.5
    pixels, _ = project(skeleton[10, 0])
    u, v = np.rint(pixels).astype(int).T
    inside = (u >= 0) & (u < FRAME_SIZE) & (v >= 0) & (v < FRAME_SIZE)
    assert drawn[v[inside], u[inside]].all()  # every joint lies on a drawn bone
    empty = render_frame(np.zeros_like(skeleton[10]), np.zeros_like(hands[10]), background)
    np.testing.assert_array_equal(empty, background)  # absent persons are not drawn


def test_synthetic_rgb_rois_are_deterministic_and_show_the_hand_gesture():
    options = {"num_frames": 5, "patch_size": 16}
    a = generate_example(20, 3, 1, 2, 10, 0, options)
    b = generate_example(20, 3, 1, 2, 10, 0, options)
    assert a["rgb_rois"].shape == (80, 80, 3) and a["rgb_rois"].dtype == np.uint8
    np.testing.assert_array_equal(a["rgb_rois"], b["rgb_rois"])
    np.testing.assert_array_equal(a["skeleton"], generate_example(20, 3, 1, 2, 10, 0)["skeleton"])  # same clip
    assert "rgb_rois" not in generate_example(20, 3, 1, 2, 10, 0)
    # the hand rows differ between two gesture classes performed by the same subject
    c = generate_example(21, 3, 1, 2, 10, 0, options)
    assert np.abs(a["rgb_rois"][16:48].astype(int) - c["rgb_rois"][16:48]).mean() > 1


def test_processor_image_inputs_normalise_uint8_mosaics(tmp_path):
    processor = SkeletonProcessor(layout="ntu25", window_size=8, image_inputs=[{"name": "pixel_values"}])
    assert processor.model_input_names == ["skeletons", "pixel_values"]
    assert processor.columns == ["skeleton", "rgb_rois"]
    clips = np.random.default_rng(0).normal(size=(2, 20, 2, 25, 3)).astype(np.float32)
    images = np.random.default_rng(1).integers(0, 256, (2, 10, 15, 3), dtype=np.uint8)
    out = processor(clips, pixel_values=images)
    assert out["pixel_values"].shape == (2, 3, 10, 15) and out["pixel_values"].dtype == torch.float32
    expected = (images[1, 4, 7] / 255 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    np.testing.assert_allclose(out["pixel_values"][1, :, 4, 7].numpy(), expected, rtol=1e-5)
    single = processor(clips[0], pixel_values=images[0])  # one clip, one image
    torch.testing.assert_close(single["pixel_values"][0], out["pixel_values"][0])
    processor.save_pretrained(tmp_path)
    loaded = SkeletonProcessor.from_pretrained(tmp_path)
    assert loaded.image_inputs == processor.image_inputs
    torch.testing.assert_close(loaded(clips, pixel_values=images)["pixel_values"], out["pixel_values"])
    with pytest.raises(ValueError, match=r"pixel_values: expected RGB images \(H, W, 3\) uint8"):
        processor(clips, pixel_values=images.astype(np.float32))
    with pytest.raises(ValueError, match=r"RGB values must be in 0..255, got 1..256"):
        processor(clips, pixel_values=images.astype(np.int64) + 1)
    with pytest.raises(ValueError, match="got 1 pixel_values images for 2 skeletons clips"):
        processor(clips, pixel_values=images[:1])
    with pytest.raises(ValueError, match="missing \\['pixel_values'\\]"):
        processor(clips)
    with pytest.raises(ValueError, match="unknown fields \\['size'\\] in an image input"):
        SkeletonProcessor(layout="ntu25", image_inputs=[{"size": 3}])


def test_bharnet_m_trains_from_the_synthetic_rgb_column(tmp_path):
    """The whole data path: the synthetic builder's ``rgb_rois`` column -> `processor_for_model` -> BHaRNet-M."""
    dataset = load_skeleton_dataset(
        "synthetic", num_subjects=2, num_replications=1, rgb=True, rgb_patch_size=8, cache_dir=str(tmp_path)
    )
    assert dataset["train"].features["rgb_rois"].shape == (40, 40, 3)
    config = get_architecture("bharnet").tiny(**BHaRNetConfig.presets["bharnet-m"], num_labels=23)
    processor = processor_for_model(config, dataset["train"], window_size=16)
    assert processor.model_input_names == ["skeletons", "hands", "pixel_values"]
    rows = dataset["train"].with_format("numpy")[:4]
    batch = processor(rows["skeleton"], hands=rows["hands"], pixel_values=rows["rgb_rois"], labels=rows["label"])
    model = BHaRNetForSkeletonClassification(config)
    out = model(**batch)
    out.loss.backward()
    assert out.rgb_logits.shape == (4, 23) and torch.isfinite(out.loss)
    with pytest.raises(ValueError, match="rgb_patch_size >= 4, got 5 and 2"):
        load_skeleton_dataset("synthetic", num_subjects=2, rgb=True, rgb_patch_size=2, cache_dir=str(tmp_path))


# -- NTU: ROI mosaics cropped from the videos, joined by the loader -------------------------------------------------
def load_extract_script():
    spec = importlib.util.spec_from_file_location("extract_rgb_rois", ROOT / "examples" / "extract_rgb_rois.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def coded_video(num_frames: int, width: int = 96, height: int = 54) -> np.ndarray:
    """Frames whose red channel is the frame index and green / blue are 2 x / 4 y: a tile tells where it is from."""
    frames = np.zeros((num_frames, height, width, 3), dtype=np.uint8)
    frames[..., 0] = np.arange(num_frames)[:, None, None]
    frames[..., 1] = 2 * np.arange(width)[None, None, :]
    frames[..., 2] = 4 * np.arange(height)[None, :, None]
    return frames


def test_extract_rgb_rois_crops_the_colour_camera_joints_of_the_kept_frames(tmp_path):
    clip = synthetic_clip(3)[:30]
    clip[[0, 4]] = 0  # frames without a body: dropped from the skeleton, still in the video
    skeletons, videos = tmp_path / "skeletons", tmp_path / "videos"
    skeletons.mkdir(), videos.mkdir()
    frames_list = [[(7, clip[t, 0])] if clip[t, 0].any() else [] for t in range(30)]
    write_ntu_skeleton(skeletons / "S001C001P001R001A001.skeleton", frames_list)
    np.save(videos / "S001C001P001R001A001_rgb.npy", coded_video(30))
    np.save(videos / "S001C001P001R001A002_rgb.npy", coded_video(30))  # no skeleton file
    write_ntu_skeleton(skeletons / "S001C001P001R001A003.skeleton", frames_list)
    np.save(videos / "S001C001P001R001A003_rgb.npy", coded_video(25))  # misaligned
    script = load_extract_script()
    output = tmp_path / "rois"
    args = ["--videos", str(videos), "--skeletons", str(skeletons), "--output", str(output), "--patch_size", "6"]
    report = script.main(args)
    assert report["written"] == ["S001C001P001R001A001"]
    assert "no S001C001P001R001A002.skeleton" in report["failed"]["S001C001P001R001A002"]
    assert "has 25 frames, the skeleton file declares 30" in report["failed"]["S001C001P001R001A003"]
    mosaic = np.load(output / "S001C001P001R001A001.npy")
    assert mosaic.shape == (30, 30, 3) and mosaic.dtype == np.uint8
    kept = [t for t in range(30) if t not in (0, 4)]
    shown = [kept[i] for i in roi_frame_indices(len(kept), 5)]  # video frames of the columns
    scale = 96 / 1920
    for f, t in enumerate(shown):
        for p, joint in enumerate([3, 11, 7, 18, 14]):
            tile = mosaic[p * 6 : (p + 1) * 6, f * 6 : (f + 1) * 6].astype(float)
            x, y, z = clip[t, 0, joint]
            inside = tile.any(-1)
            assert (tile[inside, 0] == t).all()  # cut from the right video frame
            if inside.all():  # the whole box in the frame: its mean position is the joint's colour position
                assert abs(tile[..., 1].mean() / 2 - (960 + 1000 * x / z) * scale) < 1.0
                assert abs(tile[..., 2].mean() / 4 - (540 - 1000 * y / z) * scale) < 1.0
    assert script.main(args)["existing"] == ["S001C001P001R001A001"]  # a second run continues


def test_ntu_rgb_dir_joins_mosaics_and_reports_bad_ones(tmp_path):
    root = tmp_path / "raw"
    root.mkdir()
    write_ntu_folder(root, ["S001C001P001R001A001", "S001C001P001R001A002", "S001C001P001R001A003"])
    write_ntu_folder(root, ["S001C001P003R001A001"])  # a test-split sample (P003)
    rgb = tmp_path / "rgb"
    rgb.mkdir()
    good = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    np.save(rgb / "S001C001P001R001A001.npy", good)
    np.save(rgb / "S001C001P003R001A001.npy", good)
    np.save(rgb / "S001C001P001R001A002.npy", good[:, :35])  # wrong shape; A003 has none
    ds = load_skeleton_dataset("ntu60", data_dir=root, cache_dir=tmp_path / "cache", rgb_dir=rgb, rgb_patch_size=8)
    assert ds["train"]["sample_id"] == ["S001C001P001R001A001"]
    np.testing.assert_array_equal(ds["train"].with_format("numpy")[0]["rgb_rois"], good)
    reasons = {Path(r["file"]).stem: r["reason"] for r in build_report(ds)["skipped"]}
    assert "expected an RGB ROI mosaic (40, 40, 3) uint8, got uint8 (40, 35, 3)" in reasons["S001C001P001R001A002"]
    assert "no RGB ROI file" in reasons["S001C001P001R001A003"]
    with pytest.raises(ValueError, match="rgb_dir .* is not a folder"):
        load_skeleton_dataset("ntu60", data_dir=root, cache_dir=tmp_path / "c2", rgb_dir=tmp_path / "nowhere")
