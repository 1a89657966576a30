# Generated from skeleton_models/models/gfp/modeling_gfp.py by utils/write_modeling.py; do not edit.
"""GFP: masked skeleton modeling with hierarchical feature prediction and a jointly trained target generation
network (Sun et al., ICCV 2025), on MAMP's encoder and masking, with MAMP and SkeletonMAE as presets.

Shapes: N clips, M persons, B = N M sequences, T frames, V joints, C coordinates, T' = T / P_T temporal tokens,
L = T' V tokens (t-major, joints fastest), D the encoder width, C_t the target width.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from transformers import initialization as init
from transformers.utils import ModelOutput
from transformers.utils.generic import can_return_tuple

from .vit import SkeletonPatchEmbed, TransformerBlock, mlp, motion_aware_masking, patchify, person_sequences, present_persons, restore_rows
from .modeling_utils import SkeletonClassifierOutput, SkeletonModelOutput, SkeletonPreTrainedModel, check_inputs
from .skeletons import get_layout
from .configuration_gfp import GFPConfig

__all__ = [
    "GFPForPreTraining",
    "GFPForSkeletonClassification",
    "GFPModel",
    "GFPPreTrainedModel",
    "variance_covariance_losses",
]


def frame_motion(x: torch.Tensor) -> torch.Tensor:
    """MAMP's motion of (B, T, V, C) sequences: x[t + 1] - x[t], the last frame zero."""
    return F.pad(x[:, 1:] - x[:, :-1], (0, 0, 0, 0, 0, 1))


