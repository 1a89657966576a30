"""The `skeleton-action-recognition` pipeline task: the same call for every registered classifier, on arrays and raw
files, equal to running the saved processor and model by hand."""

import numpy as np
import pytest
import torch
from transformers import pipeline

from skeleton_models import ARCHITECTURES
from skeleton_models.data import SkeletonParseError
from skeleton_models.pipelines import TASK

from .model_tester import processor_for
from .paths import REAL_SAMPLES

CLASSIFIERS = sorted(t for t, a in ARCHITECTURES.items() if a.classification_class is not None)
REAL_NTU = sorted((REAL_SAMPLES / "ntu_rgbd").glob("*.skeleton"))


def saved_checkpoint(model_type, folder, **overrides):
    arch = ARCHITECTURES[model_type]
    torch.manual_seed(0)
    model = arch.classification_class(arch.tiny(**overrides)).eval()
    processor = processor_for(model.config, 16)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return model, processor


@pytest.mark.parametrize("model_type", CLASSIFIERS)
def test_every_classifier_through_the_pipeline(model_type, tmp_path):
    model, processor = saved_checkpoint(model_type, tmp_path)
    classify = pipeline(TASK, model=str(tmp_path))
    clip = np.random.default_rng(0).normal(size=(40, 2, 25, 3)).astype(np.float32)
    processor = getattr(processor, "feature_extractor", processor)  # HocSLM's text side is for training only
    if processor.model_input_names[1:]:  # BHaRNet's hand expert reads the hands too: refused, the input named
        assert model_type == "bharnet"
        with pytest.raises(ValueError, match="also reads.*hands"):
            classify(clip)
        return
    result = classify(clip, top_k=3)
    with torch.no_grad():
        probs = model(**processor(clip)).logits.softmax(-1)[0]
    top = probs.topk(3)
    assert [r["label"] for r in result] == [model.config.id2label[i] for i in top.indices.tolist()]
    np.testing.assert_allclose([r["score"] for r in result], top.values.numpy(), rtol=1e-4, atol=1e-6)
    np.save(tmp_path / "clip.npy", clip)
    assert classify(str(tmp_path / "clip.npy"), top_k=3) == result  # a raw file, read by read_clip
    batch = classify([clip, clip[:20]], top_k=2)
    assert len(batch) == 2 and batch[0] == result[:2]


@pytest.mark.skipif(not REAL_NTU, reason="the real NTU samples are read from ../shared (absent here)")
def test_a_real_benchmark_file(tmp_path):
    saved_checkpoint("hglnet", tmp_path)
    result = pipeline(TASK, model=str(tmp_path))(str(REAL_NTU[0]))  # a real NTU RGB+D file
    assert len(result) == 5 and all(0 <= r["score"] <= 1 for r in result)
    assert [r["score"] for r in result] == sorted((r["score"] for r in result), reverse=True)


def test_bad_inputs_raise_clear_errors(tmp_path):
    saved_checkpoint("hglnet", tmp_path)
    classify = pipeline(TASK, model=str(tmp_path))
    (tmp_path / "broken.skeleton").write_text("not a skeleton file\n")
    with pytest.raises(SkeletonParseError, match="broken.skeleton"):
        classify(str(tmp_path / "broken.skeleton"))
    with pytest.raises(ValueError, match="clip array or a path"):
        classify({"skeleton": 1})


def test_a_model_with_other_inputs_is_refused_with_their_names(tmp_path):
    saved_checkpoint("bharnet", tmp_path, pooling="none", expertized=True, rgb_stream=True)  # BHaRNet-M: RGB too
    with pytest.raises(ValueError, match="also reads.*pixel_values"):
        pipeline(TASK, model=str(tmp_path))(np.zeros((20, 2, 25, 3), np.float32))
