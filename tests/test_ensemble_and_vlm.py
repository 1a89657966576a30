import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import TrainingArguments

from skeleton_models import HGLNetConfig, HGLNetForSkeletonClassification, SkeletonProcessor
from skeleton_models.data import load_descriptions
from skeleton_models.testing_utils import tiny_text_config, train_bpe_tokenizer
from skeleton_models.training import build_trainer, evaluate_ensemble

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def stream_checkpoints(synthetic_tiny, tmp_path_factory):
    """Two small models of the same classes on two streams, trained a few steps."""
    names = synthetic_tiny["train"].features["label"].names
    folders = []
    for stream in ("joint", "bone_motion"):
        torch.manual_seed(0)
        model = HGLNetForSkeletonClassification(
            HGLNetConfig(
                hidden_sizes=[8, 8],
                strides=[1, 2],
                lse_hidden_size=4,
                num_labels=len(names),
                id2label=dict(enumerate(names)),
            )
        )
        processor = SkeletonProcessor.for_dataset(synthetic_tiny, window_size=8, stream=stream)
        folder = tmp_path_factory.mktemp(stream)
        args = TrainingArguments(
            str(folder / "run"),
            max_steps=3,
            per_device_train_batch_size=8,
            learning_rate=1e-2,
            report_to="none",
            save_strategy="no",
            disable_tqdm=True,
            use_cpu=True,
        )
        build_trainer(model, processor, synthetic_tiny["train"], None, args).train()
        model.save_pretrained(folder)
        processor.save_pretrained(folder)
        folders.append(folder)
    return folders


def test_ensemble_fuses_the_streams_with_weights(stream_checkpoints, synthetic_tiny):
    test = synthetic_tiny["test"]
    result = evaluate_ensemble(stream_checkpoints, test, weights=[0.6, 0.4])
    assert list(result.streams) == ["joint", "bone_motion"]
    # each checkpoint run directly -- its saved model and processor on the raw test clips -- not through the Trainer
    rows = test.with_format("numpy")[:]
    labels = rows["label"]

    def direct(checkpoint):
        model = HGLNetForSkeletonClassification.from_pretrained(checkpoint).eval()
        with torch.no_grad():
            inputs = SkeletonProcessor.from_pretrained(checkpoint)(list(rows["skeleton"]), training=False)
            return model(**inputs).logits

    z_joint, z_motion = (direct(c) for c in stream_checkpoints)
    p_joint, p_motion = z_joint.softmax(-1).numpy(), z_motion.softmax(-1).numpy()
    np.testing.assert_allclose(result.probabilities, 0.6 * p_joint + 0.4 * p_motion, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(result.labels, labels)
    top1 = float(((0.6 * p_joint + 0.4 * p_motion).argmax(1) == labels).mean())
    assert result.fused["top1"] == pytest.approx(top1)
    assert result.streams["joint"]["top1"] == pytest.approx(float((p_joint.argmax(1) == labels).mean()))
    assert result.streams["bone_motion"]["top1"] == pytest.approx(float((p_motion.argmax(1) == labels).mean()))
    assert not np.allclose(p_joint, p_motion, atol=1e-3)  # two different streams: the weights matter
    with pytest.raises(ValueError, match="one weight per checkpoint"):
        evaluate_ensemble(stream_checkpoints, test, weights=[1.0])
    # CTR-GCN's fusion: the weighted sum of the logits (its probabilities: the softmax of that sum).
    summed = evaluate_ensemble(stream_checkpoints, test, weights=[0.6, 0.4], fusion="logits")
    expected = (0.6 * z_joint + 0.4 * z_motion).softmax(-1).numpy()
    np.testing.assert_allclose(summed.probabilities, expected, rtol=1e-5, atol=1e-6)
    assert summed.fusion == "logits" and summed.fused["top1"] == pytest.approx(
        float((expected.argmax(1) == labels).mean())
    )
    assert not np.allclose(summed.probabilities, result.probabilities, atol=1e-4)
    with pytest.raises(ValueError, match="fusion must be one of"):
        evaluate_ensemble(stream_checkpoints, test, fusion="max")


def test_ensemble_refuses_different_classes(stream_checkpoints, synthetic_tiny, tmp_path):
    other = HGLNetForSkeletonClassification(HGLNetConfig(hidden_sizes=[8, 8], strides=[1, 2], num_labels=3))
    other.save_pretrained(tmp_path)
    SkeletonProcessor(window_size=8).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="same classes"):
        evaluate_ensemble([stream_checkpoints[0], tmp_path], synthetic_tiny["test"])


def build_tiny_vlm(folder: Path) -> None:
    """A random LLaVA-style image-text-to-text model with a chat template, built offline."""
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    tokenizer = train_bpe_tokenizer(
        ["a person raises the right arm", "describe the body motion"], extra_special_tokens={"image_token": "<image>"}
    )
    template = (
        "{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}{% if c['type'] == 'image' %}"
        "<image>{% else %}{{ c['text'] }}{% endif %}{% endfor %}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant:{% endif %}"
    )
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
        tokenizer=tokenizer,
        chat_template=template,
        patch_size=16,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    )
    vision = CLIPVisionConfig(
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=16,
        projection_dim=16,
    )
    text = tiny_text_config(tokenizer, num_hidden_layers=1, max_position_embeddings=512, tie_word_embeddings=False)
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(0)
    LlavaForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)


@pytest.mark.slow
def test_generate_descriptions_with_a_tiny_vlm(tmp_path):
    from PIL import Image

    build_tiny_vlm(tmp_path / "vlm")
    videos = tmp_path / "rgb"
    rng = np.random.default_rng(0)
    for name in ("S001C001P001R001A001_rgb", "S001C001P001R001A002_rgb"):
        (videos / name).mkdir(parents=True)
        for i in range(12):
            Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(videos / name / f"{i:06d}.png")
    (videos / "empty").mkdir()
    output = tmp_path / "descriptions.jsonl"
    cmd = [
        sys.executable,
        str(ROOT / "examples" / "generate_descriptions.py"),
        "--model",
        str(tmp_path / "vlm"),
        "--videos",
        str(videos),
        "--output",
        str(output),
        "--num_frames",
        "3",
        "--max_new_tokens",
        "6",
    ]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "skipped" in done.stdout and "empty" in done.stdout
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["sample_id"] for r in records] == ["S001C001P001R001A001", "S001C001P001R001A002"]
    assert all(isinstance(r["description"], str) for r in records)
    assert set(load_descriptions(output)) == {"S001C001P001R001A001", "S001C001P001R001A002"}
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert again.returncode == 0 and "1 clips to describe (2 already" in again.stdout  # only the empty folder is left
