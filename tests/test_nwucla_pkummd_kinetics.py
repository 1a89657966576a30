import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from skeleton_models.data import build_report, get_skeleton_spec, load_skeleton_dataset, read_clip
from skeleton_models.data.kinetics import read_kinetics_json
from skeleton_models.data.ntu import load_ntu_sample
from skeleton_models.data.nwucla import assign_splits, label_of, read_nwucla_json
from skeleton_models.data.parsing import SkeletonParseError, read_hands_file
from skeleton_models.data.pkummd import cut_clips, read_pkummd_labels, read_pkummd_skeleton, read_split_file
from skeleton_models.data.pyskl import convert_annotation
from skeleton_models.data.raw_formats import (
    ntu_frames_from_clip,
    ntu_to_nwucla,
    project_2d,
    synthetic_clip,
    write_kinetics_json,
    write_ntu_skeleton,
    write_nwucla_json,
    write_pkummd_labels,
    write_pkummd_sequence,
    write_pkummd_split,
    write_pyskl_annotations,
)

from .paths import DATA, REAL_SAMPLES, needs_shared

REAL_UCLA = sorted((REAL_SAMPLES / "nw_ucla").glob("*.json"))
REAL_PKU = REAL_SAMPLES / "pku_mmd" / "A10N08-L.txt"


# -- NW-UCLA -------------------------------------------------------------------------------------------------------
@needs_shared(REAL_SAMPLES / "nw_ucla" / "*.json")
def test_real_nwucla_samples():
    for path in REAL_UCLA:
        raw = json.loads(path.read_text())
        skeleton = read_nwucla_json(path)
        assert skeleton.shape == (len(raw["skeletons"]), 1, 20, 3)
        np.testing.assert_allclose(skeleton[0, 0, 0], raw["skeletons"][0][0], rtol=1e-6)
        assert label_of(int(path.name[1:3])) == raw["label"] - 1
    assert read_nwucla_json(REAL_SAMPLES / "nw_ucla" / "a02_s09_e04_v03.json").shape[0] == 1  # a one-frame sample


def test_nwucla_split_on_the_full_official_file_list():
    files = json.loads((DATA / "nwucla_files.json").read_text())
    splits, excluded = assign_splits(files["train"] + files["test"])
    assert (len(splits["train"]), len(splits["test"])) == (1020, 464) and not excluded
    assert sorted(splits["train"]) == files["train"] and sorted(splits["test"]) == files["test"]
    assert all(label_of(int(name[1:3])) == label - 1 for name, label in files["labels"].items())
    _, excluded = assign_splits(["a07_s01_e00_v01", "readme"])
    assert len(excluded) == 2


def test_nwucla_builder(tmp_path):
    root = tmp_path / "all_sqe"
    root.mkdir()
    for path in REAL_UCLA:
        shutil.copy(path, root)
    for name, label in [("a04_s03_e01_v02", 3), ("a09_s02_e00_v03", 7)]:
        write_nwucla_json(root / f"{name}.json", ntu_to_nwucla(synthetic_clip(11)[:, 0]), label)
    write_nwucla_json(root / "a05_s01_e00_v01.json", np.zeros((3, 20, 3)), 1)  # label disagrees with folder a05
    (root / "a06_s02_e01_v01.json").write_text('{"skeletons": [[1, 2]]')  # truncated json
    ds = load_skeleton_dataset("nwucla", data_dir=tmp_path, cache_dir=tmp_path / "cache")
    assert set(ds["train"]["camera"]) <= {1, 2} and set(ds["test"]["camera"]) == {3}
    assert "a04_s03_e01_v02" in ds["train"]["sample_id"] and "a09_s02_e00_v03" in ds["test"]["sample_id"]
    assert ds["train"].features["label"].names[3] == "walk around"
    assert ds["train"].features["skeleton"].shape == (None, 1, 20, 3)
    assert get_skeleton_spec(ds) == {"coordinate_dims": 3, "layout": "nwucla20"}
    reasons = {Path(r["file"]).stem: r["reason"] for r in build_report(ds)["skipped"]}
    assert "disagrees" in reasons["a05_s01_e00_v01"] and "not valid JSON" in reasons["a06_s02_e01_v01"]