def standardize_patches(patches: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """MAMP's ``norm_skes_loss``: each patch minus its mean, over sqrt(its unbiased variance + eps)."""
    mean = patches.mean(dim=-1, keepdim=True)
    var = patches.var(dim=-1, keepdim=True)
    return (patches - mean) / (var + eps) ** 0.5


def variance_covariance_losses(
    z: torch.Tensor, gamma: float = 1.0, eps: float = 1e-4, per_position: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eqs. 4-5 on targets z (B, P, C_t): L_var = mean_i max(0, gamma - sqrt(Var_i + eps)) and
    L_cov = sum_{i != j} Cov_ij^2 / C_t, with batch statistics (unbiased, as VICReg) over the B P rows
    (``per_position=False``) or over B for each of the P positions, averaged."""
    z = z.float()
    if not per_position:
        z = z.reshape(1, -1, z.shape[-1])
    else:
        z = z.transpose(0, 1)  # (P, B, C)
    z = z - z.mean(dim=1, keepdim=True)
    rows, channels = z.shape[1], z.shape[2]
    std = torch.sqrt(z.var(dim=1) + eps)  # (P, C)
    loss_var = F.relu(gamma - std).mean()
    cov = z.transpose(1, 2) @ z / (rows - 1)  # (P, C, C)
    off_diagonal = cov.pow(2).sum(dim=(1, 2)) - torch.diagonal(cov, dim1=1, dim2=2).pow(2).sum(-1)
    loss_cov = (off_diagonal / channels).mean()
    return loss_var, loss_cov


class GFPPreTrainedModel(SkeletonPreTrainedModel):
    config_class = GFPConfig
    base_model_prefix = "gfp"
    _no_split_modules = ["TransformerBlock"]

    def _init_weights(self, module: nn.Module):
        if isinstance(module, nn.Linear):  # MAMP: xavier-uniform weights, zero biases (official JAX ViT)
            init.xavier_uniform_(module.weight)
            if module.bias is not None:
                init.zeros_(module.bias)
            return
        super()._init_weights(module)  # LayerNorm: 1, 0; then the module's own `_reset_parameters`


class GFPEncoder(nn.Module):
    """MAMP's encoder: patch embedding, temporal + joint embeddings, pre-norm blocks, final LayerNorm."""

    def __init__(self, config: GFPConfig, num_joints: int):
        super().__init__()
        d = config.hidden_size
        self.patch_embed = SkeletonPatchEmbed(config.in_channels, d, config.temporal_patch)
        self.temporal_embed = nn.Parameter(torch.empty(1, config.num_temporal_tokens, 1, d))
        self.joint_embed = nn.Parameter(torch.empty(1, 1, num_joints, d))
        rates = torch.linspace(0, config.drop_path_rate, config.num_hidden_layers, device="cpu").tolist()
        self.blocks = nn.ModuleList(
            TransformerBlock(
                d, config.num_attention_heads, config.mlp_ratio, drop_path=r, norm_eps=config.layer_norm_eps
            )
            for r in rates
        )
        self.norm = nn.LayerNorm(d, eps=config.layer_norm_eps)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, V, C) sequences -> (B, L, D) embedded tokens with their position embeddings."""
        tokens = self.patch_embed(rearrange(x, "b t v c -> b c t v")) + self.temporal_embed + self.joint_embed
        return tokens.flatten(1, 2)

    def forward(self, tokens: torch.Tensor, output_hidden_states: bool = False):
        """(B, L', D) embedded tokens (all, or the visible ones) -> (B, L', D) and the blocks' outputs."""
        states = [] if output_hidden_states else None
        for block in self.blocks:
            tokens = block(tokens)
            if states is not None:
                states.append(tokens)
        return self.norm(tokens), tuple(states) if states is not None else None

    def _reset_parameters(self):
        init.trunc_normal_(self.temporal_embed, std=0.02)  # MAMP: trunc_normal std 0.02
        init.trunc_normal_(self.joint_embed, std=0.02)


class GFPModel(GFPPreTrainedModel):
    """The encoder over every token (no masking): features for probes, retrieval and fine-tuning."""

    def __init__(self, config: GFPConfig):
        super().__init__(config)
        self.num_joints = get_layout(config.layout).num_joints
        self.encoder = GFPEncoder(config, self.num_joints)
        self.post_init()

    @can_return_tuple
    def forward(self, skeletons: torch.Tensor, output_hidden_states: bool | None = None) -> SkeletonModelOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) clips of ``config.num_frames`` frames.
            output_hidden_states: also return every block's output, each (N, D, T', V, M).

        Returns:
            `SkeletonModelOutput` with ``last_hidden_state`` (N, D, T', V, M) and ``pooler_output`` (N, D), the mean
            over persons, temporal tokens and joints (MAMP's linear-probe pooling).
        """
        check_inputs(self.config, skeletons=skeletons)
        n, m = skeletons.shape[0], skeletons.shape[-1]
        tokens, states = self.encoder(self.encoder.embed(person_sequences(skeletons)), bool(output_hidden_states))

        def grid(t: torch.Tensor) -> torch.Tensor:
            return rearrange(t, "(n m) (t v) d -> n d t v m", n=n, m=m, v=self.num_joints)

        last = grid(tokens)
        hidden = tuple(grid(s) for s in states) if states is not None else None
        return SkeletonModelOutput(last_hidden_state=last, pooler_output=last.mean(dim=(2, 3, 4)), hidden_states=hidden)


@dataclass
class GFPPreTrainingOutput(ModelOutput):
    """
    Args:
        loss: the pre-training loss: lambda_pred L_pred + sum over levels (alpha L_cov + beta L_var) for GFP; the
            masked-patch MSE for MAMP / SkeletonMAE.
        loss_pred: L_pred (GFP: over all targets; MAMP / SkeletonMAE: the masked-patch MSE).
        loss_var, loss_cov: the summed variance and covariance terms of the TGN outputs (GFP with a TGN).
        mask: (N M, L) 1 where a token was masked, per person sequence (all 0 for a padding person left out with
            ``ignore_padding_persons``).
        prediction: MAMP / SkeletonMAE: (N M, L, P_T C) the decoder's prediction of every patch (masked or not;
            the loss reads the masked ones), as MAMP's ``forward`` returns ``pred`` (zero for a padding person left
            out); None for GFP.
        hidden_states: with ``output_hidden_states``, the encoder blocks' outputs on the visible tokens, each
            (N M, L_visible, D) (zero for a padding person left out).
    """

    loss: torch.Tensor | None = None
    loss_pred: torch.Tensor | None = None
    loss_var: torch.Tensor | None = None
    loss_cov: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    prediction: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


def masking_from_mask(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The (``ids_keep``, ``mask``, ``ids_restore``) of `motion_aware_masking` for a given (B, L) mask, 1 where a
    token is masked, each row with the same number of visible tokens: the visible tokens in index order, then the
    masked ones (the order only permutes the encoder's tokens, which attention does not see: the output is the
    same up to rounding)."""
    if mask.dim() != 2:
        raise ValueError(f"mask must be (N M, L), 1 where a token is masked; got shape {tuple(mask.shape)}")
    masked = mask.bool()
    if not torch.equal(masked.to(mask.dtype), mask):
        raise ValueError("mask must hold 0 (visible) and 1 (masked) only")
    visible = (~masked).sum(1)
    if visible.min() != visible.max() or int(visible[0]) == 0:
        raise ValueError(f"every sequence needs the same number (> 0) of visible tokens, got {visible.tolist()}")
    ids_shuffle = masked.to(torch.uint8).argsort(dim=1, stable=True)
    return ids_shuffle[:, : int(visible[0])], masked.float(), ids_shuffle.argsort(dim=1)


