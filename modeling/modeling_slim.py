# Generated from skeleton_models/models/slim/modeling_slim.py by utils/write_modeling.py; do not edit.
"""SLiM: decoder-free masked feature modeling with global-local contrastive learning (Do, Chen, Youk, Kim, arXiv
2603.10648), as a teacher-student ViT with temporal RoPE, register tokens and two DINO heads.

Shapes: N clips, M persons, B = N M sequences, T frames, V joints, C coordinates, T' = T / P_T temporal tokens,
L = T' V patch tokens (t-major, joints fastest), R register tokens, D the width, K prototypes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from transformers import TrainerCallback
from transformers import initialization as init
from transformers.utils import ModelOutput
from transformers.utils.generic import can_return_tuple

from .self_distillation import DINOHead, SoftmaxCenter, cosine_schedule, dino_cross_entropy, ema_update_, ibot_patch_loss, koleo_loss, sinkhorn_knopp, teacher_momentum_schedule
from .vit import SkeletonPatchEmbed, TransformerBlock, person_sequences, present_persons, restore_rows
from .modeling_utils import SkeletonClassifierOutput, SkeletonModelOutput, SkeletonPreTrainedModel, check_inputs
from .skeletons import get_layout
from .configuration_slim import SLiMConfig

__all__ = [
    "SLiMForPreTraining",
    "SLiMForSkeletonClassification",
    "SLiMModel",
    "SLiMPreTrainedModel",
    "SLiMTeacherCallback",
    "TemporalRotaryEmbedding",
]


class TemporalRotaryEmbedding(nn.Module):
    """1-D rotary position embedding over time (Su et al., RoFormer; SLiM section 3.1, Eq. 2: "RoPE is injected
    directly into the attention mechanism at each layer"). For a sequence of P prefix tokens followed by T' x V
    patch tokens, `rotation(...)` returns the function that rotates (B, H, P + T' V, d) queries or keys: each
    channel pair (i, i + d/2) of a patch token at temporal position p turns by p * base^(-2i/d) (GPT-NeoX's
    half-split pairing); the prefix tokens (class, registers) are not rotated (position 0). Patch tokens of the same
    frame share one position (the joints are told apart by the learned joint embeddings)."""

    def __init__(self, head_dim: int, base: float):
        super().__init__()
        self.head_dim, self.base = head_dim, base
        self.register_buffer("inv_freq", self._frequencies(), persistent=False)  # (d / 2,)

    def _frequencies(self) -> torch.Tensor:
        exponents = torch.arange(0, self.head_dim, 2, dtype=torch.float32, device="cpu") / self.head_dim
        return self.base**-exponents

    def _reset_parameters(self):
        init.copy_(self.inv_freq, self._frequencies())  # not saved: rebuilt when a checkpoint is loaded

    def rotation(self, temporal_positions: torch.Tensor, num_joints: int, num_prefix: int):
        """`temporal_positions` (T',) float -> a function (B, H, L, d) -> (B, H, L, d)."""
        positions = temporal_positions.repeat_interleave(num_joints)  # (T' V,)
        positions = torch.cat([positions.new_zeros(num_prefix), positions])
        angles = positions[:, None] * self.inv_freq.to(positions.device)[None]  # (L, d / 2)
        cos, sin = torch.cat([angles.cos()] * 2, -1), torch.cat([angles.sin()] * 2, -1)  # (L, d)

        def rotate(x: torch.Tensor) -> torch.Tensor:
            first, second = x.chunk(2, dim=-1)
            return x * cos.to(x.dtype) + torch.cat([-second, first], dim=-1) * sin.to(x.dtype)

        return rotate


class SLiMEncoder(nn.Module):
    """The ViT g: patch embedding + joint embeddings, [class | registers | patches], blocks with temporal RoPE,
    final LayerNorm."""

    def __init__(self, config: SLiMConfig):
        super().__init__()
        d = config.hidden_size
        self.config = config
        self.num_joints = get_layout(config.layout).num_joints
        self.num_prefix = 1 + config.num_register_tokens
        self.patch_embed = SkeletonPatchEmbed(config.in_channels, d, config.temporal_patch)
        self.joint_embed = nn.Parameter(torch.empty(1, self.num_joints, d))  # E_skel (Eq. 1)
        self.cls_token = nn.Parameter(torch.empty(1, 1, d))
        self.register_tokens = nn.Parameter(torch.empty(1, config.num_register_tokens, d))
        self.mask_token = nn.Parameter(torch.empty(1, 1, d))  # e_[mask] (Eq. 3)
        self.rope = TemporalRotaryEmbedding(d // config.num_attention_heads, config.rope_base)
        rates = torch.linspace(0, config.drop_path_rate, config.num_hidden_layers, device="cpu").tolist()
        self.blocks = nn.ModuleList(
            TransformerBlock(
                d, config.num_attention_heads, config.mlp_ratio, drop_path=r, norm_eps=config.layer_norm_eps
            )
            for r in rates
        )
        self.norm = nn.LayerNorm(d, eps=config.layer_norm_eps)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, output_hidden_states: bool = False
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None]:
        """(B, T, V, C) sequences of any T multiple of P_T, optional (B, T' V) bool mask (True: replaced by the mask
        token) -> (B, 1 + R + T' V, D) normalised tokens [w_cls | registers | W_p], and the blocks' outputs.

        Reading of Eq. 3 (whose polarity is the reverse of Algorithm 1's): masked patch projections are replaced by
        e_[mask], and the joint embedding is added after the replacement (as iBOT adds positions after), so a mask
        token still knows its joint."""
        c = self.config
        patches = self.patch_embed(rearrange(x, "b t v c -> b c t v"))  # (B, T', V, D)
        t = patches.shape[1]
        patches = patches.flatten(1, 2)  # (B, L, D)
        if mask is not None:
            patches = torch.where(mask.unsqueeze(-1), self.mask_token.to(patches.dtype), patches)
        patches = patches + self.joint_embed.repeat(1, t, 1)
        b = patches.shape[0]
        tokens = torch.cat([self.cls_token.expand(b, -1, -1), self.register_tokens.expand(b, -1, -1), patches], 1)
        index = torch.arange(t, device=x.device, dtype=torch.float32)
        if c.rope_positions == "time":  # each token's centre in global-view token units
            index = (index + 0.5) * (c.num_temporal_tokens / t) - 0.5
        rotary = self.rope.rotation(index, self.num_joints, self.num_prefix)
        states = [] if output_hidden_states else None
        for block in self.blocks:
            tokens = block(tokens, rotary)
            if states is not None:
                states.append(tokens)
        return self.norm(tokens), tuple(states) if states is not None else None

    def _reset_parameters(self):
        for parameter in (self.joint_embed, self.cls_token, self.register_tokens):
            init.trunc_normal_(parameter, std=0.02)  # ViT / DINOv2
        init.zeros_(self.mask_token)  # DINOv2's mask token starts at zero


class SLiMPreTrainedModel(SkeletonPreTrainedModel):
    config_class = SLiMConfig
    base_model_prefix = "slim"
    _no_split_modules = ["TransformerBlock"]

    def _init_weights(self, module: nn.Module):
        if isinstance(module, nn.Linear):  # ViT / DINOv2: trunc_normal(0.02) weights, zero biases
            init.trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                init.zeros_(module.bias)
            return
        super()._init_weights(module)  # LayerNorm 1 / 0; then the modules' own `_reset_parameters`


class SLiMModel(SLiMPreTrainedModel):
    """The encoder over every token (no masking): features for probes, retrieval and fine-tuning."""

    def __init__(self, config: SLiMConfig):
        super().__init__(config)
        self.encoder = SLiMEncoder(config)
        self.post_init()

    @can_return_tuple
    def forward(self, skeletons: torch.Tensor, output_hidden_states: bool | None = None) -> SkeletonModelOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) clips of ``config.num_frames`` frames.
            output_hidden_states: also return every block's output, each (N M, 1 + R + L, D).

        Returns:
            `SkeletonModelOutput` with ``last_hidden_state`` (N, D, T', V, M), the patch tokens W_p, and
            ``pooler_output`` (N, 2 D): [w_cls | mean of W_p] averaged over persons (the paper's downstream W).
        """
        check_inputs(self.config, skeletons=skeletons)
        n, m = skeletons.shape[0], skeletons.shape[-1]
        tokens, states = self.encoder(person_sequences(skeletons), output_hidden_states=bool(output_hidden_states))
        cls, patches = tokens[:, 0], tokens[:, self.encoder.num_prefix :]
        pooled = rearrange(torch.cat([cls, patches.mean(1)], -1), "(n m) d -> n m d", m=m).mean(1)
        grid = rearrange(patches, "(n m) (t v) d -> n d t v m", n=n, v=self.encoder.num_joints)
        return SkeletonModelOutput(last_hidden_state=grid, pooler_output=pooled, hidden_states=states)


class SLiMNetwork(nn.Module):
    """One branch of the teacher-student pair: encoder g, h_CL on w_cls and h_MAE on W_p (section 3.1)."""

    def __init__(self, config: SLiMConfig):
        super().__init__()
        self.encoder = SLiMEncoder(config)
        head = dict(
            hidden_dim=config.head_hidden_size,
            bottleneck_dim=config.head_bottleneck_size,
            num_layers=config.head_layers,
        )
        self.cls_head = DINOHead(config.hidden_size, config.num_prototypes, **head)
        self.patch_head = DINOHead(config.hidden_size, config.num_prototypes, **head) if config.uses_mfm else None

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        patch_logits: bool = False,
        output_hidden_states: bool = False,
    ):
        """(B, T, V, C) -> class logits (B, K), patch logits (B, L, K) or None, tokens (B, 1 + R + L, D) and the
        blocks' outputs (or None)."""
        tokens, states = self.encoder(x, mask, output_hidden_states)
        patches = tokens[:, self.encoder.num_prefix :]
        return self.cls_head(tokens[:, 0]), self.patch_head(patches) if patch_logits else None, tokens, states


@dataclass
class SLiMPreTrainingOutput(ModelOutput):
    """
    Args:
        loss: L_MFM + lambda L_GLCL + w KoLeo (Eq. 7, appendix A), for the terms the objective uses.
        loss_mfm, loss_glcl, loss_koleo: the terms (absent when the objective leaves them out).
        mask: (N M, L) the student's mask of the first global view.
        hidden_states: with ``output_hidden_states``, the student's block outputs on it.
    """

    loss: torch.Tensor | None = None
    loss_mfm: torch.Tensor | None = None
    loss_glcl: torch.Tensor | None = None
    loss_koleo: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


class SLiMForPreTraining(SLiMPreTrainedModel):
    """SLiM's teacher-student pre-training. ``slim`` is the teacher (its encoder is what `SLiMModel` and
    `SLiMForSkeletonClassification` load, as DINOv2 evaluates its teacher), ``student`` the network trained by
    back-propagation; the teacher follows it by EMA (`update_teacher`, called by `SLiMTeacherCallback` after every
    optimiser step). Both start identical.

    The views, masks and augmentations come from `SLiMPreTrainingCollator`. Without them (only ``skeletons``), the
    other views are the first one resized to 64 / 32 / 16 / 8 frames and its mask is random at the middle of
    ``mask_ratio`` -- enough for checks, not the paper's recipe."""

    always_computes_loss = True

    def __init__(self, config: SLiMConfig):
        super().__init__(config)
        self.slim = SLiMNetwork(config)  # the teacher
        self.student = SLiMNetwork(config)
        self.centers = None
        if config.centering == "softmax_center":
            self.centers = nn.ModuleDict({"cls": SoftmaxCenter(config.num_prototypes)})
            if config.uses_mfm:
                self.centers["patch"] = SoftmaxCenter(config.num_prototypes)
        self.register_buffer("progress", torch.zeros((), device="cpu"), persistent=False)  # 0 -> 1 over training
        self.post_init()

    def apply_freezing(self) -> None:
        self.slim.requires_grad_(False)  # the teacher learns by EMA only

    def _reset_parameters(self):
        init.zeros_(self.progress)
        teacher = dict(self.slim.named_parameters())
        for name, parameter in self.student.named_parameters():
            init.copy_(teacher[name], parameter)  # the teacher starts as the student

    @torch.no_grad()
    def update_teacher(self, step: int, total_steps: int) -> float:
        """After optimiser step `step` of `total_steps`: ``progress`` = step / total_steps, and the teacher's EMA
        step with momentum from ``config.teacher_momentum`` to 1 on a cosine (DINOv2's schedule; Assumed).
        Returns the momentum used."""
        self.progress.fill_(step / max(total_steps, 1))
        momentum = teacher_momentum_schedule(step, max(total_steps, 1), start=self.config.teacher_momentum)
        ema_update_(self.slim, self.student, momentum)
        return momentum

    def teacher_temperature(self) -> torch.Tensor:
        """DINOv2's linear warm-up from ``teacher_warmup_temperature`` to ``teacher_temperature`` over the first
        ``teacher_temperature_warmup`` of training, then constant (a tensor: no recompilation as it moves)."""
        c = self.config
        fraction = (self.progress / max(c.teacher_temperature_warmup, 1e-8)).clamp(0, 1)
        return c.teacher_warmup_temperature + (c.teacher_temperature - c.teacher_warmup_temperature) * fraction

    def _targets(self, logits: torch.Tensor, kind: str) -> torch.Tensor:
        """Teacher logits (..., K) -> centred target distributions (..., K)."""
        temperature = self.teacher_temperature()
        flat = logits.reshape(-1, logits.shape[-1])
        if self.centers is None:
            probs = sinkhorn_knopp(flat, temperature, self.config.sinkhorn_iterations)
        else:
            probs = self.centers[kind](flat, temperature)
            if self.training:
                self.centers[kind].update(flat)
        return probs.reshape(logits.shape)

    def _default_local_views(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        """Without the collator: one local view per scale, the global view resized in time, (B, 1, T_l, V, C)."""
        t = x.shape[1]
        local = {}
        for frames in (t // 2, t // 4, t // 8):
            if frames >= self.config.temporal_patch and frames % self.config.temporal_patch == 0:
                resized = F.interpolate(rearrange(x, "b t v c -> b (v c) t"), size=frames, mode="linear")
                local[frames] = rearrange(resized, "b (v c) t -> b 1 t v c", c=x.shape[-1])
        return local

    def _global_mask(self, mask: torch.Tensor | None, x: torch.Tensor, seed: int) -> torch.Tensor:
        """The given (B, L) mask as bool, or without the collator a random one at the middle of ``mask_ratio`` (a
        fixed draw in evaluation)."""
        if mask is not None:
            return mask.to(x.device).bool()
        b, length = x.shape[0], x.shape[1] // self.config.temporal_patch * x.shape[2]
        generator = None if self.training else torch.Generator(device=x.device).manual_seed(seed)
        return torch.rand(b, length, device=x.device, generator=generator) < sum(self.config.mask_ratio) / 2

    @can_return_tuple
    def forward(
        self,
        skeletons: torch.Tensor,
        mask: torch.Tensor | None = None,
        second_view: torch.Tensor | None = None,
        second_view_mask: torch.Tensor | None = None,
        local_views: dict[int, torch.Tensor] | None = None,
        local_masks: dict[int, torch.Tensor] | None = None,
        second_local_views: dict[int, torch.Tensor] | None = None,
        second_local_masks: dict[int, torch.Tensor] | None = None,
        output_hidden_states: bool | None = None,
        return_loss: bool = True,
    ) -> SLiMPreTrainingOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) the first global view G1 (``config.num_frames`` frames).
            mask: (N M, T' V) bool, True = masked (the student's G1; ``global_masking``).
            second_view: (N, C, T, V, M) G2 (default: G1); second_view_mask: its (N M, T' V) mask (``symmetric``:
                ``global_masking``, else ``local_masking`` with ``local_mask_probability``).
            local_views: frames -> (N, K, C, T_l, V, M) local views cut from G1's interval (K per scale);
                local_masks: frames -> (N M K, T_l' V) their masks, rows (n, m) major then k.
            second_local_views, second_local_masks: the same for the views cut from G2's interval (``symmetric``).
            output_hidden_states: also return the student's block outputs on G1, each (N M, 1 + R + L, D).
            return_loss: always true (the loss is the output; tells the Trainer that evaluation has a loss).

        Returns:
            `SLiMPreTrainingOutput` with the loss and its terms.
        """
        c = self.config
        check_inputs(c, skeletons=skeletons)
        first = person_sequences(skeletons)  # (B, T, V, C)
        second = person_sequences(second_view) if second_view is not None else first
        collated = second_view is not None or local_views is not None
        local_views, second_local_views = _as_sequences(local_views), _as_sequences(second_local_views)
        present = None
        if c.ignore_padding_persons:  # the padding persons enter no loss term and no batch statistic
            present = present_persons(first) | present_persons(second)
            if not present.any():
                raise ValueError("every person sequence of the batch is all zero (padding): nothing to pre-train on")
            first, second = first[present], second[present]
            mask, second_view_mask = _rows(mask, present), _rows(second_view_mask, present)
            local_views, second_local_views = _rows(local_views, present), _rows(second_local_views, present)
            local_masks, second_local_masks = _rows(local_masks, present), _rows(second_local_masks, present)
        first_mask = self._global_mask(mask, first, 0) if c.uses_mfm else None
        second_mask = None  # the student's G2: masked as a global view (symmetric) or as a contrastive view
        if second_view_mask is not None or (c.symmetric and c.uses_mfm):
            second_mask = self._global_mask(second_view_mask, second, 1)
        # one pass per anchor: G1, and G2 with ``symmetric`` (the paper's repeat with G2 as the anchor)
        anchors = [(first, first_mask, local_views, local_masks)]
        if c.symmetric:
            anchors.append((second, second_mask, second_local_views, second_local_masks))
        teacher, student = [], []
        for i, (x, view_mask, _, _) in enumerate(anchors):
            with torch.no_grad():  # the teacher sees each anchor unmasked
                cls_logits, patch_logits, _, _ = self.slim(x, patch_logits=c.uses_mfm)
                teacher.append(
                    (self._targets(cls_logits, "cls"), self._targets(patch_logits, "patch") if c.uses_mfm else None)
                )
            hidden = bool(output_hidden_states) and i == 0
            student.append(self.student(x, view_mask if c.uses_mfm else None, c.uses_mfm, hidden))
        states = student[0][3]
        loss = first.new_zeros(())
        loss_mfm = loss_glcl = loss_koleo = None
        if c.uses_mfm:  # Eq. 4 on each anchor, averaged
            terms = [
                ibot_patch_loss(s[1], t[1], anchor[1], c.student_temperature)
                for s, t, anchor in zip(student, teacher, anchors)
            ]
            loss_mfm = torch.stack(terms).mean()
            loss = loss + loss_mfm
        if c.uses_contrast:  # Eq. 6 for each anchor: the other global view and the anchor's local views
            terms = []
            for i, (x, _, views, view_masks) in enumerate(anchors):
                targets = teacher[i][0]
                if c.symmetric:  # the other global view as the student saw it in its own pass
                    other = student[1 - i][0]
                else:
                    other = self.student(second, second_mask)[0]
                terms.append(dino_cross_entropy(other, targets, c.student_temperature))
                if not collated:
                    views, view_masks = self._default_local_views(x), None
                terms.extend(self._local_terms(views or {}, view_masks, targets, x.shape[0], x.device))
            loss_glcl = torch.stack(terms).mean() if c.glcl_reduction == "mean" else torch.stack(terms).sum()
            loss = loss + c.glcl_weight * loss_glcl
        if c.koleo_weight > 0:
            tokens = student[0][2]
            if c.koleo_target == "patch":  # each sequence's patch features W_p spread over the sphere
                loss_koleo = koleo_loss(tokens[:, self.student.encoder.num_prefix :])
            else:  # DINOv2: the batch's class tokens w_cls
                loss_koleo = koleo_loss(tokens[:, 0])
            loss = loss + c.koleo_weight * loss_koleo
        if present is not None:  # the per-sequence outputs back at every person's row
            first_mask = restore_rows(first_mask, present)
            states = tuple(restore_rows(s, present) for s in states) if states is not None else None
        return SLiMPreTrainingOutput(
            loss=loss,
            loss_mfm=loss_mfm,
            loss_glcl=loss_glcl,
            loss_koleo=loss_koleo,
            mask=first_mask,
            hidden_states=states,
        )

    def _local_terms(self, views: dict, masks: dict | None, targets: torch.Tensor, b: int, device) -> list:
        """The student's class distribution of each local view against the anchor's teacher targets: one term per
        view. `views`: frames -> (B, K, T_l, V, C) sequences; `masks`: frames -> (B K, T_l' V)."""
        c = self.config
        terms = []
        for frames, local in views.items():
            k = local.shape[1]
            view_mask = masks[frames].to(device).bool() if masks is not None and frames in masks else None
            logits = self.student(local.flatten(0, 1), view_mask)[0]  # (B K, K_proto)
            logits = rearrange(logits, "(b k) p -> k b p", b=b)
            terms.extend(dino_cross_entropy(logits[i], targets, c.student_temperature) for i in range(k))
        return terms


def _as_sequences(views: dict[int, torch.Tensor] | None) -> dict[int, torch.Tensor] | None:
    """frames -> (N, K, C, T_l, V, M) local views (the collator's) -> frames -> (N M, K, T_l, V, C) sequences."""
    if views is None:
        return None
    return {f: rearrange(v, "n k c t v m -> (n m) k t v c") if v.dim() == 6 else v for f, v in views.items()}


def _rows(values, present: torch.Tensor):
    """The rows of the present sequences of a (B, ...) tensor, of a (B K, ...) tensor of K rows per sequence (the
    local masks) or of each tensor of a frames -> tensor dict; None stays None."""
    if values is None:
        return None
    if isinstance(values, dict):
        return {f: _rows(v, present) for f, v in values.items()}
    keep = present.to(values.device)
    if values.shape[0] == keep.shape[0]:
        return values[keep]
    per_sequence = values.reshape(keep.shape[0], -1, *values.shape[1:])  # (B, K, ...)
    return per_sequence[keep].flatten(0, 1)


class SLiMForSkeletonClassification(SLiMPreTrainedModel):
    """The encoder (the pre-trained teacher's) with a linear-probe head (BatchNorm without affine + linear on
    [w_cls | mean W_p]; with ``freeze_encoder`` the linear-evaluation protocol) or a fine-tuning head (dropout +
    linear)."""

    loss_input_names = ("labels",)

    def __init__(self, config: SLiMConfig):
        super().__init__(config)
        self.slim = SLiMModel(config)
        features = 2 * config.hidden_size
        self.norm = (
            nn.BatchNorm1d(features, affine=False, eps=1e-6) if config.classifier_head == "linear_probe" else None
        )
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(features, config.num_labels)
        self.post_init()

    def apply_freezing(self) -> None:
        self.slim.requires_grad_(not self.config.freeze_encoder)

    def _reset_parameters(self):
        init.trunc_normal_(self.classifier.weight, std=0.01)  # MAMP's linear probe
        init.zeros_(self.classifier.bias)

    @can_return_tuple
    def forward(
        self, skeletons: torch.Tensor, labels: torch.Tensor | None = None, output_hidden_states: bool | None = None
    ) -> SkeletonClassifierOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) clips of ``config.num_frames`` frames.
            labels: optional (N,) class indices; when given, ``loss`` is the mean cross-entropy.
            output_hidden_states: also return every encoder block's output.

        Returns:
            `SkeletonClassifierOutput` with ``logits`` (N, num_labels) and ``pooler_output`` (N, 2 D).
        """
        features = self.slim(skeletons, output_hidden_states=output_hidden_states)
        pooled = features.pooler_output
        logits = self.classifier(self.dropout(self.norm(pooled) if self.norm is not None else pooled))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels.to(logits.device).long())
        return SkeletonClassifierOutput(
            loss=loss, logits=logits, pooler_output=pooled, hidden_states=features.hidden_states
        )


class SLiMTeacherCallback(TrainerCallback):
    """Moves SLiM's schedules with the Trainer: after every optimiser step, ``progress`` = step / max_steps (the
    teacher temperature's warm-up reads it) and the teacher's EMA update (momentum 0.994 -> 1, cosine); before every
    step, with ``config.weight_decay_end``, the weight decay of the parameter groups that have one (cosine from the
    Trainer's ``weight_decay``, DINOv2's schedule)."""

    def on_step_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        inner = getattr(model, "module", model)
        if not isinstance(inner, SLiMForPreTraining) or inner.config.weight_decay_end is None or optimizer is None:
            return
        for group in optimizer.param_groups:
            start = group.setdefault("initial_weight_decay", group.get("weight_decay", 0.0))
            if start > 0:  # the no-decay groups (biases, norms) stay at 0
                group["weight_decay"] = cosine_schedule(
                    start, inner.config.weight_decay_end, state.global_step, max(state.max_steps, 1)
                )

    def on_step_end(self, args, state, control, model=None, **kwargs):
        inner = getattr(model, "module", model)
        if isinstance(inner, SLiMForPreTraining):
            inner.update_teacher(state.global_step, state.max_steps)