# -- PKU-MMD -------------------------------------------------------------------------------------------------------
@needs_shared(REAL_PKU)
def test_real_pkummd_sequence():
    sequence = read_pkummd_skeleton(REAL_PKU)
    assert sequence.shape == (1040, 2, 25, 3)
    assert int((np.abs(sequence[:, 1]).reshape(1040, -1).max(1) > 0).sum()) == 728
    first = np.array(REAL_PKU.read_text().split("\n")[0].split()[:3], dtype=np.float32)
    np.testing.assert_array_equal(sequence[0, 0, 0], first)
    labels = [(13, 100, 200, 1), (27, 400, 350, 2)]  # the second with start and end reversed
    clips, records = cut_clips(sequence, labels, "labels")
    assert [len(c["skeleton"]) for c in clips] == [100, 50]
    assert [r["kind"] for r in records] == ["kept"] and "swapped" in records[0]["reason"]  # a note, not a skip
    np.testing.assert_array_equal(clips[1]["skeleton"], sequence[350:400])


def _pkummd_tree(root: Path, phase: int) -> list[str]:
    """Three videos of three actions each, their label files, and both split files (one at the top, one in
    Split/, as the loader searches below data_dir). Returns the video names."""
    videos = ["0002-L", "0002-M", "0291-R"] if phase == 1 else ["A01N01-L", "A01N02-M", "A02N03-R"]
    (root / "skeleton").mkdir(parents=True)
    (root / "label").mkdir()
    for i, video in enumerate(videos):
        parts = [synthetic_clip(label, seed=i) for label in (0, 14, 7)]  # wave, handshake, squat
        write_pkummd_sequence(root / "skeleton" / f"{video}.txt", np.concatenate(parts))
        ends = np.cumsum([len(p) for p in parts])
        actions = [(a, s, e, 1 + k % 2) for k, (a, s, e) in enumerate(zip((13, 14, 34), [0, *ends[:-1]], ends))]
        actions.append((5, 10_000, 10_100, 1))  # outside the sequence: rejected and reported
        write_pkummd_labels(root / "label" / f"{video}.txt", actions)
    names = {1: ("cross-subject.txt", "cross-view.txt"), 2: ("cross_subject_v2.txt", "cross_view_v2.txt")}[phase]
    write_pkummd_split(root / names[0], videos[:2], videos[2:])
    (root / "Split").mkdir()
    write_pkummd_split(
        root / "Split" / names[1], [v for v in videos if not v.endswith("-R")], [v for v in videos if v.endswith("-R")]
    )
    return videos


@pytest.mark.parametrize("phase", [1, 2])
def test_pkummd_builder(tmp_path, phase):
    videos = _pkummd_tree(tmp_path / "raw", phase)
    ds = load_skeleton_dataset(f"pkummd{phase}", data_dir=tmp_path / "raw", config="xsub", cache_dir=tmp_path / "c")
    assert len(ds["train"]) == 6 and len(ds["test"]) == 3
    names = ds["train"].features["label"].names
    assert len(names) == 51 and names[13] == "handshaking" and names[0] == "bow"
    handshakes = ds["train"].filter(lambda r: r["label"] == 13)
    assert len(handshakes) == 2 and set(handshakes["num_persons"]) == {2}
    assert set(ds["train"].filter(lambda r: r["label"] == 12)["num_persons"]) == {1}
    row = ds["test"][0]
    assert row["sample_id"] == f"{row['video']}_0" and row["camera"] == 3
    assert row["subject"] == (None if phase == 1 else 3)
    skipped = build_report(ds)["skipped"]
    assert sum("no frames inside the sequence" in r["reason"] for r in skipped) == len(videos)
    xview = load_skeleton_dataset(f"pkummd{phase}", data_dir=tmp_path / "raw", config="xview", cache_dir=tmp_path / "c")
    assert set(xview["test"]["camera"]) == {3} and len(xview["train"]) == 6


