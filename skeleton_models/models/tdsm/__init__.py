"""TDSM: zero-shot skeleton action recognition by text-conditioned one-step diffusion (Do et al., ICCV 2025).

Work in progress (issue 11): the denoiser, its training losses and the one-step zero-shot scoring of skeleton
features; not yet registered as an architecture (the skeleton encoders and the end-to-end path come next).
"""

from .configuration_tdsm import TDSMConfig
from .modeling_tdsm import (
    TDSMForZeroShotSkeletonClassification,
    TDSMModel,
    TDSMPreTrainedModel,
    alphas_cumprod,
    encode_class_texts,
)

__all__ = [
    "TDSMConfig",
    "TDSMForZeroShotSkeletonClassification",
    "TDSMModel",
    "TDSMPreTrainedModel",
    "alphas_cumprod",
    "encode_class_texts",
]
