"""Zero-shot splits of the skeleton benchmarks: which classes are unseen (held out of training, described only by
text) and which are seen, as the published protocols define them (SynSE, PURLS, SMIE), each with its source
(``resources/zero_shot_splits.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import datasets

__all__ = ["ZeroShotSplit", "list_zero_shot_splits", "select_classes", "zero_shot_split"]

NUM_CLASSES = {"ntu60": 60, "ntu120": 120, "pkummd": 51}


@dataclass(frozen=True)
class ZeroShotSplit:
    """One zero-shot split.

    Attributes:
        name: e.g. ``"synse-ntu60-55/5"`` (protocol, dataset, seen / unseen counts).
        dataset: the dataset whose class indices these are (``"ntu60"``, ``"ntu120"``, ``"pkummd"``).
        unseen: the unseen classes' 0-based indices (label = action id - 1), sorted.
        source: where the list comes from.
        validation_unseen: pseudo-unseen classes carved out of the seen classes to calibrate generalised
            zero-shot without touching the unseen test classes, where the protocol published them (else empty).
    """

    name: str
    dataset: str
    unseen: tuple[int, ...]
    source: str
    validation_unseen: tuple[int, ...] = ()

    @property
    def num_classes(self) -> int:
        return NUM_CLASSES[self.dataset]

    @property
    def seen(self) -> tuple[int, ...]:
        """Every class of the dataset that is not unseen."""
        unseen = set(self.unseen)
        return tuple(c for c in range(self.num_classes) if c not in unseen)


@cache
def _splits() -> dict:
    text = resources.files("skeleton_models.data").joinpath("resources/zero_shot_splits.json").read_text()
    return json.loads(text)


def list_zero_shot_splits() -> list[str]:
    """The names of the known splits."""
    return sorted(_splits()["splits"])


def zero_shot_split(name: str) -> ZeroShotSplit:
    """A split by name (see `list_zero_shot_splits`). TDSM's own SMIE-style random splits are not among them: they
    come from SA-DVAE's resources, which could not be inspected, and they are not SMIE's lists (the classes TDSM's
    supplement names differ) -- an error says so rather than guessing."""
    data = _splits()
    if name not in data["splits"]:
        unknown = " ".join(data["unknown"].values()) if name.startswith("tdsm") else ""
        raise ValueError(f"unknown zero-shot split {name!r}; known: {list_zero_shot_splits()}. {unknown}".strip())
    split = data["splits"][name]
    return ZeroShotSplit(
        name=name,
        dataset=split["dataset"],
        unseen=tuple(sorted(split["unseen"])),
        source=split["source"],
        validation_unseen=tuple(sorted(data["validation"].get(name, ()))),
    )


def select_classes(dataset, classes, label_column: str = "label", relabel: bool = False):
    """The rows of a `datasets.Dataset` (or of every split of a `DatasetDict`) whose label is in `classes`.

    Labels keep their indices (a zero-shot model scores against every class of the dataset), unless `relabel`: then
    label i is the i-th of `classes` and the label feature names only those classes -- for training a skeleton
    encoder on the seen classes alone."""
    classes = [int(c) for c in classes]
    if hasattr(dataset, "keys") and not hasattr(dataset, "features"):  # a DatasetDict
        return type(dataset)({k: select_classes(v, classes, label_column, relabel) for k, v in dataset.items()})
    if label_column not in dataset.column_names:
        raise ValueError(f"the dataset has no {label_column!r} column; columns: {dataset.column_names}")
    wanted = set(classes)
    labels = dataset.with_format("numpy")[label_column]
    out = dataset.select([i for i, label in enumerate(labels) if int(label) in wanted])
    if not relabel:
        return out
    names = dataset.features[label_column].names
    position = {c: i for i, c in enumerate(classes)}
    feature = datasets.ClassLabel(names=[names[c] for c in classes])
    features = out.features.copy()
    features[label_column] = feature
    return out.map(
        lambda batch: {label_column: [position[int(x)] for x in batch[label_column]]},
        batched=True,
        features=features,
        desc="relabel",
    )
