r"""Ollivier-Ricci curvature for many laziness values with as few transport solves as possible.

On an undirected graph with equal edge lengths and the lazy uniform measure (which is
also GraphRicciCurvature's ``exp(-d^2)`` measure when all lengths are equal), the
idleness function :math:`\alpha \mapsto \kappa_\alpha(x, y)` is linear on
:math:`[1/(\max(d_x, d_y) + 1), 1]` (Bourne, Cushing, Liu, Münch, Peyerimhoff,
"Ollivier-Ricci idleness functions of graphs", SIAM J. Discrete Math. 2018):

.. math::
    \kappa_\alpha(x, y) = (1 - \alpha)\, \kappa_{LLY}(x, y), \qquad
    \kappa_{LLY} = 2\, \kappa_{1/2},

where :math:`\kappa_{LLY}` is the Lin-Lu-Yau curvature. One exact solve at
:math:`\alpha = 1/2` (always inside the linear range) therefore serves every
:math:`\alpha` at or above an edge's threshold; only laziness values below some edge's
threshold need their own solve. Other graphs (weighted, directed, custom measures) get
one solve per value.

>>> import torch
>>> from torch_geometric.data import Data
>>> ring = Data(edge_index=torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3]]), num_nodes=4)
>>> ollivier_ricci_alphas(ring, [0.5, 0.75])[:, 0].tolist()
[0.5, 0.25]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import degree, is_undirected

from graphcurv.curvature.ollivier import ollivier_ricci
from graphcurv.errors import GraphcurvError


def lin_lu_yau(data: Data, **kwargs: Any) -> Tensor:
    """Lin-Lu-Yau curvature of an undirected graph with equal edge lengths: 2 kappa_{1/2}."""
    if not _linear_case(data, kwargs):
        raise GraphcurvError("Lin-Lu-Yau curvature needs an undirected graph with equal edge lengths")
    return 2.0 * ollivier_ricci(data, alpha=0.5, **kwargs).edge_curvature


def ollivier_ricci_alphas(data: Data, alphas: Sequence[float], **kwargs: Any) -> Tensor:
    """Edge curvature for each laziness in ``alphas``: a ``(len(alphas), E)`` tensor.

    Keyword arguments go to :func:`~graphcurv.curvature.ollivier_ricci`.
    """
    alphas = [float(a) for a in alphas]
    if not alphas:
        raise GraphcurvError("give at least one alpha")
    if not _linear_case(data, kwargs):
        return torch.stack([ollivier_ricci(data, alpha=a, **kwargs).edge_curvature for a in alphas])
    lly = lin_lu_yau(data, **kwargs)
    ei = data.edge_index
    deg = degree(ei[0], num_nodes=data.num_nodes)
    threshold = 1.0 / (torch.maximum(deg[ei[0]], deg[ei[1]]) + 1.0)
    rows = []
    for alpha in alphas:
        linear = (1.0 - alpha) * lly
        below = alpha < threshold - 1e-15
        if bool(below.any()):  # some edge is outside the linear range: solve this alpha
            direct = ollivier_ricci(data, alpha=alpha, **kwargs).edge_curvature
            linear = torch.where(below, direct, linear)
        rows.append(linear)
    return torch.stack(rows)


def _linear_case(data: Data, kwargs: dict[str, Any]) -> bool:
    if kwargs.get("measure", "exp") not in ("exp", "uniform") or kwargs.get("directed"):
        return False
    weight = getattr(data, "edge_weight", None)
    if weight is not None and weight.numel() and not bool((weight == weight.reshape(-1)[0]).all()):
        return False
    return bool(is_undirected(data.edge_index, num_nodes=data.num_nodes))
