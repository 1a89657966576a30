import json
import logging
from pathlib import Path

import numpy as np
import pytest

from skeleton_models.data import build_report, load_skeleton_dataset
from skeleton_models.data.ntu import (
    NTU60_VARIANT,
    NTU120_VARIANT,
    NTUBody,
    SkeletonParseError,
    assign_splits,
    load_ntu_sample,
    parse_ntu_name,
    read_ntu_skeleton,
    select_actors,
)
from skeleton_models.data.raw_formats import ntu_frames_from_clip, synthetic_clip, write_ntu_folder, write_ntu_skeleton

from .paths import DATA, REAL_SAMPLES, needs_shared

REAL_NTU = sorted((REAL_SAMPLES / "ntu_rgbd").glob("*.skeleton"))
needs_real = needs_shared(REAL_SAMPLES / "ntu_rgbd" / "*.skeleton")


@needs_real
def test_real_samples_parse_exactly():
    expected_frames = {"A001": 103, "A002": 158, "A003": 104, "A004": 99, "A005": 54}
    for path in REAL_NTU:
        bodies, frames = read_ntu_skeleton(path)
        assert frames == expected_frames[path.stem[-4:]] and len(bodies) == 1
        text = path.read_text().split("\n")
        assert bodies[0].body_id == int(text[2].split()[0])  # an integer id beyond 2^53, kept exactly
        first_joint = np.array(text[4].split()[:3], dtype=np.float64)
        np.testing.assert_array_equal(bodies[0].joints[0, 0], first_joint)
        last_joint = np.array(text[-2 if text[-1] == "" else -1].split()[:3], dtype=np.float64)
        np.testing.assert_array_equal(bodies[0].joints[-1, -1], last_joint)
        skeleton, actors = load_ntu_sample(path)
        assert skeleton.shape == (frames, 2, 25, 3) and actors == 1 and not skeleton[:, 1].any()
    bodies, _ = read_ntu_skeleton(REAL_NTU[0])
    assert bodies[0].body_id == 72057594037931101
    np.testing.assert_allclose(bodies[0].joints[0, 0], [0.2181153, 0.1725972, 3.785547])


@needs_real
def test_crlf_files_parse_the_same(tmp_path):
    crlf = tmp_path / REAL_NTU[0].name
    crlf.write_bytes(REAL_NTU[0].read_bytes().replace(b"\n", b"\r\n"))
    a, b = load_ntu_sample(REAL_NTU[0])[0], load_ntu_sample(crlf)[0]
    np.testing.assert_array_equal(a, b)


def test_a_byte_order_mark_is_not_data(tmp_path):
    """A UTF-8 BOM (as some Windows editors write) at the start of a file used to break the frame count."""
    path = write_ntu_skeleton(tmp_path / "S001C001P001R001A001.skeleton", ntu_frames_from_clip(synthetic_clip(3)))
    bom = tmp_path / "bom" / path.name
    bom.parent.mkdir()
    bom.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    np.testing.assert_array_equal(load_ntu_sample(bom)[0], load_ntu_sample(path)[0])


def test_two_person_file(tmp_path):
    """Both bodies come back frame for frame, joint for joint and axis for axis; the loader puts the more active
    one (CTR-GCN's motion: the summed per-axis variance of its coordinates) first."""
    clip = synthetic_clip(14)  # handshake
    path = write_ntu_skeleton(tmp_path / "S001C001P001R001A058.skeleton", ntu_frames_from_clip(clip), crlf=True)
    bodies, frames = read_ntu_skeleton(path)
    assert len(bodies) == 2 and frames == len(clip)
    for body, person in zip(bodies, clip.transpose(1, 0, 2, 3)):  # in the file's order
        np.testing.assert_allclose(body.joints, person, atol=1e-5)
    skeleton, actors = load_ntu_sample(path)
    assert actors == 2 and skeleton.shape == (len(clip), 2, 25, 3)
    motion = [np.var(clip[:, m].reshape(-1, 3), axis=0).sum() for m in range(2)]
    np.testing.assert_allclose(skeleton, clip[:, np.argsort(motion)[::-1]], atol=1e-5)
    assert motion[1] > motion[0]  # (so the order above is the file's swapped: not the identity)


def _body(body_id, frames, joints):
    return NTUBody(body_id, np.asarray(frames), np.asarray(joints, dtype=np.float64))


