"""What every raw-format loader shares: the parse error, the build report and small readers.

Parsers raise `SkeletonParseError` (and nothing else) for a file they cannot read. Builders catch it, skip the
file and record it with `SkipRecorder`; `load_skeleton_dataset` gathers the records into a build report that is
logged and written next to the Arrow cache, so that no sample is silently lost: the rows plus the report's
``skipped`` entries (kinds "error" and "excluded") are the inputs, each once. A sample kept with a change (e.g. a
PKU-MMD segment cut at the end of its sequence) is a row, and also an entry of the report's ``notes`` (kind
"kept").
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import numpy as np

logger = logging.getLogger("skeleton_models.data")

REPORT_NAME = "build_report.json"
SKIPPED_KINDS = ("error", "excluded")  # a skipped input: unreadable / left out on purpose (protocol, duplicate)
KEPT = "kept"  # a row kept with a change (cut, reordered): a note, not a skipped input
FLOAT32_MAX = float(np.finfo(np.float32).max)
ALL_ZERO = "all-zero skeleton (no joint has a non-zero coordinate in any frame)"


class SkeletonParseError(ValueError):
    """A raw skeleton file (or one record in it) cannot be read; the message names the file and the reason."""

    def __init__(self, path: str | os.PathLike, reason: str, line: int | None = None):
        self.path, self.reason, self.line = str(path), reason, line
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


def read_numbered_lines(path: str | os.PathLike) -> list[tuple[int, str]]:
    """The non-empty lines of a UTF-8 text file (a byte-order mark is allowed), stripped, each with its 1-based
    line number in the file (lines end with LF, CRLF or CR), so that errors name the line an editor shows. Raises
    `SkeletonParseError`."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise SkeletonParseError(path, f"cannot read the file ({err.strerror or err})") from None
    try:
        text = data.decode("utf-8-sig")  # a BOM, as some Windows editors write, is not data
    except UnicodeDecodeError as err:
        raise SkeletonParseError(path, f"not a text file ({err.reason} at byte {err.start})") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    numbered = [(number, line.strip()) for number, line in enumerate(lines, start=1)]
    numbered = [(number, line) for number, line in numbered if line]
    if not numbered:
        raise SkeletonParseError(path, "empty file")
    return numbered


def read_text_lines(path: str | os.PathLike) -> list[str]:
    """The non-empty lines of a UTF-8 text file (a byte-order mark is allowed), stripped (LF, CRLF or CR).
    Raises `SkeletonParseError`."""
    return [line for _, line in read_numbered_lines(path)]


def to_float32(path, values, line: int | None = None, what: str = "") -> np.ndarray:
    """`values` (a numeric array or nested lists of numbers) as float32, checked *after* the cast: NaN, infinity and
    numbers beyond the float32 range (|x| > 3.4e38, which the cast would turn into infinity) raise a
    `SkeletonParseError` naming the file, the `line` if given, and the first such number. Every parser stores the
    numbers it reads through this check (`parse_floats` included), as the rows hold float32."""
    values = np.asarray(values)
    with np.errstate(over="ignore", invalid="ignore"):
        out = values.astype(np.float32)
    bad = ~np.isfinite(out)
    if bad.any():
        first = float(values[bad].flat[0])
        prefix = f"{what}: " if what else ""
        if np.isfinite(first):
            reason = f"{prefix}the number {first:g} is beyond the float32 range (|x| <= {FLOAT32_MAX:.4g})"
        else:
            reason = f"{prefix}non-finite number ({first})"
        raise SkeletonParseError(path, reason, line)
    return out


def parse_floats(path, text: str, expected: int | None, line: int | None = None) -> np.ndarray:
    """Whitespace-separated numbers -> float64 array, checked for count and for finiteness as float32
    (`to_float32`); the float64 values are returned for exact arithmetic before the cast."""
    try:
        values = np.array(text.split(), dtype=np.float64)
    except ValueError:
        raise SkeletonParseError(path, f"expected numbers, got {text[:60]!r}", line) from None
    if expected is not None and values.size != expected:
        raise SkeletonParseError(path, f"expected {expected} numbers, got {values.size}", line)
    to_float32(path, values, line)
    return values


def is_all_zero(coordinates: np.ndarray) -> bool:
    """True if no coordinate is non-zero: nobody was tracked in any frame (or there is no frame at all)."""
    return not np.any(coordinates)


def reject_all_zero(path, coordinates: np.ndarray) -> None:
    """The rule of every loader: a sample whose skeleton `coordinates` are all zero is skipped and reported.
    Raises `SkeletonParseError` (`ALL_ZERO`) for such a sample."""
    if is_all_zero(coordinates):
        raise SkeletonParseError(path, ALL_ZERO)


