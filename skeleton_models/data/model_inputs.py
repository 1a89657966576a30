"""The one bridge from a `datasets` split to model inputs, for every architecture."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

__all__ = ["ModelInputsDataset"]


class ModelInputsDataset(Dataset):
    """A torch view of a `datasets.Dataset` whose samples are model inputs, prepared by a processor.

    The processor says which columns it reads (``processor.columns``): a `SkeletonProcessor` its named skeleton
    (and image) inputs, a `SkeletonTextProcessor` those and a text column. Rows are read in batches
    (``__getitems__``, which torch's DataLoader calls with a whole batch of indices) from the Arrow table in numpy
    format and processed together, so training-time augmentation and evaluation-time cropping are vectorised over
    the batch and texts are padded to the batch's longest. ``training`` selects the processor's training or
    evaluation path.

    Randomness of the training path: with a `seed`, each batch's generator is derived from (seed, epoch, the
    batch's row indices) -- the epoch set by `set_epoch`, which the Trainer's (accelerate's) data loader calls every
    epoch -- so a batch's crops and rotations do not depend on how many random numbers were drawn before it: the
    same with any number of DataLoader workers, and the same after ``resume_from_checkpoint`` (the Trainer restores
    its global generators only after it has fetched the first batch of a resumed epoch). Without a seed, each
    batch draws its generator's seed from torch's global generator.

    Each sample is a dict of tensors named after the model's inputs (e.g. ``skeletons`` (C, T, V, M),
    ``description_ids`` (L,)), plus ``labels`` when the split has the `label_column`; the default collator
    stacks them.
    """

    def __init__(
        self,
        dataset,
        processor,
        training: bool = False,
        label_column: str | None = "label",
        seed: int | None = None,
    ):
        missing = [c for c in processor.columns if c not in dataset.column_names]
        if missing:
            raise ValueError(
                f"the processor reads the columns {processor.columns}, the dataset lacks {missing} "
                f"(it has {dataset.column_names})"
            )
        self.label_column = label_column if label_column in dataset.column_names else None
        columns = [*processor.columns, *([self.label_column] if self.label_column else [])]
        self.dataset = dataset.select_columns(columns).with_format("numpy")
        self.processor = processor
        self.training = training
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The epoch that, with the seed, decides each training batch's random augmentation."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: list[int]) -> list[dict[str, torch.Tensor]]:
        rows = self.dataset[list(indices)]
        skeleton_processor = getattr(self.processor, "feature_extractor", self.processor)
        kwargs = {name: self._clips(rows[column]) for name, column in skeleton_processor.input_columns.items()}
        if skeleton_processor is not self.processor:
            kwargs["text"] = [str(text) for text in rows[self.processor.text_column]]
        if self.label_column:
            kwargs["labels"] = rows[self.label_column]
        rng = None
        if self.training:
            entropy = [self.seed, self.epoch, *map(int, indices)] if self.seed is not None else None
            rng = np.random.default_rng(entropy or int(torch.randint(0, 2**62, ()).item()))
        batch = self.processor(training=self.training, rng=rng, **kwargs)
        return [{key: value[i] for key, value in batch.items()} for i in range(len(indices))]

    @staticmethod
    def _clips(column) -> list[np.ndarray]:
        return list(column)  # clips of equal length come back stacked, of different lengths as an object array
