import pytest
import torch
from torch import nn

from graphcurv.datasets import ImageDataset, calibration_set, load_dataset
from graphcurv.errors import GraphcurvError


class CountingIdentity(nn.Module):
    """Logits = the flattened image; counts forward passes."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x.flatten(1)


def toy_dataset(correct_per_class=(4, 5, 3), wrong_per_class=3):
    """Images (N, 1, 1, 3) whose argmax is the label for the 'correct' ones and label + 1 otherwise."""
    images, labels = [], []
    for c, n_correct in enumerate(correct_per_class):
        for i in range(n_correct + wrong_per_class):
            winner = c if i < n_correct else (c + 1) % 3
            x = torch.full((3,), 0.1 * (i + 1) / 10)
            x[winner] = 1.0
            images.append(x)
            labels.append(c)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(123))
    return ImageDataset(
        torch.stack(images).view(-1, 1, 1, 3)[order], torch.tensor(labels)[order], 3, "toy", split="val"
    )


def test_k_correct_examples_per_class_in_class_order():
    data = toy_dataset()
    inputs, labels = calibration_set(CountingIdentity(), data, 3, seed=0)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert torch.equal(inputs.flatten(1).argmax(1), labels)  # only correctly classified examples
    rows = {tuple(x.flatten().tolist()) for x in data.images}
    chosen = [tuple(x.flatten().tolist()) for x in inputs]
    assert set(chosen) <= rows and len(set(chosen)) == 9  # distinct images of the dataset


def test_deterministic_and_independent_of_batch_size():
    data = toy_dataset()
    a = calibration_set(CountingIdentity(), data, 2, seed=7, batch_size=1)
    b = calibration_set(CountingIdentity(), data, 2, seed=7, batch_size=64)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    # the documented rule: the first k correct images of each class in randperm(N, seed) order
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(7)).tolist()
    expected = []
    for c in range(3):
        correct = [i for i in order if data.labels[i] == c and data.images[i].flatten().argmax() == c]
        expected += correct[:2]
    assert torch.equal(a[0], data.images[expected])
    # other seeds choose other images
    choices = {calibration_set(CountingIdentity(), data, 2, seed=s)[0].sum().item() for s in range(8)}
    assert len(choices) > 1


def test_stops_once_every_class_is_full():
    data = toy_dataset(correct_per_class=(40, 40, 40), wrong_per_class=0)
    model = CountingIdentity()
    calibration_set(model, data, 1, batch_size=60)
    assert model.calls == 1  # 60 random images of 120 contain every class


def test_too_few_correct_examples_is_a_clear_error():
    data = toy_dataset(correct_per_class=(4, 5, 1))
    with pytest.raises(GraphcurvError, match=r"class 2 \(2\): 1\b.*3 per class|3 per class.*class 2 \(2\): 1"):
        calibration_set(CountingIdentity(), data.subset(slice(None)), 3)
    with pytest.raises(GraphcurvError, match="positive integer"):
        calibration_set(CountingIdentity(), data, 0)


def test_restores_training_mode_and_checks_outputs():
    data = toy_dataset()
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5))
    model.train()
    inputs, _ = calibration_set(model, data, 2)
    assert model.training  # restored
    assert torch.equal(inputs.flatten(1).argmax(1), torch.tensor([0, 0, 1, 1, 2, 2]))  # dropout was off
    with pytest.raises(GraphcurvError, match="2 outputs but the dataset has 3 classes"):
        calibration_set(nn.Sequential(nn.Flatten(), nn.Linear(3, 2)), data, 1)
    with pytest.raises(GraphcurvError, match=r"does not accept inputs of shape \(1, 1, 3\)"):
        calibration_set(nn.Linear(5, 3), data, 1)


def test_digits_with_a_trained_classifier():
    # a nearest-class-mean classifier fitted on the train split, calibration from val
    train, val = load_dataset("digits", split="train"), load_dataset("digits", split="val")
    means = torch.stack([train.images[train.labels == c].flatten(1).mean(0) for c in range(10)])
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    with torch.no_grad():
        model[1].weight.copy_(2 * means)
        model[1].bias.copy_(-(means**2).sum(1))  # argmax of -|x - m|^2
    inputs, labels = calibration_set(model, val, 5, seed=1)
    assert labels.tolist() == [c for c in range(10) for _ in range(5)]
    distances = torch.cdist(inputs.flatten(1), means)
    assert torch.equal(distances.argmin(1), labels)