def _person(n, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    base = synthetic_clip(3, seed=seed)[:, 0]  # upright human: y spread > x spread
    return (base[np.arange(n) % len(base)] * scale + 0.05 * rng.normal(size=(n, 1, 3))).astype(np.float64)


def test_denoising_drops_short_and_spread_noise_bodies():
    main = _body(1, range(60), _person(60, 0, scale=1.3))
    short = _body(2, range(10, 20), _person(10, 1))  # 10 frames <= 11: noise
    flat = _person(60, 2)[..., [1, 0, 2]]  # lying: x spread > 0.8 y spread in every frame
    lying = _body(3, range(60), flat)
    skeleton, actors = select_actors([main, short, lying], 60)
    assert actors == 1
    np.testing.assert_allclose(skeleton[:, 0], main.joints.astype(np.float32))
    assert not skeleton[:, 1].any()


def test_actor_slots_follow_ctrgcn():
    """The most active body is actor 1; a body that does not overlap it in time joins actor 1, an overlapping one
    becomes actor 2, and a third overlapping both is dropped."""
    a = _body(1, range(0, 40), _person(40, 0, scale=2.0))  # most motion
    b = _body(2, range(45, 80), _person(35, 1))  # after a: joins actor 1
    c = _body(3, range(10, 70), _person(60, 2, scale=1.5))  # overlaps a: actor 2
    d = _body(4, range(20, 60), _person(40, 3, scale=0.5))  # overlaps both: dropped
    skeleton, actors = select_actors([d, c, b, a], 80)
    assert actors == 2
    np.testing.assert_allclose(skeleton[:40, 0], a.joints.astype(np.float32))
    np.testing.assert_allclose(skeleton[45:80, 0], b.joints.astype(np.float32))
    np.testing.assert_allclose(skeleton[10:70, 1], c.joints.astype(np.float32))
    assert len(skeleton) == 80  # frames 40-44 hold only actor 2: kept
    d_joints = d.joints.astype(np.float32)
    assert not any(np.allclose(skeleton[20 + t, k], d_joints[t]) for t in range(40) for k in range(2))


def test_frames_without_any_actor_are_removed():
    a = _body(1, range(0, 30), _person(30, 0, scale=2.0))
    b = _body(2, range(50, 70), _person(20, 1))
    skeleton, actors = select_actors([a, b], 70)
    assert actors == 1 and len(skeleton) == 50  # frames 30-49 had only bodies that were dropped/absent


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty file"),
        ("2\n1\n", "unexpected end of file"),
        ("1\n1\nabc 0 1 1 1 1 0 0 0 2\n25\n", "body line"),
        ("1\n1\n7 0 1 1 1 1 0 0 0 2\n24\n", "expected 25 joints"),
        (
            "1\n1\n7 0 1 1 1 1 0 0 0 2\n25\n" + "1 2 3 4 5 6 7 8 9 10 11 2\n" * 24 + "1 2 nan 4 5 6 7 8 9 10 11 2\n",
            "non-finite",
        ),
        ("1\n0\n5\n", "unexpected data after the last"),
        ("x\n", "expected one integer"),
    ],
)
def test_parse_errors_name_the_file_and_reason(tmp_path, text, message):
    path = tmp_path / "S001C001P001R001A001.skeleton"
    path.write_text(text)
    with pytest.raises(SkeletonParseError, match=message) as err:
        load_ntu_sample(path)
    assert str(path) in str(err.value)


def test_name_parsing():
    assert parse_ntu_name("S017C003P020R002A060") == {
        "setup": 17,
        "camera": 3,
        "subject": 20,
        "replication": 2,
        "action": 60,
    }
    assert parse_ntu_name("S017C003P020R002A060.skeleton") is None and parse_ntu_name("bad") is None


def official_names() -> list[str]:
    """Every official NTU RGB+D 120 sample name, generated from the performers of each setup and the id ranges."""
    table = json.loads((DATA / "ntu_setup_performers.json").read_text())["setups"]
    names = []
    for setup, entry in table.items():
        first, last = entry["actions"]
        for camera in (1, 2, 3):
            for performer in entry["performers"]:
                for replication in (1, 2):
                    names += [
                        f"S{int(setup):03d}C{camera:03d}P{performer:03d}R{replication:03d}A{a:03d}"
                        for a in range(first, last + 1)
                    ]
    return names


