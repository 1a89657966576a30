"""Pushing a model to the Hugging Face Hub with its processor and model card.

Uploaded with `HfApi.create_repo` + `HfApi.upload_folder`: ``PreTrainedModel.push_to_hub`` would fetch the remote
card instead of writing ours. (A built benchmark needs nothing of this module: ``dataset_dict.push_to_hub(repo_id,
config_name="xsub")`` uploads it as Parquet with its features, the skeleton layout included.)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from huggingface_hub import HfApi

from .cards import model_card

__all__ = ["push_model", "save_for_hub"]


def save_for_hub(model, processor, folder: str | os.PathLike, repo_id: str, **card_kwargs) -> Path:
    """Write what `push_model` uploads into `folder`: weights, config, processor, remote code and README.md."""
    folder = Path(folder)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    model_card(model, processor, repo_id, **card_kwargs).save(folder / "README.md")
    return folder


def push_model(
    model,
    processor,
    repo_id: str,
    results: dict[str, float] | None = None,
    private: bool = False,
    token: str | None = None,
    commit_message: str = "Upload skeleton-models checkpoint",
    api: HfApi | None = None,
    **card_kwargs,
):
    """Save model + processor + model card and upload them to ``repo_id`` (created if needed).

    ``card_kwargs`` go to `model_card` (dataset, dataset_config, split, training, license, base_model).
    Returns the `CommitInfo` of the upload.
    """
    api = api or HfApi(token=token)
    with tempfile.TemporaryDirectory() as tmp:
        save_for_hub(model, processor, tmp, repo_id, results=results, **card_kwargs)
        api.create_repo(repo_id, private=private, exist_ok=True, token=token)
        return api.upload_folder(repo_id=repo_id, folder_path=tmp, commit_message=commit_message, token=token)
