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
    stacks them.
    """

    def __init__(
        self, dataset, processor, training: bool = False, skeleton_column: str = "skeleton", label_column: str = "label"
    ):
        self.dataset = dataset.select_columns([skeleton_column, label_column]).with_format("numpy")
        self.processor = processor
        self.training = training
        self.skeleton_column = skeleton_column
        self.label_column = label_column

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
        return [{"skeletons": s, "labels": y} for s, y in zip(batch["skeletons"], batch["labels"])]
