"""TDSM's official checkpoints (KAIST-VICLab/TDSM @ 7469361) -> `TDSMForZeroShotSkeletonClassification`.

The official training (``train.py::Trainer``) optimises one module, the denoiser ``DiT`` of ``model/dit.py``, and
saves it with accelerate's ``save_state`` (``<work_dir>/best/model.safetensors``, or ``pytorch_model.bin``): its
state dict is the whole checkpoint. The conversion ``"tdsm"`` maps it onto our denoiser (``tdsm.denoiser``):

- ``x_embedder`` -> ``feature_embed``; ``t_embedder.mlp.{0,2}`` -> ``timestep_embed.{0,2}``; ``fc_embedder.{0,2}``
  -> ``global_text_embed.{0,2}``; ``fl_embedder`` -> ``local_text_embed``; ``fl_pos_embed`` -> ``local_text_position``;
- each ``CrossDiTBlock``'s skeleton stream (``attn.qkv``, ``attn.proj``, ``mlp``, ``adaLN_modulation``) and text
  stream (``attn.qkv_c``, ``attn.proj_c``, ``mlp_c``, ``adaLN_modulation_c``) -> ``streams.skeleton`` /
  ``streams.text`` (``qkv``, ``proj``, ``mlp.{0,2}`` for timm's ``Mlp.fc1`` / ``fc2``, ``modulation.1``);
- ``final_layer.linear`` / ``final_layer.adaLN_modulation.1`` -> ``final_projection`` / ``final_modulation.1``.

What the checkpoint does not hold, and the converted model needs:

- **The classes' text conditions** (``tdsm.class_embeddings``): the official code computes them at start-up
  (``Trainer.text_prompt``) from SD-2.1-base's CLIP text encoder over two prompts per class, SA-DVAE's
  ``class_lists/ntu120.csv`` (column ``label``) and ``ntu120_llm.txt`` (one line per class), and never saves them.
  They are left at zero: set them with ``model.set_class_texts(load_class_lists(folder, "ntu60"))``
  (`skeleton_models.data`; the configured text encoder is the official one) and save the model again.
- **The skeleton features**: the official model reads pre-extracted 256-d Shift-GCN features (SA-DVAE's
  ``sk_feats/*/train.npy`` / ``ztest.npy``, ``feeders/feeder.py::FeatureFeeder``); the converted model takes them as
  ``features`` (no skeleton encoder inside). To classify raw skeletons, put a trained Shift-GCN in with
  `TDSMForZeroShotSkeletonClassification.from_skeleton_model` and load this denoiser's weights.
- **The split** (``unseen_label_path``, e.g. ``ru5.npy``): ``--option unseen_classes=[...]``; without it every class
  is a candidate.
- **The three inference noises** (``Trainer.noise``, drawn at start-up after seeding with 2025, not saved): ours
  are drawn from seed 2025 by our own generator, so the scores match the official evaluation's only up to that
  draw.
"""

from __future__ import annotations

import re

import torch

from ...conversion import Conversion, ConversionError, KeyRule, register_conversion
from .configuration_tdsm import TDSMConfig

SOURCE = "KAIST-VICLab/TDSM@7469361"
_D = "tdsm.denoiser"

RULES = (
    KeyRule(r"x_embedder\.(weight|bias)", rf"{_D}.feature_embed.\1"),
    KeyRule(r"t_embedder\.mlp\.(0|2)\.(weight|bias)", rf"{_D}.timestep_embed.\1.\2"),
    KeyRule(r"fc_embedder\.(0|2)\.(weight|bias)", rf"{_D}.global_text_embed.\1.\2"),
    KeyRule(r"fl_embedder\.(weight|bias)", rf"{_D}.local_text_embed.\1"),
    KeyRule(r"fl_pos_embed", rf"{_D}.local_text_position"),
    # the skeleton stream of each block
    KeyRule(r"blocks\.(\d+)\.attn\.(qkv|proj)\.(weight|bias)", rf"{_D}.blocks.\1.streams.skeleton.\2.\3"),
    KeyRule(r"blocks\.(\d+)\.mlp\.fc1\.(weight|bias)", rf"{_D}.blocks.\1.streams.skeleton.mlp.0.\2"),
    KeyRule(r"blocks\.(\d+)\.mlp\.fc2\.(weight|bias)", rf"{_D}.blocks.\1.streams.skeleton.mlp.2.\2"),
    KeyRule(r"blocks\.(\d+)\.adaLN_modulation\.1\.(weight|bias)", rf"{_D}.blocks.\1.streams.skeleton.modulation.1.\2"),
    # the text stream of each block
    KeyRule(r"blocks\.(\d+)\.attn\.(qkv|proj)_c\.(weight|bias)", rf"{_D}.blocks.\1.streams.text.\2.\3"),
    KeyRule(r"blocks\.(\d+)\.mlp_c\.fc1\.(weight|bias)", rf"{_D}.blocks.\1.streams.text.mlp.0.\2"),
    KeyRule(r"blocks\.(\d+)\.mlp_c\.fc2\.(weight|bias)", rf"{_D}.blocks.\1.streams.text.mlp.2.\2"),
    KeyRule(r"blocks\.(\d+)\.adaLN_modulation_c\.1\.(weight|bias)", rf"{_D}.blocks.\1.streams.text.modulation.1.\2"),
    KeyRule(r"final_layer\.linear\.(weight|bias)", rf"{_D}.final_projection.\1"),
    KeyRule(r"final_layer\.adaLN_modulation\.1\.(weight|bias)", rf"{_D}.final_modulation.1.\1"),
)


