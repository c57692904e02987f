r"""Probability measures on neighbourhoods, as message passing over edges.

Ollivier-Ricci curvature compares, for an edge (x, y), a measure m_x spread by x over
itself and its neighbours with a measure m_y spread by y. Every measure here has the
same signature::

    measure(edge_index, edge_weight, num_nodes, *, alpha, side) -> (self_mass, edge_mass)

* ``side="out"``: node ``edge_index[0, e]`` gives mass ``edge_mass[e]`` to
  ``edge_index[1, e]`` (its successors; on an undirected graph, its neighbours).
* ``side="in"``: node ``edge_index[1, e]`` gives ``edge_mass[e]`` to
  ``edge_index[0, e]`` (its predecessors).
* ``self_mass[x]`` is the mass x keeps: ``alpha`` (the laziness), or 1 when x has no
  neighbour on that side (an isolated node keeps all its mass).

For each node x with neighbours on that side,
:math:`\text{self}(x) + \sum_{e: x \to z} \text{edge\_mass}(e) = 1`, all terms >= 0.
The normalisations are PyG scatter/softmax operations, so they run on the device of
the input.

Built-in measures:

* :func:`exp_power_measure` — GraphRicciCurvature's default: neighbour z of x gets
  :math:`(1-\alpha)\, b^{-d(x,z)^p} / \sum_{z'} b^{-d(x,z')^p}`; with ``exp_power=0``
  it is the lazy uniform measure. If that sum is below 1e-7 the neighbours share
  :math:`1-\alpha` uniformly (GraphRicciCurvature does the same, and warns).
* :func:`uniform_measure` — :math:`(1-\alpha)/\deg(x)` on each neighbour.
* :func:`edge_mass_measure` / :func:`node_mass_measure` — user-supplied non-negative
  raw masses per edge or per receiving node, normalised per node to :math:`1-\alpha`
  (uniform where all raw masses of a node are 0). Later analyses plug activation
  softmax and RicciNets masses in here.

Example (a path 0 - 1 - 2, lazy uniform measure of node 1 at alpha 0.5):

>>> import torch
>>> ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
>>> self_mass, edge_mass = uniform_measure(ei, None, 3, alpha=0.5, side="out")
>>> self_mass.tolist(), edge_mass.tolist()
([0.5, 0.5, 0.5], [0.5, 0.25, 0.25, 0.5])
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from graphcurv.errors import GraphcurvError

Side = Literal["in", "out"]
Measure = Callable[..., tuple[Tensor, Tensor]]

#: Below this total raw neighbour weight a node's neighbours share its mass uniformly
#: (GraphRicciCurvature's EPSILON).
UNIFORM_FALLBACK_BELOW = 1e-7


def _center(edge_index: Tensor, side: Side) -> Tensor:
    if side == "out":
        return edge_index[0]
    if side == "in":
        return edge_index[1]
    raise GraphcurvError(f"side must be 'in' or 'out', not {side!r}")


def _check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0 or math.isnan(alpha):
        raise GraphcurvError(f"alpha (laziness) must lie in [0, 1], got {alpha}")
    return alpha


def normalise_raw_mass(
    raw: Tensor, edge_index: Tensor, num_nodes: int, *, alpha: float, side: Side
) -> tuple[Tensor, Tensor]:
    r"""Turn non-negative raw per-edge masses into a lazy measure.

    ``edge_mass[e] = (1 - alpha) * raw[e] / sum_{e' from the same node} raw[e']``; a node
    whose raw masses sum to less than 1e-7 spreads :math:`1 - \alpha` uniformly instead.
    ``self_mass = alpha`` for nodes with neighbours on ``side``, 1 for the others.
    """
    alpha = _check_alpha(alpha)
    center = _center(edge_index, side)
    raw = raw.to(torch.float64)
    if raw.shape != center.shape:
        raise GraphcurvError(f"raw masses must have one entry per edge ({center.numel()}), got {tuple(raw.shape)}")
    if torch.isnan(raw).any() or (raw < 0).any():
        raise GraphcurvError("raw measure masses must be non-negative numbers (found a negative or NaN)")
    total = scatter(raw, center, dim=0, dim_size=num_nodes, reduce="sum")
    degree = scatter(torch.ones_like(raw), center, dim=0, dim_size=num_nodes, reduce="sum")
    fallback = (total < UNIFORM_FALLBACK_BELOW) & (degree > 0)
    if bool(fallback.any()):
        warnings.warn(
            f"{int(fallback.sum())} node(s) have neighbour weight sum below {UNIFORM_FALLBACK_BELOW}; "
            "their neighbours share the mass uniformly",
            RuntimeWarning,
            stacklevel=3,
        )
    share = torch.where(fallback[center], 1.0 / degree[center].clamp(min=1), raw / total[center].clamp(min=1e-300))
    edge_mass = (1.0 - alpha) * share
    self_mass = torch.where(degree > 0, torch.full_like(total, alpha), torch.ones_like(total))
    return self_mass, edge_mass


def exp_power_measure(
    edge_index: Tensor,
    edge_weight: Tensor | None,
    num_nodes: int,
    *,
    alpha: float = 0.5,
    side: Side = "out",
    base: float = math.e,
    exp_power: float = 2.0,
) -> tuple[Tensor, Tensor]:
    r"""GraphRicciCurvature's measure: raw weight :math:`b^{-d(x,z)^p}` of neighbour z, normalised.

    ``edge_weight`` holds the lengths d (None = all 1). ``exp_power = 0`` gives the lazy
    uniform measure.
    """
    if base <= 0:
        raise GraphcurvError(f"base must be positive, got {base}")
    length = _lengths(edge_index, edge_weight)
    raw = torch.pow(torch.tensor(float(base), dtype=torch.float64, device=length.device), -(length**exp_power))
    return normalise_raw_mass(raw, edge_index, num_nodes, alpha=alpha, side=side)


def uniform_measure(
    edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int, *, alpha: float = 0.5, side: Side = "out"
) -> tuple[Tensor, Tensor]:
    r"""Lazy uniform measure: :math:`\alpha` at x, :math:`(1-\alpha)/\deg(x)` on each neighbour."""
    raw = torch.ones(edge_index.size(1), dtype=torch.float64, device=edge_index.device)
    return normalise_raw_mass(raw, edge_index, num_nodes, alpha=alpha, side=side)


def edge_mass_measure(edge_mass: Tensor) -> Measure:
    """A measure from user-supplied raw masses, one per edge (the edge's receiving end gets it)."""

    def measure(edge_index, edge_weight, num_nodes, *, alpha=0.5, side="out"):
        return normalise_raw_mass(edge_mass.to(edge_index.device), edge_index, num_nodes, alpha=alpha, side=side)

    return measure


def node_mass_measure(node_mass: Tensor) -> Measure:
    """A measure from user-supplied raw masses per node: neighbour z of x gets raw mass ``node_mass[z]``."""

    def measure(edge_index, edge_weight, num_nodes, *, alpha=0.5, side="out"):
        _center(edge_index, side)  # validates side
        other = edge_index[1] if side == "out" else edge_index[0]
        raw = node_mass.to(edge_index.device, torch.float64)[other]
        return normalise_raw_mass(raw, edge_index, num_nodes, alpha=alpha, side=side)

    return measure


def _lengths(edge_index: Tensor, edge_weight: Tensor | None) -> Tensor:
    if edge_weight is None:
        return torch.ones(edge_index.size(1), dtype=torch.float64, device=edge_index.device)
    return edge_weight.to(torch.float64)


def resolve_measure(measure: str | Measure, *, base: float = math.e, exp_power: float = 2.0) -> Measure:
    """A measure function from a name (``"exp"``, ``"uniform"``) or a callable (returned as is)."""
    if callable(measure):
        return measure
    if measure == "exp":
        return lambda ei, ew, n, *, alpha, side: exp_power_measure(
            ei, ew, n, alpha=alpha, side=side, base=base, exp_power=exp_power
        )
    if measure == "uniform":
        return uniform_measure
    raise GraphcurvError(f"unknown measure {measure!r}: use 'exp', 'uniform' or a measure function")
