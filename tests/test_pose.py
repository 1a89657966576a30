"""Videos -> skeletons with transformers' pose models (tiny random RT-DETR + VitPose): the real code path of
`PoseExtractor`, the people tracker, and a folder of videos -> a pyskl pickle that the pyskl loader reads."""

import numpy as np
import pytest
import torch

from skeleton_models import ARCHITECTURES
from skeleton_models.cli import main
from skeleton_models.data import (
    PoseExtractor,
    RestrictedUnpickler,
    annotation_to_clip,
    extract_pose_annotations,
    load_skeleton_dataset,
)
from skeleton_models.data.pose import box_iou, track_people

from .model_tester import processor_for
from .pose_models import synthetic_frames, tiny_detector, tiny_extractor, tiny_pose_model, write_video


def test_box_iou():
    a = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [100, 100, 101, 101]], np.float32)
    np.testing.assert_allclose(box_iou(a, b), [[1, 50 / 150, 0], [0, 0, 0]], rtol=1e-6)
    assert box_iou(a, np.zeros((0, 4))).shape == (2, 0)


def test_tracking_keeps_identities_through_swaps_and_gaps():
    left = lambda x: np.array([x, 0, x + 10, 20], np.float32)  # noqa: E731
    frames = [
        np.stack([left(0), left(50)]),
        np.stack([left(52), left(2)]),  # detector order swapped: ids follow the boxes
        np.stack([left(4)]),  # person 1 hidden
        np.zeros((0, 4), np.float32),  # nobody
        np.stack([left(56), left(6)]),  # person 1 back within max_gap
        np.stack([left(200)]),  # a newcomer far away
    ]
    ids = track_people(frames, iou_threshold=0.3, max_gap=3)
    assert [i.tolist() for i in ids] == [[0, 1], [1, 0], [0], [], [1, 0], [2]]
    ids = track_people(frames, iou_threshold=0.3, max_gap=1)  # 2 frames unseen (the empty frame 3) end both tracks
    assert ids[4].tolist() == [2, 3]
    ids = track_people(frames, iou_threshold=0.9, max_gap=3)  # boxes moving 2 px have IoU 0.67: no match at 0.9
    assert ids[1].tolist() == [2, 3]


def test_extractor_equals_running_the_two_models_by_hand():
    extractor = tiny_extractor(max_persons=2, max_detections=3, batch_size=4)
    frames = synthetic_frames(num_frames=6)
    annotation = extractor(frames, frame_dir="clip", label=3)
    assert annotation["frame_dir"] == "clip" and annotation["label"] == 3
    assert annotation["total_frames"] == 6 and annotation["img_shape"] == (48, 64)
    keypoint, score = annotation["keypoint"], annotation["keypoint_score"]
    assert keypoint.shape == (2, 6, 17, 2) and score.shape == (2, 6, 17) and keypoint.dtype == np.float32
    assert (score > 0).any(-1).any(-1).all(), "both kept people have keypoints in some frame"

    # by hand, frame 0: the detector's person boxes, then VitPose on them
    detector, detector_processor = tiny_detector()
    pose, pose_processor = tiny_pose_model()
    with torch.no_grad():
        out = detector(**detector_processor(images=[frames[0]], return_tensors="pt"))
    result = detector_processor.post_process_object_detection(out, target_sizes=[(48, 64)], threshold=0.0)[0]
    boxes = result["boxes"][result["scores"].argsort(descending=True)[:3]].numpy()
    coco = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], 1)
    with torch.no_grad():
        heatmaps = pose(**pose_processor([frames[0]], boxes=[coco], return_tensors="pt"))
    people = pose_processor.post_process_pose_estimation(heatmaps, boxes=[coco])[0]
    by_hand = {tuple(np.round(p["keypoints"].numpy().ravel(), 4)) for p in people}
    present = [m for m in range(2) if score[m, 0].any()]
    assert present, "the random detector's boxes change from frame to frame, but someone is kept in frame 0"
    for m in present:  # each kept person of frame 0 is one of the people VitPose found there
        assert tuple(np.round(keypoint[m, 0].ravel(), 4)) in by_hand

    clip = annotation_to_clip(annotation, max_persons=2)
    assert clip.shape == (6, 2, 17, 3)
    np.testing.assert_allclose(clip[..., 2], score.transpose(1, 0, 2))  # x, y, score
    np.testing.assert_allclose(clip[..., 0], (keypoint[..., 0].transpose(1, 0, 2) - 32) / 32, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(extractor.extract_clip(frames), clip)
    assert extractor(frames, frame_dir="clip", label=3)["keypoint"].tobytes() == keypoint.tobytes()  # deterministic


def test_batching_does_not_change_the_result():
    frames = synthetic_frames(num_frames=5)
    one = tiny_extractor(batch_size=1)(frames)
    many = tiny_extractor(batch_size=8)(frames)
    np.testing.assert_allclose(one["keypoint"], many["keypoint"], atol=1e-3)
    np.testing.assert_allclose(one["keypoint_score"], many["keypoint_score"], atol=1e-5)


def test_nobody_detected_gives_one_empty_person():
    extractor = tiny_extractor(detection_threshold=1.01)  # no box passes
    annotation = extractor(synthetic_frames(num_frames=3))
    assert annotation["keypoint"].shape == (1, 3, 17, 2) and not annotation["keypoint_score"].any()


def test_a_video_file_and_its_errors(tmp_path):
    frames = synthetic_frames(num_frames=8)
    video = write_video(tmp_path / "walk.mp4", frames)
    extractor = tiny_extractor()
    annotation = extractor(video)
    assert annotation["frame_dir"] == "walk" and annotation["total_frames"] == 8
    assert annotation["img_shape"] == (48, 64)
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="broken.mp4"):
        extractor(tmp_path / "broken.mp4")
    with pytest.raises(ValueError, match="uint8"):
        extractor(frames.astype(np.float32))