def _need(official: dict[str, torch.Tensor], key: str) -> torch.Tensor:
    if key not in official:
        raise ConversionError(f"tdsm ({SOURCE}): no {key!r} in the checkpoint; is it TDSM's DiT?")
    return official[key]


def build_config(
    official: dict[str, torch.Tensor],
    num_attention_heads: int,
    num_prompts: int,
    num_labels: int,
    unseen_classes: list[int] | None,
    prediction_type: str,
    num_train_timesteps: int,
    inference_timestep: int,
) -> TDSMConfig:
    """The ``tdsm`` preset (SD-2.1-base's CLIP text encoder, as ``--pretrained-model-name-or-path``) with the
    checkpoint's sizes: feature width and DiT width (``x_embedder``), condition width (``fc_embedder.0``: the
    prompts' concatenated width, so one prompt's is that / `num_prompts`), text tokens (``fl_pos_embed``: 35),
    depth, MLP ratio and timestep-embedding size. The heads, which no shape tells, and the run's settings are
    options with the official configs' values (config/tdsm_ntu60_unseen5.yaml: ``num_heads: 12``, ``num_steps: 50``,
    ``idx_inference_step: 25``, ``prediction_type: epsilon``; two prompts per class: train.py::text_prompt)."""
    embed = _need(official, "x_embedder.weight")  # (D, C_x)
    hidden, feature_size = embed.shape
    condition = _need(official, "fc_embedder.0.weight").shape[1]
    if condition % num_prompts:
        raise ConversionError(f"tdsm ({SOURCE}): condition width {condition} is not {num_prompts} prompts' widths")
    depth = len({m.group(1) for key in official if (m := re.fullmatch(r"blocks\.(\d+)\..*", key))})
    return TDSMConfig.from_preset(
        "tdsm",
        skeleton_config=None,  # the official model reads pre-extracted features
        feature_size=feature_size,
        hidden_size=hidden,
        text_hidden_size=condition // num_prompts,
        num_prompts=num_prompts,
        num_text_tokens=_need(official, "fl_pos_embed").shape[1],
        num_hidden_layers=depth,
        num_attention_heads=num_attention_heads,
        mlp_ratio=_need(official, "blocks.0.mlp.fc1.weight").shape[0] / hidden,
        timestep_embedding_size=_need(official, "t_embedder.mlp.0.weight").shape[1],
        num_labels=num_labels,
        unseen_classes=unseen_classes,
        prediction_type=prediction_type,
        num_train_timesteps=num_train_timesteps,
        inference_timestep=inference_timestep,
    )


def processor_kwargs(config: TDSMConfig) -> dict:
    """The converted model takes precomputed features (no skeleton encoder): the processor saved with it only names
    the NTU layout the features' Shift-GCN read (Assumed: the SynSE / SA-DVAE features are of NTU RGB+D clips); it
    prepares no input of this model."""
    return {"layout": "ntu25"}


register_conversion(
    Conversion(
        name="tdsm",
        model_type="tdsm",
        source=SOURCE,
        rules=RULES,
        build_config=build_config,
        processor_kwargs=processor_kwargs,
        not_in_checkpoint=(r"tdsm\.class_embeddings",),
        notes=(
            "The official checkpoint holds the denoiser only. The classes' text conditions are not in it (the "
            "official code encodes them at start-up): they are zero until set with "
            "`model.set_class_texts(skeleton_models.data.load_class_lists(CLASS_LISTS_FOLDER, 'ntu60'))`, "
            "which runs the configured text encoder (SD-2.1-base's CLIP, as the official code), then "
            "`model.save_pretrained(...)`. The model takes the 256-d Shift-GCN `features` the official code reads "
            "(SA-DVAE's pre-extracted features); the split's unseen classes are `--option unseen_classes=[...]`; "
            "the three inference noises are drawn from seed 2025 here (the official ones are not saved)."
        ),
        options={
            "num_attention_heads": 12,
            "num_prompts": 2,
            "num_labels": 60,
            "unseen_classes": None,
            "prediction_type": "epsilon",
            "num_train_timesteps": 50,
            "inference_timestep": 25,
        },
    )
)
