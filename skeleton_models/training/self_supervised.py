"""Data side of SLiM's pre-training: the collator that turns a batch of clips into SLiM's views, masks and
augmentations (appendix B-D), and the Trainer set-up that uses it with the teacher's EMA callback."""

from __future__ import annotations

import numpy as np
import torch
from einops import rearrange
from transformers import PreTrainedModel, TrainingArguments

from ..augmentation import skeleton_aware_augment
from ..layers import patchify, person_sequences, token_mask
from ..models.slim import SLiMTeacherCallback
from ..multiview import LOCAL_SPECS, sample_views
from .supervised import build_trainer, processor_for_model

__all__ = ["SLiMPreTrainingCollator", "build_slim_pretraining_trainer"]

# Table 5's "CL" objectives: "the same number of views but strictly bound to 16-frame clips"; Reading: the six local
# views all 16 frames, their intervals anywhere from 5 % to 70 % of G1's (the union of the three scales' ranges).
FIXED_16_FRAME_SPECS = ((16, (0.05, 0.7)),)


class SLiMPreTrainingCollator:
    """Stacks processed clips (each ``skeletons`` (C, T_src, V, M), the processor's whole valid sequence resized to
    ``config.source_frames``) and draws SLiM's views from them (appendix B): two global views of ``num_frames``
    frames (50-100 % of the clip), two local views of 32, 16 and 8 frames cut from G1's interval (or six 16-frame
    views for the ``"cl"`` objectives), every view through the skeleton-aware augmentations of the configuration
    (`skeleton_aware_augment`), then the token masks: ``global_masking`` on G1 (p = 1) and ``local_masking`` on G2 and
    the local views with ``local_mask_probability`` (appendix C).

    Returns the keyword arguments of `SLiMForPreTraining.forward`: ``skeletons`` (G1) and ``second_view``
    (N, C, T, V, M), ``local_views`` {frames: (N, K, C, T_l, V, M)}, ``mask`` / ``second_view_mask`` (N M, L) and
    ``local_masks`` {frames: (N M K, L_l)}; with ``config.symmetric``, also ``second_local_views`` /
    ``second_local_masks`` cut from G2's interval (augmented with their own draws), and G2 masked as a global view.

    All draws come from one seeded NumPy generator and one torch generator owned by the collator: with dataloader
    workers, each worker holds a copy with the same seed (give ``dataloader_num_workers=0``, the default, or a
    collator per worker)."""

    def __init__(self, config, seed: int = 0):
        self.config = config
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator().manual_seed(seed)

    def _mask(self, kind: str, x: torch.Tensor, probability: float) -> torch.Tensor:
        """(B, T, V, C) sequences -> (B, T' V) bool mask."""
        c = self.config
        patches = patchify(x, c.temporal_patch)
        if kind == "motion" and patches.shape[1] < 2:  # no motion to rank in a one-token view: random masking
            kind = "random"
        return token_mask(
            kind,
            patches.shape[0],
            patches.shape[1],
            c.layout,
            patches=patches if kind == "motion" else None,
            mask_ratio=tuple(c.mask_ratio),
            probability=probability,
            min_area=c.mask_min_area,
            max_area_fraction=c.mask_max_area_fraction,
            generator=self.generator,
        )

    def _local(self, views: dict, prefix: str, batch: dict) -> None:
        """Local views (N, K, T_l, M, V, C) per frame count -> ``<prefix>local_views`` and ``<prefix>local_masks``."""
        c = self.config
        batch[f"{prefix}local_views"], batch[f"{prefix}local_masks"] = {}, {}
        for frames, local in views.items():
            local = rearrange(torch.from_numpy(np.ascontiguousarray(local)), "n k t m v c -> n k c t v m").contiguous()
            batch[f"{prefix}local_views"][frames] = local
            rows = rearrange(local, "n k c t v m -> (n m k) t v c")
            batch[f"{prefix}local_masks"][frames] = self._mask(c.local_masking, rows, c.local_mask_probability)

    def __call__(self, features: list[dict]) -> dict:
        c = self.config
        clips = torch.stack([torch.as_tensor(f["skeletons"]) for f in features]).float()  # (N, C, T, V, M)
        clips = rearrange(clips, "n c t v m -> n t m v c").numpy()
        fixed = c.objective in ("cl", "mfm_cl")
        augment = dict(
            rotation=c.rotation, mirroring=c.mirroring, scaling=c.scaling, probability=c.augmentation_probability
        )
        sampling = dict(
            global_frames=c.num_frames,
            local_specs=FIXED_16_FRAME_SPECS if fixed else LOCAL_SPECS,
            local_per_scale=6 if fixed else 2,
            layout=c.layout,
        )
        seed = int(self.rng.integers(2**63))  # both anchors' calls draw the same global intervals from it
        views = sample_views(
            clips, None, np.random.default_rng(seed), augment_views="all", augment_kwargs=augment, **sampling
        )
        globals_ = torch.from_numpy(views.global_views)  # (N, 2, T, M, V, C)
        first, second = (rearrange(globals_[:, i], "n t m v c -> n c t v m").contiguous() for i in (0, 1))
        batch = {"skeletons": first, "second_view": second}
        batch["mask"] = self._mask(c.global_masking, person_sequences(first), 1.0)
        if c.symmetric:  # G2 is an anchor too: masked as a global view
            batch["second_view_mask"] = self._mask(c.global_masking, person_sequences(second), 1.0)
        else:
            batch["second_view_mask"] = self._mask(c.local_masking, person_sequences(second), c.local_mask_probability)
        self._local(views.local_views, "", batch)
        if c.symmetric:  # the local views of G2's interval, with their own augmentation draws
            anchored = sample_views(clips, None, np.random.default_rng(seed), anchor=1, **sampling)
            second_local = {}
            for frames, local in anchored.local_views.items():
                flat = local.reshape(-1, *local.shape[2:])  # (N K, T_l, M, V, C)
                augmented = skeleton_aware_augment(flat, c.layout, self.rng, **augment)
                second_local[frames] = augmented.reshape(local.shape)
            self._local(second_local, "second_", batch)
        return batch


def build_slim_pretraining_trainer(
    model: PreTrainedModel, train_dataset, args: TrainingArguments, eval_dataset=None, **trainer_kwargs
):
    """The Trainer for `SLiMForPreTraining`: a processor that resizes each clip's valid frames to
    ``config.source_frames`` (no random crop or rotation: the collator's views and augmentations replace them), the
    `SLiMPreTrainingCollator` (seeded from ``args.seed``) and the `SLiMTeacherCallback` (EMA teacher and
    temperature warm-up). Returns the trainer; its processor is ``trainer.processing_class``."""
    config = model.config
    whole = dict(p_interval=(1.0, 1.0), eval_crop=1.0, random_rotation=0.0)  # every valid frame, as it is
    processor = processor_for_model(config, train_dataset, window_size=config.source_frames, **whole)
    trainer = build_trainer(
        model,
        processor,
        train_dataset,
        eval_dataset,
        args,
        data_collator=SLiMPreTrainingCollator(config, seed=args.seed),
        **trainer_kwargs,
    )
    trainer.add_callback(SLiMTeacherCallback())
    return trainer
