"""What every skeleton model shares: the base `PreTrainedModel`, output dataclasses and input validation."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput


@dataclass
class SkeletonModelOutput(ModelOutput):
    """Features of a skeleton backbone.

    Args:
        last_hidden_state: (N, C, T', V, M) features of the last block.
        pooler_output: (N, C) features averaged over persons, frames and joints.
        hidden_states: optional tuple of per-block features, each (N, C_i, T_i, V, M).
    """

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


@dataclass
class SkeletonClassifierOutput(ModelOutput):
    """Output of a skeleton classifier.

    Args:
        loss: scalar cross-entropy, when `labels` were given.
        logits: (N, num_labels) class scores before softmax.
        pooler_output: (N, C) the pooled features the classifier saw.
        hidden_states: optional tuple of per-block features, each (N, C_i, T_i, V, M).
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


class SkeletonPreTrainedModel(PreTrainedModel):
    """Base class of every skeleton model in the library.

    - ``main_input_name = "skeletons"``: the Trainer's ``include_for_metrics=["inputs"]`` collects them.
    - ``accepts_loss_kwargs = False``: forward computes a per-batch mean loss, so the Trainer must not rescale it
      by gradient-accumulation steps or world size (../shared/research/hf_ecosystem.md section 2.1).
    - Modules with a non-default initialisation implement ``_reset_parameters()``; ``_init_weights`` calls it
      after transformers' defaults (children are visited before parents, so a block can override its layers).
      It uses `transformers.initialization`, which never overwrites loaded weights.
    """

    base_model_prefix = "backbone"
    main_input_name = "skeletons"
    input_modalities = "video"
    accepts_loss_kwargs = False
    supports_gradient_checkpointing = True

    # <library-only> (left out of the remote-code bundles: there transformers copies the flat code itself)
    def save_pretrained(self, save_directory, *args, **kwargs):
        """`PreTrainedModel.save_pretrained`, plus this architecture's remote-code bundle and ``auto_map``, so that
        the folder also loads with ``trust_remote_code=True`` where skeleton_models is not installed."""
        from .hub import remote_code_auto_map, write_remote_code

        self.config.auto_map = remote_code_auto_map(self.config.model_type)
        kept = self.state_dict_for_saving()
        if kept is not None:
            given = kwargs.get("state_dict")
            kwargs["state_dict"] = kept if given is None else {k: v for k, v in given.items() if k in kept}
        super().save_pretrained(save_directory, *args, **kwargs)
        if kwargs.get("is_main_process", True):
            write_remote_code(self.config.model_type, save_directory)

    def state_dict_for_saving(self) -> dict[str, torch.Tensor] | None:
        """The weights to save, when a model leaves some out (None: all of them)."""
        return None

    # </library-only>

    @torch.no_grad()
    def _init_weights(self, module: nn.Module):
        super()._init_weights(module)
        reset = getattr(module, "_reset_parameters", None)
        if reset is not None and not isinstance(module, nn.MultiheadAttention):
            reset()


def check_skeletons(skeletons: torch.Tensor, in_channels: int, num_joints: int, num_persons: int | None) -> None:
    """Raise a ValueError that names what was expected when `skeletons` is not a finite (N, C, T, V, M) tensor."""
    expected = f"(N, C={in_channels}, T, V={num_joints}, M={num_persons if num_persons else 'any'})"
    if not isinstance(skeletons, torch.Tensor):
        raise ValueError(f"`skeletons` must be a torch.Tensor of shape {expected}, got {type(skeletons).__name__}")
    if not skeletons.is_floating_point():
        raise ValueError(f"`skeletons` must be a floating-point tensor, got dtype {skeletons.dtype}")
    if skeletons.dim() != 5:
        raise ValueError(
            f"`skeletons` must have shape {expected}, got a {skeletons.dim()}-D tensor "
            f"of shape {tuple(skeletons.shape)}"
        )
    n, c, t, v, m = skeletons.shape
    if c != in_channels or v != num_joints or (num_persons and m != num_persons) or t < 1 or n < 1:
        raise ValueError(f"`skeletons` must have shape {expected}, got {tuple(skeletons.shape)}")
    if not torch.isfinite(skeletons).all():
        raise ValueError("`skeletons` contains NaN or infinite values")
