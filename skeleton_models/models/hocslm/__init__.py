"""HocSLM: HGLNet + the skeleton-language sequential fusion with a frozen causal language model
(Wang et al., arXiv 2603.27103)."""

from ...processing_skeleton import SkeletonTextProcessor
from ...registry import Architecture, register_architecture
from ...testing_utils import TINY_TEXT_CONFIG
from .configuration_hocslm import GEMMA3_270M_GGUF, HocSLMConfig
from .modeling_hocslm import (
    HocSLMForSkeletonClassification,
    HocSLMModel,
    HocSLMPreTrainedModel,
    gemma3_270m_gguf,
    text_model_location,
)

__all__ = [
    "GEMMA3_270M_GGUF",
    "HocSLMConfig",
    "HocSLMForSkeletonClassification",
    "HocSLMModel",
    "HocSLMPreTrainedModel",
    "gemma3_270m_gguf",
    "text_model_location",
]

register_architecture(
    Architecture(
        model_type="hocslm",
        config_class=HocSLMConfig,
        base_model_class=HocSLMModel,
        task_classes={"AutoModelForVideoClassification": HocSLMForSkeletonClassification},
        tiny_config=dict(
            skeleton_config=dict(hidden_sizes=[8, 8], strides=[1, 2], lse_hidden_size=4),
            text_model_name_or_path=None,
            text_config=TINY_TEXT_CONFIG,
            num_labels=5,
            num_prompt_tokens=2,
        ),
        processor_class=SkeletonTextProcessor,
        title="HocSLM",
        paper="Wang, Zuo, Li, Xia. HocSLM: a hierarchical global-local skeleton-language model for "
        "skeleton-based action recognition. arXiv:2603.27103",
    )
)