def test_pkummd_errors(tmp_path):
    with pytest.raises(ValueError, match="no skeleton folder"):
        load_skeleton_dataset("pkummd1", data_dir=tmp_path, cache_dir=tmp_path / "c")
    (tmp_path / "skeleton").mkdir()
    (tmp_path / "label").mkdir()
    with pytest.raises(ValueError, match="split file cross-subject.txt"):
        load_skeleton_dataset("pkummd1", data_dir=tmp_path, cache_dir=tmp_path / "c")
    bad = tmp_path / "labels.txt"
    bad.write_text("13,1,20\n")
    with pytest.raises(SkeletonParseError, match="action,start,end,confidence"):
        read_pkummd_labels(bad)
    bad.write_text("52,1,20,1\n")
    with pytest.raises(SkeletonParseError, match="1..51"):
        read_pkummd_labels(bad)
    bad.write_text("13,1,20,1\n13,1.5,20,1\n")  # used to be truncated to frame 1
    with pytest.raises(SkeletonParseError, match="line 2: .*a fraction in '13,1.5,20,1'"):
        read_pkummd_labels(bad)
    bad.write_text("13,1,20,3\n")  # used to be accepted
    with pytest.raises(SkeletonParseError, match="line 1: confidence must be 1 or 2, got 3"):
        read_pkummd_labels(bad)
    bad.write_text("13.0,1,20.0,2\n")
    assert read_pkummd_labels(bad) == [(13, 1, 20, 2)]
    split = write_pkummd_split(tmp_path / "s.txt", ["0002-L", "0003-L"], ["0291-L"])
    assert read_split_file(split) == (["0002-L", "0003-L"], ["0291-L"])


def test_pkummd_and_nwucla_reports_name_the_line(tmp_path):
    """The line of a parse error (PKU-MMD skeleton and label files, json syntax) goes into the build report."""
    raw = tmp_path / "raw"
    videos = _pkummd_tree(raw, 1)
    shutil.copy(raw / "skeleton" / f"{videos[1]}.txt", raw / "skeleton" / "0003-L.txt")
    write_pkummd_split(raw / "cross-subject.txt", [*videos[:2], "0003-L"], videos[2:])
    skeleton = raw / "skeleton" / f"{videos[0]}.txt"
    lines = skeleton.read_text().split("\n")
    skeleton.write_text("\n".join(["", *lines[:4], lines[4] + " 1.0", *lines[5:]]))  # line 6: 151 numbers
    labels = write_pkummd_labels(raw / "label" / "0003-L.txt", [(13, 0, 10, 1), (14, 10, 20, 2), (34, 20, 30, 1)])
    lines = labels.read_text().split("\n")
    labels.write_text("\n".join([lines[0], "", lines[1], "34,x,30,1", *lines[3:]]))  # line 4: not a number
    ds = load_skeleton_dataset("pkummd1", data_dir=raw, cache_dir=tmp_path / "c")
    errors = {Path(r["file"]).name: r for r in build_report(ds)["skipped"] if "inside the sequence" not in r["reason"]}
    assert set(errors) == {skeleton.name, labels.name}
    assert errors[skeleton.name]["line"] == 6 and errors[skeleton.name]["reason"].startswith("line 6: expected 150")
    assert errors[labels.name]["line"] == 4 and errors[labels.name]["reason"].startswith("line 4: expected four")
    root = tmp_path / "all_sqe"
    root.mkdir()
    for name, label in [("a01_s01_e00_v01", 0), ("a02_s01_e00_v03", 1)]:
        write_nwucla_json(root / f"{name}.json", ntu_to_nwucla(synthetic_clip(label)[:, 0]), label)
    (root / "a03_s01_e00_v01.json").write_text('{"skeletons":\n [[1, 2]]\n x}')  # a syntax error on line 3
    ds = load_skeleton_dataset("nwucla", data_dir=root, cache_dir=tmp_path / "c2")
    (record,) = build_report(ds)["skipped"]
    assert record["line"] == 3 and record["reason"].startswith("line 3: not valid JSON")


