import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, AutoProcessor, TrainingArguments

from skeleton_models import (
    HGLNetConfig,
    HGLNetForSkeletonClassification,
    HocSLMConfig,
    HocSLMForSkeletonClassification,
    HocSLMModel,
    SkeletonProcessor,
    SkeletonTextProcessor,
)
from skeleton_models.data import ModelInputsDataset, add_descriptions, get_class_descriptions
from skeleton_models.data.descriptions import load_descriptions
from skeleton_models.data.parsing import SkeletonParseError
from skeleton_models.models.hocslm.modeling_hocslm import SkeletonLanguageProjector
from skeleton_models.testing_utils import tiny_text_config, train_bpe_tokenizer
from skeleton_models.training import build_trainer, evaluate_ensemble

from .model_tester import ModelTesterMixin

SKELETON = dict(hidden_sizes=[8, 8], strides=[1, 2], lse_hidden_size=4)


class TestHocSLM(ModelTesterMixin):
    model_type = "hocslm"

    def expected_output_shapes(self, config, model_class):
        n, t, c, d = self.batch_size, self.frames, config.skeleton_config.hidden_sizes[-1], config.text_hidden_size
        shapes = {"pooler_output": (n, c), "skeleton_token": (n, 1, d)}
        if model_class is HocSLMModel:  # temporal strides 1, 2
            return {"last_hidden_state": (n, c, t // 2, 25, 2), **shapes}
        return {"logits": (n, config.num_labels), **shapes}

    def freezing_overrides(self):
        # the language model is frozen by default (Table 6); T1's first stage also freezes the skeleton encoder
        return [{}, {"freeze_skeleton_encoder": True, "lambda_cls": 0.0}]


@pytest.fixture(scope="module")
def tokenizer():
    """A byte-level BPE trained offline on the synthetic benchmark's descriptions (no download)."""
    return train_bpe_tokenizer([t for d in get_class_descriptions("synthetic") for t in d.values()])


@pytest.fixture(scope="module")
def text_model_dir(tmp_path_factory, tokenizer):
    """A tiny Qwen3 saved to a folder, standing in for Qwen3-4B loaded by name."""
    folder = tmp_path_factory.mktemp("tiny_qwen3")
    torch.manual_seed(1)
    AutoModelForCausalLM.from_config(tiny_text_config(tokenizer)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def hocslm(tokenizer, **kwargs) -> HocSLMForSkeletonClassification:
    torch.manual_seed(0)
    defaults = dict(
        skeleton_config=SKELETON,
        text_model_name_or_path=None,
        text_config=tiny_text_config(tokenizer),
        num_labels=4,
        num_prompt_tokens=3,
    )
    return HocSLMForSkeletonClassification(HocSLMConfig(**{**defaults, **kwargs}))


def descriptions(tokenizer, n=2):
    batch = tokenizer(["A person claps.", "Two people shake hands firmly."][:n], padding=True, return_tensors="pt")
    return batch["input_ids"], batch["attention_mask"]


def test_ssf_sequence_and_loss(tokenizer):
    model = hocslm(tokenizer, lambda_gen=0.5, lambda_cls=2.0)
    x, y = torch.randn(2, 3, 8, 25, 2), torch.tensor([1, 3])
    ids, mask = descriptions(tokenizer)
    out = model(x, labels=y, description_ids=ids, description_mask=mask)
    assert out.skeleton_token.shape == (2, 1, 32) and out.pooler_output.shape == (2, 8)
    torch.testing.assert_close(out.loss, 0.5 * out.loss_gen + 2.0 * out.loss_cls)
    torch.testing.assert_close(out.loss_cls, torch.nn.functional.cross_entropy(out.logits, y))
    inputs, attention, labels = model._language_inputs(out.skeleton_token, ids, mask)
    assert inputs.shape == (2, 1 + 3 + ids.shape[1], 32)  # [SK] ++ E_p ++ E_t (Eq. 13)
    assert (labels[:, :4] == -100).all()  # no loss on [SK] and the prompt
    assert (labels[:, 4:][mask == 0] == -100).all() and (labels[:, 4:][mask == 1] == ids[mask == 1]).all()
    torch.testing.assert_close(inputs[:, 0], out.skeleton_token[:, 0])
    # Eq. 14 as written (the default): each clip's description-token log-likelihoods summed, averaged over clips.
    log_probs = model.text_model(inputs_embeds=inputs, attention_mask=attention).logits.float().log_softmax(-1)
    per_clip = [
        -sum(log_probs[i, t - 1, labels[i, t]] for t in range(1, labels.shape[1]) if labels[i, t] != -100)
        for i in range(2)
    ]
    torch.testing.assert_close(out.loss_gen, sum(per_clip) / 2)
    # "token_mean": the mean over all description tokens, as transformers' causal-LM loss computes it.
    token_mean = hocslm(tokenizer, lambda_gen=0.5, lambda_cls=2.0, gen_loss_reduction="token_mean")
    manual = token_mean.text_model(inputs_embeds=inputs, attention_mask=attention, labels=labels).loss
    torch.testing.assert_close(token_mean(x, description_ids=ids, description_mask=mask).loss_gen, manual)
    torch.testing.assert_close(out.loss_gen / manual, (mask.sum() / 2).float(), rtol=0.35, atol=0)
    # The projector is Eq. 12: LayerNorm(W2 ReLU(W1 f_s + b1) + b2).
    p = model.hocslm.projector
    expected = p.norm(p.fc2(torch.relu(p.fc1(out.pooler_output))))
    torch.testing.assert_close(out.skeleton_token[:, 0], expected)


def test_language_model_is_frozen_and_only_ssf_and_skeleton_train(tokenizer):
    model = hocslm(tokenizer)
    trainable = {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"hocslm", "classifier", "prompt"}
    model.train()
    assert not model.text_model.training and model.hocslm.hglnet.training
    stage1 = hocslm(tokenizer, freeze_skeleton_encoder=True, lambda_cls=0.0)  # Table 6, T1 stage 1
    trainable = {n for n, p in stage1.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(("hocslm.projector", "prompt")) for n in trainable)
    stage1.train()
    assert not stage1.hocslm.hglnet.training
    x = torch.randn(2, 3, 8, 25, 2)
    out = stage1(x, labels=torch.tensor([0, 1]), description_ids=descriptions(tokenizer)[0])
    torch.testing.assert_close(out.loss, out.loss_gen)  # lambda_cls = 0: generation only


def test_classification_needs_no_language_model(tokenizer, text_model_dir, tmp_path):
    model = hocslm(tokenizer, text_config=None, text_model_name_or_path=str(text_model_dir), text_hidden_size=32)
    assert model.text_model is None
    x = torch.randn(2, 3, 8, 25, 2)
    model.eval()
    logits = model(x).logits  # the skeleton branch only
    with pytest.raises(ValueError, match="attach_text_model"):
        model(x, description_ids=descriptions(tokenizer)[0])
    model.attach_text_model()
    assert all(not p.requires_grad for p in model.text_model.parameters())
    model.save_pretrained(tmp_path)
    with safe_open(tmp_path / "model.safetensors", "pt") as f:
        keys = list(f.keys())
    assert keys and not any(k.startswith("text_model.") for k in keys)  # the language model comes from its repo
    loaded = HocSLMForSkeletonClassification.from_pretrained(tmp_path).eval()
    assert loaded.text_model is None
    torch.testing.assert_close(loaded(x).logits, logits)
    with_lm = HocSLMForSkeletonClassification.from_pretrained(tmp_path, load_text_model=True).eval()
    ids, mask = descriptions(tokenizer)
    model.eval()
    torch.testing.assert_close(
        with_lm(x, description_ids=ids, description_mask=mask).loss_gen,
        model(x, description_ids=ids, description_mask=mask).loss_gen,
    )
    with pytest.raises(ValueError, match="hidden size is 32"):
        hocslm(tokenizer, text_config=None, text_model_name_or_path=str(text_model_dir)).attach_text_model()


def test_lora_on_the_language_model_is_saved_and_restored(tokenizer, text_model_dir, tmp_path):
    model = hocslm(
        tokenizer, text_config=None, text_model_name_or_path=str(text_model_dir), text_hidden_size=32, text_lora_rank=2
    )
    model.attach_text_model()
    lora = {n for n, p in model.text_model.named_parameters() if p.requires_grad}
    assert lora and all("lora_" in n for n in lora)
    ids, mask = descriptions(tokenizer)
    x = torch.randn(2, 3, 8, 25, 2)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    for _ in range(2):
        optimizer.zero_grad()
        model(x, description_ids=ids, description_mask=mask).loss.backward()
        optimizer.step()
    model.save_pretrained(tmp_path)
    with safe_open(tmp_path / "model.safetensors", "pt") as f:
        assert not [k for k in f.keys() if k.startswith("text_model.")]  # neither the language model nor LoRA
    # the adapters are in peft's format, next to the weights
    assert {"adapter_config.json", "adapter_model.safetensors"} <= {
        p.name for p in (tmp_path / "text_adapter").iterdir()
    }
    with safe_open(tmp_path / "text_adapter" / "adapter_model.safetensors", "pt") as f:
        assert f.keys() and all("lora_" in k for k in f.keys())
    loaded = HocSLMForSkeletonClassification.from_pretrained(tmp_path, load_text_model=True).eval()
    assert {n for n, p in loaded.text_model.named_parameters() if p.requires_grad} == lora
    model.eval()
    torch.testing.assert_close(
        loaded(x, description_ids=ids, description_mask=mask).loss_gen,
        model(x, description_ids=ids, description_mask=mask).loss_gen,
    )

    # adapters that do not match the language model's are refused, naming the folder
    state = load_file(tmp_path / "text_adapter" / "adapter_model.safetensors")
    save_file(dict(list(state.items())[1:]), tmp_path / "text_adapter" / "adapter_model.safetensors")
    with pytest.raises(ValueError, match=r"text_adapter: the saved LoRA adapters .* \(1 missing"):
        HocSLMForSkeletonClassification.from_pretrained(tmp_path, load_text_model=True)


def test_from_a_trained_hglnet(tokenizer, tmp_path):
    torch.manual_seed(0)
    hglnet = HGLNetForSkeletonClassification(HGLNetConfig(**SKELETON, num_labels=4)).eval()
    hglnet.save_pretrained(tmp_path)
    model = HocSLMForSkeletonClassification.from_skeleton_model(
        tmp_path, text_model_name_or_path=None, text_config=tiny_text_config(tokenizer), num_prompt_tokens=2
    ).eval()
    x = torch.randn(3, 3, 8, 25, 2)
    with torch.no_grad():
        torch.testing.assert_close(model(x).logits, hglnet(x).logits)  # T1-T3 start from the trained encoder
    assert model.config.num_labels == 4 and model.config.skeleton_config.hidden_sizes == [8, 8]


def test_generate_description(tokenizer):
    model = hocslm(tokenizer).eval()
    x = torch.randn(2, 3, 8, 25, 2)
    ids = model.generate_description(x, max_new_tokens=5, do_sample=False)
    assert ids.shape[0] == 2 and ids.shape[1] <= 5
    texts = model.generate_description(x, max_new_tokens=5, tokenizer=tokenizer, do_sample=False)
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)


@pytest.mark.slow
def test_trains_evaluates_saves_and_reloads_with_the_trainer(tokenizer, synthetic_tiny, tmp_path):
    dataset = add_descriptions(synthetic_tiny, class_descriptions="synthetic")
    names = dataset["train"].features["label"].names
    model = hocslm(
        tokenizer,
        skeleton_config=HGLNetConfig.from_preset("hglnet-small").to_dict(),
        num_labels=len(names),
        id2label=dict(enumerate(names)),
    )
    processor = SkeletonTextProcessor(
        SkeletonProcessor.for_dataset(dataset, window_size=16), tokenizer, max_text_tokens=24
    )
    args = TrainingArguments(
        str(tmp_path / "run"),
        max_steps=4,
        per_device_train_batch_size=8,
        learning_rate=2e-3,
        logging_steps=2,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
        use_cpu=True,
    )
    trainer = build_trainer(model, processor, dataset["train"], dataset["test"], args)
    trainer.train()
    logged = [h for h in trainer.state.log_history if "loss" in h]
    assert logged and all({"loss_cls", "loss_gen"} <= set(h) for h in logged)
    metrics = trainer.evaluate()
    assert {"eval_top1", "eval_loss"} <= set(metrics)
    model.save_pretrained(tmp_path / "ckpt")
    processor.save_pretrained(tmp_path / "ckpt")
    reloaded = HocSLMForSkeletonClassification.from_pretrained(tmp_path / "ckpt").eval()
    reloaded_processor = AutoProcessor.from_pretrained(tmp_path / "ckpt")
    assert isinstance(reloaded_processor, SkeletonTextProcessor) and reloaded_processor.max_text_tokens == 24
    rows = dataset["test"].with_format("numpy")[:2]
    expected, got = (
        processor(rows["skeleton"], text=rows["description"]),
        reloaded_processor(rows["skeleton"], text=rows["description"]),
    )
    assert expected.keys() == got.keys() and all(torch.equal(expected[k], got[k]) for k in expected)
    # HocSLM checkpoints fuse like any classifier's (Table 7's streams are HocSLM models).
    fused = evaluate_ensemble([tmp_path / "ckpt"] * 2, dataset["test"], fusion="logits")
    assert fused.streams["joint (0)"]["top1"] == pytest.approx(metrics["eval_top1"])
    assert fused.fused["top1"] == pytest.approx(metrics["eval_top1"])
    x = expected["skeletons"]
    with torch.no_grad():
        torch.testing.assert_close(reloaded(x).logits, model.eval()(x).logits)
    assert len(reloaded.generate_description(x, max_new_tokens=4, tokenizer=tokenizer)) == 2


def test_description_files_and_fallback(synthetic_tiny, tmp_path, tokenizer):
    first = synthetic_tiny["train"][0]["sample_id"]
    (tmp_path / "d.json").write_text(json.dumps({first: "A person waves the left hand high."}))
    (tmp_path / "d.jsonl").write_text(json.dumps({"sample_id": first, "description": "Left hand waving."}) + "\n")
    assert load_descriptions(tmp_path / "d.json") == {first: "A person waves the left hand high."}
    assert load_descriptions(tmp_path / "d.jsonl") == {first: "Left hand waving."}
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\n')
    with pytest.raises(SkeletonParseError, match="sample_id"):
        load_descriptions(tmp_path / "bad.jsonl")
    # The synthetic benchmark carries per-clip descriptions: a file overrides them; keep_existing=False replaces
    # the column, and samples not in the file then get their class's description.
    own = add_descriptions(synthetic_tiny, tmp_path / "d.json", class_descriptions="synthetic")
    assert own["train"][0]["description"] == "A person waves the left hand high."
    assert own["train"][1]["description"] == synthetic_tiny["train"][1]["description"]
    out = add_descriptions(synthetic_tiny, tmp_path / "d.json", class_descriptions="synthetic", keep_existing=False)
    assert out["train"][0]["description"] == "A person waves the left hand high."
    second = out["train"][1]
    assert second["description"] == get_class_descriptions("synthetic")[second["label"]]["description"]
    assert out["train"].column_names == synthetic_tiny["train"].column_names
    with pytest.raises(ValueError, match="no description for sample"):
        add_descriptions(synthetic_tiny["test"], {}, keep_existing=False)
    assert len(get_class_descriptions("ntu60")) == 60 and len(get_class_descriptions("ntu120")) == 120
    assert get_class_descriptions("ntu120")[0]["label"] == "drink water"
    processor = SkeletonTextProcessor(SkeletonProcessor(window_size=8), tokenizer, max_text_tokens=6)
    wrapped = ModelInputsDataset(out["train"], processor)
    batch = wrapped.__getitems__([0, 1])
    ids, mask = batch[0]["description_ids"], batch[0]["description_mask"]
    assert ids.shape == mask.shape == batch[1]["description_ids"].shape and ids.shape[0] <= 6
    assert batch[0]["skeletons"].shape == (3, 8, 25, 2) and batch[0]["labels"].dim() == 0
    # A text that fits ends with the end-of-sequence token; the tokenizer pads on the right and truncates.
    short = processor(text=["a b", "a person waves the left hand high above the head"])
    assert short["description_ids"].shape == (2, 6) and short["description_mask"][0].tolist()[-1] == 0
    first_len = int(short["description_mask"][0].sum())
    assert short["description_ids"][0, first_len - 1] == tokenizer.eos_token_id


def datasets_cache_env(tmp_path):
    return dict(os.environ, HF_DATASETS_CACHE=str(tmp_path / "cache"))


@pytest.mark.slow
def test_train_hocslm_example_t3_from_a_trained_hglnet(text_model_dir, tmp_path):
    torch.manual_seed(0)
    hglnet = HGLNetForSkeletonClassification(HGLNetConfig.from_preset("hglnet-small", num_labels=23))
    hglnet.save_pretrained(tmp_path / "hglnet")
    SkeletonProcessor(window_size=8, stream="bone").save_pretrained(tmp_path / "hglnet")  # a bone-stream HGLNet
    script = Path(__file__).resolve().parents[1] / "examples" / "train_hocslm.py"
    cmd = [
        sys.executable,
        str(script),
        "--dataset",
        "synthetic",
        "--dataset_options",
        json.dumps({"num_subjects": 2, "num_replications": 1}),
        "--skeleton_model",
        str(tmp_path / "hglnet"),
        "--text_model_name_or_path",
        str(text_model_dir),
        "--output_dir",
        str(tmp_path / "out"),
        "--max_steps",
        "2",
        "--per_device_train_batch_size",
        "4",
        "--logging_steps",
        "1",
        "--report_to",
        "none",
        "--use_cpu",
        "true",
    ]
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=300,
        env=datasets_cache_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "loss_gen" in done.stdout + done.stderr
    out = tmp_path / "out"
    assert {"model.safetensors", "preprocessor_config.json", "tokenizer.json"} <= {p.name for p in out.iterdir()}
    model = HocSLMForSkeletonClassification.from_pretrained(out)
    assert model.text_model is None and model.config.text_model_name_or_path == str(text_model_dir)
    saved = SkeletonProcessor.from_pretrained(out)  # the HGLNet's stream and window, not the script's defaults
    assert (saved.stream, saved.window_size) == ("bone", 8)
    wrong = subprocess.run(
        [*cmd, "--stream", "joint"], capture_output=True, text=True, timeout=300, env=datasets_cache_env(tmp_path)
    )
    assert (
        wrong.returncode != 0 and "--stream joint differs from the --skeleton_model checkpoint's bone" in wrong.stderr
    )


REMOTE_LM_SCRIPT = """
import json, sys
sys.modules["skeleton_models"] = None  # importing the library fails in this process
import torch
torch.set_num_threads({threads})  # as the test process: the same summation order
from pathlib import Path
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import AutoModelForVideoClassification
folder, resaved = {folder!r}, {resaved!r}
data = load_file(folder + "/inputs.safetensors")
plain = AutoModelForVideoClassification.from_pretrained(folder, trust_remote_code=True)
assert plain.text_model is None
model = type(plain).from_pretrained(folder, load_text_model=True).eval()
trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad and n.startswith("text_model."))
with torch.no_grad():
    loss = model(data["x"], description_ids=data["ids"], description_mask=data["mask"]).loss_gen
model.save_pretrained(resaved)
with safe_open(resaved + "/model.safetensors", "pt") as f:
    keys = sorted(f.keys())
print(json.dumps({{"loss_gen": loss.item(), "keys": keys, "trainable_lm": trainable,
                  "adapter": sorted(p.name for p in Path(resaved, "text_adapter").iterdir())}}))
"""


def test_remote_code_hocslm_with_a_language_model_loaded_by_name(tokenizer, text_model_dir, tmp_path):
    """Remote code behaves as the library: `load_text_model=True` exists there, the language model's weights are
    not written on a re-save, its LoRA adapters are (in peft's format), and the frozen parts stay frozen."""
    from safetensors.torch import save_file

    model = hocslm(
        tokenizer, text_config=None, text_model_name_or_path=str(text_model_dir), text_hidden_size=32, text_lora_rank=2
    )
    model.attach_text_model()
    folder = tmp_path / "ckpt"
    model.save_pretrained(folder)
    ids, mask = descriptions(tokenizer)
    x = torch.randn(2, 3, 8, 25, 2)
    save_file({"x": x, "ids": ids, "mask": mask}, folder / "inputs.safetensors")
    with torch.no_grad():
        expected = model.eval()(x, description_ids=ids, description_mask=mask).loss_gen.item()
    with safe_open(folder / "model.safetensors", "pt") as f:
        keys = sorted(f.keys())
    script = REMOTE_LM_SCRIPT.format(
        folder=str(folder), resaved=str(tmp_path / "resaved"), threads=torch.get_num_threads()
    )
    env = dict(os.environ, HF_HOME=tempfile.mkdtemp(), HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["loss_gen"] == pytest.approx(expected, rel=1e-5)
    assert report["keys"] == keys and not any(k.startswith("text_model.") for k in keys)
    assert report["trainable_lm"] and all("lora_" in n for n in report["trainable_lm"])
    assert {"adapter_config.json", "adapter_model.safetensors"} <= set(report["adapter"])


@pytest.mark.parametrize("lora_rank", [0, 2])
def test_resume_with_a_language_model_attached_by_name(tokenizer, text_model_dir, synthetic_tiny, tmp_path, lora_rank):
    """A run interrupted at a checkpoint and resumed ends with the uninterrupted run's weights and losses, also when
    the language model is loaded by name (its frozen weights are not in the checkpoint) and has LoRA adapters."""
    from .resume_check import check_resume

    dataset = add_descriptions(synthetic_tiny, class_descriptions="synthetic")
    names = dataset["train"].features["label"].names
    processor = SkeletonTextProcessor(
        SkeletonProcessor.for_dataset(dataset, window_size=8), tokenizer, max_text_tokens=8
    )

    def make_model():
        model = hocslm(
            tokenizer,
            text_config=None,
            text_model_name_or_path=str(text_model_dir),
            text_hidden_size=32,
            text_lora_rank=lora_rank,
            num_labels=len(names),
        )
        model.attach_text_model()
        return model

    def make_trainer(model, training_args):
        return build_trainer(model, processor, dataset["train"], None, training_args)

    straight, resumed = check_resume(tmp_path, make_model, make_trainer, total_steps=6, stop_at=3, learning_rate=5e-3)
    logged = [h for h in resumed.state.log_history if "loss" in h]
    assert all({"loss_cls", "loss_gen"} <= set(h) for h in logged)


def test_bad_description_inputs_and_lambda_gen_zero(tokenizer):
    """NaN skeletons and an all-padding description are refused with a clear error; with lambda_gen = 0 (Table 6's
    T1/T2 stage 2) descriptions are documented to be unused: no language-model pass, loss_gen None."""
    model = hocslm(tokenizer).eval()
    x, labels = torch.randn(2, 3, 8, 25, 2), torch.tensor([0, 1])
    ids, mask = descriptions(tokenizer)
    with pytest.raises(ValueError, match="`skeletons` contains NaN"):
        model(x.clone().fill_(float("nan")), labels=labels)
    empty = mask.clone()
    empty[1] = 0
    with pytest.raises(ValueError, match=r"`description_mask` rows \[1\] hold no token"):
        model(x, labels=labels, description_ids=ids, description_mask=empty)
    calls = []
    off = hocslm(tokenizer, lambda_gen=0.0).eval()
    off.text_model.register_forward_hook(lambda *args: calls.append(1))
    out = off(x, labels=labels, description_ids=ids, description_mask=mask)
    assert out.loss_gen is None and not calls
    torch.testing.assert_close(out.loss, off.config.lambda_cls * out.loss_cls)
    with pytest.raises(ValueError, match="gen_loss_reduction must be one of"):
        HocSLMConfig(text_config=tiny_text_config(tokenizer), gen_loss_reduction="mean")


def test_generate_description_runs_in_eval_mode_and_restores_the_mode(tokenizer):
    torch.manual_seed(0)
    model = hocslm(tokenizer)
    x = torch.randn(2, 3, 8, 25, 2)
    model.train()
    stats = {n: b.clone() for n, b in model.named_buffers() if "running" in n}
    trained_mode = model.generate_description(x, max_new_tokens=4, do_sample=False)
    assert model.training and model.hocslm.training  # restored
    for name, before in stats.items():  # batch-norm statistics were used, not updated
        torch.testing.assert_close(dict(model.named_buffers())[name], before, rtol=0, atol=0)
    model.eval()
    torch.testing.assert_close(trained_mode, model.generate_description(x, max_new_tokens=4, do_sample=False))
    assert not model.training


def test_skeleton_token_scale_measured_at_attach_time_and_matched_on_request(tokenizer, text_model_dir, tmp_path):
    """[SK] is a LayerNorm output (norm sqrt(D*)); the language model's token-embedding norm is measured when it is
    attached or built, and ``skeleton_token_scale="match_embeddings"`` rescales [SK] to it."""
    x = torch.randn(2, 3, 8, 25, 2)
    model = hocslm(tokenizer).eval()
    assert model.config.text_embedding_norm is None  # built from text_config: its weights may still be loaded
    weight = model.text_model.get_input_embeddings().weight
    measured = model.measure_text_embedding_norm()
    assert measured == model.config.text_embedding_norm == pytest.approx(float(weight.norm(dim=-1).mean()), rel=1e-6)
    d = model.config.text_hidden_size
    with torch.no_grad():
        token = model.hocslm(x).skeleton_token
        plain = model._language_inputs(token)[0][:, 0]
    assert float(plain.norm(dim=-1).max()) <= d**0.5 * (1 + 1e-4)  # a LayerNorm output: at most sqrt(D*)
    model.config.skeleton_token_scale = "match_embeddings"
    with torch.no_grad():
        matched = model._language_inputs(token)[0][:, 0]
    torch.testing.assert_close(matched, plain * measured / d**0.5)  # sqrt(D*) -> the embeddings' mean norm
    model.config.text_embedding_norm = None  # unset: measured on the fly, the same value
    with torch.no_grad():
        torch.testing.assert_close(model._language_inputs(token)[0][:, 0], matched)
    model.config.text_embedding_norm = measured
    # a language model loaded by name is measured when attached; a saved checkpoint keeps the measured value
    by_name = hocslm(tokenizer, text_config=None, text_model_name_or_path=str(text_model_dir), text_hidden_size=32)
    assert by_name.config.text_embedding_norm is None
    by_name.attach_text_model()
    attached = by_name.text_model.get_input_embeddings().weight
    assert by_name.config.text_embedding_norm == pytest.approx(float(attached.norm(dim=-1).mean()), rel=1e-6)
    model.save_pretrained(tmp_path)
    assert HocSLMForSkeletonClassification.from_pretrained(tmp_path).config.text_embedding_norm == measured
    with pytest.raises(ValueError, match="skeleton_token_scale"):
        hocslm(tokenizer, skeleton_token_scale="unit")


def test_fixed_text_prompt_replaces_the_learnable_one(tokenizer, tmp_path):
    """Section 3.1's fixed text prompt: E_p = the language model's embeddings of the prompt's tokens; the learnable
    prompt is then unused, and the prompt is saved with the checkpoint."""
    torch.manual_seed(0)
    model = hocslm(tokenizer).eval()
    x = torch.randn(2, 3, 8, 25, 2)
    ids = model.set_text_prompt("describe the body motion", tokenizer)
    assert ids == tokenizer("describe the body motion", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        token = model.hocslm(x).skeleton_token
        inputs, mask, _ = model._language_inputs(token)
    expected = model.text_model.get_input_embeddings()(torch.tensor(ids))
    assert inputs.shape[1] == 1 + len(ids) and mask.shape[1] == 1 + len(ids)
    torch.testing.assert_close(inputs[:, 1:], expected.expand(2, -1, -1))
    text_ids, text_mask = descriptions(tokenizer)
    model.train()
    out = model(x, labels=torch.tensor([0, 1]), description_ids=text_ids, description_mask=text_mask)
    out.loss.backward()
    assert model.prompt.grad is None  # the learnable prompt is not used
    model.save_pretrained(tmp_path)
    assert HocSLMForSkeletonClassification.from_pretrained(tmp_path).config.prompt_ids == ids
    with pytest.raises(ValueError, match="has no tokens"):
        model.set_text_prompt("", tokenizer)


def test_the_skeleton_token_is_finite_for_any_finite_features():
    """[SK] = LayerNorm(W2 ReLU(W1 f_s + b1) + b2) (Eq. 12) is in range whatever the scale of f_s, but the variance
    of entries beyond ~1e19 overflows float32 (NaN before the guard): finite and equal to the formula in float64;
    for normal features, bit for bit the formula."""
    torch.manual_seed(0)
    projector = SkeletonLanguageProjector(16, 32)
    features = torch.randn(3, 16)
    with torch.no_grad():
        for p in projector.parameters():
            p.add_(0.1 * torch.randn_like(p))  # the LayerNorm's affine away from 1 and 0
        plain = projector.norm(projector.fc2(F.relu(projector.fc1(features)))).unsqueeze(1)
        assert torch.equal(projector(features), plain)
        exact = copy.deepcopy(projector).double()
        for scale in (1e10, 1e20, 1e30):
            hidden = exact.fc2(F.relu(exact.fc1(features.double() * scale)))
            expected = exact.norm(hidden).unsqueeze(1)
            got = projector(features * scale)
            assert torch.isfinite(got).all(), scale
            torch.testing.assert_close(got.double(), expected, rtol=1e-4, atol=1e-4)
