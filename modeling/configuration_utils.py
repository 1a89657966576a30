# Generated from skeleton_models/configuration_utils.py by utils/write_modeling.py; do not edit.
"""The configuration base every architecture shares: named presets and the model's input spec."""

from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig

from .registry import InputSpec

__all__ = ["SkeletonConfig"]


def _merge(base: dict, overrides: dict) -> dict:
    """``base`` updated with ``overrides``, recursing into values that are dicts on both sides."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class SkeletonConfig(PretrainedConfig):
    """Base of every skeleton_models configuration.

    - ``presets``: named configurations (keyword overrides of the defaults, which are the paper's NTU-60 setting);
      `from_preset` builds one.
    - `input_specs`: the named inputs the configured model takes (`InputSpec`); dummy inputs, input validation,
      processors and the common tests derive from it. The default is one skeleton input ``skeletons`` from the
      fields ``layout``, ``in_channels`` and ``num_persons``; configurations that nest their skeleton network's
      configuration override `input_specs` and `skeleton_input_overrides`.
    """

    presets = {}  # name -> keyword overrides; set by each architecture

    @classmethod
    def from_preset(
        cls,
        name: str | None = None,
        *,
        layout: str | None = None,
        in_channels: int | None = None,
        num_persons: int | None = None,
        **overrides,
    ):
        """Build a named configuration (None: the defaults) with overrides.

        ``layout``, ``in_channels`` and ``num_persons`` set the skeleton input wherever the architecture keeps it;
        other overrides are configuration fields (nested dicts, e.g. a sub-configuration, are merged).
        """
        if name is not None and name not in cls.presets:
            raise ValueError(f"unknown {cls.model_type} preset {name!r}; presets: {sorted(cls.presets)}")
        kwargs = dict(cls.presets[name]) if name is not None else {}
        skeleton = {"layout": layout, "in_channels": in_channels, "num_persons": num_persons}
        skeleton = {k: v for k, v in skeleton.items() if v is not None}
        if skeleton:
            kwargs = _merge(kwargs, cls.skeleton_input_overrides(**skeleton))
        return cls(**_merge(kwargs, overrides))

    @classmethod
    def skeleton_input_overrides(cls, **skeleton: Any) -> dict:
        """Configuration overrides that set the skeleton input (``layout``, ``in_channels``, ``num_persons``)."""
        return skeleton

    @staticmethod
    def check_blocks(hidden_sizes, strides, multiple: int = 1, of: str = "") -> None:
        """Raise a ValueError unless `hidden_sizes` and `strides` (one per block) are non-empty lists of the same
        length and every hidden size is a multiple of `multiple` (`of` names what it counts)."""
        if len(hidden_sizes) != len(strides) or not hidden_sizes:
            raise ValueError(
                f"hidden_sizes ({hidden_sizes}) and strides ({strides}) must be non-empty lists of the same length"
            )
        if any(h % multiple for h in hidden_sizes):
            raise ValueError(f"every hidden size must be a multiple of {of}, got {hidden_sizes}")

    @property
    def input_specs(self) -> tuple[InputSpec, ...]:
        """The inputs the configured model takes, in ``forward``'s order."""
        return (InputSpec("skeletons", "skeleton", self.layout, self.in_channels, self.num_persons),)

    @property
    def skeleton_input(self) -> InputSpec:
        """The first skeleton input (the body, for models with several)."""
        return next(spec for spec in self.input_specs if spec.kind == "skeleton")