# -- Kinetics-Skeleton ---------------------------------------------------------------------------------------------
def _kinetics_video(path, label, first_frame=0, seed=0):
    clip = synthetic_clip(14, seed=seed)  # two people
    keypoints = project_2d(clip, "openpose18")
    present = np.abs(keypoints).max(axis=3) > 0
    scores = np.where(present, 0.9, 0.0).astype(np.float32)
    scores[:, 1] *= 0.5  # the second person is less confident
    scores[:, :, 14] = 0.0  # an undetected joint
    keypoints[:, [0, 1]] = keypoints[:, [1, 0]]  # OpenPose's order: the weaker person first
    scores[:, [0, 1]] = scores[:, [1, 0]]
    write_kinetics_json(path, keypoints, scores, label, first_frame=first_frame)
    return clip


def test_kinetics_reader_follows_stgcn(tmp_path):
    clip = _kinetics_video(tmp_path / "v.json", 3, first_frame=1)
    skeleton = read_kinetics_json(tmp_path / "v.json")
    assert skeleton.shape == (len(clip), 5, 18, 3)
    np.testing.assert_allclose(skeleton[:, 0, :, 2][skeleton[:, 0, :, 2] > 0], 0.9)  # persons sorted by score
    assert not skeleton[:, :, 14, :].any()  # zero score -> zero position
    assert 0.0 <= skeleton[..., :2].min() and skeleton[..., :2].max() <= 1.0
    assert not skeleton[:, 2:].any()


def test_kinetics_builder(tmp_path):
    for split, folder in (("train", "kinetics_train"), ("test", "kinetics_val")):
        (tmp_path / folder).mkdir()
        labels = {}
        for i in range(3):
            _kinetics_video(tmp_path / folder / f"{split}{i}.json", 10 * i, seed=i)
            labels[f"{split}{i}"] = {"has_skeleton": True, "label": "x", "label_index": 10 * i}
        labels[f"{split}0"]["has_skeleton"] = False
        labels[f"{split}_gone"] = {"has_skeleton": True, "label_index": 1}
        (tmp_path / folder / f"{split}_extra.json").write_text("{}")
        (tmp_path / f"{folder}_label.json").write_text(json.dumps(labels))
    (tmp_path / "kinetics_val" / "test1.json").write_text('{"data": [{"frame_index": 0, "skeleton": [{"pose": [1]}]}]}')
    ds = load_skeleton_dataset("kinetics_skeleton", data_dir=tmp_path, cache_dir=tmp_path / "cache")
    assert ds["train"]["sample_id"] == ["train1", "train2"] and ds["test"]["sample_id"] == ["test2"]
    assert ds["train"].features["label"].num_classes == 400 and ds["train"]["label"] == [10, 20]
    assert get_skeleton_spec(ds) == {"coordinate_dims": 2, "layout": "openpose18"}
    assert ds["train"][0]["num_persons"] == 2
    reasons = {Path(r["file"]).stem: r["reason"] for r in build_report(ds)["skipped"]}
    assert "has_skeleton is false" in reasons["train0"] and "missing" in reasons["train_gone"]
    assert "no label_index" in reasons["train_extra"] and "36 'pose'" in reasons["test1"]
    with pytest.raises(ValueError, match="kinetics_train/ or kinetics_train_label.json missing"):
        load_skeleton_dataset("kinetics_skeleton", data_dir=tmp_path / "kinetics_train", cache_dir=tmp_path / "c2")


