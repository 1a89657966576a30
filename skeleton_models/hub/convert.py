"""``skeleton-models convert``: an official checkpoint -> a checkpoint folder of this library (weights, config,
processor prepared as the official preprocessing, remote code and a model card naming the source)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..conversion import convert_official, get_conversion, load_official_state_dict
from ..processing_skeleton import SkeletonProcessor
from .cards import model_card


def _sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def convert_checkpoint(name: str, checkpoint: str | os.PathLike, output_dir: str | os.PathLike, **options) -> Path:
    """Convert the official checkpoint file `checkpoint` with the conversion `name` (see
    `skeleton_models.conversion.CONVERSIONS`) into the folder `output_dir`, which then loads with
    ``AutoModelForVideoClassification.from_pretrained`` (or the class the conversion builds) and the pipeline.

    `options`: the official model arguments the state dict cannot tell (e.g. the graph layout), see the
    conversion's ``options``. Returns the folder.
    """
    conversion = get_conversion(name)
    official = load_official_state_dict(checkpoint)
    model = convert_official(conversion, official, **options)
    processor = SkeletonProcessor(**conversion.processor_kwargs(model.config))
    folder = Path(output_dir)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    provenance = (
        f"Converted by `skeleton-models convert --from {conversion.name}` from the official checkpoint "
        f"`{Path(checkpoint).name}` (sha256 `{_sha256(checkpoint)}`) of {conversion.source}; no weight was trained "
        "here. The conversion maps every official parameter by name and refuses a checkpoint with a parameter it "
        f"does not know or without one the model needs. {conversion.notes}"
    ).strip()
    card = model_card(model, processor, repo_id=folder.name, license="other", provenance=provenance)
    card.save(folder / "README.md")
    return folder
