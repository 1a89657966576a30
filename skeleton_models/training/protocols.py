"""Self-supervised evaluation protocols shared by the pre-training methods (GFP, MAMP, SkeletonMAE, SLiM):
k-nearest-neighbour classification / retrieval on frozen features, the linear probe on cached features, the
labelled subsets of semi-supervised learning and the layer-wise learning-rate decay of MAE-style fine-tuning. The
linear probe with augmentation is the Trainer with a frozen encoder (e.g. ``GFPForSkeletonClassification`` with
``freeze_encoder=True``); transfer is a probe or fine-tuning of an encoder pre-trained on another dataset
(``examples/self_supervised.py`` runs each protocol)."""

from __future__ import annotations

import numpy as np
import torch

from ..layers.vit import TransformerBlock

__all__ = [
    "feature_linear_probe",
    "knn_accuracy",
    "labelled_subset",
    "layer_decay_parameter_groups",
    "reestimate_batchnorm",
]


def _splits(train_features, train_labels, test_features, test_labels):
    """Features (arrays or tensors) as float32 tensors, labels as long tensors, and the number of classes."""
    train = torch.as_tensor(np.asarray(train_features), dtype=torch.float32)
    test = torch.as_tensor(np.asarray(test_features), dtype=torch.float32)
    train_labels = torch.as_tensor(np.asarray(train_labels), dtype=torch.long)
    test_labels = torch.as_tensor(np.asarray(test_labels), dtype=torch.long)
    if len(train) != len(train_labels) or len(test) != len(test_labels):
        raise ValueError("features and labels must have the same number of rows")
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    return train, train_labels, test, test_labels, num_classes


@torch.no_grad()
def knn_accuracy(
    train_features,
    train_labels,
    test_features,
    test_labels,
    k: int = 1,
    temperature: float | None = None,
    batch_size: int = 1024,
) -> float:
    """Top-1 accuracy (%) of k-nearest-neighbour classification by cosine similarity of frozen features.

    ``k=1`` is the retrieval protocol of the skeleton SSL papers (GFP Table 3, from P&C / ISC: each test clip takes
    the label of its most similar training clip). With ``k > 1`` the neighbours vote, each by exp(similarity /
    `temperature`) when a temperature is given (the weighted kNN of Wu et al. 2018, 0.07 there), else equally;
    ties go to the smallest class index.

    Args:
        train_features, test_features: (N, D) and (N', D) arrays or tensors.
        train_labels, test_labels: (N,) and (N',) class indices.
    """
    train, train_labels, test, test_labels, num_classes = _splits(
        train_features, train_labels, test_features, test_labels
    )
    train = torch.nn.functional.normalize(train, dim=1)
    test = torch.nn.functional.normalize(test, dim=1)
    k = min(k, len(train))
    correct = 0
    for start in range(0, len(test), batch_size):
        similarity = test[start : start + batch_size] @ train.T  # (B, N)
        values, indices = similarity.topk(k, dim=1)
        weights = torch.exp(values / temperature) if temperature else torch.ones_like(values)
        votes = torch.zeros(len(values), num_classes).scatter_add_(1, train_labels[indices], weights)
        correct += int((votes.argmax(1) == test_labels[start : start + batch_size]).sum())
    return 100.0 * correct / len(test)


SUBSET_SAMPLINGS = ("per_class", "random")