def test_read_clip_dispatches_on_the_format(tmp_path):
    write_nwucla_json(tmp_path / "a01_s01_e00_v01.json", ntu_to_nwucla(synthetic_clip(0)[:, 0]), 0)
    assert read_clip(tmp_path / "a01_s01_e00_v01.json").shape[1:] == (1, 20, 3)
    _kinetics_video(tmp_path / "k.json", 0)
    assert read_clip(tmp_path / "k.json").shape[1:] == (5, 18, 3)
    write_pkummd_sequence(tmp_path / "0002-L.txt", synthetic_clip(1))
    assert read_clip(tmp_path / "0002-L.txt").shape[1:] == (2, 25, 3)
    np.save(tmp_path / "c.npy", np.zeros((4, 1, 17, 3), np.float32))
    assert read_clip(tmp_path / "c.npy").shape == (4, 1, 17, 3)
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(SkeletonParseError, match="unsupported file type '.csv'"):
        read_clip(tmp_path / "x.csv")
    (tmp_path / "o.json").write_text("[]")
    with pytest.raises(SkeletonParseError, match="NW-UCLA .* or Kinetics"):
        read_clip(tmp_path / "o.json")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(SkeletonParseError, match="cannot read a numpy array"):
        read_clip(tmp_path / "obj.npy")


def test_every_loader_reads_upper_case_extensions(tmp_path):
    """``.JSON``, ``.TXT`` and ``.PKL`` files used to be ignored (a PKU-MMD video whose label file is ``.TXT`` was
    reported as having none)."""
    root = tmp_path / "ucla"
    root.mkdir()
    for name, label in [("a01_s01_e00_v01", 0), ("a02_s01_e00_v03", 1)]:
        path = write_nwucla_json(root / f"{name}.json", ntu_to_nwucla(synthetic_clip(label)[:, 0]), label)
    path.rename(path.with_suffix(".JSON"))
    ds = load_skeleton_dataset("nwucla", data_dir=root, cache_dir=tmp_path / "c1")
    assert (len(ds["train"]), len(ds["test"])) == (1, 1) and not build_report(ds)["skipped"]

    videos = _pkummd_tree(tmp_path / "pku", 1)
    for folder, video in (("skeleton", videos[0]), ("label", videos[1])):
        path = tmp_path / "pku" / folder / f"{video}.txt"
        path.rename(path.with_suffix(".TXT"))
    ds = load_skeleton_dataset("pkummd1", data_dir=tmp_path / "pku", cache_dir=tmp_path / "c2")
    assert (len(ds["train"]), len(ds["test"])) == (6, 3)
    assert all("no frames inside the sequence" in r["reason"] for r in build_report(ds)["skipped"])

    kinetics = tmp_path / "kinetics"
    for split, folder in (("train", "kinetics_train"), ("test", "kinetics_val")):
        (kinetics / folder).mkdir(parents=True)
        _kinetics_video(kinetics / folder / f"{split}.JSON", 1)
        (kinetics / f"{folder}_label.json").write_text(json.dumps({split: {"has_skeleton": True, "label_index": 1}}))
    ds = load_skeleton_dataset("kinetics_skeleton", data_dir=kinetics, cache_dir=tmp_path / "c3")
    assert (ds["train"]["sample_id"], ds["test"]["sample_id"]) == (["train"], ["test"])

    (tmp_path / "pyskl").mkdir()
    keypoint = synthetic_clip(1)[:, :1].transpose(1, 0, 2, 3)
    write_pyskl_annotations(
        tmp_path / "pyskl" / "poses.PKL",
        [{"frame_dir": name, "label": 0, "keypoint": keypoint} for name in ("a", "b")],
        {"train": ["a"], "val": ["b"]},
    )
    ds = load_skeleton_dataset("pyskl", data_dir=tmp_path / "pyskl", class_names=["x"], cache_dir=tmp_path / "c4")
    assert (len(ds["train"]), len(ds["test"])) == (1, 1)