@pytest.mark.parametrize(
    "variant, protocol, sizes",
    [
        (NTU60_VARIANT, "xsub", (40_091, 16_487)),
        (NTU60_VARIANT, "xview", (37_646, 18_932)),
        (NTU120_VARIANT, "xsub", (63_026, 50_919)),
        (NTU120_VARIANT, "xset", (54_468, 59_477)),
    ],
)
def test_official_split_sizes(variant, protocol, sizes):
    names = official_names()
    assert len(names) == 114_480 and len(set(names)) == len(names)
    splits, excluded = assign_splits(names, variant, protocol)
    assert (len(splits["train"]), len(splits["test"])) == sizes
    missing = [r for r in excluded if "missing skeletons" in r["reason"]]
    assert len(missing) == (302 if variant.name == "ntu60" else 535)
    assert len(splits["train"]) + len(splits["test"]) + len(excluded) == len(names)


def test_builder_end_to_end_with_report(tmp_path, caplog):
    root = tmp_path / "nturgb+d_skeletons"
    names = ["S001C001P001R001A001", "S001C002P003R001A010", "S002C003P008R002A055", "S003C001P006R001A002"]
    write_ntu_folder(root, names)
    (root / "S001C001P004R001A003.skeleton").write_text("12\n1\n")  # truncated
    (root / "S001C002P005R002A008.skeleton").write_text("")  # empty, and on the official missing list
    (root / "S019C001P050R001A070.skeleton").write_text("0\n")  # NTU-120 only
    (root / "notes.skeleton").write_text("0\n")
    caplog.set_level(logging.INFO, logger="skeleton_models.data")
    ds = load_skeleton_dataset("ntu60", data_dir=root, config="xsub", cache_dir=tmp_path / "cache")
    assert sorted(ds["train"]["sample_id"]) == ["S001C001P001R001A001", "S002C003P008R002A055"]  # P1, P8 train
    assert sorted(ds["test"]["sample_id"]) == ["S001C002P003R001A010", "S003C001P006R001A002"]
    row = ds["train"].with_format("numpy")[0]
    assert row["skeleton"].shape[1:] == (2, 25, 3) and row["num_frames"] == len(row["skeleton"])
    assert ds["train"].features["label"].names[0] == "drink water"
    two = ds["train"].filter(lambda r: r["sample_id"].endswith("A055"))[0]
    assert two["num_persons"] == 2 and two["label"] == 54 and two["setup"] == 2 and two["camera"] == 3
    report = build_report(ds)
    reasons = {Path(r["file"]).name: (r["kind"], r["reason"]) for r in report["skipped"]}
    assert reasons["S001C001P004R001A003.skeleton"][0] == "error"
    assert "unexpected end of file" in reasons["S001C001P004R001A003.skeleton"][1]
    missing = ("excluded", "listed in the official samples with missing skeletons")
    assert reasons["S001C002P005R002A008.skeleton"] == missing
    assert reasons["S019C001P050R001A070.skeleton"][0] == "excluded"
    assert reasons["notes.skeleton"][0] == "excluded"
    assert report["rows"] == {"train": 2, "test": 2}
    assert any("S001C001P004R001A003" in r.message for r in caplog.records if r.levelno == logging.WARNING)
    caplog.clear()
    again = load_skeleton_dataset("ntu60", data_dir=root, config="xsub", cache_dir=tmp_path / "cache")
    assert len(again["train"]) == 2
    assert any("S001C001P004R001A003" in r.message for r in caplog.records)  # a cached build repeats its report


def test_the_report_names_the_line_of_the_error(tmp_path):
    """The parser knows the line of an error; the build report used to drop it (and a bad joint line was blamed on
    the last joint line of its body, counted without the blank lines)."""
    root = tmp_path / "raw"
    write_ntu_folder(root, ["S001C001P001R001A001", "S001C001P003R001A002"])
    (bad,) = write_ntu_folder(root, ["S001C001P002R001A003"])
    lines = bad.read_text().split("\n")
    lines[6] = "0.1 0.2"  # the third joint line of the first body: file line 7
    bad.write_text("\n".join(lines[:1] + [""] + lines[1:]))  # a blank line after the frame count: now line 8
    ds = load_skeleton_dataset("ntu60", data_dir=root, config="xsub", cache_dir=tmp_path / "cache")
    (record,) = build_report(ds)["skipped"]
    assert record["file"] == str(bad) and record["line"] == 8
    assert record["reason"] == "line 8: expected 12 numbers, got 2"
    assert bad.read_text().split("\n")[7] == "0.1 0.2"