def parse_float_lines(path, numbered: list[tuple[int, str]], per_line: int) -> np.ndarray:
    """Lines of `per_line` numbers each (``(line number, text)`` pairs, as `read_numbered_lines` gives) ->
    (lines, per_line) float64, checked as `parse_floats` checks; an error names the first bad line."""
    try:
        values = parse_floats(path, " ".join(text for _, text in numbered), per_line * len(numbered))
    except SkeletonParseError:
        for number, text in numbered:
            parse_floats(path, text, per_line, number)
        raise
    return values.reshape(len(numbered), per_line)


def parse_int(path, text: str, line: int | None = None, low: int = 0, high: int | None = None) -> int:
    try:
        value = int(text.split()[0]) if len(text.split()) == 1 else None
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise SkeletonParseError(path, f"expected one integer {bound}, got {text[:60]!r}", line)
    return value


def load_json(path: str | os.PathLike):
    """A UTF-8 json file (a byte-order mark is allowed), or a `SkeletonParseError` naming the file (and, for a
    syntax error, the line)."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            return json.load(f)
    except OSError as err:
        raise SkeletonParseError(path, f"cannot read the file ({err.strerror or err})") from None
    except json.JSONDecodeError as err:
        raise SkeletonParseError(path, f"not valid JSON ({err})", err.lineno) from None
    except (UnicodeDecodeError, RecursionError) as err:
        raise SkeletonParseError(path, f"not valid JSON ({err})") from None


def load_npy(path: str | os.PathLike) -> np.ndarray:
    """A ``.npy`` array (never a pickle), or a `SkeletonParseError` naming the file."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise SkeletonParseError(path, f"cannot read a numpy array ({err})") from None


class SkipRecorder:
    """Records skipped files (and notes on samples kept with a change) from any process into `report_dir` (one
    JSON-lines file per recorder). Each record has ``file``, ``reason``, ``split``, ``kind`` and ``line`` (the line
    of ``file`` the reason is about, or None)."""

    def __init__(self, report_dir: str | os.PathLike):
        self.path = Path(report_dir) / f"skipped-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"

    def skip(
        self,
        file: str | os.PathLike,
        reason: str,
        split: str | None = None,
        kind: str = "error",
        line: int | None = None,
    ) -> None:
        """`kind` is "error" for an unreadable file, "excluded" for a file left out on purpose (by the protocol, or
        as a duplicate), "kept" for a sample that is kept with a change: a row, and a note of the report."""
        if kind not in (*SKIPPED_KINDS, KEPT):
            raise ValueError(f"unknown build report kind {kind!r}; expected one of {[*SKIPPED_KINDS, KEPT]}")
        record = {"file": str(file), "reason": reason, "split": split, "kind": kind, "line": line}
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def error(self, err: SkeletonParseError, split: str | None = None, file: str | os.PathLike | None = None) -> None:
        """Record a sample skipped for `err` under `file` (default: the file `err` names), with the error's reason
        and line (as ``line`` and, ``line N: ...``, in the reason). An error in another file than `file` (e.g. a
        sample's hands file) is named in full in the reason."""
        file = err.path if file is None else str(file)
        if err.path != file:
            self.skip(file, str(err), split)
        elif err.line is None:
            self.skip(file, err.reason, split)
        else:
            self.skip(file, f"line {err.line}: {err.reason}", split, line=err.line)


def collect_skipped(report_dir: str | os.PathLike) -> list[dict]:
    """Every record written to `report_dir` (skipped inputs and notes), sorted by kind and file."""
    records = []
    for path in sorted(Path(report_dir).glob("skipped-*.jsonl")):
        records.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return sorted(records, key=lambda r: (r["kind"], r["file"]))


def write_report(cache_dir: str | os.PathLike, name: str, config: str, records: list[dict], counts: dict) -> Path:
    """Write the build report next to the Arrow files and log it: ``rows`` (per split), ``skipped`` (the records of
    kind "error" and "excluded": rows + skipped = inputs) and ``notes`` (kind "kept": rows kept with a change)."""
    path = Path(cache_dir) / REPORT_NAME
    report = {
        "dataset": name,
        "config": config,
        "rows": counts,
        "skipped": [r for r in records if r["kind"] in SKIPPED_KINDS],
        "notes": [r for r in records if r["kind"] not in SKIPPED_KINDS],
    }
    path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    log_report(report, path)
    return path


