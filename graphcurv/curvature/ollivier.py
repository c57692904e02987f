r"""Ollivier-Ricci curvature of every edge of a PyG graph.

.. math::
    \kappa(x, y) = 1 - \frac{W_1(m_x, m_y)}{d(x, y)}

with the measures of :mod:`graphcurv.measures` (default: GraphRicciCurvature's
``exp(-d^2)`` kernel with laziness alpha), W1 the exact earth mover's distance under
the shortest-path metric, and d(x, y) the shortest-path distance between the ends
(which is shorter than the edge's own length when a cheaper detour exists).
:math:`\kappa = 0` where d(x, y) < 1e-7. On a directed graph x spreads over its
predecessors and y over its successors, with directed distances. These are
GraphRicciCurvature 0.6's conventions; numbers agree with its ``method="OTD"`` to 1e-9
(it keeps at most 3000 neighbours per node, graphcurv keeps all).

Node curvature is the mean curvature of the node's incident edges (in- and out-edges
on a directed graph; NaN for an isolated node).

Work per edge: one small transport problem on supp(m_x) x supp(m_y) after removing
the shared mass; see :mod:`graphcurv.curvature.local_problems`. Unweighted graphs
(all lengths equal) use O(1) hop-distance lookups; weighted graphs use bounded
Dijkstra from the needed sources.

Example (a 4-cycle: every edge has curvature 0 at alpha 0; at alpha 0.5, 0.5):

>>> import torch
>>> from torch_geometric.data import Data
>>> ei = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3]])
>>> ollivier_ricci(Data(edge_index=ei, num_nodes=4), alpha=0.0).edge_curvature.tolist()
[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import scatter

from graphcurv.curvature.plan import CurvaturePlan
from graphcurv.errors import GraphcurvError
from graphcurv.execution.local import LocalExecutor
from graphcurv.measures import Measure, resolve_measure
from graphcurv.progress import ProgressCallback

ZERO_DISTANCE = 1e-7  # GraphRicciCurvature's EPSILON: below it, kappa = 0


class OllivierRicciResult(NamedTuple):
    """Per-edge results aligned with ``data.edge_index``; ``node_curvature`` per node."""

    edge_curvature: Tensor
    node_curvature: Tensor
    wasserstein: Tensor
    distance: Tensor


def ollivier_ricci(
    data: Data,
    alpha: float = 0.5,
    *,
    measure: str | Measure = "exp",
    base: float = math.e,
    exp_power: float = 2.0,
    solver: str = "exact",
    tol: float = 1e-4,
    directed: bool | None = None,
    workers: int | None = None,
    max_entries: int | None = None,
    progress: ProgressCallback | None = None,
    executor=None,
    state: str | Path | None = None,
) -> OllivierRicciResult:
    """Ollivier-Ricci curvature of every edge of ``data`` (see the module docstring).

    Args:
        data: graph with ``edge_index``, optional ``edge_weight`` (lengths, default 1).
        alpha: laziness, the mass each node keeps (GraphRicciCurvature's default 0.5).
        measure: ``"exp"`` (``base ** -(d ** exp_power)``), ``"uniform"``, or a measure
            function from :mod:`graphcurv.measures`.
        solver: ``"exact"`` (certified), or a batched approximate solver (``"sinkhorn"``,
            ``"pot-batch"``) with absolute W1 error at most ``tol``.
        directed: treat the graph as directed; default: directed unless ``edge_index``
            is symmetric with equal weights both ways.
        workers: processes for the exact solver (default: all available CPUs).
        max_entries: cost entries built at once (bounds memory: ~50 bytes each; default
            2^18 for the exact solver, 2^23 for the batched ones).
        progress: called as ``progress(done_edges, total_edges, description)``.
        executor: a :mod:`graphcurv.execution` executor, already entered (e.g.
            ``with executor(workers=4, distributed=True) as ex``): the edges are cut into
            units of chunks that workers build and solve themselves (exact solver only;
            the same values bit for bit). Default None: this process and its fork pool.
        state: a file that keeps the solved chunks as they come back, so an interrupted run
            (Ctrl-C, a lost Dask scheduler or client) resumes where it stopped, with the
            values of an uninterrupted run (:mod:`graphcurv.curvature.state`; exact solver).
            Without ``executor`` the chunks run as units on the local process pool.

    Returns:
        :class:`OllivierRicciResult` with float64 tensors on the device of ``data``.
    """
    edge_index, length, num_nodes = _checked_graph(data)
    measure_fn = resolve_measure(measure, base=base, exp_power=exp_power)
    options = dict(solver=solver, tol=tol, workers=workers, max_entries=max_entries)
    if state is not None and solver != "exact":
        raise GraphcurvError("a state file keeps exact results only: use solver='exact' with state")
    if executor is not None or state is not None:  # the units solve: no process pool of the plan's own
        options["workers"] = 1
    with CurvaturePlan(
        edge_index, length, num_nodes, measure=measure_fn, alpha=alpha, directed=directed, **options
    ) as plan:
        if executor is None and state is None:
            w1, dist = plan.solve(plan.edge_length, progress)
        elif executor is None:
            with LocalExecutor(workers) as local:
                w1, dist = plan.solve_with(local, plan.edge_length, progress, state)
        else:
            w1, dist = plan.solve_with(executor, plan.edge_length, progress, state)
    kappa = curvature_from_distances(w1, dist)
    # Map the results of the solved edges back onto data.edge_index.
    pos = plan.edge_positions(edge_index[0], edge_index[1])
    edge_kappa, edge_w1, edge_dist = kappa[pos], w1[pos], dist[pos]
    node_kappa = node_curvature(edge_index, edge_kappa, num_nodes, plan.directed)
    return OllivierRicciResult(edge_kappa, node_kappa, edge_w1, edge_dist)


def curvature_from_distances(w1: Tensor, dist: Tensor) -> Tensor:
    """kappa = 1 - W1 / d, and 0 where d < 1e-7 (GraphRicciCurvature's convention)."""
    return torch.where(dist < ZERO_DISTANCE, torch.zeros_like(w1), 1.0 - w1 / dist.clamp(min=ZERO_DISTANCE))


def _checked_graph(data: Data) -> tuple[Tensor, Tensor, int]:
    edge_index = getattr(data, "edge_index", None)
    if edge_index is None or edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise GraphcurvError("the graph needs an edge_index of shape (2, E)")
    if edge_index.size(1) == 0:
        raise GraphcurvError("the graph has no edges: curvature is defined on edges")
    num_nodes = int(data.num_nodes)
    edge_index = edge_index.long()
    if int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes:
        raise GraphcurvError(f"edge_index refers to nodes outside 0..{num_nodes - 1}")
    if bool((edge_index[0] == edge_index[1]).any()):
        raise GraphcurvError("the graph has self-loops: remove them first (graphcurv.graphs.validate_graph)")
    weight = getattr(data, "edge_weight", None)
    if weight is None:
        length = torch.ones(edge_index.size(1), dtype=torch.float64, device=edge_index.device)
    else:
        length = weight.detach().to(torch.float64).reshape(-1)
        if length.numel() != edge_index.size(1):
            raise GraphcurvError(f"edge_weight has {length.numel()} entries for {edge_index.size(1)} edges")
        if not bool(torch.isfinite(length).all()) or bool((length <= 0).any()):
            raise GraphcurvError("edge lengths (edge_weight) must be finite and positive")
    return edge_index, length, num_nodes


def node_curvature(edge_index: Tensor, edge_kappa: Tensor, num_nodes: int, directed: bool) -> Tensor:
    if directed:
        ends = torch.cat([edge_index[0], edge_index[1]])
        values = torch.cat([edge_kappa, edge_kappa])
    else:  # both directions are stored: each incident edge once per node as its source
        ends, values = edge_index[0], edge_kappa
    total = scatter(values, ends, dim=0, dim_size=num_nodes, reduce="sum")
    count = scatter(torch.ones_like(values), ends, dim=0, dim_size=num_nodes, reduce="sum")
    return torch.where(count > 0, total / count.clamp(min=1), torch.full_like(total, float("nan")))
