"""Tests of graphcurv.riccinets.search: eq. 7 rewards, episodes, the floor, the cache and the JSONL log."""

from __future__ import annotations

import json
import math
import time

import pytest

from graphcurv.errors import GraphcurvError
from graphcurv.riccinets.controller import Controller, HyperGrid
from graphcurv.riccinets.search import Candidate, reward, ricci_search

ALPHA_ONLY = HyperGrid({"alpha": (0.0, 1.0)}, fixed={"beta": 0.5, "gamma": 0.0, "delta": 0.25})


def linear_candidate(hparams: dict[str, float]) -> Candidate:
    """Accuracy 0.9 - 0.2 alpha, FLOPs 100 + 100 alpha (share of a 200-FLOP baseline)."""
    alpha = hparams["alpha"]
    flops = 100.0 + 100.0 * alpha
    return Candidate(dict(hparams), 0.9 - 0.2 * alpha, flops, flops / 200.0, 0.5, 0.4, 1.5 + alpha)


def test_controller_learns_a_smooth_synthetic_bandit():
    grid = HyperGrid({"alpha": (0.0, 0.5, 1.0), "beta": (0.0, 0.5, 1.0), "delta": (0.0, 0.5, 1.0)})
    target = {"alpha": 1.0, "beta": 0.0, "delta": 0.5}
    evaluated = []

    def evaluate(hparams):
        evaluated.append(hparams)
        accuracy = 1.0 - sum((hparams[name] - value) ** 2 for name, value in target.items())
        return Candidate(hparams, accuracy, 1.0, 1.0, 1.0, 1.0, 0.0)

    start = time.perf_counter()
    # A bandit: the reward does not depend on the state, so no credit goes to later steps (discount 0).
    result = ricci_search(
        evaluate, grid=grid, episodes=50, steps_per_episode=20, discount=0.0, accuracy_floor=-10.0, mu=0.0, seed=0
    )
    assert time.perf_counter() - start < 5.0
    assert result.final_action == {**target, "gamma": 0.0}
    assert result.best.candidate.hparams == {**target, "gamma": 0.0}
    assert result.best.reward == 1.0
    assert len(result.steps) == 1000
    assert len(evaluated) == len({tuple(h.values()) for h in evaluated}) <= 27  # each action trained once
    assert sum(result.episode_rewards[-5:]) > sum(result.episode_rewards[:5])


def test_rewards_follow_eq7_and_the_log_has_one_line_per_candidate(tmp_path):
    calls = []

    def evaluate(hparams):
        calls.append(hparams)
        return linear_candidate(hparams)

    log = tmp_path / "runs" / "search.jsonl"
    result = ricci_search(
        evaluate, grid=ALPHA_ONLY, episodes=3, steps_per_episode=4, accuracy_floor=0.0, mu=0.5,
        flops_baseline=200.0, seed=2, log_path=log,
    )  # fmt: skip
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == len(result.steps) == 12
    assert [(line["episode"], line["step"]) for line in lines] == [(e, s) for e in range(3) for s in range(4)]
    seen = []
    for line in lines:
        alpha = line["hparams"]["alpha"]
        assert line["hparams"] == {"alpha": alpha, "beta": 0.5, "gamma": 0.0, "delta": 0.25}
        expected_accuracy = 0.9 - 0.2 * alpha
        assert math.isclose(line["accuracy"], expected_accuracy)
        assert math.isclose(line["reward"], expected_accuracy - 0.5 * (100 + 100 * alpha) / 200)
        assert line["cached"] == (alpha in seen)
        assert line["flops_share"] == (100 + 100 * alpha) / 200
        assert (line["weights_share"], line["edges_share"]) == (0.5, 0.4)
        assert line["seconds"] == 1.5 + alpha
        seen.append(alpha)
    assert len(calls) == len(set(seen)) == 2  # both actions appear in 12 draws; each is evaluated once
    for episode in range(3):
        rewards = [line["reward"] for line in lines if line["episode"] == episode]
        assert math.isclose(result.episode_rewards[episode], sum(rewards) / 4)
    assert math.isclose(result.best.reward, max(line["reward"] for line in lines))
    assert result.best.candidate.hparams["alpha"] == 0.0  # reward 0.4 beats 0.2 - 0.5 = -0.3
    assert len(result.losses) == 3


def test_reward_uses_flops_share_without_a_baseline():
    candidate = linear_candidate({"alpha": 1.0, "beta": 0.5, "gamma": 0.0, "delta": 0.25})
    assert math.isclose(reward(candidate, 1.5), 0.7 - 1.5 * 1.0)
    assert math.isclose(reward(candidate, 1.0, flops_baseline=400.0), 0.7 - 0.5)
    assert reward(candidate, 0.0) == candidate.accuracy


