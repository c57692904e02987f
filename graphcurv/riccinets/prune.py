r"""RicciNets pruning of one stage graph: Ricci flow under the RicciNets mass, then a cut.

1. Every edge starts with weight 1; directed Ollivier-Ricci curvature
   :math:`\kappa = 1 - W_1(m_s, m_t) / d(s, t)` with the measures of
   :mod:`graphcurv.riccinets.mass` (the source spreads over its predecessors, the target
   over its successors; directed shortest-path distances; exact transport).
2. Ricci flow, the RicciNets update :math:`w^{k+1} = (1 - \kappa^k)\, d^k(s, t)`,
   rescaled after every step so that :math:`\sum w = |E|` (mean weight 1; per weakly
   connected component), for at most ``iterations`` steps (paper: 50), stopping when
   the curvature spread :math:`\max\kappa - \min\kappa` is below ``tol`` (1e-4).
3. Every edge whose flowed weight is below the mean weight is removed (the public
   code keeps edges in [mean, max]); dangling nodes are handled by
   :func:`graphcurv.riccinets.graph_ops.remove_edges`.

Heavy, bridge-like, negatively curved edges grow under the flow and survive; edges
inside dense, positively curved clusters shrink and go.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError
from graphcurv.flow import ricci_flow
from graphcurv.progress import ProgressCallback
from graphcurv.riccinets.graph_ops import PrunedGraph, remove_edges
from graphcurv.riccinets.mass import check_hyperparameters, riccinets_measure
from graphcurv.riccinets.wiring import check_dag

#: Weights within this relative distance below the mean count as "at the mean" (kept):
#: a graph whose flow leaves every weight at 1 loses no edge to rounding.
MEAN_TOLERANCE = 1e-9


class RicciPruneResult(NamedTuple):
    """The pruned stage, and the flow behind it (per original edge)."""

    pruned: PrunedGraph
    weight: Tensor
    curvature: Tensor
    threshold: float
    iterations: int
    converged: bool


def ricci_prune(
    graph: Data,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    gamma: float = 0.0,
    delta: float = 0.5,
    iterations: int = 50,
    tol: float = 1e-4,
    dangling: str = "isolated",
    workers: int | None = 1,
    progress: ProgressCallback | None = None,
) -> RicciPruneResult:
    """Flow and prune one stage DAG (module docstring); ``alpha..delta`` as in :mod:`~graphcurv.riccinets.mass`.

    ``workers`` defaults to 1: stage graphs are small and a process pool costs more than it saves.
    """
    check_dag(graph)
    check_hyperparameters(alpha=alpha, beta=beta, gamma=gamma, delta=delta)
    if graph.edge_index.size(1) == 0:
        raise GraphcurvError("the stage graph has no edge to prune")
    n = int(graph.num_nodes)
    measure = riccinets_measure(graph.edge_index, n, beta=beta, gamma=gamma, delta=delta)
    ones = torch.ones(graph.edge_index.size(1), dtype=torch.float64, device=graph.edge_index.device)
    data = Data(edge_index=graph.edge_index, edge_weight=ones, num_nodes=n)
    flow = ricci_flow(
        data,
        iterations,
        update="riccinets",
        measure=measure,
        alpha=alpha,
        delta=tol,
        directed=True,
        workers=workers,
        progress=progress,
    )
    weight = flow.edge_weight
    threshold = float(weight.mean())
    keep = weight >= threshold * (1 - MEAN_TOLERANCE)
    return RicciPruneResult(
        remove_edges(graph, keep, dangling), weight, flow.edge_curvature, threshold, flow.iterations, flow.converged
    )


def ricci_prune_stages(graphs: list[Data], **options) -> list[RicciPruneResult]:
    """:func:`ricci_prune` on every stage graph with the same hyperparameters."""
    return [ricci_prune(g, **options) for g in graphs]