def log_report(report: dict, path: Path) -> None:
    errors = [r for r in report["skipped"] if r["kind"] == "error"]
    excluded = [r for r in report["skipped"] if r["kind"] != "error"]
    notes = report.get("notes", [])
    for record in errors:
        logger.warning("skipped %s: %s", record["file"], record["reason"])
    if excluded:
        logger.info(
            "excluded %d files as the protocol prescribes (e.g. %s: %s)",
            len(excluded),
            excluded[0]["file"],
            excluded[0]["reason"],
        )
    if notes:
        logger.info(
            "%s/%s: kept %d samples with a change (e.g. %s: %s); build report: %s",
            report["dataset"],
            report["config"],
            len(notes),
            notes[0]["file"],
            notes[0]["reason"],
            path,
        )
    if report["skipped"]:
        logger.warning(
            "%s/%s: %d unreadable files skipped, %d excluded by the protocol; build report: %s",
            report["dataset"],
            report["config"],
            len(errors),
            len(excluded),
            path,
        )


def find_files(root: str | os.PathLike, suffixes: Iterable[str], recursive: bool = True) -> list[Path]:
    """Files under `root` (recursively, or only in `root` itself) whose extension is one of `suffixes` (e.g.
    ``[".skeleton"]``) in any case -- ``S001C001P001R001A001.SKELETON`` is the same format -- sorted."""
    suffixes = {suffix.lower() for suffix in suffixes}
    candidates = Path(root).rglob("*") if recursive else Path(root).iterdir()
    return sorted(p for p in candidates if p.suffix.lower() in suffixes and p.is_file())


def unique_by_name(files: Iterable[Path], recorder: SkipRecorder, split: str | None = None) -> dict[str, Path]:
    """Sample name (file stem) -> file; a second file of the same name (e.g. the same sample extracted into two
    folders, or ``x.json`` next to ``x.JSON``) is skipped and recorded as a duplicate of the first, in sorted path
    order."""
    by_name: dict[str, Path] = {}
    for path in sorted(files):
        if path.stem in by_name:
            recorder.skip(path, f"duplicate of {by_name[path.stem]}", split, kind="excluded")
        else:
            by_name[path.stem] = path
    return by_name


def require_data_dir(data_dir, dataset: str, expected: str) -> Path:
    """`data_dir` as a Path, or a ValueError that says what was expected where."""
    if data_dir is None:
        raise ValueError(
            f"{dataset} needs `data_dir`: the folder with {expected}. The dataset is not downloaded by "
            "this library; obtain it under its licence and pass the folder."
        )
    path = Path(data_dir).expanduser()
    if not path.exists():
        raise ValueError(f"{dataset}: data_dir {str(path)!r} does not exist; expected {expected} there")
    return path


def read_hands_file(path: str | os.PathLike, num_frames: int, num_persons: int = 2) -> np.ndarray:
    """One sample's hand keypoints (``examples/extract_hands.py``) as per-person hands (T, `num_persons`, 2, 21, 3)
    float32. Raises `SkeletonParseError`.

    The ``.npy`` holds (T, 2, 21, 3) -- the two hands (left, right) of the sample, i.e. one person -- or
    (T, M, 2, 21, 3) with M <= `num_persons` persons (hands assigned to persons); missing persons are zero. T must
    be `num_frames`, the frames of the video the hands were extracted from.
    """
    path = Path(path)
    if not path.is_file():
        raise SkeletonParseError(path, "no hands file for this sample")
    hands = load_npy(path)
    if hands.dtype.kind not in "fiu" or hands.ndim not in (4, 5) or hands.shape[-3:] != (2, 21, 3):
        raise SkeletonParseError(
            path, f"expected a numeric (T, 2, 21, 3) or (T, M, 2, 21, 3) array, got {hands.dtype} {hands.shape}"
        )
    if hands.ndim == 4:
        hands = hands[:, None]
    if hands.shape[1] > num_persons:
        raise SkeletonParseError(path, f"expected at most {num_persons} persons, got {hands.shape[1]}")
    if len(hands) != num_frames:
        raise SkeletonParseError(
            path, f"has {len(hands)} frames, the sample's skeleton file declares {num_frames}: not aligned"
        )
    hands = to_float32(path, hands, what="hand keypoints")
    out = np.zeros((len(hands), num_persons, 2, 21, 3), dtype=np.float32)
    out[:, : hands.shape[1]] = hands
    return out


def read_rgb_rois_file(path: str | os.PathLike, shape: tuple[int, int, int]) -> np.ndarray:
    """One sample's RGB ROI mosaic (``examples/extract_rgb_rois.py``, `skeleton_models.rgb.roi_mosaic`): an
    (H, W, 3) uint8 array of the expected `shape`. Raises `SkeletonParseError`."""
    path = Path(path)
    if not path.is_file():
        raise SkeletonParseError(path, "no RGB ROI file for this sample")
    mosaic = load_npy(path)
    if mosaic.dtype != np.uint8 or mosaic.shape != tuple(shape):
        raise SkeletonParseError(
            path, f"expected an RGB ROI mosaic {tuple(shape)} uint8, got {mosaic.dtype} {mosaic.shape}"
        )
    return mosaic
