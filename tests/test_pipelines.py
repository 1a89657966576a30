"""The `skeleton-action-recognition` pipeline task: the same call for every registered classifier, on arrays, raw
files and videos, equal to running the saved processor and model by hand; and the clip pipeline that travels with
remote code."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import torch
from transformers import pipeline

from skeleton_models import ARCHITECTURES, load_checkpoint
from skeleton_models.clip_pipeline import REMOTE_TASK
from skeleton_models.data import SkeletonParseError, annotation_to_clip
from skeleton_models.pipelines import TASK
from skeleton_models.registry import CheckpointError
from skeleton_models.remote_code import processor_auto_map, remote_code_auto_map, remote_code_custom_pipelines

from .model_tester import MODELING, processor_for
from .paths import REAL_SAMPLES, needs_shared
from .pose_models import synthetic_frames, tiny_extractor, write_video

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


@needs_shared(REAL_SAMPLES / "ntu_rgbd" / "*.skeleton")
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


REMOTE_PIPELINE_SCRIPT = """
import json, sys
sys.modules["skeleton_models"] = None  # importing the library fails in this process
import numpy as np, torch, transformers
torch.set_num_threads({threads})
clip = np.load({clip!r})
classify = transformers.pipeline(model={folder!r}, trust_remote_code=True)  # the task from custom_pipelines
print(json.dumps({{"class": type(classify).__module__ + "." + type(classify).__name__,
                  "result": classify(clip, top_k=3)}}))
