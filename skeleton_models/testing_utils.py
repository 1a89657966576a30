"""Helpers for tests and benchmarks that need no data: a tiny text-model configuration and an offline tokenizer.

Synthetic files in the raw benchmark formats are in `skeleton_models.data.raw_formats`.
"""

from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast, Qwen3Config

# The one tiny causal language model of the test suite (a Qwen3 with 2 layers of width 32): HocSLM's registered tiny
# configuration and every test that needs a language model use it.
TINY_TEXT_CONFIG = dict(
    model_type="qwen3",
    vocab_size=64,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    num_key_value_heads=1,
    head_dim=16,
    max_position_embeddings=128,
    tie_word_embeddings=True,
)


def tiny_text_config(tokenizer=None, **overrides) -> Qwen3Config:
    """`TINY_TEXT_CONFIG` as a `Qwen3Config`; with a `tokenizer`, its vocabulary size and special tokens."""
    fields = {k: v for k, v in TINY_TEXT_CONFIG.items() if k != "model_type"}
    if tokenizer is not None:
        fields.update(
            vocab_size=len(tokenizer), eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
        )
    return Qwen3Config(**{**fields, **overrides})


def train_bpe_tokenizer(texts: list[str], vocab_size: int = 300, extra_special_tokens: dict[str, str] | None = None):
    """A byte-level BPE tokenizer trained on `texts`, offline and deterministic (end-of-text: ``<|endoftext|>``,
    also the padding token). ``extra_special_tokens`` (name -> token, e.g. ``{"image_token": "<image>"}``) are
    added as special tokens."""
    extra = dict(extra_special_tokens or {})
    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>", *extra.values()],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", pad_token="<|endoftext|>", extra_special_tokens=extra
    )
