import io

import numpy as np
import pytest
import torch
from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.pruning import (
    apply_masks,
    check_ratio,
    make_permanent,
    mask_summary,
    prunable_weights,
    prune_masks,
    pruned_copy,
    removal_count,
    removal_order,
)


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 5), nn.ReLU(), nn.Linear(5, 3)
    )


def _random_scores(net: nn.Module, seed: int = 1) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {name: torch.randn(layer.weight.shape, generator=generator) for name, layer in prunable_weights(net).items()}


def test_prunable_weights_are_conv_and_linear_weights_only():
    assert list(prunable_weights(_net())) == ["0.weight", "4.weight", "6.weight"]  # no biases, no BatchNorm


def test_removal_count_rounds_half_up():
    assert removal_count(45312, 0.8) == 36250  # 36249.6
    assert removal_count(10, 0.25) == 3  # 2.5 -> 3
    assert removal_count(10, 0.24) == 2
    assert removal_count(7, 0.0) == 0


@pytest.mark.parametrize("ratio", [0.0, 0.25, 0.5, 0.8, 0.95])
def test_global_masks_remove_exactly_the_share_with_the_lowest_scores(ratio):
    net = _net()
    scores = _random_scores(net)
    masks = prune_masks(scores, ratio, scope="global")
    flat_scores = np.concatenate([s.numpy().ravel() for s in scores.values()])
    flat_keep = np.concatenate([m.numpy().ravel() for m in masks.values()])
    expected = int(np.floor(ratio * flat_scores.size + 0.5))  # 18 + 40 + 15 = 73 weights
    assert flat_scores.size == 73 and int((~flat_keep).sum()) == expected
    removed = set(np.argsort(flat_scores, kind="stable")[:expected].tolist())
    assert set(np.flatnonzero(~flat_keep).tolist()) == removed


@pytest.mark.parametrize("ratio", [0.3, 0.5, 0.9])
def test_layer_masks_remove_the_share_of_every_layer(ratio):
    net = _net()
    scores = _random_scores(net, seed=4)
    masks = prune_masks(scores, ratio, scope="layer")
    for name, mask in masks.items():
        values = scores[name].numpy().ravel()
        count = int(np.floor(ratio * values.size + 0.5))
        assert int((~mask).sum()) == count
        assert set(np.flatnonzero(~mask.numpy().ravel()).tolist()) == set(np.argsort(values)[:count].tolist())


def test_ties_are_removed_in_position_order_and_minus_inf_first():
    scores = {"a": torch.ones(2, 2), "b": torch.tensor([1.0, -torch.inf, 1.0])}
    masks = prune_masks(scores, 3 / 7)  # 3 of 7: the -inf entry, then the first two equal ones
    assert masks["a"].tolist() == [[False, False], [True, True]]
    assert masks["b"].tolist() == [True, False, True]
    assert removal_order(scores).tolist() == [5, 0, 1, 2, 3, 4, 6]


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan"), "half"])
def test_bad_ratios_are_refused(bad):
    with pytest.raises(GraphcurvError, match=r"\[0, 1\)"):
        check_ratio(bad)
    with pytest.raises(GraphcurvError):
        prune_masks({"a": torch.ones(3)}, bad)


def test_nan_scores_and_unknown_scope_are_refused():
    with pytest.raises(GraphcurvError, match="NaN"):
        prune_masks({"a": torch.tensor([1.0, float("nan")])}, 0.5)
    with pytest.raises(GraphcurvError, match="scope"):
        prune_masks({"a": torch.ones(3)}, 0.5, scope="channel")


def test_ratio_zero_leaves_the_model_as_it_was():
    net = _net()
    pruned = pruned_copy(net, prune_masks(_random_scores(net), 0.0))
    assert list(pruned.state_dict()) == list(net.state_dict())  # same keys in the same order
    for (name, a), (_, b) in zip(net.state_dict().items(), pruned.state_dict().items()):
        assert torch.equal(a, b), name


def test_pruned_model_is_plain_with_exact_zeros_and_the_masked_output():
    net = _net().eval()
    masks = prune_masks(_random_scores(net), 0.6)
    pruned = pruned_copy(net, masks)
    assert not any(m._forward_pre_hooks for m in pruned.modules())
    buffer = io.BytesIO()
    torch.save(pruned.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    assert set(state) == set(net.state_dict())  # no weight_orig / weight_mask
    plain = _net()
    plain.load_state_dict(state)  # strict: an ordinary model of the same class
    for name, mask in masks.items():
        original = net.state_dict()[name]
        assert torch.equal(state[name], torch.where(mask, original, torch.zeros(()))), name
    x = torch.randn(4, 1, 4, 4)
    with torch.no_grad():  # the forward pass by hand with the masked weights
        h = torch.conv2d(x, state["0.weight"], net[0].bias)
        h = torch.relu(net[1](h)).flatten(1)
        expected = torch.relu(h @ state["4.weight"].T + net[4].bias) @ state["6.weight"].T + net[6].bias
        assert torch.allclose(plain.eval()(x), expected, atol=1e-6)
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), _net().parameters()))  # input untouched


def test_apply_masks_installs_torch_pruning_and_make_permanent_removes_it():
    net = _net()
    masks = prune_masks(_random_scores(net), 0.5)
    apply_masks(net, masks)
    assert hasattr(net[4], "weight_orig") and hasattr(net[4], "weight_mask") and net[4]._forward_pre_hooks
    with pytest.raises(GraphcurvError, match="already pruned"):
        prunable_weights(net)
    make_permanent(net)
    assert not hasattr(net[4], "weight_orig") and not net[4]._forward_pre_hooks
    assert int((net[4].weight == 0).sum()) == int((~masks["4.weight"]).sum())


def test_masks_must_match_the_model():
    net = _net()
    with pytest.raises(GraphcurvError, match="does not have"):
        apply_masks(net, {"1.weight": torch.ones(2, dtype=torch.bool)})
    with pytest.raises(GraphcurvError, match="shape"):
        apply_masks(net, {"4.weight": torch.ones(3, 3, dtype=torch.bool)})


def test_mask_summary_counts_per_layer_and_total():
    masks = {"a": torch.tensor([True, False, False, True]), "b": torch.tensor([[False, True]])}
    assert mask_summary(masks) == [("a", 4, 2, 0.5), ("b", 2, 1, 0.5), ("total", 6, 3, 0.5)]
