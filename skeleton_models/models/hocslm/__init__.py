from .configuration_hocslm import HocSLMConfig
from .modeling_hocslm import HocSLMForSkeletonClassification, HocSLMModel, HocSLMPreTrainedModel

__all__ = ["HocSLMConfig", "HocSLMForSkeletonClassification", "HocSLMModel", "HocSLMPreTrainedModel"]
