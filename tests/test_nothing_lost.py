"""Every builder accounts for every input: the samples it produced plus the entries of its build report are exactly
the input files (or annotations, or labelled segments), each once. Generated fixtures only, so that CI tests this
whether or not ../shared is present."""

import json
from pathlib import Path

import numpy as np
import pytest

from skeleton_models.data import build_report, load_skeleton_dataset
from skeleton_models.data.pkummd import cut_clips
from skeleton_models.data.raw_formats import (
    ntu_to_nwucla,
    project_2d,
    synthetic_clip,
    write_kinetics_json,
    write_ntu_folder,
    write_ntu_skeleton,
    write_nwucla_json,
    write_pkummd_labels,
    write_pkummd_sequence,
    write_pkummd_split,
    write_pyskl_annotations,
)

from .test_nwucla_pkummd_kinetics import _kinetics_video


def produced(ds) -> list[str]:
    return [sample_id for split in ds.values() for sample_id in split["sample_id"]]


def reported(ds) -> list[dict]:
    return build_report(ds)["skipped"]


def test_ntu_accounts_for_every_file(tmp_path):
    raw = tmp_path / "raw"
    good = ["S001C001P001R001A001", "S001C002P003R001A002", "S001C001P002R002A050"]
    paths = write_ntu_folder(raw / "a", good)
    paths += write_ntu_folder(raw / "b", ["S001C001P001R001A001"])  # the same sample extracted twice
    paths += write_ntu_folder(raw / "a", ["S001C001P001R001A003"])
    (raw / "a" / "S001C001P001R001A003.skeleton").write_text("3\n1\n")  # truncated
    paths += write_ntu_folder(raw / "a", ["S001C002P001R001A007"])
    (raw / "a" / "S001C002P001R001A007.skeleton").write_text("")  # empty
    ds = load_skeleton_dataset("ntu60", data_dir=raw, config="xsub", cache_dir=tmp_path / "cache")
    records = reported(ds)
    assert sorted(produced(ds)) == sorted(good)
    assert sorted(Path(r["file"]) for r in records) == sorted(
        [raw / "b" / "S001C001P001R001A001.skeleton", *[p for p in paths if "A003" in p.name or "A007" in p.name]]
    )
    assert len(produced(ds)) + len(records) == len(paths)
    duplicate = next(r for r in records if "/b/" in r["file"])
    assert duplicate["kind"] == "excluded" and "duplicate of" in duplicate["reason"]


def test_nwucla_accounts_for_every_file_and_reports_duplicate_names(tmp_path):
    """Two files with one name (the same sample in two folders) used to keep one and report nothing."""
    root = tmp_path / "all_sqe"
    (root / "x").mkdir(parents=True)
    (root / "y").mkdir()
    names = ["a01_s01_e00_v01", "a02_s02_e01_v03", "a04_s03_e01_v02"]
    paths = []
    for i, name in enumerate(names):
        label = int(name[1:3]) - 1
        paths.append(write_nwucla_json(root / "x" / f"{name}.json", ntu_to_nwucla(synthetic_clip(i)[:, 0]), label))
    paths.append(write_nwucla_json(root / "y" / f"{names[0]}.json", ntu_to_nwucla(synthetic_clip(5)[:, 0]), 0))
    bad = root / "x" / "a05_s02_e00_v01.json"
    bad.write_text('{"skeletons": [[1, 2]]')  # truncated
    paths.append(bad)
    ds = load_skeleton_dataset("nwucla", data_dir=root, cache_dir=tmp_path / "cache")
    records = reported(ds)
    assert sorted(produced(ds)) == names
    assert sorted(Path(r["file"]) for r in records) == sorted([root / "y" / f"{names[0]}.json", bad])
    assert len(produced(ds)) + len(records) == len(paths)
    assert any(r["kind"] == "excluded" and "duplicate of" in r["reason"] for r in records)


def notes(ds) -> list[dict]:
    return build_report(ds)["notes"]


