r"""The RicciNets controller: REINFORCE over a discrete grid of mass hyperparameters.

The controller (paper section 3.3, spec riccinets.md section 7) is a small policy network
:math:`\pi_\theta(a \mid s)` over the actions of a :class:`HyperGrid`: every action is one
combination of the node-mass hyperparameters :math:`(\alpha, \beta, \gamma, \delta)`. The
state :math:`s` fed to the policy is the previous action's hyperparameter values (the
first state of an episode is the grid's middle values). After an episode of :math:`m`
candidates with rewards :math:`R_1, \dots, R_m` the policy takes one gradient step on

.. math::

    v_k = \sum_{j \ge k} \gamma_d^{\,j-k} R_j \quad \text{(eq. 8)}, \qquad
    L(\theta) = -\frac{1}{m} \sum_{k=1}^{m} (v_k - b) \log \pi_\theta(a_k \mid s_k)
    \quad \text{(eq. 6)},

with discount :math:`\gamma_d` and baseline :math:`b = \frac{1}{m}\sum_k v_k` (the episode
mean). Minimising :math:`L` raises the log-probability of actions whose return is above
the baseline (REINFORCE, Williams 1992).

Example:

>>> grid = HyperGrid()
>>> grid.size, grid.action(146)
(1331, {'alpha': 0.1, 'beta': 0.2, 'gamma': 0.0, 'delta': 0.3})
>>> controller = Controller(grid, seed=0)
>>> index, log_prob = controller.sample()
>>> loss = controller.update([log_prob], [0.9])
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from graphcurv.errors import GraphcurvError

__all__ = ["PARAMETER_NAMES", "Controller", "HyperGrid", "Policy", "discounted_returns", "reinforce_loss"]

#: The node-mass hyperparameters of paper eq. 3, in the order actions and states use.
PARAMETER_NAMES = ("alpha", "beta", "gamma", "delta")
_DEFAULT_VALUES = tuple(round(0.1 * i, 1) for i in range(11))
_MATCH_TOLERANCE = 1e-9


def _check_value(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise GraphcurvError(f"hyperparameter {name} must be a finite number in [0, 1], got {value}")
    return value


def _check_name(name: str) -> str:
    if name not in PARAMETER_NAMES:
        raise GraphcurvError(f"unknown hyperparameter {name!r}; expected one of {', '.join(PARAMETER_NAMES)}")
    return name


class HyperGrid:
    r"""The discrete action space: the Cartesian product of the searched hyperparameters' values.

    Args:
        values: searched name -> its candidate values (each in [0, 1], distinct; stored
            sorted). Default: ``alpha``, ``beta`` and ``delta`` each in
            :math:`\{0.0, 0.1, \dots, 1.0\}`, 1331 actions, as the public code.
        fixed: name -> value of hyperparameters held constant (they appear in every
            action but are not searched). Default ``{"gamma": 0.0}`` when ``gamma`` is not
            searched, else none.

    Searched names are ordered as :data:`PARAMETER_NAMES`; action indices are mixed-radix
    numbers with the last searched name varying fastest (as :func:`itertools.product`).
    """

    def __init__(
        self,
        values: Mapping[str, Sequence[float]] | None = None,
        fixed: Mapping[str, float] | None = None,
    ) -> None:
        if values is None:
            values = {"alpha": _DEFAULT_VALUES, "beta": _DEFAULT_VALUES, "delta": _DEFAULT_VALUES}
        if fixed is None:
            fixed = {} if "gamma" in values else {"gamma": 0.0}
        if not values:
            raise GraphcurvError("a HyperGrid needs at least one searched hyperparameter")
        for name in list(values) + list(fixed):
            _check_name(name)
        checked: dict[str, tuple[float, ...]] = {}
        for name in PARAMETER_NAMES:
            if name not in values:
                continue
            grid_values = sorted(_check_value(name, v) for v in values[name])
            if not grid_values:
                raise GraphcurvError(f"hyperparameter {name} has no values to search")
            if any(b - a <= _MATCH_TOLERANCE for a, b in zip(grid_values, grid_values[1:])):
                raise GraphcurvError(f"hyperparameter {name} has repeated values: {grid_values}")
            checked[name] = tuple(grid_values)
        overlap = set(values) & set(fixed)
        if overlap:
            raise GraphcurvError(f"hyperparameters {sorted(overlap)} are both searched and fixed")
        self.values: dict[str, tuple[float, ...]] = checked
        self.fixed: dict[str, float] = {n: _check_value(n, fixed[n]) for n in PARAMETER_NAMES if n in fixed}

    @property
    def names(self) -> tuple[str, ...]:
        """The searched hyperparameters, in :data:`PARAMETER_NAMES` order (the policy's input order)."""
        return tuple(self.values)

    @property
    def size(self) -> int:
        """The number of actions: the product of the numbers of values."""
        return math.prod(len(v) for v in self.values.values())

    def _check_index(self, index: int) -> int:
        try:
            position = operator.index(index)
        except TypeError:
            position = -1
        if isinstance(index, bool) or not 0 <= position < self.size:
            raise GraphcurvError(f"action index must be an integer in [0, {self.size}), got {index!r}")
        return position

    def action(self, index: int) -> dict[str, float]:
        """The hyperparameters (searched and fixed, in :data:`PARAMETER_NAMES` order) of action ``index``."""
        remainder = self._check_index(index)
        chosen: dict[str, float] = {}
        for name in reversed(self.names):
            remainder, position = divmod(remainder, len(self.values[name]))
            chosen[name] = self.values[name][position]
        full = {**chosen, **self.fixed}
        return {name: full[name] for name in PARAMETER_NAMES if name in full}

    def index(self, values: Mapping[str, float]) -> int:
        """The action index of ``values`` (all searched names; fixed names may be given if they match)."""
        for name in values:
            _check_name(name)
            if name not in self.values and name not in self.fixed:
                raise GraphcurvError(f"hyperparameter {name} is neither searched nor fixed in this grid")
        for name, value in self.fixed.items():
            if name in values and abs(float(values[name]) - value) > _MATCH_TOLERANCE:
                raise GraphcurvError(f"hyperparameter {name} is fixed at {value}, got {values[name]}")
        index = 0
        for name in self.names:
            if name not in values:
                raise GraphcurvError(f"missing value for searched hyperparameter {name}")
            grid_values = self.values[name]
            matches = [i for i, v in enumerate(grid_values) if abs(float(values[name]) - v) <= _MATCH_TOLERANCE]
            if not matches:
                raise GraphcurvError(f"{name} = {values[name]} is not on the grid {grid_values}")
            index = index * len(grid_values) + matches[0]
        return index

    def middle(self) -> int:
        """The action whose every searched value is its list's middle one (``values[len // 2]``)."""
        return self.index({name: v[len(v) // 2] for name, v in self.values.items()})

    def state(self, index: int | None = None) -> Tensor:
        """The policy input for action ``index``: its searched values as a float tensor; ``None``: :meth:`middle`."""
        chosen = self.action(self.middle() if index is None else index)
        return torch.tensor([chosen[name] for name in self.names], dtype=torch.float32)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly description; ``HyperGrid(**grid.to_dict())`` rebuilds the grid."""
        return {"values": {n: list(v) for n, v in self.values.items()}, "fixed": dict(self.fixed)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HyperGrid) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"HyperGrid({self.to_dict()['values']}, fixed={self.fixed})"


class Policy(nn.Module):
    r"""The controller network: ``Linear(n_params, hidden) -> ReLU -> Linear(hidden, n_actions) -> log-softmax``.

    ``forward(state)`` maps states of shape ``(..., n_params)`` to log-probabilities
    :math:`\log \pi(a \mid s)` of shape ``(..., n_actions)``.
    """

    def __init__(self, n_params: int, n_actions: int, hidden: int = 128) -> None:
        super().__init__()
        if min(n_params, n_actions, hidden) < 1:
            raise GraphcurvError(f"Policy sizes must be >= 1, got {n_params}, {n_actions} and hidden {hidden}")
        self.layers = nn.Sequential(nn.Linear(n_params, hidden), nn.ReLU(), nn.Linear(hidden, n_actions))

    def forward(self, state: Tensor) -> Tensor:
        return torch.log_softmax(self.layers(state), dim=-1)


def discounted_returns(rewards: Sequence[float], discount: float = 0.99) -> list[float]:
    r"""Discounted returns of one episode (paper eq. 8): :math:`v_k = \sum_{j \ge k} \gamma_d^{\,j-k} R_j`.

    >>> discounted_returns([1.0, 2.0, 3.0], discount=0.5)
    [2.75, 3.5, 3.0]
    """
    discount = float(discount)
    if not (math.isfinite(discount) and 0.0 <= discount <= 1.0):
        raise GraphcurvError(f"discount must be in [0, 1], got {discount}")
    values = [float(r) for r in rewards]
    if not all(math.isfinite(r) for r in values):
        raise GraphcurvError(f"rewards must be finite, got {values}")
    returns: list[float] = []
    running = 0.0
    for reward in reversed(values):
        running = reward + discount * running
        returns.append(running)
    return returns[::-1]


def reinforce_loss(log_probs: Tensor | Sequence[Tensor], returns: Sequence[float] | Tensor) -> Tensor:
    r"""REINFORCE loss with the episode-mean baseline: :math:`-\frac{1}{m}\sum_k (v_k - \bar v) \log\pi(a_k)`.

    ``log_probs`` are the log-probabilities of the ``m`` actions taken (a tensor of shape
    ``(m,)`` or a sequence of scalars, carrying the policy's graph), ``returns`` their
    discounted returns :math:`v_k`. A gradient step on the result raises
    :math:`\log\pi(a_k)` where :math:`v_k` is above the mean and lowers it elsewhere.
    """
    taken = log_probs if isinstance(log_probs, Tensor) else torch.stack(list(log_probs))
    taken = taken.reshape(-1)
    values = torch.as_tensor(returns, dtype=taken.dtype, device=taken.device).reshape(-1).detach()
    if taken.numel() == 0 or taken.numel() != values.numel():
        raise GraphcurvError(f"need one return per log-probability (>= 1), got {values.numel()} for {taken.numel()}")
    if not torch.isfinite(values).all():
        raise GraphcurvError("returns must be finite")
    advantage = values - values.mean()
    return -(advantage * taken).mean()


class Controller:
    """The REINFORCE controller: a :class:`Policy` over a :class:`HyperGrid`, Adam, and a seeded sampler.

    Args:
        grid: the action space (default :class:`HyperGrid()`, 1331 actions).
        hidden: width of the policy's hidden layer.
        lr: Adam learning rate (paper code: 0.01).
        seed: seeds the policy's initial weights (without touching the global RNG) and the
            sampling generator, so a search is reproducible.

    The policy may be moved to another device (``controller.policy.to(device)``); sampling
    draws on the CPU generator, so results do not depend on the device.
    """

    def __init__(self, grid: HyperGrid | None = None, *, hidden: int = 128, lr: float = 0.01, seed: int = 0) -> None:
        self.grid = grid if grid is not None else HyperGrid()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.policy = Policy(len(self.grid.names), self.grid.size, hidden)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=lr)
        self.generator = torch.Generator().manual_seed(seed)

    def log_probs(self, state: Tensor | None = None) -> Tensor:
        """Log-probabilities of every action from ``state`` (default: the grid's middle values)."""
        state = self.grid.state() if state is None else state
        parameter = next(self.policy.parameters())
        state = state.to(device=parameter.device, dtype=parameter.dtype)
        if state.shape != (len(self.grid.names),):
            raise GraphcurvError(f"state must have shape ({len(self.grid.names)},), got {tuple(state.shape)}")
        return self.policy(state)

    def sample(self, state: Tensor | None = None) -> tuple[int, Tensor]:
        """Draw an action from ``state``: its index and its log-probability (with gradient)."""
        log_probs = self.log_probs(state)
        probabilities = log_probs.detach().exp().cpu().double()
        index = int(torch.multinomial(probabilities, 1, generator=self.generator))
        return index, log_probs[index]

    def most_likely(self, state: Tensor | None = None) -> int:
        """The action of highest probability from ``state`` (default: the first state of an episode)."""
        with torch.no_grad():
            return int(self.log_probs(state).argmax())

    def update(self, log_probs: Sequence[Tensor], rewards: Sequence[float], discount: float = 0.99) -> float:
        """One REINFORCE step on an episode's log-probabilities and rewards; returns the loss before the step."""
        loss = reinforce_loss(log_probs, discounted_returns(rewards, discount))
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: the grid, policy and optimizer states, and the sampler's state."""
        return {
            "grid": self.grid.to_dict(),
            "policy": self.policy.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the grid must be the same."""
        if HyperGrid(**state["grid"]) != self.grid:
            raise GraphcurvError(f"the saved controller searched {HyperGrid(**state['grid'])}, not {self.grid}")
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
