r"""Closed-form bounds of Ollivier-Ricci curvature at :math:`\alpha = 0`.

For an edge :math:`(x, y)` of an unweighted undirected graph with degrees
:math:`d_x, d_y` and :math:`t` triangles, the curvature :math:`\kappa` with uniform
measures on the neighbours (:math:`\alpha = 0`) satisfies (Jost and Liu 2014)

.. math::
    -\Big(1 - \frac{1}{d_x} - \frac{1}{d_y} - \frac{t}{d_x \wedge d_y}\Big)_+
    -\Big(1 - \frac{1}{d_x} - \frac{1}{d_y} - \frac{t}{d_x \vee d_y}\Big)_+
    + \frac{t}{d_x \vee d_y}
    \;\le\; \kappa(x, y) \;\le\; \frac{t}{d_x \vee d_y}.

Where the two coincide (:func:`bounds_coincide`) the curvature is known without
solving a transport problem. The functions accept the same graphs as the Forman
family (undirected, no self-loops or repeated edges) and raise
:class:`~graphcurv.errors.GraphcurvError` for a weighted graph (lengths other than 1).
Values have dtype ``dtype`` if given, else that of an all-ones ``edge_weight``, else
``torch.get_default_dtype()``.
Cost: one sort of the edges plus the triangle count of
:mod:`graphcurv.curvature.combinatorics`.

Reference: Jost and Liu 2014, "Ollivier's Ricci curvature, local clustering and
curvature-dimension inequalities on graphs", Theorems 3 and 4.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphcurv.curvature.combinatorics import undirected_graph
from graphcurv.errors import GraphcurvError

_FAMILY = "the alpha = 0 curvature bounds"


def _result_dtype(data: Data, dtype: torch.dtype | None) -> torch.dtype:
    """``dtype``, else the float dtype of ``edge_weight`` (all ones), else the default."""
    if dtype is not None:
        if not dtype.is_floating_point:
            raise GraphcurvError("dtype must be a floating point dtype")
        return dtype
    if "edge_weight" in data and data.edge_weight.dtype.is_floating_point:
        return data.edge_weight.dtype
    return torch.get_default_dtype()


def _degrees_and_triangles(data: Data, method: str, dtype: torch.dtype | None):
    adj, weight = undirected_graph(data, method, family=_FAMILY)
    if weight is not None:
        raise GraphcurvError(
            f"{method} holds for unweighted graphs only; the graph has edge lengths other "
            "than 1 (drop edge_weight to bound the unweighted curvature)"
        )
    dt = _result_dtype(data, dtype)
    x, y = data.edge_index
    deg = adj.degree.to(dt)
    t = adj.per_edge(adj.triangles()[0]).to(dt)
    dx, dy = deg[x], deg[y]
    return dx, dy, t


def _bounds(dx: Tensor, dy: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
    high, low = torch.maximum(dx, dy), torch.minimum(dx, dy)
    upper = t / high
    base = 1 - 1 / dx - 1 / dy
    lower = -torch.relu(base - t / low) - torch.relu(base - upper) + upper
    return lower, upper


def jost_liu_lower_bound(data: Data, *, dtype: torch.dtype | None = None) -> Tensor:
    r"""Jost-Liu lower bound of :math:`\kappa` at :math:`\alpha = 0`, one per edge.

    :math:`-(1 - 1/d_x - 1/d_y - t/(d_x \wedge d_y))_+
    - (1 - 1/d_x - 1/d_y - t/(d_x \vee d_y))_+ + t/(d_x \vee d_y)`.

    Example (the 5-cycle: d = 2, t = 0, so both brackets are 0 and the bound is 0;
    the triangle: 1 - 1/2 - 1/2 - 1/2 < 0, bound = t / 2 = 0.5):

        >>> import torch
        >>> from torch_geometric.data import Data
        >>> from torch_geometric.utils import to_undirected
        >>> ei = to_undirected(torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]]))
        >>> jost_liu_lower_bound(Data(edge_index=ei, num_nodes=5)).unique().tolist()
        [0.0]
        >>> ei = to_undirected(torch.tensor([[0, 1, 2], [1, 2, 0]]))
        >>> jost_liu_lower_bound(Data(edge_index=ei, num_nodes=3)).unique().tolist()
        [0.5]
    """
    return _bounds(*_degrees_and_triangles(data, "jost_liu_lower_bound", dtype))[0]


def curvature_upper_bound(data: Data, *, dtype: torch.dtype | None = None) -> Tensor:
    r"""Upper bound :math:`t / (d_x \vee d_y)` of :math:`\kappa` at :math:`\alpha = 0`.

    Example (K4: d = 3, t = 2, bound 2/3 on every edge):

        >>> import torch
        >>> from torch_geometric.data import Data
        >>> from torch_geometric.utils import to_undirected
        >>> ei = to_undirected(torch.tensor([[0, 0, 0, 1, 1, 2], [1, 2, 3, 2, 3, 3]]))
        >>> curvature_upper_bound(Data(edge_index=ei, num_nodes=4), dtype=torch.float64)[0]
        tensor(0.6667, dtype=torch.float64)
    """
    dx, dy, t = _degrees_and_triangles(data, "curvature_upper_bound", dtype)
    return t / torch.maximum(dx, dy)


def bounds_coincide(data: Data, atol: float = 1e-12) -> Tensor:
    r"""Boolean mask of the edges whose two :math:`\alpha = 0` bounds agree to ``atol``.

    There :math:`\kappa` (at :math:`\alpha = 0`) equals the upper bound
    :math:`t / (d_x \vee d_y)` and no transport problem needs solving. Computed in
    float64.

    Example (a star: on a leaf edge ``d_x = 1``, ``t = 0``, both brackets are
    negative and both bounds are 0; so are they on the cycles ``C4``, ``C5``; on the
    triangle both are 1/2):

        >>> import torch
        >>> from torch_geometric.data import Data
        >>> from torch_geometric.utils import to_undirected
        >>> star = to_undirected(torch.tensor([[0, 0, 0], [1, 2, 3]]))
        >>> bounds_coincide(Data(edge_index=star, num_nodes=4)).all().item()
        True
    """
    if atol < 0:
        raise GraphcurvError("atol must be non-negative")
    lower, upper = _bounds(*_degrees_and_triangles(data, "bounds_coincide", torch.float64))
    return (upper - lower).abs() <= atol