def test_pkummd_accounts_for_every_labelled_segment_and_tests_reversed_and_empty_intervals(tmp_path):
    """Rows + skipped entries = the labelled segments of the videos that are cut + the videos left out whole; rows
    kept with a change (swapped, cut) are rows *and* notes. Before: a labelled video without a skeleton file and a
    listed video without files vanished, fractional frames were truncated, a confidence of 3 was accepted, a
    duplicated line gave two identical rows, and swapping or cutting a segment left no note."""
    root = tmp_path / "raw"
    (root / "skeleton").mkdir(parents=True)
    (root / "label").mkdir()
    sequence = np.concatenate([synthetic_clip(0, seed=1), synthetic_clip(7, seed=2)])  # wave, then squat
    sequence[60:80] = 0  # nobody tracked in frames 60-79
    n = len(sequence)
    segments = [
        (13, 0, 40, 1),  # a plain segment
        (27, 55, 45, 2),  # reversed: frames 45-54, kept with a note
        (5, 60, 80, 1),  # all zero: rejected
        (6, n + 10, n + 40, 1),  # outside the sequence: rejected
        (7, n - 10, n + 20, 1),  # past the end: kept cut to frames n-10..n, with a note
        (13, 0, 40, 1),  # a duplicated line: excluded, segment 0 is kept
        (27, 45, 55, 1),  # segment 1's frames again (not reversed, another confidence): excluded
    ]
    videos = {"0002-L": segments, "0002-M": segments[:2], "0291-R": segments[:1]}
    for video, labels in videos.items():
        write_pkummd_sequence(root / "skeleton" / f"{video}.txt", sequence)
        write_pkummd_labels(root / "label" / f"{video}.txt", labels)
    write_pkummd_sequence(root / "skeleton" / "0003-L.txt", sequence)  # no label file
    (root / "skeleton" / "0004-L.txt").write_text("1 2 3\n")  # unreadable
    write_pkummd_labels(root / "label" / "0004-L.txt", segments[:1])
    write_pkummd_sequence(root / "skeleton" / "0005-L.txt", sequence)  # in no split
    write_pkummd_labels(root / "label" / "0005-L.txt", segments[:1])
    write_pkummd_labels(root / "label" / "0006-L.txt", segments[:1])  # labelled, no skeleton file
    (root / "label" / "0007-L.txt").write_text("13,0,40,1\n27,45,55.5,2\n")  # a fractional frame, line 2
    (root / "label" / "0008-L.txt").write_text("13,0,40,1\n\n13,50,60,3\n")  # confidence 3, line 3
    (root / "label" / "0010-L.txt").write_text("\n")  # a label file without segments
    for video in ("0007-L", "0008-L", "0010-L"):
        write_pkummd_sequence(root / "skeleton" / f"{video}.txt", sequence)
    listed = [
        "0002-L",
        "0002-M",
        "0003-L",
        "0004-L",
        "0006-L",
        "0007-L",
        "0008-L",
        "0009-L",
        "0010-L",
    ]  # 0009-L: no files
    write_pkummd_split(root / "cross-subject.txt", listed, ["0291-R"])
    ds = load_skeleton_dataset("pkummd1", data_dir=root, config="xsub", cache_dir=tmp_path / "cache")
    records, kept = reported(ds), notes(ds)
    got = produced(ds)
    assert sorted(got) == ["0002-L_0", "0002-L_1", "0002-L_4", "0002-M_0", "0002-M_1", "0291-R_0"]
    # labelled segments of the videos that are cut + videos left out whole = rows + skipped entries
    whole = ["0003-L", "0004-L", "0005-L", "0006-L", "0007-L", "0008-L", "0009-L", "0010-L"]
    assert len(got) + len(records) == sum(len(v) for v in videos.values()) + len(whole)
    stems = sorted(Path(r["file"]).stem for r in records)
    assert stems == sorted(["0002-L"] * 4 + whole)
    by_stem = {Path(r["file"]).stem: r for r in records if Path(r["file"]).stem != "0002-L"}
    assert by_stem["0006-L"]["kind"] == "error" and "no skeleton file" in by_stem["0006-L"]["reason"]
    assert by_stem["0006-L"]["file"] == str(root / "label" / "0006-L.txt")
    assert "neither" in by_stem["0009-L"]["reason"] and by_stem["0009-L"]["split"] == "train"
    assert by_stem["0007-L"]["line"] == 2 and "fraction" in by_stem["0007-L"]["reason"]
    assert by_stem["0008-L"]["line"] == 3 and "confidence must be 1 or 2" in by_stem["0008-L"]["reason"]
    assert "empty file" in by_stem["0010-L"]["reason"]
    segment_records = sorted((r["kind"], r["reason"].split(":")[0]) for r in records if "0002-L" in r["file"])
    assert segment_records == [
        ("error", "segment 2 (5,60,80,1)"),
        ("error", f"segment 3 (6,{n + 10},{n + 40},1)"),
        ("excluded", "segment 5 (13,0,40,1)"),
        ("excluded", "segment 6 (27,45,55,1)"),
    ]
    assert sum("all-zero skeleton" in r["reason"] for r in records) == 1  # segment 2 of 0002-L
    assert sum("no frames inside the sequence" in r["reason"] for r in records) == 1  # segment 3 of 0002-L
    assert all(
        "duplicate of segment" in r["reason"] for r in records if r["kind"] == "excluded" and "0002-L" in r["file"]
    )
    # notes: rows kept with a change, not skipped inputs
    assert all(r["kind"] == "kept" for r in kept)
    assert sorted((Path(r["file"]).stem, r["reason"].split(":")[0]) for r in kept) == [
        ("0002-L", "segment 1 (27,55,45,2)"),
        ("0002-L", f"segment 4 (7,{n - 10},{n + 20},1)"),
        ("0002-M", "segment 1 (27,55,45,2)"),
    ]
    assert sum("swapped" in r["reason"] for r in kept) == 2 and sum("cut at the end" in r["reason"] for r in kept) == 1
    train = ds["train"].with_format("numpy")
    rows = {sample_id: train[i] for i, sample_id in enumerate(train["sample_id"])}
    reversed_clip = rows["0002-L_1"]
    assert (reversed_clip["start_frame"], reversed_clip["end_frame"]) == (45, 55)
    np.testing.assert_allclose(reversed_clip["skeleton"], sequence[45:55], atol=1e-4)
    cut = rows["0002-L_4"]
    assert (cut["start_frame"], cut["end_frame"], cut["num_frames"]) == (n - 10, n, 10)
    clips, segment_notes = cut_clips(sequence, segments, "labels")
    assert [c["index"] for c in clips] == [0, 1, 4]
    assert sorted(r["kind"] for r in segment_notes) == ["error", "error", "excluded", "excluded", "kept", "kept"]


