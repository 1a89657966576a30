"""Fuzzing: every parser either returns or raises SkeletonParseError on mutated files, never anything else. No
deadline: a time limit per example is a timing assertion, which fails on a loaded machine and says nothing about
the parsers. Seeds are the real samples when ../shared is present, and files generated in each format (so CI
fuzzes too)."""

import ast
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skeleton_models.data.kinetics import read_kinetics_json
from skeleton_models.data.ntu import load_ntu_sample
from skeleton_models.data.nwucla import read_nwucla_json
from skeleton_models.data.parsing import SkeletonParseError
from skeleton_models.data.pkummd import read_pkummd_labels, read_pkummd_skeleton, read_split_file
from skeleton_models.data.pyskl import load_pickle
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

from .paths import REAL_SAMPLES

SEED_DIR = Path(tempfile.mkdtemp(prefix="fuzz_seeds_"))
TOKENS = [
    "",
    "0",
    "-1",
    "2",
    "25",
    "nan",
    "inf",
    "1e400",
    "99999999999999999999",
    "abc",
    "\x00",
    "{",
    "}",
    "[",
    "]",
    ",",
    '"',
    ":",
    "1.5",
    "null",
    "true",
    "\r\n",
]


def _seeds() -> dict[str, list[bytes]]:
    clip = synthetic_clip(14)[:30]
    kinetics = project_2d(clip, "openpose18")
    seeds = {
        "ntu": [write_ntu_skeleton(SEED_DIR / "S001C001P001R001A058.skeleton", ntu_frames_from_clip(clip))],
        "nwucla": [write_nwucla_json(SEED_DIR / "a01_s01_e00_v01.json", ntu_to_nwucla(clip[:10, 0]), 0)],
        "pku_skeleton": [write_pkummd_sequence(SEED_DIR / "0002-L.txt", clip[:20])],
        "pku_labels": [write_pkummd_labels(SEED_DIR / "labels.txt", [(13, 0, 10, 1), (5, 12, 30, 2)])],
        "pku_split": [write_pkummd_split(SEED_DIR / "split.txt", ["0002-L", "0002-M"], ["0291-L"])],
        "kinetics": [write_kinetics_json(SEED_DIR / "k.json", kinetics[:8], np.full(kinetics[:8].shape[:3], 0.5), 7)],
        "pyskl": [
            write_pyskl_annotations(
                SEED_DIR / "p.pkl",
                [{"frame_dir": "a", "label": 0, "keypoint": np.zeros((1, 3, 17, 2), np.float32)}],
                {"train": ["a"]},
            )
        ],
    }
    seeds["ntu"] += sorted((REAL_SAMPLES / "ntu_rgbd").glob("*A005.skeleton"))
    seeds["nwucla"] += sorted((REAL_SAMPLES / "nw_ucla").glob("a12_*.json"))
    return {kind: [Path(p).read_bytes() for p in paths] for kind, paths in seeds.items()}


SEEDS = _seeds()
PARSERS = {
    "ntu": (load_ntu_sample, ".skeleton"),
    "nwucla": (read_nwucla_json, ".json"),
    "pku_skeleton": (read_pkummd_skeleton, ".txt"),
    "pku_labels": (read_pkummd_labels, ".txt"),
    "pku_split": (read_split_file, ".txt"),
    "kinetics": (read_kinetics_json, ".json"),
    "pyskl": (load_pickle, ".pkl"),
}

mutation = st.tuples(
    st.sampled_from(
        ["delete_line", "duplicate_line", "swap_lines", "replace_token", "truncate", "flip_byte", "insert"]
    ),
    st.integers(min_value=0, max_value=10**9),
    st.sampled_from(TOKENS),
)


