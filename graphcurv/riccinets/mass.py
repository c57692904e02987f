r"""The RicciNets node mass (Glass et al., eq. 3) as a valid probability measure.

For an edge :math:`s \to t` of a stage DAG, the source spreads its mass over its
predecessors and itself, the target over its successors and itself (directed ORC).
The node x keeps :math:`m_x(x) = \alpha`; a neighbour z on that side gets

.. math::
    m_x(z) = (1 - \alpha)\, \frac{r(z)}{\sum_{z'} r(z')}, \qquad
    r(z) = \beta\, \frac{1}{\mathrm{Deg}(z)} + \gamma\, \mathrm{In}(z)
           + \delta\, \frac{\mathrm{Out}(z)}{\mathrm{In}(z)},

with In, Out and Deg the in-, out- and total degree in the stage DAG (the last term is
0 when In(z) = 0, as in the public code). Normalisation, documented because the
paper's formula is not a measure as written:

* The degree terms are read at the neighbour z receiving the mass. Read at x, every
  neighbour would get the same raw mass, and any normalisation that sums to 1 would
  make :math:`\beta, \gamma, \delta` irrelevant (the lazy uniform measure).
* The raw masses are divided by their sum, so the node's own mass is exactly
  :math:`\alpha` and the neighbours share :math:`1 - \alpha`; all masses are >= 0 for
  :math:`\alpha \in [0, 1]` and :math:`\beta, \gamma, \delta \ge 0`. Only the ratios
  :math:`\beta : \gamma : \delta` matter, which is how "the masses sum to 1" leaves
  three free hyperparameters (the paper's remark).
* A node whose neighbours all have raw mass 0 (e.g. :math:`\beta = \gamma = \delta = 0`)
  spreads :math:`1 - \alpha` uniformly; a node with no neighbour on that side keeps all
  its mass.

The public code instead puts the hyperparameters into the node's own mass,
:math:`1 - \beta(1 - \alpha) + \mathrm{Deg}\,\frac{\mathrm{Out}}{\mathrm{In}}\,\delta\,
(1 - 1/\mathrm{In})`, which exceeds 1 (neighbour masses negative) for example at
:math:`(\alpha, \beta, \delta) = (0.3, 0.5, 0.2)` with in- and out-degree 2 (1.05).

>>> import torch
>>> ei = torch.tensor([[0, 1, 1], [1, 2, 3]])          # 0 -> 1 -> {2, 3}
>>> riccinets_node_mass(ei, 4, beta=1.0, gamma=0.0, delta=0.0).tolist()
[1.0, 0.3333333333333333, 1.0, 1.0]
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor
from torch_geometric.utils import degree

from graphcurv.errors import GraphcurvError
from graphcurv.measures import Measure, node_mass_measure

HYPERPARAMETERS = ("alpha", "beta", "gamma", "delta")


def check_hyperparameters(**values: float) -> dict[str, float]:
    """Each of alpha, beta, gamma, delta given must be a finite number >= 0 (alpha also <= 1)."""
    out = {}
    for name, value in values.items():
        value = float(value)
        if math.isnan(value) or math.isinf(value) or value < 0 or (name == "alpha" and value > 1):
            bound = "[0, 1]" if name == "alpha" else "[0, inf)"
            raise GraphcurvError(f"RicciNets hyperparameter {name} must lie in {bound}, got {value}")
        out[name] = value
    return out


def riccinets_node_mass(edge_index: Tensor, num_nodes: int, *, beta: float, gamma: float, delta: float) -> Tensor:
    r"""Raw mass :math:`r(z)` of every node z of the DAG ``edge_index`` (module docstring)."""
    check_hyperparameters(beta=beta, gamma=gamma, delta=delta)
    n_in = degree(edge_index[1], num_nodes, dtype=torch.float64)
    n_out = degree(edge_index[0], num_nodes, dtype=torch.float64)
    total = n_in + n_out
    inverse_degree = torch.where(total > 0, 1.0 / total.clamp(min=1), torch.zeros_like(total))
    ratio = torch.where(n_in > 0, n_out / n_in.clamp(min=1), torch.zeros_like(n_in))
    return beta * inverse_degree + gamma * n_in + delta * ratio


def riccinets_measure(edge_index: Tensor, num_nodes: int, *, beta: float, gamma: float, delta: float) -> Measure:
    """A measure for the curvature engine (laziness ``alpha`` is the engine's argument)."""
    inner = node_mass_measure(riccinets_node_mass(edge_index, num_nodes, beta=beta, gamma=gamma, delta=delta))

    def measure(ei, ew, n, *, alpha=0.5, side="out"):
        with warnings.catch_warnings():  # the uniform fallback is the documented rule here
            warnings.filterwarnings("ignore", message=".*share the mass uniformly", category=RuntimeWarning)
            return inner(ei, ew, n, alpha=alpha, side=side)

    return measure
