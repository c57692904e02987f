import numpy as np
import pytest
import torch
from torch import nn

from graphcurv.datasets import ImageDataset
from graphcurv.errors import GraphcurvError
from graphcurv.pruning import balanced_examples, prune_masks, removal_count, score, snip_scores, synflow_keep_fractions


def _two_layer() -> nn.Sequential:
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(5, 4), nn.Linear(4, 3))


def _synflow_by_hand(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R = 1^T (|W2| (|W1| 1 + |b1|) + |b2|): dR/dW1[i, j] = sum_k |W2[k, i]|, dR/dW2[k, i] = (|W1| 1 + |b1|)_i."""
    a1, a2 = np.abs(w1), np.abs(w2)
    s1 = a1 * a2.sum(0)[:, None]
    s2 = a2 * (a1.sum(1) + np.abs(b1))[None, :]
    return s1, s2


def test_synflow_one_iteration_is_the_closed_form():
    net = _two_layer()
    w1, b1, w2 = (t.detach().double().numpy() for t in (net[0].weight, net[0].bias, net[1].weight))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    scores = score(net, method="synflow", ratio=0.0, iterations=1, input_shape=(5,))
    s1, s2 = _synflow_by_hand(w1, b1, w2)
    assert np.allclose(scores["0.weight"].numpy(), s1, rtol=1e-12)
    assert np.allclose(scores["1.weight"].numpy(), s2, rtol=1e-12)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # signs untouched


def test_synflow_two_iterations_rescore_the_masked_network():
    net = _two_layer()
    w1, b1, w2 = (t.detach().double().numpy() for t in (net[0].weight, net[0].bias, net[1].weight))
    ratio = 0.6  # 32 weights: keep 0.4 ** 0.5 after step 1 (removes 12), 0.4 after step 2 (removes 19)
    s1, s2 = _synflow_by_hand(w1, b1, w2)
    first = np.concatenate([s1.ravel(), s2.ravel()])
    removed_first = np.argsort(first, kind="stable")[: removal_count(32, 1 - 0.4**0.5)]
    keep = np.ones(32, dtype=bool)
    keep[removed_first] = False
    k1, k2 = keep[:20].reshape(4, 5), keep[20:].reshape(3, 4)
    t1, t2 = _synflow_by_hand(w1 * k1, b1, w2 * k2)  # the masked network rescored
    scores = score(net, method="synflow", ratio=ratio, iterations=2, input_shape=(5,))
    assert removal_count(32, 1 - 0.4**0.5) == 12
    assert np.array_equal(np.isinf(scores["0.weight"].numpy()), ~k1)
    assert np.allclose(np.where(k1, scores["0.weight"].numpy(), 0), t1, rtol=1e-12)
    assert np.allclose(np.where(k2, scores["1.weight"].numpy(), 0), t2, rtol=1e-12)
    masks = prune_masks(scores, ratio)
    assert sum(int((~m).sum()) for m in masks.values()) == removal_count(32, ratio) == 19
    assert not (masks["0.weight"].numpy() & ~k1).any()  # what step 1 removed stays removed


def test_synflow_schedule_keeps_rho_to_the_k_over_n():
    assert synflow_keep_fractions(0.75, 2) == pytest.approx([0.5, 0.25])
    assert synflow_keep_fractions(0.9, 4) == pytest.approx([0.1 ** (k / 4) for k in range(1, 5)])
    net = _two_layer()
    scores = score(net, method="synflow", ratio=0.9, iterations=10, input_shape=(5,))
    removed_before_last = sum(int(torch.isinf(s).sum()) for s in scores.values())
    assert removed_before_last == removal_count(32, 1 - 0.1 ** (9 / 10))  # 32 * (1 - 0.126) -> 28
    with pytest.raises(GraphcurvError, match="iterations"):
        synflow_keep_fractions(0.5, 0)
    with pytest.raises(GraphcurvError, match="ratio"):
        score(net, method="synflow", input_shape=(5,))


def _toy_data() -> ImageDataset:
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(30, 1, 2, 2, generator=generator)
    labels = torch.arange(30) % 3
    return ImageDataset(images, labels, 3, "toy")


def test_snip_is_the_hand_gradient_times_the_weight():
    data = _toy_data()
    torch.manual_seed(1)
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    scores = snip_scores(net, data, per_class=4, seed=2)
    x, y = balanced_examples(data, 4, seed=2)
    x = x.reshape(12, 4).double().numpy()
    w, b = net[1].weight.detach().double().numpy(), net[1].bias.detach().double().numpy()
    logits = x @ w.T + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    grad = (p - np.eye(3)[y.numpy()]).T @ x / 12  # d mean CE / dW for a linear softmax classifier
    assert np.allclose(scores["1.weight"].double().numpy(), np.abs(grad * w), atol=1e-7)


def test_snip_of_a_hidden_layer_matches_autograd_on_the_functional_model():
    data = _toy_data()
    torch.manual_seed(2)
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    scores = score(net, method="snip", data=data, per_class=3, seed=5)
    x, y = balanced_examples(data, 3, seed=5)
    w1 = net[1].weight.detach().clone().requires_grad_(True)
    w2 = net[3].weight.detach().clone().requires_grad_(True)
    logits = torch.tanh(x.reshape(9, 4) @ w1.T + net[1].bias.detach()) @ w2.T + net[3].bias.detach()
    loss = -torch.log_softmax(logits, 1)[torch.arange(9), y].mean()
    g1, g2 = torch.autograd.grad(loss, [w1, w2])
    assert torch.allclose(scores["1.weight"], (g1 * w1).abs(), atol=1e-7)
    assert torch.allclose(scores["3.weight"], (g2 * w2).abs(), atol=1e-7)


def test_balanced_examples_take_per_class_of_every_class():
    data = _toy_data()
    x, y = balanced_examples(data, 4, seed=0)
    assert y.tolist() == [0] * 4 + [1] * 4 + [2] * 4 and x.shape == (12, 1, 2, 2)
    assert torch.equal(balanced_examples(data, 4, seed=0)[0], x)
    with pytest.raises(GraphcurvError, match="fewer than 11"):
        balanced_examples(data, 11)
    with pytest.raises(GraphcurvError, match="need data"):
        score(nn.Sequential(nn.Flatten(), nn.Linear(4, 3)), method="snip")


def test_synflow_through_tanh_and_its_linear_variant():
    torch.manual_seed(4)
    net = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))
    w1, b1, w2 = (t.detach().double().numpy() for t in (net[0].weight, net[0].bias, net[2].weight))
    plain = score(net, method="synflow", ratio=0.0, iterations=1, input_shape=(5,))
    linear = score(net, method="synflow-linear", ratio=0.0, iterations=1, input_shape=(5,))
    s1, s2 = _synflow_by_hand(w1, b1, w2)
    assert np.allclose(linear["0.weight"].numpy(), s1, rtol=1e-12)  # tanh -> identity: the linear closed form
    assert np.allclose(linear["2.weight"].numpy(), s2, rtol=1e-12)
    h = np.abs(w1).sum(1) + np.abs(b1)  # pre-activations of the all-ones input, all positive
    assert np.allclose(plain["0.weight"].numpy(), s1 * (1 - np.tanh(h) ** 2)[:, None], rtol=1e-10)
    assert np.allclose(plain["2.weight"].numpy(), np.abs(w2) * np.tanh(h)[None, :], rtol=1e-10)
    assert isinstance(net[1], nn.Tanh)  # the model itself keeps its activation


def test_synflow_linear_is_synflow_on_relu_networks():
    net = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    a = score(net, method="synflow", ratio=0.5, iterations=5, input_shape=(5,))
    b = score(net, method="synflow-linear", ratio=0.5, iterations=5, input_shape=(5,))
    assert all(torch.equal(a[k], b[k]) for k in a)