def mutate(data: bytes, ops) -> bytes:
    for kind, position, token in ops:
        lines = data.split(b"\n")
        line = position % len(lines)
        if kind == "delete_line":
            del lines[line]
        elif kind == "duplicate_line":
            lines.insert(line, lines[line])
        elif kind == "swap_lines":
            other = (position // 7) % len(lines)
            lines[line], lines[other] = lines[other], lines[line]
        elif kind == "replace_token":
            words = lines[line].split(b" ")
            words[(position // 3) % len(words)] = token.encode()
            lines[line] = b" ".join(words)
        if kind in ("delete_line", "duplicate_line", "swap_lines", "replace_token"):
            data = b"\n".join(lines)
        elif kind == "truncate":
            data = data[: position % (len(data) + 1)]
        elif kind == "flip_byte" and data:
            i = position % len(data)
            data = data[:i] + bytes([data[i] ^ (1 << (position % 8))]) + data[i + 1 :]
        elif kind == "insert":
            i = position % (len(data) + 1)
            data = data[:i] + token.encode() + data[i:]
    return data


@pytest.mark.parametrize("kind", sorted(PARSERS))
def test_seed_files_parse(kind):
    parser, suffix = PARSERS[kind]
    for seed in SEEDS[kind]:
        path = SEED_DIR / f"seed-{kind}{suffix}"
        path.write_bytes(seed)
        check_parsed(kind, parser(path), seed)


@pytest.mark.parametrize("kind", sorted(PARSERS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=st.data())
def test_mutated_files_parse_or_raise_the_parse_error(kind, data):
    parser, suffix = PARSERS[kind]
    seed = data.draw(st.sampled_from(SEEDS[kind]))
    ops = data.draw(st.lists(mutation, min_size=1, max_size=4))
    path = Path(tempfile.mkdtemp(dir=SEED_DIR)) / f"S001C001P001R001A001{suffix}"
    path.write_bytes(mutate(seed, ops))
    try:
        parsed = parser(path)
    except SkeletonParseError as err:
        assert str(path) in str(err)
        return
    check_parsed(kind, parsed, path.read_bytes())


def test_no_example_has_a_time_limit():
    """Every hypothesis test here says ``deadline=None`` (hypothesis' own default is a 200 ms deadline)."""
    calls = [
        node
        for node in ast.walk(ast.parse(Path(__file__).read_text()))
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("settings", "hypothesis.settings")
    ]
    assert calls
    for call in calls:
        deadline = [ast.unparse(k.value) for k in call.keywords if k.arg == "deadline"]
        assert deadline == ["None"], f"line {call.lineno}: deadline={deadline}"


def _clip_ok(clip, persons, joints, channels) -> None:
    assert isinstance(clip, np.ndarray) and clip.dtype == np.float32
    assert clip.ndim == 4 and clip.shape[1:] == (persons, joints, channels) and len(clip) >= 1
    assert np.isfinite(clip).all()


def check_parsed(kind: str, parsed, raw: bytes) -> None:
    """What a parser returns from a file it accepted: the documented shape and dtype, finite values, and frame and
    body counts consistent with the file."""
    lines = raw.decode("utf-8", errors="replace").splitlines()
    if kind == "ntu":
        skeleton, actors = parsed
        _clip_ok(skeleton, 2, 25, 3)
        assert actors in (1, 2) and len(skeleton) <= int(lines[0])  # never more frames than the file declares
        assert (np.abs(skeleton).reshape(len(skeleton), -1).max(1) > 0).all()  # every kept frame has an actor
        assert not skeleton[:, actors:].any()
    elif kind == "nwucla":
        _clip_ok(parsed, 1, 20, 3)
    elif kind == "pku_skeleton":
        _clip_ok(parsed, 2, 25, 3)
        assert len(parsed) == sum(1 for line in lines if line.strip())  # one frame per data line
    elif kind == "pku_labels":
        assert all(len(row) == 4 and all(isinstance(v, int) for v in row) and 1 <= row[0] <= 51 for row in parsed)
    elif kind == "pku_split":
        train, test = parsed
        assert all(isinstance(v, str) and v for v in [*train, *test])
    elif kind == "kinetics":
        _clip_ok(parsed, 5, 18, 3)
        assert ((parsed[..., 2] >= 0) & (parsed[..., 2] <= 1)).all()  # scores
    elif kind == "pyskl":
        assert isinstance(parsed, dict) and isinstance(parsed.get("annotations"), list)


def test_mutation_reaches_errors():
    """The mutations are strong enough to break files (else the fuzz test could not fail)."""
    broken = 0
    for position in range(30):
        path = SEED_DIR / f"probe-{position}.json"
        path.write_bytes(mutate(SEEDS["kinetics"][0], [("truncate", position * 997, "")]))
        try:
            read_kinetics_json(path)
        except SkeletonParseError:
            broken += 1
    assert broken > 20
    assert json.loads(SEEDS["nwucla"][0])["label"] == 1
