"""MAMP's official checkpoints (maoyunyao/MAMP @ 09e6252) -> the ``mamp`` preset of GFP.

Two conversions, one per official model class, since their keys differ:

- ``"mamp"``: the evaluation model of ``model/transformer.py`` (``Transformer``, what ``main_finetune.py`` and
  ``main_linprobe.py`` train and save) -> `GFPForSkeletonClassification`. The head is read from the keys: the
  fine-tuning head (``protocol: finetune``: ``head.fc1`` / ``head.bn`` / ``head.fc2``, ``ActionHeadFinetune``) or the
  linear probe (``protocol: linprobe``, which ``main_linprobe.py`` line 226 wraps as ``head.fc = Sequential(
  BatchNorm1d(affine=False, eps=1e-6), fc)``: ``head.fc.0`` / ``head.fc.1``).
- ``"mamp-pretrain"``: the pre-training model of ``model_mamp/transformer.py`` (encoder, MAE-style decoder and
  ``decoder_pred``, what ``main_pretrain.py`` saves) -> `GFPForPreTraining` with motion targets.

Both read the sizes from the state dict (width, depth, patch, frames, joints, MLP ratio, decoder width and depth,
head width and classes); the number of heads, which no shape tells, is an option (default 8: every config of
``config/*/*.yaml``). The checkpoints the official scripts write (``util/misc.py::save_model``) keep the weights
under ``model`` beside the script's ``argparse.Namespace``, which `load_official_state_dict` reads as a plain record.
"""

from __future__ import annotations

import re

import torch

from ...conversion import Conversion, ConversionError, KeyRule, register_conversion
from ...skeletons import get_layout
from .configuration_gfp import GFPConfig

SOURCE = "maoyunyao/MAMP@09e6252"


def _block_rules(official_prefix: str, our_prefix: str) -> tuple[KeyRule, ...]:
    """The blocks ``<official_prefix>.<i>.*`` -> ``<our_prefix>.<i>.*``: model/transformer.py's ``Block`` (norm1,
    attn.{qkv, proj}, norm2, mlp.{fc1, fc2}) -> `layers.TransformerBlock` (its MLP an nn.Sequential of Linear, GELU,
    Dropout, Linear, Dropout)."""
    return (
        KeyRule(
            rf"{official_prefix}\.(\d+)\.(norm1|norm2|attn\.qkv|attn\.proj)\.(weight|bias)", rf"{our_prefix}.\1.\2.\3"
        ),
        KeyRule(rf"{official_prefix}\.(\d+)\.mlp\.fc1\.(weight|bias)", rf"{our_prefix}.\1.mlp.0.\2"),
        KeyRule(rf"{official_prefix}\.(\d+)\.mlp\.fc2\.(weight|bias)", rf"{our_prefix}.\1.mlp.3.\2"),
    )


# The encoder, as both official classes name it (``joints_embed`` = ``SkeleEmbed``, ``temp_embed`` (1, T', 1, D),
# ``pos_embed`` (1, 1, V, D), ``blocks``, ``norm``) -> our `GFPModel` inside either task model (``gfp.encoder``).
ENCODER_RULES = (
    KeyRule(r"joints_embed\.proj\.(weight|bias)", r"gfp.encoder.patch_embed.proj.\1"),
    KeyRule(r"temp_embed", "gfp.encoder.temporal_embed"),
    KeyRule(r"pos_embed", "gfp.encoder.joint_embed"),
    *_block_rules("blocks", "gfp.encoder.blocks"),
    KeyRule(r"norm\.(weight|bias)", r"gfp.encoder.norm.\1"),
)

# model/transformer.py's heads -> `GFPForSkeletonClassification`'s: ``ActionHeadFinetune`` (fc1, bn, fc2) -> head.0,
# head.1, classifier; the linear probe (main_linprobe.py: BatchNorm1d without affine, then fc) -> norm, classifier.
CLASSIFIER_RULES = (
    *ENCODER_RULES,
    KeyRule(r"head\.fc1\.(weight|bias)", r"head.0.\1"),
    KeyRule(r"head\.bn\.(weight|bias|running_mean|running_var|num_batches_tracked)", r"head.1.\1"),
    KeyRule(r"head\.fc2\.(weight|bias)", r"classifier.\1"),
    KeyRule(r"head\.fc\.0\.(running_mean|running_var|num_batches_tracked)", r"norm.\1"),
    KeyRule(r"head\.fc\.1\.(weight|bias)", r"classifier.\1"),
)


