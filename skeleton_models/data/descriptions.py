"""Text descriptions of clips, for HocSLM's generation loss (section 3.1) and the language / zero-shot models.

Per-sample descriptions (e.g. written by a vision-language model from the RGB video, see
``examples/generate_descriptions.py``) come from a JSON object ``{sample_id: text}`` or a JSONL file of
``{"sample_id": ..., "description": ...}`` lines; the synthetic benchmark writes its own for every clip (its
``description`` column, `synthetic.describe`). Samples without one fall back to a class-level description:
two texts per class -- a short label and a one-sentence description of the motion -- for the synthetic benchmark
and, written for this project, for NTU RGB+D 60 / 120 (`get_class_descriptions`).

The class texts of the TDSM paper are not those: they are SA-DVAE's ``class_lists/`` files (a csv of motion
descriptions and a file of LLM-written sentences), which `load_class_lists` reads from a user's copy; the project
ships none of their sentences.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from importlib import resources
from pathlib import Path

from . import synthetic
from .parsing import SkeletonParseError, read_numbered_lines, read_text_lines

logger = logging.getLogger("skeleton_models.data")


def get_class_descriptions(name: str) -> list[dict[str, str]]:
    """Two texts per class of a dataset: ``{"label": short label, "description": one-sentence motion}``.

    The NTU texts (``resources/ntu_descriptions.json``) were written for this project: they are not the texts the
    TDSM paper encodes (SA-DVAE's class lists, see `load_class_lists`)."""
    if name == "synthetic":
        return [{"label": n, "description": d} for n, d in zip(synthetic.CLASS_NAMES, synthetic.CLASS_DESCRIPTIONS)]
    counts = {"ntu60": 60, "ntu120": 120}
    if name in counts:
        text = resources.files("skeleton_models.data").joinpath("resources/ntu_descriptions.json").read_text()
        return json.loads(text)["classes"][: counts[name]]
    raise ValueError(f"no class descriptions for {name!r}; available: ['ntu120', 'ntu60', 'synthetic']")


def load_class_lists(folder: str | os.PathLike, name: str = "ntu60") -> list[list[str]]:
    """TDSM's class texts, read from a copy of SA-DVAE's ``class_lists/`` folder (github.com/pha123661/SA-DVAE;
    the files TDSM's README asks for under ``data/class_lists``): per class, the prompts TDSM encodes, in its order
    (KAIST-VICLab/TDSM @ 7469361, train.py::Trainer.text_prompt, which concatenates them over channels):

    1. the ``label`` column of ``<name>.csv`` (a header ``idx,label``, one row per class in class order; for NTU a
       short description of the body motion, for PKU-MMD the class name);
    2. line i of ``<name>_llm.txt`` (one LLM-written sentence per class, UTF-8), where the folder has that file.

    The project ships no copy of these texts (its own `get_class_descriptions` texts for NTU differ from them):
    this reads the user's. TDSM reads ``ntu120.*`` for both NTU datasets (their first 60 rows are NTU-60's);
    ``name="ntu60"`` reads ``ntu60.*``, the same texts. Pass the result to
    ``TDSMForZeroShotSkeletonClassification.set_class_texts``.

    Args:
        folder: the folder holding ``<name>.csv`` (and ``<name>_llm.txt``).
        name: the file stem: ``"ntu60"``, ``"ntu120"``, ``"pku51"``, ...

    Returns:
        per class, ``[label]`` or ``[label, llm_description]``.

    Raises:
        SkeletonParseError: a missing file or column, an ``idx`` column that does not count the rows from 0 or 1,
            an empty text, or a description file whose line count is not the csv's row count.
    """
    folder = Path(folder)
    path = folder / f"{name}.csv"
    if not path.is_file():
        raise SkeletonParseError(path, f"no such file (SA-DVAE's class_lists/{name}.csv)")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise SkeletonParseError(path, f"not a UTF-8 csv file: {err}") from None
    if not rows or "label" not in rows[0]:
        raise SkeletonParseError(path, "expected a header with a 'label' column (idx,label) and one row per class")
    if "idx" in rows[0]:
        first = rows[0]["idx"].strip()
        start = int(first) if first in ("0", "1") else None
        for number, row in enumerate(rows):
            if start is None or (row["idx"] or "").strip() != str(start + number):
                raise SkeletonParseError(path, "the idx column must count the classes from 0 or 1", number + 2)
    labels = []
    for number, row in enumerate(rows):
        text = (row["label"] or "").strip()
        if not text:
            raise SkeletonParseError(path, "empty label", number + 2)
        labels.append(text)
    llm = folder / f"{name}_llm.txt"
    if not llm.is_file():
        return [[label] for label in labels]
    descriptions = read_numbered_lines(llm)
    if len(descriptions) != len(labels):
        raise SkeletonParseError(
            llm, f"{len(descriptions)} descriptions (non-empty lines) for the {len(labels)} classes of {path.name}"
        )
    return [[label, text] for label, (_, text) in zip(labels, descriptions)]


def load_descriptions(path: str | os.PathLike) -> dict[str, str]:
    """Per-sample descriptions from a JSON object ``{sample_id: text}`` or JSON lines of
    ``{"sample_id": ..., "description": ...}`` (the ``.jsonl`` files `examples/generate_descriptions.py` writes)."""
    path = Path(path)
    lines = read_text_lines(path)
    if path.suffix != ".jsonl":
        try:
            data = json.loads("\n".join(lines))
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            return {str(k): str(v) for k, v in data.items()}
    out = {}
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
            out[str(record["sample_id"])] = str(record["description"])
        except (json.JSONDecodeError, KeyError, TypeError):
            raise SkeletonParseError(
                path,
                'expected a json object {sample_id: text} or json lines {"sample_id": ..., "description": ...}',
                number,
            ) from None
    return out


def add_descriptions(
    dataset,
    descriptions: dict[str, str] | str | os.PathLike | None = None,
    class_descriptions: list[dict[str, str]] | str | None = None,
    column: str = "description",
    keep_existing: bool = True,
):
    """Add a text column: each sample's own description where there is one, else its class's description.

    A dataset that already has the column (the synthetic benchmark's per-clip descriptions) keeps its texts as the
    samples' own (`descriptions` still override them) unless ``keep_existing=False``, which replaces the column.

    Args:
        dataset: a `Dataset` or `DatasetDict` with ``sample_id`` and ``label`` columns.
        descriptions: per-sample texts, or a JSON / JSONL file of them (see `load_descriptions`).
        class_descriptions: per-class texts (a list as `get_class_descriptions` returns, or a dataset name for
            it); the one-sentence ``description`` of a sample's class is its fallback.
        column: the new column's name.
        keep_existing: whether texts already in `column` count as the samples' own descriptions.
    """
    if isinstance(descriptions, (str, os.PathLike)):
        descriptions = load_descriptions(descriptions)
    descriptions = descriptions or {}
    if isinstance(class_descriptions, str):
        class_descriptions = get_class_descriptions(class_descriptions)
    fallback = [c["description"] for c in class_descriptions] if class_descriptions else None

    def add(split):
        existing = split[column] if column in split.column_names and keep_existing else None
        texts = []
        for i, (sample_id, label) in enumerate(zip(split["sample_id"], split["label"])):
            text = descriptions.get(sample_id, existing[i] if existing is not None else None)
            if text is None:
                if fallback is None:
                    raise ValueError(f"no description for sample {sample_id!r} and no class descriptions given")
                text = fallback[label]
            texts.append(text)
        own = len(split) if existing is not None else sum(i in descriptions for i in split["sample_id"])
        logger.info("descriptions: %d of %d samples have their own, the rest their class's", own, len(split))
        if column in split.column_names:
            split = split.remove_columns(column)
        return split.add_column(column, texts)

    if hasattr(dataset, "values"):
        return type(dataset)({name: add(split) for name, split in dataset.items()})
    return add(dataset)