def test_episodes_end_as_soon_as_accuracy_falls_below_the_floor():
    grid = HyperGrid({"alpha": (0.0, 0.5, 1.0)})

    def evaluate(hparams):
        return Candidate(hparams, hparams["alpha"], 1.0, 1.0, 1.0, 1.0, 0.0)

    result = ricci_search(evaluate, grid=grid, episodes=8, steps_per_episode=5, accuracy_floor=0.4, mu=0.0, seed=0)
    lengths = []
    for episode in range(8):
        steps = [s for s in result.steps if s.episode == episode]
        assert [s.step for s in steps] == list(range(len(steps)))
        assert all(s.candidate.accuracy >= 0.4 for s in steps[:-1])
        assert steps[-1].candidate.accuracy < 0.4 or len(steps) == 5
        lengths.append(len(steps))
    assert min(lengths) < 5  # some episode did stop early
    assert len(result.episode_rewards) == 8


def test_every_episode_has_one_candidate_when_all_are_below_the_floor():
    calls = []

    def evaluate(hparams):
        calls.append(hparams)
        return Candidate(hparams, 0.1, 1.0, 1.0, 1.0, 1.0, 0.0)

    result = ricci_search(
        evaluate, grid=HyperGrid({"alpha": (0.3,)}), episodes=4, steps_per_episode=5, accuracy_floor=0.5, mu=0.0
    )
    assert [(s.episode, s.step) for s in result.steps] == [(0, 0), (1, 0), (2, 0), (3, 0)]
    assert [s.cached for s in result.steps] == [False, True, True, True]
    assert len(calls) == 1


def test_log_of_a_killed_search_is_valid_up_to_its_last_line(tmp_path):
    log = tmp_path / "search.jsonl"
    log.write_text("an old log that must be replaced\n")
    done = []

    def evaluate(hparams):
        if len(done) == 2:
            raise RuntimeError("killed")
        done.append(hparams)
        return Candidate(hparams, 0.8, 1.0, 1.0, 1.0, 1.0, 0.0)

    grid = HyperGrid({"alpha": (0.0, 0.5, 1.0), "beta": (0.0, 0.5, 1.0)})
    with pytest.raises(RuntimeError, match="killed"):
        ricci_search(evaluate, grid=grid, episodes=20, steps_per_episode=5, accuracy_floor=0.0, mu=0.0, log_path=log)
    text = log.read_text()
    assert text.endswith("\n")
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["hparams"] for line in lines if not line["cached"]] == done
    assert all(line["hparams"] in done for line in lines)


def test_each_state_is_the_previous_action_and_episodes_start_in_the_middle(monkeypatch):
    states = []
    original = Controller.sample

    def spy(self, state=None):
        states.append(state.clone())
        return original(self, state)

    monkeypatch.setattr(Controller, "sample", spy)
    grid = HyperGrid({"alpha": (0.0, 0.5, 1.0), "delta": (0.0, 1.0)})
    result = ricci_search(linear_candidate, grid=grid, episodes=3, steps_per_episode=4, accuracy_floor=0.0, mu=0.0)
    assert len(states) == len(result.steps) == 12
    for state, step, previous in zip(states, result.steps, [None, *result.steps[:-1]]):
        if step.step == 0:
            expected = [0.5, 1.0]  # middle values: alpha index 1 of 3, delta index 1 of 2
        else:
            expected = [previous.candidate.hparams["alpha"], previous.candidate.hparams["delta"]]
        assert state.tolist() == expected


def test_progress_reaches_the_full_budget():
    calls = []
    ricci_search(
        linear_candidate, grid=ALPHA_ONLY, episodes=3, steps_per_episode=4, accuracy_floor=0.85, mu=0.0,
        progress=lambda done, total, description="": calls.append((done, total)),
    )  # fmt: skip
    dones = [done for done, _ in calls]
    assert dones == sorted(dones) and calls[-1] == (12, 12)
    assert all(total == 12 for _, total in calls)


@pytest.mark.parametrize("mu", [-0.1, 1.6, float("nan")])
def test_mu_outside_the_papers_range_raises(mu):
    calls = []
    with pytest.raises(GraphcurvError, match="mu"):
        ricci_search(calls.append, grid=ALPHA_ONLY, episodes=1, accuracy_floor=0.0, mu=mu)
    assert calls == []
    with pytest.raises(GraphcurvError, match="mu"):
        reward(linear_candidate({"alpha": 0.0}), mu)


@pytest.mark.parametrize(
    "options",
    [
        {"episodes": 0},
        {"steps_per_episode": 0},
        {"flops_baseline": 0.0},
        {"discount": 1.5},
        {"accuracy_floor": -math.inf},
    ],
)
def test_bad_search_options_raise(options):
    arguments = {"grid": ALPHA_ONLY, "accuracy_floor": 0.0, "mu": 0.0, **options}
    with pytest.raises(GraphcurvError):
        ricci_search(linear_candidate, **arguments)


def test_evaluate_must_return_a_candidate():
    with pytest.raises(GraphcurvError, match="Candidate"):
        ricci_search(lambda hparams: 0.9, grid=ALPHA_ONLY, accuracy_floor=0.0, mu=0.0)