def test_kinetics_accounts_for_every_file_and_label(tmp_path):
    inputs = set()
    for split, folder in (("train", "kinetics_train"), ("test", "kinetics_val")):
        (tmp_path / folder).mkdir()
        labels = {}
        for i in range(3):
            _kinetics_video(tmp_path / folder / f"{split}{i}.json", i, seed=i)
            labels[f"{split}{i}"] = {"has_skeleton": True, "label_index": i}
            inputs.add(f"{split}{i}")
        labels[f"{split}1"]["has_skeleton"] = False
        labels[f"{split}_gone"] = {"has_skeleton": True, "label_index": 1}  # listed, no file
        (tmp_path / folder / f"{split}_unlisted.json").write_text("{}")  # a file, not listed
        inputs |= {f"{split}_gone", f"{split}_unlisted"}
        (tmp_path / f"{folder}_label.json").write_text(json.dumps(labels))
    write_kinetics_json(tmp_path / "kinetics_val" / "test2.json", np.zeros((0, 2, 18, 2)), np.zeros((0, 2, 18)), 2)
    ds = load_skeleton_dataset("kinetics_skeleton", data_dir=tmp_path, cache_dir=tmp_path / "cache")
    got, records = produced(ds), reported(ds)
    accounted = got + [Path(r["file"]).stem for r in records]
    assert sorted(accounted) == sorted(inputs)


