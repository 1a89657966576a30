"""What every skeleton model shares: the base `PreTrainedModel` (initialisation, freezing, saving, dummy inputs,
input checks) and the output dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from .registry import InputSpec, get_architecture
from .remote_code import remote_code_custom_pipelines, write_remote_code
from .skeletons import get_layout

__all__ = [
    "SkeletonClassifierOutput",
    "SkeletonModelOutput",
    "SkeletonPreTrainedModel",
    "check_features",
    "check_inputs",
    "check_skeletons",
    "make_dummy_inputs",
    "require",
]


@dataclass
class SkeletonModelOutput(ModelOutput):
    """Features of a skeleton backbone.

    Args:
        last_hidden_state: (N, C, T', V, M) features of the last block.
        pooler_output: (N, C) features averaged over persons, frames and joints.
        hidden_states: with ``output_hidden_states``, the output of every block, each (N, C_i, T_i, V, M).
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
        hidden_states: with ``output_hidden_states``, the output of every block, each (N, C_i, T_i, V, M).
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
    - **Initialisation.** Modules with a non-default initialisation implement ``_reset_parameters()``;
      ``_init_weights`` calls it after transformers' defaults, visiting children before parents so that a block
      can override its layers. transformers 5 skips, for code outside its package, every module that holds no
      parameter of its own (a container); `_initialize_weights` turns that shortcut off so that the containers'
      ``_reset_parameters`` run too. Loaded weights are never overwritten: every init goes through
      `transformers.initialization`, which leaves tensors flagged as loaded alone.
    - **Freezing.** A model that freezes parts of itself (from its configuration) does it in `apply_freezing`,
      which runs after construction and again after ``from_pretrained`` (transformers 5 loads weights as new
      parameters with ``requires_grad=True``).
    - **Saving** writes the architecture's remote-code bundle and ``auto_map`` next to the weights, so that the
      folder also loads with ``trust_remote_code=True`` where skeleton_models is not installed.
    - ``loss_input_names``: the inputs that, when given, make ``forward`` return a loss (``("labels",)`` for
      classifiers; empty for models whose forward always computes its loss).
    """

    base_model_prefix = "backbone"
    main_input_name = "skeletons"
    input_modalities = "video"
    accepts_loss_kwargs = False
    supports_gradient_checkpointing = True
    loss_input_names: tuple[str, ...] = ()

    def post_init(self):
        super().post_init()
        self.apply_freezing()

    def apply_freezing(self) -> None:
        """Set ``requires_grad`` of the parts the configuration freezes (the default freezes nothing)."""

    def load_checkpoint_state(self, checkpoint) -> None:
        """Restore what a checkpoint folder keeps outside its weights file (e.g. HocSLM's LoRA adapters of a
        language model loaded by name) when the Trainer resumes from it; the default has nothing to restore."""

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        """`PreTrainedModel.from_pretrained`, then the freezing policy again (see `apply_freezing`) of the model and
        of every skeleton model inside it, inner ones first."""
        loaded = super().from_pretrained(*args, **kwargs)
        model = loaded[0] if isinstance(loaded, tuple) else loaded  # (model, loading info) with output_loading_info
        for module in reversed(list(model.modules())):
            if isinstance(module, SkeletonPreTrainedModel):
                module.apply_freezing()
        return loaded

    def save_pretrained(self, save_directory, *args, **kwargs):
        """`PreTrainedModel.save_pretrained` plus the architecture's remote-code bundle and ``auto_map``."""
        is_main = kwargs.get("is_main_process", True)
        auto_map = write_remote_code(self, save_directory) if is_main else None
        if auto_map is not None:
            self.config.auto_map = auto_map
            if isinstance(self, get_architecture(self.config.model_type).classification_class or ()):
                self.config.custom_pipelines = remote_code_custom_pipelines(self.config.model_type)
        super().save_pretrained(save_directory, *args, **kwargs)

    def _initialize_weights(self, module: nn.Module, is_custom_code: bool = False):
        # Never take transformers' custom-code shortcut that skips modules without parameters of their own.
        super()._initialize_weights(module, is_custom_code=False)

    @torch.no_grad()
    def _init_weights(self, module: nn.Module):
        super()._init_weights(module)
        reset = getattr(module, "_reset_parameters", None)
        if reset is not None and not isinstance(module, nn.MultiheadAttention):
            reset()

    @property
    def dummy_inputs(self) -> dict[str, torch.Tensor]:
        """Small valid inputs for this model's configuration (no loss inputs)."""
        return make_dummy_inputs(self.config, with_loss_inputs=(), device=self.device)


# -- inputs --------------------------------------------------------------------------------------------------------
def make_dummy_inputs(
    config,
    batch_size: int = 2,
    frames: int = 16,
    with_loss_inputs: tuple[str, ...] = ("labels",),
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """Random valid inputs for a configuration, from its ``input_specs``.

    Skeletons are (N, C, T, V, M) normal noise (T = the spec's fixed frames, else `frames`; M = the spec's persons,
    else 2); features (N, C) normal noise, unless optional (a model that computes them from its skeleton input);
    images (N, C, H, W) normal noise (normalised pixels) of the spec's size, else 32 x 32; text inputs are
    ``<name>_ids`` (N, 6) random tokens with ``<name>_mask`` (the last row padded after 4 tokens); ``labels`` (N,)
    class indices are added when listed in `with_loss_inputs`.
    """
    inputs = {}
    for spec in config.input_specs:
        if spec.kind == "skeleton":
            v = get_layout(spec.layout).num_joints
            shape = (batch_size, spec.channels, spec.frames or frames, v, spec.persons or 2)
            inputs[spec.name] = torch.randn(shape, generator=generator)
        elif spec.kind == "text":
            if spec.vocab_size is None:  # a text model attached later decides the vocabulary
                continue
            ids = torch.randint(0, spec.vocab_size, (batch_size, 6), generator=generator)
            mask = torch.ones_like(ids)
            mask[-1, 4:] = 0
            inputs[f"{spec.name}_ids"], inputs[f"{spec.name}_mask"] = ids, mask
        elif spec.kind == "image":
            inputs[spec.name] = torch.randn((batch_size, spec.channels, *(spec.size or (32, 32))), generator=generator)
        elif spec.kind == "features":
            if not spec.optional:
                inputs[spec.name] = torch.randn((batch_size, spec.channels), generator=generator)
        else:  # video frames
            inputs[spec.name] = torch.rand((batch_size, spec.frames or 8, spec.channels, 32, 32), generator=generator)
    if "labels" in with_loss_inputs:
        inputs["labels"] = torch.randint(0, config.num_labels, (batch_size,), generator=generator)
    return {k: v.to(device) for k, v in inputs.items()} if device is not None else inputs


def check_skeletons(skeletons, spec: InputSpec) -> None:
    """Raise a ValueError that names what was expected when `skeletons` is not a finite (N, C, T, V, M) tensor of
    the spec's layout.

    Shapes and dtypes are checked in Python (they are static, also under ``torch.compile``). Finiteness is a value:
    checked with a ValueError for eager CPU tensors, and on an accelerator or inside a compiled graph with an
    asynchronous assert, so that a forward pass never waits for the device.
    """
    v = get_layout(spec.layout).num_joints
    frames = spec.frames or "T"
    persons = spec.persons or "any"
    expected = f"(N, C={spec.channels}, T={frames}, V={v}, M={persons}) for the {spec.layout} layout"
    name = f"`{spec.name}`"
    if not isinstance(skeletons, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape {expected}, got {type(skeletons).__name__}")
    if not skeletons.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor of shape {expected}, got dtype {skeletons.dtype}")
    if skeletons.dim() != 5:
        raise ValueError(
            f"{name} must have shape {expected}, got a {skeletons.dim()}-D tensor of shape {tuple(skeletons.shape)}"
        )
    n, c, t, v_in, m = skeletons.shape
    wrong = (
        c != spec.channels
        or v_in != v
        or (spec.persons and m != spec.persons)
        or (spec.frames and t != spec.frames)
        or n < 1
        or t < 1
        or m < 1  # (not min(n, t, m): that ties the batch size to the persons under torch.export)
    )
    if wrong:
        raise ValueError(f"{name} must have shape {expected}, got {tuple(skeletons.shape)}")
    require(torch.isfinite(skeletons).all(), f"{name} contains NaN or infinite values")


def check_image(images, spec: InputSpec) -> None:
    """Raise a ValueError that names what was expected when `images` is not a floating (N, C, H, W) tensor of the
    spec's channels (and size, when the spec fixes one)."""
    size = "H, W" if spec.size is None else f"H={spec.size[0]}, W={spec.size[1]}"
    expected = f"(N, C={spec.channels}, {size})"
    if not isinstance(images, torch.Tensor) or not images.is_floating_point() or images.dim() != 4:
        got = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"`{spec.name}` must be a floating-point tensor of shape {expected}, got {got}")
    if images.shape[1] != spec.channels or (spec.size is not None and tuple(images.shape[2:]) != tuple(spec.size)):
        raise ValueError(f"`{spec.name}` must have shape {expected}, got {tuple(images.shape)}")


def check_features(features, spec: InputSpec) -> None:
    """Raise a ValueError that names what was expected when `features` is not a floating (N, C) or (N, L, C) tensor
    of the spec's channels."""
    expected = f"(N, C={spec.channels}) or (N, L, C={spec.channels})"
    if not isinstance(features, torch.Tensor) or not features.is_floating_point() or features.dim() not in (2, 3):
        got = f"{features.dtype} {tuple(features.shape)}" if isinstance(features, torch.Tensor) else type(features)
        raise ValueError(f"`{spec.name}` must be a floating-point tensor of shape {expected}, got {got}")
    if features.shape[-1] != spec.channels:
        raise ValueError(f"`{spec.name}` must have shape {expected}, got {tuple(features.shape)}")
    require(torch.isfinite(features).all(), f"`{spec.name}` contains NaN or infinite values")


def require(ok: torch.Tensor, message: str, eager_message=None) -> None:
    """Fail unless the boolean tensor `ok` is true: a ValueError for eager CPU tensors (with ``eager_message()``
    when given, e.g. naming the offending rows), else -- on an accelerator or inside a compiled graph -- an
    asynchronous device-side assert with `message`, so that a forward pass never waits for the device and has no
    data-dependent branch."""
    if ok.device.type == "cpu" and not torch.compiler.is_compiling():
        if not ok:
            raise ValueError(eager_message() if eager_message is not None else message)
    else:
        torch._assert_async(ok, message)


def check_inputs(config, **inputs) -> None:
    """Check every given input against the configuration's ``input_specs`` (see `check_skeletons`,
    `check_features`)."""
    for spec in config.input_specs:
        if spec.kind == "skeleton" and spec.name in inputs:
            check_skeletons(inputs[spec.name], spec)
        elif spec.kind == "image" and inputs.get(spec.name) is not None:
            check_image(inputs[spec.name], spec)
        elif spec.kind == "features" and inputs.get(spec.name) is not None:
            check_features(inputs[spec.name], spec)
        elif spec.kind == "text" and inputs.get(f"{spec.name}_ids") is not None:
            ids = inputs[f"{spec.name}_ids"]
            if not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.is_floating_point():
                shape = tuple(ids.shape) if isinstance(ids, torch.Tensor) else type(ids).__name__
                raise ValueError(f"`{spec.name}_ids` must be an integer tensor of shape (N, L), got {shape}")