def labelled_subset(dataset, fraction: float, seed: int = 0, label_column: str = "label", sampling: str = "per_class"):
    """The labelled part of a semi-supervised protocol (the 1 % and 10 % NTU-60 settings of MAMP / GFP Table 7),
    drawn with `seed`: ``sampling="per_class"`` takes `fraction` of the training rows of every class (at least one
    per class; ISC samples per class), ``"random"`` takes int(`fraction` x rows) rows at random, whatever their
    class (MAMP's ``feeder_ntu_semi.random_select_data`` @ 09e6252: a shuffle, then the first N x ratio)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if sampling not in SUBSET_SAMPLINGS:
        raise ValueError(f"sampling must be one of {SUBSET_SAMPLINGS}, got {sampling!r}")
    rng = np.random.default_rng(seed)
    if sampling == "random":
        count = int(len(dataset) * fraction)
        if count < 1:
            raise ValueError(f"fraction {fraction} of {len(dataset)} rows is no row")
        return dataset.select(sorted(rng.permutation(len(dataset))[:count].tolist()))
    labels = np.asarray(dataset.with_format("numpy")[label_column])
    rows = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = max(1, int(round(fraction * len(members))))
        rows.extend(rng.choice(members, count, replace=False).tolist())
    return dataset.select(sorted(rows))


def feature_linear_probe(
    train_features,
    train_labels,
    test_features,
    test_labels,
    epochs: int = 100,
    learning_rate: float = 0.1,
    batch_size: int = 256,
    seed: int = 0,
) -> float:
    """Top-1 accuracy (%) of a linear probe trained on cached frozen features: MAMP's head (BatchNorm1d without
    affine, eps 1e-6, then a linear layer with trunc-normal std 0.01 weights) with MAMP's optimiser (SGD momentum
    0.9, no weight decay, cosine from `learning_rate` to 0), cross-entropy, `epochs` passes in shuffled batches.

    The features are computed once, without the training-time crops and rotations that the Trainer-based probe
    (`GFPForSkeletonClassification` with ``freeze_encoder=True``) sees: much cheaper, and slightly different."""
    generator = torch.Generator().manual_seed(seed)
    train, train_labels, test, test_labels, num_classes = _splits(
        train_features, train_labels, test_features, test_labels
    )
    linear = torch.nn.Linear(train.shape[1], num_classes)
    with torch.no_grad():
        torch.nn.init.trunc_normal_(linear.weight, std=0.01, generator=generator)
        linear.bias.zero_()
    head = torch.nn.Sequential(torch.nn.BatchNorm1d(train.shape[1], affine=False, eps=1e-6), linear)
    optimizer = torch.optim.SGD(head.parameters(), lr=learning_rate, momentum=0.9, weight_decay=0.0)
    steps = epochs * max(1, -(-len(train) // batch_size))
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    head.train()
    for _ in range(epochs):
        order = torch.randperm(len(train), generator=generator)
        for start in range(0, len(train), batch_size):
            rows = order[start : start + batch_size]
            if len(rows) < 2:  # BatchNorm needs two rows
                continue
            loss = torch.nn.functional.cross_entropy(head(train[rows]), train_labels[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    head.eval()
    with torch.no_grad():
        predicted = head(test).argmax(1)
    return 100.0 * float((predicted == test_labels).float().mean())


def layer_decay_parameter_groups(
    model: torch.nn.Module, learning_rate: float, weight_decay: float = 0.05, layer_decay: float = 0.8
) -> list[dict]:
    """AdamW parameter groups with layer-wise learning-rate decay (BEiT / MAE fine-tuning, MAMP's
    ``param_groups_lrd``): with L transformer blocks, block i learns at ``learning_rate * layer_decay ** (L - i)``,
    the parameters registered before the first block (patch, temporal and joint embeddings, class and register
    tokens) at ``layer_decay ** (L + 1)``, everything after the last block (final norm, head) at the full rate.
    One-dimensional parameters (biases, norms) get no weight decay, the others `weight_decay`; frozen parameters
    are left out. MAMP fine-tunes with ``layer_decay`` 0.8, weight decay 0.05.

    Use as ``Trainer(..., optimizers=(torch.optim.AdamW(groups, lr=learning_rate), None))``: the Trainer's
    scheduler then scales every group's rate alike, as MAMP's does (``cosine_with_min_lr`` for MAMP's floor)."""
    blocks = [m for m in model.modules() if isinstance(m, TransformerBlock)]
    if not blocks:
        raise ValueError(f"{type(model).__name__} has no TransformerBlock: layer-wise decay needs a ViT encoder")
    block_of = {id(p): i for i, block in enumerate(blocks) for p in block.parameters()}
    first_block = {id(p) for p in blocks[0].parameters()}
    num_blocks = len(blocks)
    groups: dict[tuple[int, bool], dict] = {}
    seen_first_block = False
    for parameter in model.parameters():
        seen_first_block = seen_first_block or id(parameter) in first_block
        if id(parameter) in block_of:
            layer = block_of[id(parameter)] + 1
        else:
            layer = num_blocks + 1 if seen_first_block else 0
        if not parameter.requires_grad:
            continue
        decay = parameter.ndim > 1
        group = groups.setdefault(
            (layer, decay),
            {
                "params": [],
                "lr": learning_rate * layer_decay ** (num_blocks + 1 - layer),
                "weight_decay": weight_decay if decay else 0.0,
            },
        )
        group["params"].append(parameter)
    return [groups[key] for key in sorted(groups)]


@torch.no_grad()
def reestimate_batchnorm(model: torch.nn.Module, batches) -> int:
    """Replace every BatchNorm's running statistics by the plain average over `batches` (an iterable of model input
    dicts, e.g. a Trainer's training dataloader) of the batch statistics of a forward in training mode, with every
    other module (dropout, drop-path) in evaluation mode. After a short fine-tuning the running averages (momentum
    0.1) still carry their earlier values; this is ``torch.optim.swa_utils.update_bn`` for dict batches. Labels are
    not passed. Returns the number of BatchNorm layers re-estimated (0: nothing to do, no forward run)."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return 0
    was_training = model.training
    momenta = {m: m.momentum for m in norms}
    model.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches
        m.train()
    device = next(model.parameters()).device
    try:
        for batch in batches:
            inputs = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items() if k != "labels"}
            model(**inputs)
    finally:
        for m in norms:
            m.momentum = momenta[m]
        model.train(was_training)
    return len(norms)