def test_pyskl_accounts_for_every_annotation_and_records_those_in_no_split(tmp_path):
    """Annotations that belong to neither split of the protocol used to be dropped without a record."""
    annotations = [
        {"frame_dir": f"c{i}", "label": i % 2, "keypoint": synthetic_clip(i)[:, :1].transpose(1, 0, 2, 3)}
        for i in range(6)
    ]
    annotations.append({"frame_dir": "c0", "label": 0, "keypoint": annotations[0]["keypoint"]})  # duplicate id
    bad = annotations[1]["keypoint"][:, :, :24]  # 24 joints where the file has 25
    annotations.append({"frame_dir": "bad", "label": 1, "keypoint": bad})
    split = {"xsub_train": ["c0", "c1", "bad", "ghost"], "xsub_val": ["c2", "c3"]}  # c4, c5: in no split
    path = write_pyskl_annotations(tmp_path / "a.pkl", annotations, split)
    ds = load_skeleton_dataset(
        "pyskl", data_dir=path, protocol="xsub", class_names=["a", "b"], cache_dir=tmp_path / "cache"
    )
    got, records = produced(ds), reported(ds)
    assert sorted(got) == ["c0", "c1", "c2", "c3"]
    keys = sorted(r["file"].rsplit("#", 1)[1] for r in records)
    assert keys == ["bad", "c0", "c4", "c5", "ghost"]  # shape, duplicate, no split x2, listed without annotation
    no_split = [r for r in records if "in neither split" in r["reason"]]
    assert {r["file"].rsplit("#", 1)[1] for r in no_split} == {"c4", "c5"}
    assert all(r["kind"] == "excluded" for r in no_split)
    # every annotation and every split entry is accounted for once
    assert len(got) + len(records) == len(annotations) + 1  # + "ghost", listed without an annotation


@pytest.mark.parametrize("num_proc", [1, 2])
def test_synthetic_builds_every_recording(tmp_path, num_proc):
    ds = load_skeleton_dataset(
        "synthetic", num_subjects=2, num_replications=1, cache_dir=tmp_path / "cache", num_proc=num_proc
    )
    assert len(produced(ds)) == len(set(produced(ds))) == 23 * 2 * 1 * 3 and not reported(ds)


# -- One rule for every loader: a bad sample is skipped and reported, the rest are built ----------------------------
LOADERS = ["ntu60", "nwucla", "pkummd1", "kinetics_skeleton", "pyskl"]


def overflowing(array: np.ndarray) -> np.ndarray:
    """One coordinate set to 1e39: finite in float64, infinite once stored as float32."""
    array = np.array(array, dtype=np.float64)
    array.flat[7] = 1e39
    return array