def test_json_and_text_files_may_start_with_a_byte_order_mark(tmp_path):
    """A UTF-8 BOM used to make every json 'not valid JSON' and break the first line of a PKU-MMD file."""
    clip = synthetic_clip(2)
    paths = [
        write_nwucla_json(tmp_path / "a01_s01_e00_v01.json", ntu_to_nwucla(clip[:, 0]), 0),
        write_pkummd_sequence(tmp_path / "0002-L.txt", clip),
    ]
    _kinetics_video(tmp_path / "k.json", 0)
    paths.append(tmp_path / "k.json")
    for path in paths:
        bom = tmp_path / "bom" / path.name
        bom.parent.mkdir(exist_ok=True)
        bom.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        np.testing.assert_array_equal(read_clip(bom), read_clip(path))
    labels = write_pkummd_labels(tmp_path / "labels.txt", [(13, 0, 10, 1)])
    labels.write_bytes(b"\xef\xbb\xbf" + labels.read_bytes())
    assert read_pkummd_labels(labels) == [(13, 0, 10, 1)]


def test_every_reader_refuses_numbers_beyond_float32(tmp_path):
    """1e39 is finite in float64 and infinite in float32, the dtype of the rows: NTU, PKU-MMD, the hands files and
    .npy clips used to return inf; every reader now raises a parse error naming the file."""
    clip = synthetic_clip(3).astype(np.float64)
    clip[2, 0, 5, 1] = 1e39
    keypoints = project_2d(synthetic_clip(3), "openpose18") / np.array([1920, 1080])
    keypoints[2, 0, 5, 1] = 1e39
    hands = np.ones((4, 2, 21, 3))
    hands[1, 0, 3, 2] = 1e39
    pyskl = {"frame_dir": "x", "label": 0, "keypoint": clip[:, :1].transpose(1, 0, 2, 3)}
    write_kinetics_json(tmp_path / "k.json", keypoints, np.full(keypoints.shape[:3], 0.9), 0, image_size=(1, 1))
    np.save(tmp_path / "c.npy", clip)
    np.save(tmp_path / "hands.npy", hands)
    readers = {
        write_ntu_skeleton(tmp_path / "S001C001P001R001A001.skeleton", ntu_frames_from_clip(clip)): load_ntu_sample,
        write_nwucla_json(tmp_path / "a01_s01_e00_v01.json", ntu_to_nwucla(clip[:, 0]), 0): read_nwucla_json,
        write_pkummd_sequence(tmp_path / "0002-L.txt", clip): read_pkummd_skeleton,
        tmp_path / "k.json": read_kinetics_json,
        tmp_path / "c.npy": read_clip,
        tmp_path / "hands.npy": lambda path: read_hands_file(path, num_frames=4),
        "a.pkl#x": lambda source: convert_annotation(pyskl, 2, False, source=source),
    }
    for path, reader in readers.items():
        with pytest.raises(SkeletonParseError, match="1e\\+39 is beyond the float32 range") as err:
            reader(path)
        assert err.value.path == str(path)
    for path in list(readers)[:5]:
        with pytest.raises(SkeletonParseError, match="beyond the float32 range"):
            read_clip(path)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("ntu60", r"\.skeleton files"),
        ("ntu120", r"nturgbd_skeletons_s018_to_s032\.zip"),
        ("nwucla", r"all_sqe json files"),
        ("pkummd1", r"skeleton/ and label/ folders"),
        ("pkummd2", r"cross_subject_v2\.txt"),
        ("kinetics_skeleton", r"kinetics_train_label\.json"),
        ("pyskl", r"pyskl annotation pickle"),
    ],
)
def test_missing_or_empty_data_dir_says_what_is_expected(tmp_path, name, expected):
    with pytest.raises(ValueError, match=rf"needs `data_dir`.*{expected}"):
        load_skeleton_dataset(name, cache_dir=tmp_path / "c1")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=expected):
        load_skeleton_dataset(name, data_dir=tmp_path / "empty", cache_dir=tmp_path / "c2")
