import pytest
import torch
from torch import nn

from graphcurv.datasets import ImageDataset, load_dataset
from graphcurv.errors import GraphcurvError
from graphcurv.models import build_model, evaluate, train_model


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", split="train"), load_dataset("digits", split="val")


def _trained(train, seed, init_seed=0, **kwargs):
    torch.manual_seed(init_seed)
    model = build_model("mlp", in_channels=1, image_size=8, hidden=(32,))
    history = train_model(model, train, epochs=1, batch_size=64, seed=seed, lr=1e-2, **kwargs)
    return model, history


def test_one_epoch_on_digits_is_deterministic(digits):
    train, val = digits
    a, history = _trained(train, seed=5, val_set=val)
    b, _ = _trained(train, seed=5, val_set=val)
    c, _ = _trained(train, seed=6, val_set=val)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name
    assert not all(torch.equal(x, z) for x, z in zip(a.state_dict().values(), c.state_dict().values()))
    record = history.final
    assert record.epoch == 1 and record.val_accuracy == evaluate(a, val)
    assert record.val_accuracy > 0.5  # far above chance (0.1) after one epoch


def test_weight_decay_shrinks_weights(digits):
    train, _ = digits
    plain, _ = _trained(train, seed=0)
    decayed, _ = _trained(train, seed=0, weight_decay=5.0)
    norm = lambda m: sum(float(p.detach().square().sum()) for p in m.parameters())  # noqa: E731
    assert norm(decayed) < 0.9 * norm(plain)


def test_sgd_and_progress(digits):
    train, _ = digits
    calls = []
    torch.manual_seed(0)
    model = build_model("lenet", in_channels=1, image_size=16)
    small = ImageDataset(torch.rand(10, 1, 16, 16), torch.arange(10), 10, "noise")
    train_model(model, small, epochs=2, batch_size=4, optimizer="sgd", progress=lambda d, t, s="": calls.append((d, t)))
    assert calls == [(1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)]  # 3 batches of 4, 4, 2 per epoch
    assert not model.training
    with pytest.raises(GraphcurvError, match="unknown optimizer 'rmsprop'"):
        train_model(model, small, optimizer="rmsprop")
    with pytest.raises(GraphcurvError, match="lr > 0"):
        train_model(model, small, lr=0)


def test_evaluate_counts_correct_argmax():
    data = ImageDataset(torch.eye(3).view(3, 3, 1, 1), torch.tensor([0, 2, 2]), 3, "toy")
    assert evaluate(nn.Flatten(), data) == pytest.approx(2 / 3)
