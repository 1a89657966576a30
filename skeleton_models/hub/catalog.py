"""The zoo catalog: from a results file of measured runs, the rendered model card of every published checkpoint
(``hub_cards/<name>.md``, the exact README.md of its Hub repository), the `skeleton_models.zoo` entries and the
README's "Model zoo" table. ``python utils/write_zoo.py RESULTS.json`` writes them; a test checks they are current.

A results file is JSON: ``{"checkpoints": [...]}``, one object per checkpoint with ``name``
(``<arch>-<dataset>-<protocol>[-<stream>]``), ``model_type``, ``task`` (its Auto class), ``dataset``,
``protocol``, ``stream``, ``preset``, ``config`` (``config.to_dict()``), ``processor`` (``processor.to_dict()``),
``metrics`` (in [0, 1]), ``training`` (hyper-parameters) and ``notes``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..registry import get_architecture
from ..zoo import ZOO_FILE, ZooEntry
from .cards import DATASET_NAMES, model_card

__all__ = ["ORGANISATION", "render_catalog", "write_catalog"]

ORGANISATION = "skeleton-models"
_ZOO_FIELDS = ("model_type", "task", "dataset", "protocol", "stream", "preset", "metrics", "notes")


def render_catalog(results: dict) -> tuple[dict[str, str], list[ZooEntry], str]:
    """Cards (file name -> text), zoo entries and the README table of the checkpoints in `results`."""
    cards, entries = {}, []
    for checkpoint in results["checkpoints"]:
        arch = get_architecture(checkpoint["model_type"])
        config = arch.config_class.from_dict(checkpoint["config"])
        model = arch.task_classes[checkpoint["task"]](config)  # built to count parameters; no weights needed
        repo_id = f"{ORGANISATION}/{checkpoint['name']}"
        card = model_card(
            model,
            checkpoint["processor"],
            repo_id,
            results=checkpoint["metrics"],
            dataset=checkpoint["dataset"],
            dataset_config=checkpoint["protocol"],
            training=checkpoint.get("training"),
        )
        cards[f"{checkpoint['name']}.md"] = str(card) + ("\n" if not str(card).endswith("\n") else "")
        entries.append(ZooEntry(repo_id=repo_id, **{k: checkpoint.get(k) for k in _ZOO_FIELDS}))
    return cards, entries, _table(entries)


def _table(entries: list[ZooEntry]) -> str:
    lines = [
        "| checkpoint | architecture | dataset (protocol) | stream | preset | top-1 (%) | top-5 (%) | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        arch = get_architecture(e.model_type)
        top5 = f"{100 * e.metrics['top5']:.1f}" if "top5" in e.metrics else "-"
        lines.append(
            f"| [`{e.name}`](hub_cards/{e.name}.md) | {arch.title} | {DATASET_NAMES.get(e.dataset, e.dataset)} "
            f"({e.protocol}) | `{e.stream}` | `{e.preset or 'default'}` | {100 * e.metrics['top1']:.1f} | {top5} "
            f"| {e.notes} |"
        )
    return "\n".join(lines)


def write_catalog(
    results_file: str | os.PathLike,
    cards_dir: str | os.PathLike,
    readme: str | os.PathLike,
    zoo_file: str | os.PathLike = ZOO_FILE,
    check: bool = False,
) -> list[str]:
    """Make `cards_dir`, `zoo_file` and the ``<!-- zoo:start -->`` block of `readme` match `results_file`; with
    `check`, change nothing and list what differs."""
    cards, entries, table = render_catalog(json.loads(Path(results_file).read_text()))
    cards_dir, readme, zoo_file = Path(cards_dir), Path(readme), Path(zoo_file)
    expected = {cards_dir / name: text for name, text in cards.items()}
    expected[zoo_file] = json.dumps([e.__dict__ for e in entries], indent=2) + "\n"
    text = readme.read_text()
    block = re.search(r"<!-- zoo:start -->\n.*?<!-- zoo:end -->", text, flags=re.S)
    if block is None:
        raise ValueError(f"{readme} has no <!-- zoo:start --> ... <!-- zoo:end --> block")
    expected[readme] = text[: block.start()] + f"<!-- zoo:start -->\n{table}\n<!-- zoo:end -->" + text[block.end() :]
    stale = [path for path in sorted(cards_dir.glob("*.md")) if path not in expected]
    stale += [path for path, content in expected.items() if not path.exists() or path.read_text() != content]
    if not check:
        for path in stale:
            if path in expected:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(expected[path])
            else:
                path.unlink()
    return [str(p) for p in stale]