def _decoder_depth(official: dict[str, torch.Tensor]) -> int:
    return len({m.group(1) for key in official if (m := re.fullmatch(r"decoder_blocks\.(\d+)\..*", key))})


def pretraining_rules(official: dict[str, torch.Tensor]) -> tuple[KeyRule, ...]:
    """model_mamp/transformer.py -> `GFPForPreTraining`: the encoder, then the decoder. Our decoder is one
    ``nn.Sequential`` of the blocks, the norm and the prediction layer, so ``decoder_norm`` and ``decoder_pred``
    become the entries after the checkpoint's ``decoder_depth`` blocks."""
    depth = _decoder_depth(official)
    return (
        *ENCODER_RULES,
        KeyRule(r"decoder_embed\.(weight|bias)", r"decoder_embed.\1"),
        KeyRule(r"mask_token", "mask_token"),
        KeyRule(r"decoder_temp_embed", "decoder_temporal_embed"),
        KeyRule(r"decoder_pos_embed", "decoder_joint_embed"),
        *_block_rules("decoder_blocks", "decoder"),
        KeyRule(r"decoder_norm\.(weight|bias)", rf"decoder.{depth}.\1"),
        KeyRule(r"decoder_pred\.(weight|bias)", rf"decoder.{depth + 1}.\1"),
    )


def _need(official: dict[str, torch.Tensor], key: str) -> torch.Tensor:
    if key not in official:
        raise ConversionError(f"mamp ({SOURCE}): no {key!r} in the checkpoint; is it a MAMP checkpoint?")
    return official[key]


def _encoder_fields(official: dict[str, torch.Tensor], num_attention_heads: int, layout: str) -> dict:
    """The encoder's configuration from the official shapes."""
    patch = _need(official, "joints_embed.proj.weight")  # (D, C, P_T, P_J)
    hidden, in_channels, temporal_patch, joint_patch = patch.shape
    if joint_patch != 1:
        raise ConversionError(f"mamp ({SOURCE}): patch_size {joint_patch}; only one joint per patch is supported")
    num_temporal = _need(official, "temp_embed").shape[1]
    num_joints = _need(official, "pos_embed").shape[2]
    if get_layout(layout).num_joints != num_joints:
        raise ConversionError(
            f"mamp ({SOURCE}): the checkpoint has {num_joints} joints, the layout {layout!r} "
            f"{get_layout(layout).num_joints}; give --option layout=..."
        )
    depth = len({m.group(1) for key in official if (m := re.fullmatch(r"blocks\.(\d+)\..*", key))})
    # GFP's pooling levels are no part of MAMP's model, but the configuration needs kernels that pool the T' tokens
    pooling = {} if num_temporal == 30 else {"pooling_kernels": [num_temporal]}
    return dict(
        **pooling,
        layout=layout,
        in_channels=in_channels,
        num_frames=num_temporal * temporal_patch,
        temporal_patch=temporal_patch,
        hidden_size=hidden,
        num_hidden_layers=depth,
        num_attention_heads=num_attention_heads,
        mlp_ratio=_need(official, "blocks.0.mlp.fc1.weight").shape[0] / hidden,
    )