def build_with_a_bad_sample(name: str, root: Path, bad) -> tuple[dict, str]:
    """Build loader `name` from two good samples (one per split) and one sample whose data -- in the format's own
    coordinates -- went through `bad` before it was written; returns the dataset and the bad sample's id."""
    clip = synthetic_clip(3)  # raise both arms: person 0 in every frame, person 1 absent (zero)
    data = {"good": clip, "test": synthetic_clip(5, seed=3), "bad": bad(clip)}
    cache = root.parent / f"{root.name}-cache"
    if name == "ntu60":
        ids = {"good": "S001C001P001R001A001", "test": "S001C001P003R001A002", "bad": "S001C001P002R001A003"}
        root.mkdir()
        for key, sample in data.items():  # person 0 is always a body (so that an all-zero clip has one)
            frames = [
                [(7 + m, sample[t, m]) for m in range(2) if m == 0 or sample[t, m].any()] for t in range(len(sample))
            ]
            write_ntu_skeleton(root / f"{ids[key]}.skeleton", frames)
        return load_skeleton_dataset(name, data_dir=root, config="xsub", cache_dir=cache), ids["bad"]
    if name == "nwucla":
        ids = {"good": "a01_s01_e00_v01", "test": "a02_s01_e00_v03", "bad": "a03_s01_e00_v02"}
        root.mkdir()
        for label, (key, sample) in enumerate(data.items()):
            skeleton = ntu_to_nwucla(sample[:, 0]) if key != "bad" else bad(ntu_to_nwucla(clip[:, 0]))
            write_nwucla_json(root / f"{ids[key]}.json", skeleton, label)
        return load_skeleton_dataset(name, data_dir=root, cache_dir=cache), ids["bad"]
    if name == "pkummd1":
        ids = {"good": "0002-L", "test": "0291-R", "bad": "0002-M"}
        (root / "skeleton").mkdir(parents=True)
        (root / "label").mkdir()
        for key, sample in data.items():
            write_pkummd_sequence(root / "skeleton" / f"{ids[key]}.txt", sample)
            write_pkummd_labels(root / "label" / f"{ids[key]}.txt", [(13, 0, len(sample), 1)])
        write_pkummd_split(root / "cross-subject.txt", [ids["good"], ids["bad"]], [ids["test"]])
        return load_skeleton_dataset(name, data_dir=root, config="xsub", cache_dir=cache), ids["bad"]
    if name == "kinetics_skeleton":
        for split, folder in (("train", "kinetics_train"), ("test", "kinetics_val")):
            (root / folder).mkdir(parents=True)
            keys = ["good", "bad"] if split == "train" else ["test"]
            for key in keys:
                keypoints = project_2d(data["test" if key == "test" else "good"], "openpose18") / np.array([1920, 1080])
                scores = np.where(np.abs(keypoints).max(axis=3) > 0, 0.9, 0.0)
                keypoints = bad(keypoints) if key == "bad" else keypoints
                write_kinetics_json(root / folder / f"{key}.json", keypoints, scores, 1, image_size=(1, 1))
            labels = {key: {"has_skeleton": True, "label_index": 1} for key in keys}
            (root / f"{folder}_label.json").write_text(json.dumps(labels))
        return load_skeleton_dataset(name, data_dir=root, cache_dir=cache), "bad"
    if name == "pyskl":
        root.mkdir()
        annotations = [
            {"frame_dir": key, "label": i % 2, "keypoint": sample[:, :1].transpose(1, 0, 2, 3)}
            for i, (key, sample) in enumerate(data.items())
        ]
        path = write_pyskl_annotations(root / "a.pkl", annotations, {"train": ["good", "bad"], "val": ["test"]})
        return load_skeleton_dataset(name, data_dir=path, class_names=["a", "b"], cache_dir=cache), "bad"
    raise ValueError(name)


def assert_only_the_bad_sample_is_reported(ds, bad: str, reason: str) -> None:
    records = reported(ds)
    assert bad not in produced(ds) and len(produced(ds)) == 2
    assert len(records) == 1 and bad in records[0]["file"], records
    assert records[0]["kind"] == "error" and reason in records[0]["reason"], records


@pytest.mark.parametrize("name", LOADERS)
def test_every_loader_reports_numbers_beyond_float32(tmp_path, name):
    """1e39 passed the finiteness check (done in float64) of NTU and PKU-MMD and was stored as inf in float32."""
    ds, bad = build_with_a_bad_sample(name, tmp_path / "raw", overflowing)
    assert_only_the_bad_sample_is_reported(ds, bad, "1e+39 is beyond the float32 range")


@pytest.mark.parametrize("name", LOADERS)
def test_every_loader_reports_an_all_zero_skeleton(tmp_path, name):
    """One rule for every loader (PKU-MMD had it for its segments, as "all-zero clip"): NTU, NW-UCLA, Kinetics and
    pyskl built rows of zeros (NTU: or of no frame at all, where the actor selection dropped every frame)."""
    ds, bad = build_with_a_bad_sample(name, tmp_path / "raw", np.zeros_like)
    assert_only_the_bad_sample_is_reported(ds, bad, "all-zero skeleton")