def test_from_pretrained_folders_and_bad_models(tmp_path):
    detector, detector_processor = tiny_detector()
    pose, pose_processor = tiny_pose_model()
    detector.save_pretrained(tmp_path / "det")
    detector_processor.save_pretrained(tmp_path / "det")
    pose.save_pretrained(tmp_path / "pose")
    pose_processor.save_pretrained(tmp_path / "pose")
    loaded = PoseExtractor.from_pretrained(tmp_path / "det", tmp_path / "pose", detection_threshold=0.0)
    frames = synthetic_frames(num_frames=3)
    np.testing.assert_allclose(loaded(frames)["keypoint"], tiny_extractor()(frames)["keypoint"], atol=1e-4)
    with pytest.raises(ValueError, match="no class 'pedestrian'"):
        PoseExtractor(detector, detector_processor, pose, pose_processor, person_label="pedestrian")


def test_a_folder_of_videos_to_a_pyskl_pickle_the_loader_reads(tmp_path):
    root = tmp_path / "videos"
    for c, name in enumerate(["wave", "jump"]):
        (root / name).mkdir(parents=True)
        for i in range(3):
            write_video(root / name / f"{name}{i}.mp4", synthetic_frames(num_frames=6 + i, seed=10 * c + i))
    (root / "jump" / "corrupt.mp4").write_bytes(b"\x00" * 64)
    output = tmp_path / "mine.pkl"
    summary = extract_pose_annotations(root, output, tiny_extractor(), val_fraction=1 / 3, seed=0)
    assert summary["class_names"] == ["jump", "wave"]
    assert summary["splits"] == {"train": 4, "val": 2}
    assert [path.endswith("corrupt.mp4") for path, _ in summary["skipped"]] == [True]

    with open(output, "rb") as f:  # only arrays and plain containers: the restricted unpickler reads it
        data = RestrictedUnpickler(f).load()
    assert {a["frame_dir"] for a in data["annotations"]} == set(data["split"]["train"] + data["split"]["val"])

    dataset = load_skeleton_dataset("pyskl", data_dir=output, cache_dir=tmp_path / "cache")
    assert dataset["train"].features["label"].names == ["jump", "wave"]
    assert (len(dataset["train"]), len(dataset["test"])) == (4, 2)
    row = dataset["train"][0]
    skeleton = np.asarray(row["skeleton"], np.float32)
    annotation = next(a for a in data["annotations"] if a["frame_dir"] == row["sample_id"])
    np.testing.assert_allclose(skeleton, annotation_to_clip(annotation), atol=1e-6)
    assert row["label"] == annotation["label"]


def test_the_command_line(tmp_path, capsys):
    """``skeleton-models extract-poses`` over a folder with train/ and val/ splits, then ``predict`` on a video with
    a (randomly initialised) coco17 checkpoint of the extracted classes; the pose models from folders."""
    detector, detector_processor = tiny_detector()
    pose, pose_processor = tiny_pose_model()
    for model, processor, name in [(detector, detector_processor, "det"), (pose, pose_processor, "pose")]:
        model.save_pretrained(tmp_path / name)
        processor.save_pretrained(tmp_path / name)
    for split, count in [("train", 2), ("val", 1)]:
        for name in ["sit", "stand"]:
            (tmp_path / "videos" / split / name).mkdir(parents=True)
            for i in range(count):
                write_video(tmp_path / "videos" / split / name / f"{i}.mp4", synthetic_frames(num_frames=5, seed=i))
    pose_args = ["--detector", str(tmp_path / "det"), "--pose-model", str(tmp_path / "pose")]
    pose_args += ["--detection-threshold", "0"]
    output = tmp_path / "poses.pkl"
    assert main(["extract-poses", str(tmp_path / "videos"), "--output", str(output), *pose_args]) == 0
    assert "2 classes, train 4, val 2 videos" in capsys.readouterr().out
    dataset = load_skeleton_dataset("pyskl", data_dir=output, cache_dir=tmp_path / "cache")
    assert sorted(dataset["test"]["sample_id"]) == ["val/sit/0", "val/stand/0"]

    arch = ARCHITECTURES["hglnet"]
    model = arch.classification_class(arch.tiny(layout="coco17", num_labels=2, id2label={0: "sit", 1: "stand"}))
    model.save_pretrained(tmp_path / "checkpoint")
    processor_for(model.config, 16).save_pretrained(tmp_path / "checkpoint")
    video = tmp_path / "videos" / "val" / "sit" / "0.mp4"
    assert main(["predict", "--model", str(tmp_path / "checkpoint"), str(video), "--top-k", "2", *pose_args]) == 0
    printed = capsys.readouterr().out
    assert "0.mp4: top-2 of 2 classes" in printed and "sit" in printed and "stand" in printed