class HierarchicalDecoder(nn.Module):
    """GFP's decoder (section 3.2): cascaded levels of temporal average pooling and transformer layers over the
    (B, T', V, D_dec) grid, a global level, and a projector per target level."""

    def __init__(self, config: GFPConfig, target_sizes: list[int]):
        super().__init__()
        d = config.decoder_hidden_size
        num_levels = len(config.pooling_kernels) if config.use_global_target else config.num_local_levels
        self.kernels = config.pooling_kernels[:num_levels]
        self.num_local_targets = config.num_local_levels
        self.levels = nn.ModuleList(
            nn.Sequential(
                *[
                    TransformerBlock(d, config.num_attention_heads, config.mlp_ratio, norm_eps=config.layer_norm_eps)
                    for _ in range(config.level_decoder_layers)
                ],
                nn.LayerNorm(d, eps=config.layer_norm_eps),
            )
            for _ in self.kernels
        )
        hidden = [config.projector_hidden_size] * (config.projector_layers - 1)
        self.projectors = nn.ModuleList(mlp([d, *hidden, size]) for size in target_sizes)
        self.global_mlp = None
        if config.use_global_target:
            num_joints = get_layout(config.layout).num_joints
            inputs = d if config.global_aggregation == "mean" else num_joints * d
            self.global_aggregation = config.global_aggregation
            self.global_mlp = mlp([inputs, config.global_hidden_size, d])  # section 4.2: a 2-layer MLP, hidden 2048

    def forward(self, grid: torch.Tensor) -> list[torch.Tensor]:
        """(B, T', V, D_dec) -> the predictions of every target level, each (B, L_j, C_t,j)."""
        features = []
        for kernel, level in zip(self.kernels, self.levels):
            grid = rearrange(grid, "b (t k) v d -> b t k v d", k=kernel).mean(2)  # temporal average pooling
            t = grid.shape[1]
            grid = rearrange(level(grid.flatten(1, 2)), "b (t v) d -> b t v d", t=t)
            features.append(grid.flatten(1, 2))
        features = features[: self.num_local_targets]
        if self.global_mlp is not None:
            last = grid.squeeze(1)  # (B, V, D): the last level has one temporal token
            pooled = last.mean(1) if self.global_aggregation == "mean" else last.flatten(1)
            features.append(self.global_mlp(pooled).unsqueeze(1))
        return [projector(f) for projector, f in zip(self.projectors, features)]