"""


@pytest.mark.parametrize("code_repo", [False, True], ids=["files-next-to-weights", "code-repository"])
def test_the_clip_pipeline_travels_with_remote_code(tmp_path, code_repo):
    """Without the library, ``pipeline(model=checkpoint, trust_remote_code=True)`` builds the clip pipeline named
    in the checkpoint's ``custom_pipelines`` from the saved files (or from the modeling/ code repository)."""
    folder = tmp_path / "checkpoint"
    model, processor = saved_checkpoint("hglnet", folder)
    config = json.loads((folder / "config.json").read_text())
    assert config["custom_pipelines"] == {
        REMOTE_TASK: {
            "impl": "clip_pipeline.SkeletonClipPipeline",
            "pt": ["AutoModelForVideoClassification"],
            "type": "multimodal",
        }
    }
    if code_repo:
        for path in folder.glob("*.py"):
            path.unlink()
        config["auto_map"] = remote_code_auto_map("hglnet", code_repo=str(MODELING))
        config["custom_pipelines"] = remote_code_custom_pipelines("hglnet", code_repo=str(MODELING))
        (folder / "config.json").write_text(json.dumps(config))
        saved = json.loads((folder / "preprocessor_config.json").read_text())
        saved["auto_map"] = processor_auto_map(type(processor), code_repo=str(MODELING))
        (folder / "preprocessor_config.json").write_text(json.dumps(saved))
    clip = np.random.default_rng(1).normal(size=(30, 2, 25, 3)).astype(np.float32)
    np.save(tmp_path / "clip.npy", clip)
    script = REMOTE_PIPELINE_SCRIPT.format(folder=str(folder), clip=str(tmp_path / "clip.npy"), threads=1)
    env = dict(os.environ, HF_HOME=tempfile.mkdtemp(), HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["class"].startswith("transformers_modules") and report["class"].endswith(".SkeletonClipPipeline")
    expected = pipeline(TASK, model=str(folder))  # the library's pipeline on the same checkpoint
    assert [r["label"] for r in report["result"]] == [r["label"] for r in expected(clip, top_k=3)]
    np.testing.assert_allclose(
        [r["score"] for r in report["result"]], [r["score"] for r in expected(clip, top_k=3)], rtol=1e-4
    )


def test_the_library_task_is_not_shadowed_by_the_saved_custom_pipeline(tmp_path):
    saved_checkpoint("hglnet", tmp_path)  # its config names the remote clip pipeline under another task name
    classify = pipeline(TASK, model=str(tmp_path))  # no trust_remote_code needed with the library
    assert type(classify).__name__ == "SkeletonActionRecognitionPipeline"


def coco17_checkpoint(folder):
    """A tiny HGLNet for coco17 clips (2-D keypoints + score), as trained on pyskl annotations."""
    arch = ARCHITECTURES["hglnet"]
    torch.manual_seed(0)
    model = arch.classification_class(arch.tiny(layout="coco17")).eval()
    processor = processor_for(model.config, 16)
    assert processor.layout == "coco17"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return model, processor


def test_a_video_to_actions(tmp_path):
    """A video file -> people's keypoints (tiny RT-DETR + VitPose) -> the coco17 clip -> the classifier."""
    model, processor = coco17_checkpoint(tmp_path / "checkpoint")
    extractor = tiny_extractor()
    video = write_video(tmp_path / "walk.mp4", synthetic_frames(num_frames=12))
    classify = pipeline(TASK, model=str(tmp_path / "checkpoint"), pose_extractor=extractor)
    result = classify(str(video), top_k=3)
    clip = annotation_to_clip(extractor(video), max_persons=processor.inputs[0]["num_persons"])
    with torch.no_grad():
        probs = model(**processor(clip)).logits.softmax(-1)[0]
    assert [r["label"] for r in result] == [model.config.id2label[i] for i in probs.topk(3).indices.tolist()]
    np.testing.assert_allclose([r["score"] for r in result], probs.topk(3).values.numpy(), rtol=1e-4, atol=1e-6)
    assert pipeline(TASK, model=str(tmp_path / "checkpoint"))(video, top_k=3, pose_extractor=extractor) == result


def test_a_video_needs_a_coco17_checkpoint(tmp_path):
    saved_checkpoint("hglnet", tmp_path / "ntu")  # ntu25 clips
    video = write_video(tmp_path / "walk.mp4", synthetic_frames(num_frames=4))
    classify = pipeline(TASK, model=str(tmp_path / "ntu"), pose_extractor=tiny_extractor())
    with pytest.raises(ValueError, match="walk.mp4: videos give coco17.*reads ntu25"):
        classify(str(video))


# -- no silent wrong answer: a checkpoint that does not load, a clip without a skeleton, non-finite scores -----------
def mismatched_checkpoint(folder):
    """An HGLNet checkpoint folder whose config.json is an ST-GCN's: the weights are an HGLNet's."""
    saved_checkpoint("hglnet", folder / "hglnet")
    saved_checkpoint("stgcn", folder / "stgcn")
    shutil.copy(folder / "stgcn" / "config.json", folder / "hglnet" / "config.json")
    return folder / "hglnet"


def test_a_config_that_does_not_match_the_weights_is_refused(tmp_path):
    """AutoModelForVideoClassification would build an ST-GCN with random weights (a logged warning) and the
    pipeline would rank classes with it; the pipeline loads with load_checkpoint, which names the folder and keys."""
    folder = mismatched_checkpoint(tmp_path)
    expected = (
        rf"^{folder}: the weights do not match config.json \(STGCNForSkeletonClassification\): missing \d+ \(stgcn\."
    )
    with pytest.raises(CheckpointError, match=expected + r".*; unexpected \d+ \(hglnet\..* and \d+ more\)$"):
        pipeline(TASK, model=str(folder))
    with pytest.raises(CheckpointError, match=expected):
        load_checkpoint(folder)


def test_weights_of_another_shape_are_refused(tmp_path):
    saved_checkpoint("hglnet", tmp_path, num_labels=5)
    config = json.loads((tmp_path / "config.json").read_text())
    config["id2label"] = {str(i): f"class {i}" for i in range(7)}  # 7 classes: the saved classifier has 5
    config["label2id"] = {f"class {i}": i for i in range(7)}
    (tmp_path / "config.json").write_text(json.dumps(config))
    expected = (
        r"of another shape 2 \(classifier.bias \(5,\) in the file vs \(7,\) in the model, classifier.weight \(5, "
    )
    with pytest.raises(CheckpointError, match=expected):
        pipeline(TASK, model=str(tmp_path))


def test_a_base_model_checkpoint_is_not_a_classifier(tmp_path):
    arch = ARCHITECTURES["hglnet"]
    model = arch.base_model_class(arch.tiny())
    model.save_pretrained(tmp_path)
    processor_for(model.config, 16).save_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match=f"{tmp_path}: holds a HGLNetModel, not HGLNetForSkeletonClassification"):
        pipeline(TASK, model=str(tmp_path))


