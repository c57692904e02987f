r"""The RicciNets search loop: a REINFORCE controller proposes mass hyperparameters, candidates are scored.

Each candidate is one pruned network: ``evaluate(hparams)`` prunes the stage graphs
with the given node-mass hyperparameters, trains and tests the network and returns a
:class:`Candidate`. Its reward is paper eq. 7,

.. math:: R = A - \mu \frac{F}{F_{\text{baseline}}}, \qquad \mu \in [0, 1.5],

with :math:`A` the top-1 accuracy and :math:`F` the FLOPs per forward pass. An episode
starts from the grid's middle values; at each step the controller samples an action
from the current state, the candidate is evaluated, and the next state is that
action's values. The episode ends after ``steps_per_episode`` candidates, or as soon
as a candidate's accuracy is below ``accuracy_floor`` (that candidate still counts).
Then the controller takes one REINFORCE step on the episode's discounted returns
(:mod:`graphcurv.riccinets.controller`).

Training dominates the cost, so evaluations are cached: an action already evaluated
reuses its :class:`Candidate` (marked ``cached`` in the log, ``evaluate`` not called).

The log (``log_path``) has one JSON object per candidate, appended and flushed line
by line so that the log of a killed search is valid JSONL up to its last line (the
file is created empty, atomically, when the search starts, replacing an older log).
Its ``seconds`` is the candidate's own evaluation time, also on cached lines, so the
search's training time is the sum over the lines with ``cached`` false.

Example:

>>> from graphcurv.riccinets.controller import HyperGrid
>>> def evaluate(h):
...     return Candidate(h, accuracy=1 - h["alpha"], flops=1.0, flops_share=1.0,
...                      weights_share=1.0, edges_share=1.0, seconds=0.0)
>>> grid = HyperGrid({"alpha": (0.0, 0.5)}, fixed={"beta": 1.0, "gamma": 0.0, "delta": 0.0})
>>> result = ricci_search(evaluate, grid=grid, episodes=2, steps_per_episode=3, accuracy_floor=0.0, mu=0.0)
>>> len(result.steps), result.best.candidate.accuracy
(6, 1.0)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from graphcurv.atomic import atomic_path
from graphcurv.errors import GraphcurvError
from graphcurv.progress import ProgressCallback, report
from graphcurv.riccinets.controller import Controller, HyperGrid

__all__ = ["MU_RANGE", "Candidate", "SearchResult", "SearchStep", "reward", "ricci_search"]

#: The range of the FLOPs regularisation parameter :math:`\mu` studied in the paper.
MU_RANGE = (0.0, 1.5)


@dataclass(frozen=True)
class Candidate:
    """One evaluated network: its hyperparameters, top-1 accuracy, FLOPs and what pruning kept.

    ``flops`` are per forward pass; the ``*_share`` fields are fractions of the unpruned
    network's FLOPs, weights and edges; ``seconds`` the evaluation's wall time; ``extra``
    anything else the evaluator wants to keep (not written to the log).
    """

    hparams: dict[str, float]
    accuracy: float
    flops: float
    flops_share: float
    weights_share: float
    edges_share: float
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchStep:
    """One step of the search: where it was, the candidate, its reward, and whether it came from the cache."""

    episode: int
    step: int
    candidate: Candidate
    reward: float
    cached: bool


@dataclass
class SearchResult:
    """All steps, the mean reward and loss per episode, the best step and the controller's final choice.

    ``final_action`` is the controller's most likely action from the first state of an
    episode (the grid's middle values) after the last update.
    """

    steps: list[SearchStep]
    episode_rewards: list[float]
    losses: list[float]
    best: SearchStep
    final_action: dict[str, float]
    controller: Controller

    @property
    def candidates(self) -> list[Candidate]:
        """The candidate of every step, in order (repeats included)."""
        return [step.candidate for step in self.steps]


def _check_mu(mu: float) -> float:
    mu = float(mu)
    if not (math.isfinite(mu) and MU_RANGE[0] <= mu <= MU_RANGE[1]):
        raise GraphcurvError(f"mu must be in [{MU_RANGE[0]}, {MU_RANGE[1]}] (paper eq. 7), got {mu}")
    return mu


def reward(candidate: Candidate, mu: float, flops_baseline: float | None = None) -> float:
    r"""Paper eq. 7: :math:`R = A - \mu F / F_{\text{baseline}}`; without a baseline, ``flops_share`` is the ratio."""
    mu = _check_mu(mu)
    if flops_baseline is None:
        ratio = float(candidate.flops_share)
    else:
        if not (math.isfinite(flops_baseline) and flops_baseline > 0):
            raise GraphcurvError(f"flops_baseline must be a positive number, got {flops_baseline}")
        ratio = float(candidate.flops) / float(flops_baseline)
    value = float(candidate.accuracy) - mu * ratio
    if not math.isfinite(value):
        raise GraphcurvError(f"candidate {candidate.hparams} has a non-finite accuracy or FLOPs: reward {value}")
    return value


def _check_search(
    episodes: int, steps_per_episode: int, discount: float, accuracy_floor: float, flops_baseline: float | None
) -> None:
    if episodes < 1 or steps_per_episode < 1:
        raise GraphcurvError(f"episodes and steps_per_episode must be >= 1, got {episodes} and {steps_per_episode}")
    if not (math.isfinite(discount) and 0.0 <= discount <= 1.0):
        raise GraphcurvError(f"discount must be in [0, 1], got {discount}")
    if not math.isfinite(accuracy_floor):
        raise GraphcurvError(f"accuracy_floor must be a finite number, got {accuracy_floor}")
    if flops_baseline is not None and not (math.isfinite(flops_baseline) and flops_baseline > 0):
        raise GraphcurvError(f"flops_baseline must be a positive number, got {flops_baseline}")


def _log_line(handle: IO[str], step: SearchStep) -> None:
    candidate = step.candidate
    record = {
        "episode": step.episode,
        "step": step.step,
        "hparams": candidate.hparams,
        "flops": candidate.flops,
        "flops_share": candidate.flops_share,
        "weights_share": candidate.weights_share,
        "edges_share": candidate.edges_share,
        "accuracy": candidate.accuracy,
        "reward": step.reward,
        "cached": step.cached,
        "seconds": candidate.seconds,
    }
    handle.write(json.dumps(record) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def ricci_search(
    evaluate: Callable[[dict[str, float]], Candidate],
    *,
    grid: HyperGrid | None = None,
    episodes: int = 20,
    steps_per_episode: int = 5,
    discount: float = 0.99,
    accuracy_floor: float,
    mu: float,
    flops_baseline: float | None = None,
    seed: int = 0,
    log_path: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
) -> SearchResult:
    r"""Search the mass hyperparameters with REINFORCE (paper section 3.3, eqs. 4-8).

    Args:
        evaluate: ``hparams -> Candidate``; prunes, trains and tests one network.
            ``hparams`` holds every searched and fixed name of ``grid``.
        grid: the action space (default :class:`HyperGrid()`: alpha, beta, delta in
            0.0..1.0 by 0.1, gamma = 0).
        episodes, steps_per_episode: the search budget (paper: 20 episodes).
        discount: :math:`\gamma_d` of eq. 8 (paper code: 0.99).
        accuracy_floor: an episode ends as soon as a candidate's accuracy is below it.
        mu: FLOPs regularisation of eq. 7, in [0, 1.5].
        flops_baseline: FLOPs of the unpruned network; ``None`` uses each candidate's
            ``flops_share`` as :math:`F / F_{\text{baseline}}`.
        seed: seeds the controller's weights and sampling.
        log_path: optional JSONL log, one line per candidate.
        progress: ``progress(done, total, description)``, counted in steps of the full budget.

    Returns:
        A :class:`SearchResult`; its ``best`` is the step of highest reward (first on ties).
    """
    mu = _check_mu(mu)
    _check_search(episodes, steps_per_episode, discount, accuracy_floor, flops_baseline)
    controller = Controller(grid, seed=seed)
    grid = controller.grid
    cache: dict[int, Candidate] = {}
    steps: list[SearchStep] = []
    episode_rewards: list[float] = []
    losses: list[float] = []
    total = episodes * steps_per_episode
    handle: IO[str] | None = None
    if log_path is not None:
        with atomic_path(log_path) as tmp:
            tmp.write_text("")
        handle = open(Path(log_path), "a", encoding="utf-8")
    try:
        for episode in range(episodes):
            state = grid.state()
            log_probs, rewards = [], []
            for step_number in range(steps_per_episode):
                index, log_prob = controller.sample(state)
                cached = index in cache
                if not cached:
                    candidate = evaluate(grid.action(index))
                    if not isinstance(candidate, Candidate):
                        raise GraphcurvError(f"evaluate must return a Candidate, got {type(candidate).__name__}")
                    cache[index] = candidate
                candidate = cache[index]
                step = SearchStep(episode, step_number, candidate, reward(candidate, mu, flops_baseline), cached)
                steps.append(step)
                if handle is not None:
                    _log_line(handle, step)
                log_probs.append(log_prob)
                rewards.append(step.reward)
                state = grid.state(index)
                stop = candidate.accuracy < accuracy_floor
                done = (episode + 1) * steps_per_episode if stop else episode * steps_per_episode + step_number + 1
                report(progress, done, total, f"episode {episode + 1}/{episodes}: reward {step.reward:.4f}")
                if stop:
                    break
            losses.append(controller.update(log_probs, rewards, discount))
            episode_rewards.append(sum(rewards) / len(rewards))
    finally:
        if handle is not None:
            handle.close()
    best = max(steps, key=lambda s: s.reward)
    final_action = grid.action(controller.most_likely())
    return SearchResult(steps, episode_rewards, losses, best, final_action, controller)