def classifier_config(
    official: dict[str, torch.Tensor], num_attention_heads: int, layout: str, drop_path_rate: float | None
) -> GFPConfig:
    """`GFPForSkeletonClassification`'s configuration: the ``mamp`` preset with the checkpoint's sizes and head.
    ``drop_path_rate`` None: the protocol's (finetune_t120_layer8_decay.yaml 0.3, linprobe_t120_layer8.yaml 0)."""
    fields = _encoder_fields(official, num_attention_heads, layout)
    if "head.fc1.weight" in official:
        fields.update(
            classifier_head="finetune",
            classifier_hidden_size=official["head.fc1.weight"].shape[0],
            classifier_dropout=0.3,  # model/transformer.py builds ActionHeadFinetune(dropout_ratio=0.3)
            num_labels=_need(official, "head.fc2.weight").shape[0],
            drop_path_rate=0.3 if drop_path_rate is None else drop_path_rate,
        )
    elif "head.fc.1.weight" in official:
        fields.update(
            classifier_head="linear_probe",
            freeze_encoder=True,  # main_linprobe.py trains the head only
            num_labels=official["head.fc.1.weight"].shape[0],
            drop_path_rate=0.0 if drop_path_rate is None else drop_path_rate,
        )
    else:
        raise ConversionError(
            f"mamp ({SOURCE}): no classifier head (head.fc1 / head.fc2 of the fine-tuning protocol, or head.fc.1 of "
            "the linear probe); a pre-training checkpoint converts with --from mamp-pretrain"
        )
    return GFPConfig.from_preset("mamp", **fields)


def pretraining_config(
    official: dict[str, torch.Tensor],
    num_attention_heads: int,
    layout: str,
    mask_ratio: float,
    mask_tau: float,
    normalize_target: bool,
) -> GFPConfig:
    """`GFPForPreTraining`'s configuration: the ``mamp`` preset (motion targets) with the checkpoint's sizes."""
    fields = _encoder_fields(official, num_attention_heads, layout)
    fields.update(
        decoder_hidden_size=_need(official, "decoder_embed.weight").shape[0],
        decoder_num_layers=_decoder_depth(official),
        mask_ratio=mask_ratio,
        mask_tau=mask_tau,
        normalize_target=normalize_target,
    )
    return GFPConfig.from_preset("mamp", **fields)


def processor_kwargs(config: GFPConfig) -> dict:
    """MAMP's NTU preprocessing: its feeder (feeder/feeder_ntu.py, CTR-GCN's) over the clips of CTR-GCN's
    ``seq_transformation.py`` (data/ntu/seq_transformation.py::seq_translation: every frame minus joint 2, the
    spine middle, of the first person's first valid frame), resized to ``window_size: 120`` frames; training crops
    ``p_interval: [0.5, 1]`` with ``random_rot: True`` (feeder/tools.py::random_rot, theta 0.3), evaluation
    ``p_interval: [0.95]``; joints (``vel: False, bone: False``), two persons (config/ntu60_xsub_joint/*.yaml)."""
    return {
        "layout": config.layout,
        "window_size": config.num_frames,
        "num_persons": config.num_persons,
        "stream": "joint",
        "p_interval": (0.5, 1.0),
        "eval_crop": 0.95,
        "random_rotation": 0.3,
        "center_joint": 1,
    }


_NOTES = (
    "MAMP's input: NTU clips prepared as its feeder does (the saved processor: centred on the spine middle of the "
    "first frame, resized to 120 frames, two persons, joint coordinates). The number of attention heads is not in "
    "the checkpoint: 8 unless `--option num_attention_heads=...` was given."
)

register_conversion(
    Conversion(
        name="mamp",
        model_type="gfp",
        source=SOURCE,
        rules=CLASSIFIER_RULES,
        build_config=classifier_config,
        processor_kwargs=processor_kwargs,
        notes=_NOTES,
        options={"num_attention_heads": 8, "layout": "ntu25", "drop_path_rate": None},
    )
)

register_conversion(
    Conversion(
        name="mamp-pretrain",
        model_type="gfp",
        source=SOURCE,
        rules=pretraining_rules,
        build_config=pretraining_config,
        processor_kwargs=processor_kwargs,
        model_class="GFPForPreTraining",
        notes=_NOTES
        + " The masking settings are the pre-training script's arguments, not in the checkpoint: mask ratio 0.9, "
        "tau 0.80 (NTU-60 / PKU-MMD; NTU-120: 0.75, give `--option mask_tau=0.75`).",
        options={
            "num_attention_heads": 8,
            "layout": "ntu25",
            "mask_ratio": 0.9,  # config/*/pretrain_mamp_*.yaml
            "mask_tau": 0.8,  # config/ntu60_xsub_joint/pretrain_mamp_t120_layer8+3_mask90.yaml
            "normalize_target": True,  # norm_skes_loss: True
        },
    )
)