def test_a_model_instance_is_used_as_given(tmp_path):
    model, processor = saved_checkpoint("hglnet", tmp_path)
    classify = pipeline(TASK, model=model, feature_extractor=processor)
    assert classify.model is model


def test_non_finite_scores_are_an_error_naming_the_clip(tmp_path):
    """Finite weights and a finite clip, but the logits overflow: the pipeline refuses to rank NaNs."""
    model, _ = saved_checkpoint("hglnet", tmp_path)
    with torch.no_grad():
        model.classifier.weight.fill_(1e38)
    model.save_pretrained(tmp_path)
    classify = pipeline(TASK, model=str(tmp_path))
    clip = np.random.default_rng(0).normal(size=(30, 2, 25, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=r"^the clip: the model's scores are not finite"):
        classify(clip)
    with pytest.raises(ValueError, match=r"^clip 0: the model's scores are not finite"):
        classify([clip, clip])
    np.save(tmp_path / "clip.npy", clip)
    with pytest.raises(ValueError, match=r"clip.npy: the model's scores are not finite"):
        classify(str(tmp_path / "clip.npy"))


def test_an_all_zero_clip_is_refused(tmp_path):
    saved_checkpoint("hglnet", tmp_path)
    classify = pipeline(TASK, model=str(tmp_path))
    clip = np.random.default_rng(0).normal(size=(30, 2, 25, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="^the clip: all values are zero: no skeleton to classify"):
        classify(np.zeros_like(clip))
    with pytest.raises(ValueError, match="^clip 2: all values are zero"):
        classify([clip, clip, np.zeros_like(clip)])
    np.save(tmp_path / "zeros.npy", np.zeros_like(clip))
    with pytest.raises(ValueError, match="zeros.npy: all values are zero"):
        classify(str(tmp_path / "zeros.npy"))


def test_errors_name_the_clip_of_a_batch_and_the_file(tmp_path):
    saved_checkpoint("hglnet", tmp_path)
    classify = pipeline(TASK, model=str(tmp_path))
    clip = np.random.default_rng(0).normal(size=(30, 2, 25, 3)).astype(np.float32)
    wrong = np.ones((30, 2, 17, 3), np.float32)  # coco17 joints for an ntu25 checkpoint
    with pytest.raises(ValueError, match=r"^clip 2: skeletons: expected shape \(T, M, V=25"):
        classify([clip, clip, wrong])
    with pytest.raises(ValueError, match=r"^clip 1: skeleton-action-recognition takes a \(T, M, V, C\) clip.*got dict"):
        classify([clip, {"skeleton": clip}])
    np.save(tmp_path / "wrong.npy", wrong)
    with pytest.raises(ValueError, match=r"wrong.npy: skeletons: expected shape \(T, M, V=25"):
        classify([clip, str(tmp_path / "wrong.npy")])
    with pytest.raises(ValueError, match=r"^the clip: skeletons: expected shape \(T, M, V=25"):
        classify(wrong)


@pytest.mark.parametrize("top_k", [0, -1, 2.5, True, "3"])
def test_top_k_must_be_a_positive_integer(tmp_path, top_k):
    saved_checkpoint("hglnet", tmp_path)
    classify = pipeline(TASK, model=str(tmp_path))
    clip = np.random.default_rng(0).normal(size=(30, 2, 25, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=f"top_k must be a positive integer, got {top_k!r}"):
        classify(clip, top_k=top_k)
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        pipeline(TASK, model=str(tmp_path), top_k=top_k)
    assert len(classify(clip, top_k=np.int64(2))) == 2


def test_an_empty_list_gives_an_empty_list(tmp_path):
    """As transformers' pipelines do for an empty generator (their chat check reads inputs[0] of a list)."""
    saved_checkpoint("hglnet", tmp_path)
    classify = pipeline(TASK, model=str(tmp_path))
    assert classify([]) == []
    assert list(classify(clip for clip in [])) == []
