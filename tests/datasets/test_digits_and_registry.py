import pytest
import torch
from sklearn.datasets import load_digits as sklearn_digits

from graphcurv.datasets import ImageDataset, dataset_names, load_dataset
from graphcurv.errors import GraphcurvError


def test_digits_splits_partition_the_data():
    parts = {s: load_dataset("digits", split=s) for s in ("train", "val", "test")}
    assert {s: len(d) for s, d in parts.items()} == {"train": 1294, "val": 143, "test": 360}
    every = torch.cat([d.images.reshape(len(d), -1) for d in parts.values()])
    reference = torch.from_numpy(sklearn_digits().data / 16.0).float()
    # the three splits are disjoint and together hold every image exactly once
    assert sorted(map(tuple, every.tolist())) == sorted(map(tuple, reference.tolist()))
    # stratified: every class is within one image of 20 % of its size in the test split
    totals = torch.bincount(torch.from_numpy(sklearn_digits().target))
    assert torch.all((torch.bincount(parts["test"].labels) - 0.2 * totals).abs() < 1)
    assert parts["test"].images.shape[1:] == (1, 8, 8) and float(parts["test"].images.max()) == 1.0


def test_digits_split_is_deterministic():
    a, b = load_dataset("digits", split="val"), load_dataset("digits", split="val")
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)


def test_names_and_errors():
    assert dataset_names() == ["fashion-mnist", "mnist", "cifar10", "cifar100", "digits"]
    with pytest.raises(GraphcurvError, match="unknown dataset 'imagenet'"):
        load_dataset("imagenet")
    with pytest.raises(GraphcurvError, match="unknown split 'dev'"):
        load_dataset("digits", split="dev")


def test_image_dataset_subset_and_shape():
    data = ImageDataset(torch.rand(5, 3, 4, 4), torch.arange(5), 5, "toy", split="val")
    part = data.subset(torch.tensor([4, 0]))
    assert part.labels.tolist() == [4, 0] and part.split == "val" and len(part) == 2
    assert (data.in_channels, data.image_size) == (3, 4)