class GFPForPreTraining(GFPPreTrainedModel):
    """Masked skeleton modeling: GFP's hierarchical feature prediction with its target generation network, or the
    MAMP / SkeletonMAE patch reconstruction (``target_type``). ``forward`` always computes the loss."""

    always_computes_loss = True

    def __init__(self, config: GFPConfig):
        super().__init__(config)
        self.gfp = GFPModel(config)
        num_joints = self.gfp.num_joints
        d, dd = config.hidden_size, config.decoder_hidden_size
        self.patch_size = config.temporal_patch * config.in_channels  # P_T C values per patch
        self.decoder_embed = nn.Linear(d, dd)
        self.mask_token = nn.Parameter(torch.empty(1, 1, dd))
        self.decoder_temporal_embed = self.decoder_joint_embed = None
        if config.decoder_position_embeddings or config.target_type != "hierarchical":
            self.decoder_temporal_embed = nn.Parameter(torch.empty(1, config.num_temporal_tokens, 1, dd))
            self.decoder_joint_embed = nn.Parameter(torch.empty(1, 1, num_joints, dd))
        if config.target_type == "hierarchical":
            spans = config.level_spans[: config.num_local_levels]
            sizes = [s * self.patch_size for s in spans]  # each local target's receptive field, concatenated
            if config.use_global_target:
                sizes.append(config.num_temporal_tokens * num_joints * self.patch_size)
            self.target_inputs = sizes
            target_sizes = [config.target_size] * len(sizes) if config.use_tgn else sizes
            self.decoder = HierarchicalDecoder(config, target_sizes)
            self.target_network = None
            if config.use_tgn:
                self.target_network = nn.ModuleList()
                for i, size in enumerate(sizes):
                    is_global = config.use_global_target and i == len(sizes) - 1
                    width = config.tgn_global_hidden_size if is_global else config.tgn_hidden_size
                    width = int(width * config.tgn_width_multiplier)
                    self.target_network.append(
                        mlp([size, *[width] * (config.tgn_layers - 1), config.target_size], config.tgn_norm)
                    )
        else:
            self.decoder = nn.Sequential(
                *[
                    TransformerBlock(dd, config.num_attention_heads, config.mlp_ratio, norm_eps=config.layer_norm_eps)
                    for _ in range(config.decoder_num_layers)
                ],
                nn.LayerNorm(dd, eps=config.layer_norm_eps),
                nn.Linear(dd, self.patch_size),
            )
        self.post_init()

    def _reset_parameters(self):
        init.trunc_normal_(self.mask_token, std=0.02)  # MAMP
        if self.decoder_temporal_embed is not None:
            init.trunc_normal_(self.decoder_temporal_embed, std=0.02)
            init.trunc_normal_(self.decoder_joint_embed, std=0.02)

    # -- targets ---------------------------------------------------------------------------------------------------
    def target_signal(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The TGN's input (Table 4) of (B, T, V, C) sequences: (B, T', V, P_T C) motion, joints or masked joints."""
        c = self.config
        patches = patchify(x, c.temporal_patch)
        if c.tgn_input == "joint":
            return patches
        if c.tgn_input == "masked_joint":
            return patches * (1 - mask).view(*patches.shape[:3], 1).to(patches.dtype)
        if c.tgn_motion == "frames":
            return patchify(frame_motion(x), c.temporal_patch)
        return F.pad(patches[:, 1:] - patches[:, :-1], (0, 0, 0, 0, 0, 1))  # X_e[1:] - X_e[:-1], zero-padded

    def targets(self, signal: torch.Tensor) -> list[torch.Tensor]:
        """Each target level's input -- its receptive field's signal concatenated per joint token (B, L_j, s_j P),
        or the whole sequence flattened (B, 1, T' V P), standardised per vector with ``tgn_input_norm`` -- through
        the TGN (or as is, without one)."""
        c = self.config
        inputs = [
            rearrange(signal, "b (t s) v p -> b (t v) (s p)", s=span) for span in c.level_spans[: c.num_local_levels]
        ]
        if c.use_global_target:
            inputs.append(signal.flatten(1).unsqueeze(1))
        if c.tgn_input_norm:
            inputs = [F.layer_norm(z, z.shape[-1:], eps=1e-6) for z in inputs]
        if self.target_network is None:
            return inputs
        return [net(z) for net, z in zip(self.target_network, inputs)]

    # -- forward ---------------------------------------------------------------------------------------------------
    @can_return_tuple
    def forward(
        self,
        skeletons: torch.Tensor,
        output_hidden_states: bool | None = None,
        return_loss: bool = True,
        mask: torch.Tensor | None = None,
    ) -> GFPPreTrainingOutput:
        """
        Args:
            skeletons: (N, C, T, V, M) clips of ``config.num_frames`` frames.
            output_hidden_states: also return the encoder blocks' outputs on the visible tokens.
            return_loss: always true (the loss is the output); its presence tells the Trainer that this model
                returns a loss without labels, so that evaluation reports it (transformers' ``can_return_loss``).
            mask: (N M, L) a given mask instead of drawing one (1 where a token is masked, the same number of visible
                tokens in every sequence; sequences person-major per clip, tokens t-major): e.g. the mask an official
                MAMP run drew, to reproduce its loss. With ``ignore_padding_persons`` the rows of padding persons are
                not used.

        Returns:
            `GFPPreTrainingOutput` with the loss and its terms, ``mask`` (N M, L) and, for MAMP / SkeletonMAE, the
            predicted patches ``prediction``.
        """
        c = self.config
        check_inputs(c, skeletons=skeletons)
        x = person_sequences(skeletons)  # (B, T, V, C)
        sequences = (x.shape[0], x.shape[1] // c.temporal_patch * x.shape[2])  # (B, L)
        if mask is not None and tuple(mask.shape) != sequences:
            raise ValueError(f"mask must have shape {sequences} (N M, L), got {tuple(mask.shape)}")
        present = None
        if c.ignore_padding_persons:  # the padding persons enter no loss and no batch statistic
            present = present_persons(x)
            if not present.any():
                raise ValueError("every person sequence of the batch is all zero (padding): nothing to pre-train on")
            x = x[present]
            mask = mask[present.to(mask.device)] if mask is not None else None
        encoder = self.gfp.encoder
        tokens = encoder.embed(x)  # (B, L, D)
        if mask is not None:
            ids_keep, mask, ids_restore = masking_from_mask(mask.to(x.device))
        else:
            generator = None
            if not self.training:  # a fixed validation mask
                generator = torch.Generator(device=x.device).manual_seed(c.eval_mask_seed)
            ids_keep, mask, ids_restore = motion_aware_masking(
                patchify(x, c.temporal_patch), c.mask_ratio, c.mask_tau, generator
            )
        visible = torch.gather(tokens, 1, ids_keep.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))
        encoded, states = encoder(visible, bool(output_hidden_states))
        # the full grid: visible features back in place, the mask token elsewhere
        decoded = self.decoder_embed(encoded)
        b, length = mask.shape
        grid = torch.cat([decoded, self.mask_token.expand(b, length - decoded.shape[1], -1)], dim=1)
        grid = torch.gather(grid, 1, ids_restore.unsqueeze(-1).expand(-1, -1, grid.shape[-1]))
        grid = rearrange(grid, "b (t v) d -> b t v d", t=c.num_temporal_tokens)
        if self.decoder_temporal_embed is not None:
            grid = grid + self.decoder_temporal_embed + self.decoder_joint_embed
        prediction = None
        if c.target_type == "hierarchical":
            loss, loss_pred, loss_var, loss_cov = self._hierarchical_loss(grid, x, mask)
        else:
            prediction = self.decoder(grid.flatten(1, 2))  # (B, L, P_T C)
            loss = loss_pred = self._reconstruction_loss(prediction, x, mask)
            loss_var = loss_cov = None
        if present is not None:  # the per-sequence outputs back at every person's row
            mask, prediction = restore_rows(mask, present), restore_rows(prediction, present)
            states = tuple(restore_rows(s, present) for s in states) if states is not None else None
        return GFPPreTrainingOutput(
            loss=loss,
            loss_pred=loss_pred,
            loss_var=loss_var,
            loss_cov=loss_cov,
            mask=mask,
            prediction=prediction,
            hidden_states=states,
        )

    def _hierarchical_loss(self, grid, x, mask):
        """Eqs. 3-7: L_pred = (1/M) sum_j ||Z_p,j - Z_t,j||_F^2 per sequence over all M targets, averaged over the
        sequences; L_var / L_cov of each level's TGN output, summed over levels."""
        c = self.config
        predictions = self.decoder(grid)
        targets = self.targets(self.target_signal(x, mask))
        num_targets = sum(p.shape[1] for p in predictions)  # M (251 at the paper's size)
        squared = 0.0
        for prediction, target in zip(predictions, targets):
            target = target.detach() if c.detach_targets else target
            error = (prediction.float() - target.float()).pow(2)
            error = error.sum(-1) if c.prediction_reduction == "sum" else error.mean(-1)
            squared = squared + error.sum(1)
        loss_pred = (squared / num_targets).mean()
        loss = c.lambda_pred * loss_pred
        loss_var = loss_cov = None
        if self.target_network is not None:
            terms = [
                variance_covariance_losses(t, c.gamma, c.variance_eps, c.variance_over == "per_position")
                for t in targets
            ]
            loss_var = sum(v for v, _ in terms)
            loss_cov = sum(cv for _, cv in terms)
            loss = loss + c.alpha_cov * loss_cov + c.beta_var * loss_var
        return loss, loss_pred, loss_var, loss_cov

    def _reconstruction_loss(self, prediction, x, mask):
        """MAMP / SkeletonMAE: the per-patch MSE of the (B, L, P_T C) predicted patches to the (standardised) motion
        or coordinates, over masked patches."""
        c = self.config
        signal = frame_motion(x) if c.target_type == "motion" else x
        target = patchify(signal, c.temporal_patch).flatten(1, 2)
        if c.normalize_target:
            target = standardize_patches(target)
        per_patch = (prediction.float() - target.float()).pow(2).mean(-1)
        return (per_patch * mask).sum() / mask.sum()


class GFPForSkeletonClassification(GFPPreTrainedModel):
    """The encoder with MAMP's linear-probe head (``classifier_head="linear_probe"``: mean pooling, BatchNorm
    without affine, a linear layer; with ``freeze_encoder`` the linear-evaluation protocol) or its fine-tuning head
    (``"finetune"``)."""

    loss_input_names = ("labels",)

    def __init__(self, config: GFPConfig):
        super().__init__(config)
        self.gfp = GFPModel(config)
        d, v = config.hidden_size, self.gfp.num_joints
        if config.classifier_head == "linear_probe":
            self.norm = nn.BatchNorm1d(d, affine=False, eps=1e-6)  # MAMP's ActionHeadLinprobe
            self.classifier = nn.Linear(d, config.num_labels)
        else:  # MAMP's ActionHeadFinetune
            self.dropout = nn.Dropout(config.classifier_dropout)
            hidden = config.classifier_hidden_size
            self.head = nn.Sequential(nn.Linear(v * d, hidden), nn.BatchNorm1d(hidden), nn.ReLU())
            self.classifier = nn.Linear(hidden, config.num_labels)
        self.post_init()

    def apply_freezing(self) -> None:
        self.gfp.requires_grad_(not self.config.freeze_encoder)

    def _reset_parameters(self):
        if self.config.classifier_head == "linear_probe":
            init.trunc_normal_(self.classifier.weight, std=0.01)  # MAMP: trunc_normal std 0.01
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
            `SkeletonClassifierOutput` with ``logits`` (N, num_labels) and ``pooler_output`` (N, D).
        """
        features = self.gfp(skeletons, output_hidden_states=output_hidden_states)
        if self.config.classifier_head == "linear_probe":
            logits = self.classifier(self.norm(features.pooler_output))
        else:
            grid = self.dropout(features.last_hidden_state)  # (N, D, T', V, M)
            per_person = rearrange(grid.mean(2), "n d v m -> n m (v d)")
            logits = self.classifier(self.head(per_person.mean(1)))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels.to(logits.device).long())
        return SkeletonClassifierOutput(
            loss=loss, logits=logits, pooler_output=features.pooler_output, hidden_states=features.hidden_states
        )
