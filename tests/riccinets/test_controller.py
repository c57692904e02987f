"""Tests of graphcurv.riccinets.controller: the action grid, the policy, eq. 8 returns, the REINFORCE loss."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.riccinets.controller import Controller, HyperGrid, Policy, discounted_returns, reinforce_loss

TENTHS = [i / 10 for i in range(11)]


def test_default_grid_is_the_public_codes_1331_actions():
    grid = HyperGrid()
    assert grid.names == ("alpha", "beta", "delta")
    assert grid.fixed == {"gamma": 0.0}
    assert grid.size == 1331
    assert grid.action(0) == {"alpha": 0.0, "beta": 0.0, "gamma": 0.0, "delta": 0.0}
    assert grid.action(1330) == {"alpha": 1.0, "beta": 1.0, "gamma": 0.0, "delta": 1.0}
    # Mixed radix, delta fastest: 1 * 121 + 2 * 11 + 3.
    assert grid.action(146) == {"alpha": 0.1, "beta": 0.2, "gamma": 0.0, "delta": 0.3}
    expected = [{"alpha": a, "beta": b, "gamma": 0.0, "delta": d} for a, b, d in itertools.product(TENTHS, repeat=3)]
    for index, values in enumerate(expected):
        action = grid.action(index)
        assert action.keys() == values.keys()
        assert all(math.isclose(action[k], values[k], abs_tol=1e-12) for k in values)
        assert grid.index(values) == index
    assert torch.equal(grid.state(), torch.tensor([0.5, 0.5, 0.5]))
    assert torch.equal(grid.state(146), torch.tensor([0.1, 0.2, 0.3]))


def test_general_grid_orders_names_and_sorts_values():
    grid = HyperGrid({"delta": (1.0, 0.0), "gamma": (0.6, 0.2, 0.4)}, fixed={"beta": 0.5, "alpha": 0.25})
    assert grid.names == ("gamma", "delta")
    assert grid.size == 6
    expected = [
        {"alpha": 0.25, "beta": 0.5, "gamma": g, "delta": d} for g, d in itertools.product((0.2, 0.4, 0.6), (0.0, 1.0))
    ]
    assert [grid.action(i) for i in range(6)] == expected
    assert list(grid.action(3)) == ["alpha", "beta", "gamma", "delta"]
    assert grid.middle() == 3  # gamma 0.4 (index 1 of 3), delta 1.0 (index 1 of 2)
    assert grid.index({"gamma": 0.6, "delta": 1.0, "alpha": 0.25}) == 5
    assert HyperGrid(**grid.to_dict()) == grid


@pytest.mark.parametrize(
    "values, fixed",
    [
        ({"epsilon": (0.0, 1.0)}, None),
        ({"alpha": (0.0, 1.5)}, None),
        ({"alpha": (0.2, 0.2)}, None),
        ({"alpha": ()}, None),
        ({}, None),
        ({"alpha": (0.0, 1.0)}, {"alpha": 0.5}),
        ({"alpha": (0.0, 1.0)}, {"gamma": float("nan")}),
    ],
)
def test_grid_rejects_bad_definitions(values, fixed):
    with pytest.raises(GraphcurvError):
        HyperGrid(values, fixed)


@pytest.mark.parametrize(
    "query",
    [
        {"alpha": 0.1, "beta": 0.2},  # delta missing
        {"alpha": 0.1, "beta": 0.2, "delta": 0.35},  # off the grid
        {"alpha": 0.1, "beta": 0.2, "delta": 0.3, "gamma": 0.1},  # gamma is fixed at 0
        {"alpha": 0.1, "beta": 0.2, "delta": 0.3, "omega": 0.0},
    ],
)
def test_grid_index_rejects_bad_values(query):
    with pytest.raises(GraphcurvError):
        HyperGrid().index(query)


@pytest.mark.parametrize("index", [-1, 1331, 2.5, True])
def test_grid_action_rejects_bad_indices(index):
    with pytest.raises(GraphcurvError):
        HyperGrid().action(index)


def test_policy_architecture_and_log_softmax_output():
    torch.manual_seed(0)
    policy = Policy(3, 1331)
    linear = [m for m in policy.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(3, 128), (128, 1331)]
    assert any(isinstance(m, nn.ReLU) for m in policy.modules())
    states = torch.rand(4, 3)
    out = policy(states)
    assert out.shape == (4, 1331)
    torch.testing.assert_close(out.exp().sum(dim=-1), torch.ones(4))
    torch.testing.assert_close(out, torch.log_softmax(policy.layers(states), dim=-1))


def test_discounted_returns_hand_worked():
    # v2 = 3; v1 = 2 + 0.5 * 3 = 3.5; v0 = 1 + 0.5 * 3.5 = 2.75.
    assert discounted_returns([1.0, 2.0, 3.0], discount=0.5) == [2.75, 3.5, 3.0]
    assert discounted_returns([1.0, 2.0, 3.0], discount=1.0) == [6.0, 5.0, 3.0]
    assert discounted_returns([1.0, -2.0, 3.0], discount=0.0) == [1.0, -2.0, 3.0]
    returns = discounted_returns([0.5, 0.25], discount=0.99)
    assert math.isclose(returns[0], 0.5 + 0.99 * 0.25) and returns[1] == 0.25
    assert discounted_returns([]) == []
    for bad in (-0.1, 1.1, float("nan")):
        with pytest.raises(GraphcurvError):
            discounted_returns([1.0], discount=bad)
    with pytest.raises(GraphcurvError):
        discounted_returns([1.0, float("inf")])


def test_reinforce_loss_two_actions_hand_checked():
    # pi = softmax(theta) with theta = (log 3, 0): pi = (3/4, 1/4). Actions 0 then 1 with returns 2 and 0:
    # baseline 1, advantages (+1, -1), loss = -(log 3/4 - log 1/4) / 2 = -log(3) / 2.
    # d log pi_0 / d theta = e_0 - pi = (1/4, -1/4); d log pi_1 / d theta = (-3/4, 3/4);
    # gradient = -((1/4, -1/4) - (-3/4, 3/4)) / 2 = (-1/2, 1/2).
    theta = torch.tensor([math.log(3.0), 0.0], dtype=torch.float64, requires_grad=True)
    log_pi = torch.log_softmax(theta, dim=0)
    loss = reinforce_loss([log_pi[0], log_pi[1]], [2.0, 0.0])
    assert math.isclose(loss.item(), -math.log(3.0) / 2, rel_tol=1e-12)
    loss.backward()
    torch.testing.assert_close(theta.grad, torch.tensor([-0.5, 0.5], dtype=torch.float64))
    # A descent step raises the above-baseline action's probability.
    with torch.no_grad():
        stepped = torch.softmax(theta - 0.1 * theta.grad, dim=0)
    assert stepped[0] > 0.75


def test_reinforce_loss_equal_returns_give_no_gradient_and_bad_input_raises():
    theta = torch.tensor([0.3, -0.2], requires_grad=True)
    log_pi = torch.log_softmax(theta, dim=0)
    reinforce_loss(torch.stack([log_pi[0], log_pi[1]]), [0.7, 0.7]).backward()
    torch.testing.assert_close(theta.grad, torch.zeros(2))
    with pytest.raises(GraphcurvError):
        reinforce_loss([log_pi[0]], [1.0, 2.0])
    with pytest.raises(GraphcurvError):
        reinforce_loss(torch.zeros(0), [])


def test_controller_sampling_is_seeded_and_returns_the_policy_log_prob():
    grid = HyperGrid({"alpha": (0.0, 0.5, 1.0), "beta": (0.0, 1.0)})
    first, second = Controller(grid, seed=3), Controller(grid, seed=3)
    state = grid.state()
    draws = []
    for _ in range(10):
        index, log_prob = first.sample(state)
        assert torch.equal(log_prob, first.log_probs(state)[index])
        assert log_prob.requires_grad
        draws.append(index)
        state = grid.state(index)
    state = grid.state()
    again = []
    for _ in range(10):
        index, _ = second.sample(state)
        again.append(index)
        state = grid.state(index)
    assert draws == again
    other = Controller(grid, seed=4)
    assert not torch.equal(other.policy.layers[0].weight, first.policy.layers[0].weight)


def test_controller_sample_frequencies_match_policy_probabilities():
    grid = HyperGrid({"alpha": (0.0, 1.0)})
    controller = Controller(grid, seed=0)
    probability = float(controller.log_probs()[1].detach().exp())
    draws = 4000
    ones = sum(controller.sample()[0] for _ in range(draws))
    sigma = math.sqrt(draws * probability * (1 - probability))
    assert abs(ones - draws * probability) < 5 * sigma


def test_controller_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    Controller(HyperGrid({"alpha": (0.0, 1.0)}), seed=7)
    torch.testing.assert_close(torch.rand(3), expected)


def test_controller_update_returns_the_loss_and_favours_the_better_action():
    grid = HyperGrid({"alpha": (0.0, 0.5, 1.0)})
    controller = Controller(grid, seed=1)
    log_pi = controller.log_probs()
    before = log_pi.detach().clone()
    # discount 0: returns = rewards = (1, 0); advantages (1/2, -1/2); loss = -(lp0 / 2 - lp1 / 2) / 2.
    loss = controller.update([log_pi[0], log_pi[1]], [1.0, 0.0], discount=0.0)
    assert math.isclose(loss, float(-(before[0] - before[1]) / 4), rel_tol=1e-6)
    after = controller.log_probs().detach()
    assert after[0] - after[1] > before[0] - before[1]
    assert controller.most_likely() == int(after.argmax())


def test_controller_state_dict_round_trip():
    grid = HyperGrid({"alpha": (0.0, 0.5, 1.0), "delta": (0.0, 1.0)})
    source = Controller(grid, seed=0)
    index, log_prob = source.sample()
    other_index, other_log_prob = source.sample(grid.state(index))
    source.update([log_prob, other_log_prob], [0.2, 0.9])
    target = Controller(grid, seed=5)
    target.load_state_dict(source.state_dict())
    torch.testing.assert_close(target.log_probs(), source.log_probs())
    assert [target.sample()[0] for _ in range(8)] == [source.sample()[0] for _ in range(8)]
    assert target.optimizer.state_dict()["state"][0]["step"] == 1
    with pytest.raises(GraphcurvError):
        Controller(HyperGrid({"alpha": (0.0, 1.0)})).load_state_dict(source.state_dict())
