"""Feeding `datasets` splits to a model through a `SkeletonProcessor`, batch by batch."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset


class SkeletonClassificationDataset(Dataset):
    """A torch view of a skeleton `datasets.Dataset` that returns processed samples.

    Rows are read in batches (``__getitems__``, which torch's DataLoader calls with a whole batch of indices) from
    the Arrow table in numpy format and processed together, so training-time augmentation and evaluation-time
    cropping are vectorised over the batch. ``training`` selects the processor's training or evaluation path;
    the random state comes from torch's generator, so the Trainer's seed and each DataLoader worker's seed apply.

    Each sample is ``{"skeletons": (C, T, V, M) float32 tensor, "labels": int64 tensor}``; the default collator
    stacks them. With a `tokenizer`, the `text_column` is tokenized too (cut to `max_text_tokens` including the
    end-of-sequence token that closes each text) into ``description_ids`` and ``description_mask``, right-padded
    to the longest text of the batch.
    """

    def __init__(
        self,
        dataset,
        processor,
        training: bool = False,
        skeleton_column: str = "skeleton",
        label_column: str = "label",
        tokenizer=None,
        text_column: str = "description",
        max_text_tokens: int = 64,
    ):
        columns = [skeleton_column, label_column] + ([text_column] if tokenizer is not None else [])
        self.dataset = dataset.select_columns(columns).with_format("numpy")
        self.processor = processor
        self.training = training
        self.skeleton_column = skeleton_column
        self.label_column = label_column
        self.tokenizer = tokenizer
        self.text_column = text_column
        self.max_text_tokens = max_text_tokens

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: list[int]) -> list[dict[str, torch.Tensor]]:
        rows = self.dataset[list(indices)]
        clips = rows[self.skeleton_column]
        if isinstance(clips, np.ndarray) and clips.dtype != object:
            clips = list(clips)  # equal lengths come back stacked
        rng = np.random.default_rng(int(torch.randint(0, 2**62, ()).item())) if self.training else None
        batch = self.processor(clips, labels=rows[self.label_column], training=self.training, rng=rng)
        samples = [{"skeletons": s, "labels": y} for s, y in zip(batch["skeletons"], batch["labels"])]
        if self.tokenizer is not None:
            ids, mask = self._tokenize([str(text) for text in rows[self.text_column]])
            for sample, i, m in zip(samples, ids, mask):
                sample["description_ids"], sample["description_mask"] = i, m
        return samples

    def _tokenize(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        eos = self.tokenizer.eos_token_id
        tokens = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        tokens = [t[: self.max_text_tokens - (eos is not None)] + ([eos] if eos is not None else []) for t in tokens]
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else (eos or 0)
        length = max(len(t) for t in tokens)
        ids = torch.full((len(tokens), length), pad, dtype=torch.long)
        mask = torch.zeros((len(tokens), length), dtype=torch.long)
        for row, t in enumerate(tokens):
            ids[row, : len(t)] = torch.tensor(t, dtype=torch.long)
            mask[row, : len(t)] = 1
        return ids, mask