def test_upper_case_extensions_are_read_and_a_second_copy_is_a_reported_duplicate(tmp_path):
    """``*.SKELETON`` files (the same format) used to be ignored without a report entry."""
    root = tmp_path / "raw"
    upper, test = write_ntu_folder(root, ["S001C001P001R001A001", "S001C001P003R001A002"])
    upper = upper.rename(upper.with_suffix(".SKELETON"))
    copy = root / "copy" / "S001C001P003R001A002.Skeleton"
    copy.parent.mkdir()
    copy.write_bytes(test.read_bytes())
    ds = load_skeleton_dataset("ntu60", data_dir=root, config="xsub", cache_dir=tmp_path / "cache")
    assert ds["train"]["sample_id"] == ["S001C001P001R001A001"] and ds["test"]["sample_id"] == ["S001C001P003R001A002"]
    (record,) = build_report(ds)["skipped"]
    assert record["kind"] == "excluded" and record["reason"].startswith("duplicate of")
    assert {record["file"], record["reason"].removeprefix("duplicate of ")} == {str(copy), str(test)}


def test_ntu120_xset_and_missing_data_dir(tmp_path):
    root = tmp_path / "raw"
    write_ntu_folder(root, ["S018C001P008R001A061", "S019C002P009R001A001"])
    ds = load_skeleton_dataset("ntu120", data_dir=root, config="xset", cache_dir=tmp_path / "cache")
    assert ds["train"]["sample_id"] == ["S018C001P008R001A061"] and ds["test"]["sample_id"] == ["S019C002P009R001A001"]
    assert ds["train"].features["label"].num_classes == 120
    with pytest.raises(ValueError, match=r"ntu60 needs `data_dir`.*\.skeleton files"):
        load_skeleton_dataset("ntu60", cache_dir=tmp_path / "c2")
    with pytest.raises(ValueError, match="does not exist"):
        load_skeleton_dataset("ntu60", data_dir=tmp_path / "nowhere", cache_dir=tmp_path / "c3")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no \.skeleton files under"):
        load_skeleton_dataset("ntu60", data_dir=tmp_path / "empty", cache_dir=tmp_path / "c4")
    with pytest.raises(ValueError, match="BuilderConfig"):
        load_skeleton_dataset("ntu60", data_dir=root, config="xset", cache_dir=tmp_path / "c5")


def test_file_with_noisy_extra_bodies(tmp_path):
    """A real-format file where Kinect also tracked a short-lived ghost and a lying object next to the actor."""
    actor = synthetic_clip(3)[:, 0]  # raise both arms
    n = len(actor)
    ghost = actor[:8] + np.array([0.8, 0.0, 0.3])  # 8 frames only
    lying = actor[..., [1, 0, 2]] + np.array([-1.0, 0.0, 0.5])  # x spread > 0.8 y spread: spread noise
    frames = [[(100, actor[t]), (200, lying[t])] + ([(300, ghost[t])] if t < 8 else []) for t in range(n)]
    path = write_ntu_skeleton(tmp_path / "S001C001P001R001A003.skeleton", frames)
    assert len(read_ntu_skeleton(path)[0]) == 3
    skeleton, actors = load_ntu_sample(path)
    assert actors == 1 and len(skeleton) == n
    np.testing.assert_allclose(skeleton[:, 0], actor, atol=1e-5)


def test_parallel_build_reports_from_every_process(tmp_path):
    root = tmp_path / "raw"
    names = [f"S001C00{c}P00{p}R001A00{a}" for c in (1, 2) for p in (1, 3) for a in (1, 2)]
    write_ntu_folder(root, names)
    for name in ("S001C003P001R001A001", "S001C003P003R001A001"):
        (root / f"{name}.skeleton").write_text("5\n")  # truncated, one per split
    ds = load_skeleton_dataset("ntu60", data_dir=root, config="xsub", cache_dir=tmp_path / "cache", num_proc=2)
    assert len(ds["train"]) == len(ds["test"]) == 4
    errors = [r for r in build_report(ds)["skipped"] if r["kind"] == "error"]
    assert sorted(r["split"] for r in errors) == ["test", "train"]
