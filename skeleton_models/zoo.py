"""The model zoo: every checkpoint this project publishes, with its dataset, protocol, stream and measured metrics.

The entries are generated with the rendered model cards in the repository's ``hub_cards/`` folder (one per
checkpoint: the README.md of its Hub repository) from a results file of measured runs, by
``python utils/write_zoo.py``; the README's "Model zoo" table lists the same entries.

    from skeleton_models import zoo
    [e.repo_id for e in zoo.entries(model_type="hglnet")]
    model = AutoModelForVideoClassification.from_pretrained(zoo.get("hglnet-synthetic-xsub-bone").repo_id)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ENTRIES", "ZOO_FILE", "ZooEntry", "entries", "get"]

ZOO_FILE = Path(__file__).parent / "zoo.json"


@dataclass(frozen=True)
class ZooEntry:
    """One published checkpoint.

    Attributes:
        repo_id: the Hub repository (``<org>/<arch>-<dataset>-<protocol>[-<stream>]``).
        model_type: the architecture.
        task: the transformers Auto class it loads with (e.g. ``AutoModelForVideoClassification``).
        dataset, protocol: the benchmark (a `load_skeleton_dataset` name) and its config.
        stream: the input stream of its processor.
        preset: the named configuration it was built from (None: the paper's defaults).
        metrics: measured results on the protocol's test split, in [0, 1] (``top1``, ``top5``, ...).
        notes: what a user should know about how it was trained.
    """

    repo_id: str
    model_type: str
    task: str
    dataset: str
    protocol: str
    stream: str
    preset: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    notes: str = ""

    @property
    def name(self) -> str:
        """The repository name without the organisation (also the name of its card in ``hub_cards/``)."""
        return self.repo_id.rsplit("/", 1)[-1]


ENTRIES: list[ZooEntry] = [ZooEntry(**e) for e in json.loads(ZOO_FILE.read_text())] if ZOO_FILE.exists() else []


def entries(model_type: str | None = None, dataset: str | None = None, protocol: str | None = None) -> list[ZooEntry]:
    """The published checkpoints, optionally of one architecture, dataset or protocol."""
    return [
        e
        for e in ENTRIES
        if (model_type is None or e.model_type == model_type)
        and (dataset is None or e.dataset == dataset)
        and (protocol is None or e.protocol == protocol)
    ]


def get(name: str) -> ZooEntry:
    """The entry of a checkpoint, by repository id or name."""
    for entry in ENTRIES:
        if name in (entry.repo_id, entry.name):
            return entry
    raise ValueError(f"no checkpoint {name!r} in the zoo; known: {[e.name for e in ENTRIES]}")
