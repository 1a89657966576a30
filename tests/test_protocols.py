"""The self-supervised evaluation protocols: kNN / retrieval accuracy and the semi-supervised labelled subsets."""

import numpy as np
import pytest
import torch

from skeleton_models.training import feature_linear_probe, knn_accuracy, labelled_subset


def test_knn_is_cosine_nearest_neighbours():
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(40, 8)), rng.normal(size=(15, 8))
    train_labels, test_labels = rng.integers(0, 3, 40), rng.integers(0, 3, 15)
    cosine = (test / np.linalg.norm(test, axis=1, keepdims=True)) @ (
        train / np.linalg.norm(train, axis=1, keepdims=True)
    ).T
    nearest = train_labels[cosine.argmax(1)]
    assert knn_accuracy(train, train_labels, test, test_labels) == pytest.approx(100 * np.mean(nearest == test_labels))
    assert knn_accuracy(3 * train, train_labels, test, test_labels) == knn_accuracy(
        train, train_labels, test, test_labels
    )
    top = np.argsort(-cosine, axis=1)[:, :5]
    weighted = []
    for row, idx in zip(cosine, top):
        votes = np.zeros(3)
        np.add.at(votes, train_labels[idx], np.exp(row[idx] / 0.07))
        weighted.append(votes.argmax())
    expected = 100 * np.mean(np.array(weighted) == test_labels)
    assert knn_accuracy(train, train_labels, test, test_labels, k=5, temperature=0.07, batch_size=4) == pytest.approx(
        expected
    )
    assert knn_accuracy(torch.eye(3), [0, 1, 2], torch.eye(3), [0, 1, 2]) == 100.0
    with pytest.raises(ValueError, match="same number of rows"):
        knn_accuracy(train, train_labels[:3], test, test_labels)


def test_labelled_subset_is_per_class(synthetic_tiny):
    train = synthetic_tiny["train"]
    subset = labelled_subset(train, 0.5, seed=1)
    labels, all_labels = np.asarray(subset["label"]), np.asarray(train["label"])
    for label in np.unique(all_labels):
        assert (labels == label).sum() == max(1, round(0.5 * (all_labels == label).sum()))
    assert subset["sample_id"] == labelled_subset(train, 0.5, seed=1)["sample_id"]
    assert subset["sample_id"] != labelled_subset(train, 0.5, seed=2)["sample_id"]
    assert len(set(labelled_subset(train, 0.01)["label"])) == len(set(all_labels))  # at least one per class
    with pytest.raises(ValueError, match="fraction"):
        labelled_subset(train, 0)


def test_feature_linear_probe_learns_a_linear_rule_and_not_noise():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16)) * 3
    labels, test_labels = rng.integers(0, 4, 400), rng.integers(0, 4, 200)
    train = centres[labels] + rng.normal(size=(400, 16))
    test = centres[test_labels] + rng.normal(size=(200, 16))
    assert feature_linear_probe(train, labels, test, test_labels, epochs=20) > 95
    noise = feature_linear_probe(rng.normal(size=(400, 16)), labels, rng.normal(size=(200, 16)), test_labels, epochs=20)
    assert noise < 45  # chance is 25 %
    assert feature_linear_probe(train, labels, test, test_labels, epochs=5, seed=3) == feature_linear_probe(
        train, labels, test, test_labels, epochs=5, seed=3
    )
