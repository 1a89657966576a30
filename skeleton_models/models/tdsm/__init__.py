"""TDSM: zero-shot skeleton action recognition by text-conditioned one-step diffusion (Do et al., ICCV 2025), with
its frozen Shift-GCN / ST-GCN skeleton encoder inside (end to end from skeletons) or precomputed features."""

from ...processing_skeleton import SkeletonProcessor
from ...registry import Architecture, register_architecture
from . import convert_tdsm  # noqa: F401  (registers the conversion "tdsm")
from .configuration_tdsm import TDSMConfig
from .modeling_tdsm import (
    TDSMDenoiser,
    TDSMForZeroShotSkeletonClassification,
    TDSMModel,
    TDSMPreTrainedModel,
    alphas_cumprod,
    class_prompts,
    encode_class_texts,
    load_text_encoder,
)

__all__ = [
    "TDSMConfig",
    "TDSMDenoiser",
    "TDSMForZeroShotSkeletonClassification",
    "TDSMModel",
    "TDSMPreTrainedModel",
    "alphas_cumprod",
    "class_prompts",
    "encode_class_texts",
    "load_text_encoder",
]

register_architecture(
    Architecture(
        model_type="tdsm",
        config_class=TDSMConfig,
        base_model_class=TDSMModel,
        # A classifier over the configured classes (zero-shot: the unseen ones score, the rest are -inf), so that
        # the Trainer's evaluation, the ensembles and pipelines treat it as any skeleton classifier.
        task_classes={"AutoModelForVideoClassification": TDSMForZeroShotSkeletonClassification},
        tiny_config=dict(
            skeleton_config=dict(model_type="stgcn", hidden_sizes=[8, 8], strides=[1, 2], temporal_kernel_size=3),
            feature_size=8,
            text_hidden_size=8,
            num_text_tokens=4,
            hidden_size=24,
            num_hidden_layers=2,
            num_attention_heads=3,
            num_labels=5,
            seen_classes=[0, 1, 2],
            text_model_name_or_path=None,
        ),
        processor_class=SkeletonProcessor,
        title="TDSM",
        paper="Do, Kim. Bridging the skeleton-text modality gap: diffusion-powered modality alignment for "
        "zero-shot skeleton-based action recognition. ICCV 2025",
    )
)
