"""Text descriptions of clips, for HocSLM's generation loss (section 3.1) and the language / zero-shot models.

Per-sample descriptions (e.g. written by a vision-language model from the RGB video, see
``examples/generate_descriptions.py``) come from a JSON object ``{sample_id: text}`` or a JSONL file of
``{"sample_id": ..., "description": ...}`` lines; the synthetic benchmark writes its own for every clip (its
``description`` column, `synthetic.describe`). Samples without one fall back to a class-level description:
two texts per class -- a short label and a one-sentence description of the motion -- for the synthetic benchmark
and, written for this project, for NTU RGB+D 60 / 120.
"""

from __future__ import annotations

import json
import logging
import os
from importlib import resources
from pathlib import Path

from . import synthetic
from .parsing import SkeletonParseError, read_text_lines

logger = logging.getLogger("skeleton_models.data")


def get_class_descriptions(name: str) -> list[dict[str, str]]:
    """Two texts per class of a dataset: ``{"label": short label, "description": one-sentence motion}``."""
    if name == "synthetic":
        return [{"label": n, "description": d} for n, d in zip(synthetic.CLASS_NAMES, synthetic.CLASS_DESCRIPTIONS)]
    counts = {"ntu60": 60, "ntu120": 120}
    if name in counts:
        text = resources.files("skeleton_models.data").joinpath("resources/ntu_descriptions.json").read_text()
        return json.loads(text)["classes"][: counts[name]]
    raise ValueError(f"no class descriptions for {name!r}; available: ['ntu120', 'ntu60', 'synthetic']")


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
