"""Hugging Face Hub integration above the models: model cards, pushing, and the zoo catalog.

(The remote-code bundles that ``save_pretrained`` writes are lower down, in `skeleton_models.remote_code`.)
"""

from .cards import DATASET_NAMES, METRIC_NAMES, TEMPLATES, model_card
from .catalog import ORGANISATION, render_catalog, write_catalog
from .convert import convert_checkpoint
from .push import push_model, save_for_hub

__all__ = [
    "DATASET_NAMES",
    "METRIC_NAMES",
    "ORGANISATION",
    "TEMPLATES",
    "convert_checkpoint",
    "model_card",
    "push_model",
    "render_catalog",
    "save_for_hub",
    "write_catalog",
]
