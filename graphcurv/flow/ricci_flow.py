r"""Discrete Ricci flow on the edge lengths of a graph (Ni et al. 2019; RicciNets).

Each iteration k updates every edge length from its Ollivier-Ricci curvature and
normalises, then recomputes the curvature:

.. math::
    \text{ni2019:}\quad w^{k+1}_{xy} = w^k_{xy} - \text{step}\,\kappa^k_{xy}\, w^k_{xy}
    \qquad\qquad
    \text{riccinets:}\quad w^{k+1}_{xy} = (1 - \kappa^k_{xy})\, d^k(x, y)

followed by :math:`w \leftarrow w \cdot |E_c| / \sum_{e \in E_c} w_e` in every
connected component c (weakly connected on a directed graph), so each component's
mean length is 1. The flow stops after ``iterations`` updates, or as soon as
:math:`\max \kappa - \min \kappa < \delta` within every component. This is
GraphRicciCurvature's ``compute_ricci_flow`` (which flows only the largest component of
a disconnected graph; here every component flows, exactly as it would on its own).

Optional surgery: every ``surgery_every`` iterations ``surgery(lengths, curvature)``
returns a mask of the edges to keep; cut edges get length ``inf`` and curvature NaN in
the result, and the flow continues on the rest (a new plan is built only then).

The neighbour sets never change between surgeries, so one
:class:`~graphcurv.curvature.plan.CurvaturePlan` (arcs, CSR layouts, edge chunks,
support indices, shared-node positions) serves every iteration; only measures,
distances and transport solves are recomputed.

>>> import torch
>>> from torch_geometric.data import Data
>>> from torch_geometric.utils import to_undirected
>>> path = Data(edge_index=to_undirected(torch.tensor([[0, 1, 2], [1, 2, 3]])), num_nodes=4)
>>> ricci_flow(path, iterations=3).edge_weight.sum().item()  # mean length stays 1
6.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from torch import Tensor
from torch_geometric.data import Data

from graphcurv.curvature.ollivier import _checked_graph, curvature_from_distances
from graphcurv.curvature.plan import CurvaturePlan
from graphcurv.errors import GraphcurvError
from graphcurv.measures import Measure, resolve_measure
from graphcurv.progress import ProgressCallback, report

UPDATES = ("ni2019", "riccinets")
Surgery = Callable[[Tensor, Tensor], Tensor]


class RicciFlowResult(NamedTuple):
    """Flowed lengths and curvature aligned with ``data.edge_index``.

    ``curvature_history[k]`` is the curvature after k updates (row 0: the input graph);
    ``spread[k]`` its max - min over the edges still in the graph (the largest spread of
    any component). Cut edges (surgery) have length ``inf`` and curvature NaN.
    """

    edge_weight: Tensor
    edge_curvature: Tensor
    curvature_history: Tensor
    spread: list[float]
    iterations: int
    converged: bool
    component: Tensor


def ricci_flow(
    data: Data,
    iterations: int = 20,
    *,
    step: float = 1.0,
    delta: float = 1e-4,
    alpha: float = 0.5,
    update: str = "ni2019",
    measure: str | Measure = "exp",
    base: float = math.e,
    exp_power: float = 2.0,
    surgery: Surgery | None = None,
    surgery_every: int = 5,
    directed: bool | None = None,
    solver: str = "exact",
    tol: float = 1e-4,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    executor=None,
) -> RicciFlowResult:
    """Run the Ricci flow on ``data`` (see the module docstring).

    Args:
        data: graph with ``edge_index`` and optional ``edge_weight`` (initial lengths, default 1).
        iterations: most updates to apply (GraphRicciCurvature's default is 20... 100).
        step: flow step of the ``"ni2019"`` update (ignored by ``"riccinets"``).
        delta: stop when every component's curvature spread is below it.
        alpha, measure, base, exp_power, directed, solver, tol, workers: as in
            :func:`graphcurv.curvature.ollivier_ricci`.
        surgery: ``surgery(lengths, curvature) -> keep`` (boolean per edge), applied
            every ``surgery_every`` iterations (lengths and curvature of the edges left).
        progress: called as ``progress(done_iterations, iterations, description)``.
        executor: a :mod:`graphcurv.execution` executor, already entered (a local pool or
            a Dask cluster): every iteration's exact solves run on it as chunk units
            (:meth:`graphcurv.curvature.plan.CurvaturePlan.solve_with`); same values.
    """
    _check_parameters(iterations, step, delta, update, surgery_every)
    edge_index, length, num_nodes = _checked_graph(data)
    measure_fn = resolve_measure(measure, base=base, exp_power=exp_power)
    options = dict(measure=measure_fn, alpha=alpha, solver=solver, tol=tol, workers=workers)
    if executor is not None:  # the executor's workers solve: no process pool of the plan's own
        options["workers"] = 1

    def solve(plan: CurvaturePlan, w: Tensor) -> tuple[Tensor, Tensor]:
        return plan.solve(w) if executor is None else plan.solve_with(executor, w)

    plan = CurvaturePlan(edge_index, length, num_nodes, directed=directed, expected_calls=iterations + 1, **options)
    data_pos = plan.edge_positions(edge_index[0], edge_index[1])
    total = plan.num_edges
    alive = torch.arange(total, device=plan.device)  # solved edges still in the graph
    weight = torch.as_tensor(plan.edge_length, device=plan.device).clone()
    groups = _components(plan, alive)
    history: list[Tensor] = []
    spread: list[float] = []
    converged, done = False, 0

    def record(kappa: Tensor) -> None:
        full = torch.full((total,), float("nan"), dtype=torch.float64, device=plan.device)
        full[alive] = kappa
        history.append(full)
        spread.append(_largest_spread(kappa, groups))

    report(progress, 0, iterations, "Ricci flow")
    plan.__enter__()
    try:
        w = weight[alive]
        w1, dist = solve(plan, w)
        kappa = curvature_from_distances(w1, dist)
        record(kappa)
        for done in range(1, iterations + 1):
            # A component whose curvature is already uniform is left as it is: the update and
            # normalisation would not change it (and a lone edge, kappa = 1, would divide 0 by 0).
            frozen = (_component_spread(kappa, groups) < delta)[groups]
            updated = (w - step * kappa * w) if update == "ni2019" else (1.0 - kappa) * dist
            w = torch.where(frozen, w, updated)
            if not bool((w > 0).all()) or not bool(torch.isfinite(w).all()):
                raise GraphcurvError(
                    f"Ricci flow: lengths became non-positive at iteration {done} (curvature times step >= 1); "
                    "use a smaller step"
                )
            w = _normalised(w, groups)
            w1, dist = solve(plan, w)
            kappa = curvature_from_distances(w1, dist)
            record(kappa)
            report(progress, done, iterations, "Ricci flow")
            if spread[-1] < delta:
                converged = True
                break
            if surgery is not None and done % surgery_every == 0 and done < iterations:
                keep = torch.as_tensor(surgery(w, kappa), dtype=torch.bool, device=plan.device).reshape(-1)
                if keep.numel() != w.numel():
                    raise GraphcurvError(f"surgery returned {keep.numel()} flags for {w.numel()} edges")
                if not bool(keep.all()):
                    weight[alive] = w
                    alive, w = alive[keep], w[keep]
                    plan.__exit__(None, None, None)
                    plan = _subplan(plan, alive, w, directed=plan.directed, options=options)
                    plan.__enter__()
                    groups = _components(plan, torch.arange(alive.numel(), device=plan.device))
                    w = _normalised(w, groups)
                    w1, dist = solve(plan, w)
                    kappa = curvature_from_distances(w1, dist)
        weight[alive] = w
    finally:
        plan.__exit__(None, None, None)
    cut = torch.ones(total, dtype=torch.bool, device=weight.device)
    cut[alive] = False
    weight[cut] = float("inf")
    curvature = torch.stack(history)[:, data_pos]
    return RicciFlowResult(
        weight[data_pos], curvature[-1], curvature, spread, done, converged, _node_components(edge_index, num_nodes)
    )


def _check_parameters(iterations: int, step: float, delta: float, update: str, surgery_every: int) -> None:
    if int(iterations) != iterations or iterations < 0:
        raise GraphcurvError(f"iterations must be a non-negative integer, got {iterations!r}")
    if not step > 0 or not math.isfinite(step):
        raise GraphcurvError(f"step must be positive, got {step!r}")
    if not delta >= 0:
        raise GraphcurvError(f"delta must be >= 0, got {delta!r}")
    if update not in UPDATES:
        raise GraphcurvError(f"unknown flow update {update!r}: choose one of {', '.join(UPDATES)}")
    if int(surgery_every) != surgery_every or surgery_every < 1:
        raise GraphcurvError(f"surgery_every must be a positive integer, got {surgery_every!r}")


def _components(plan: CurvaturePlan, edges: Tensor) -> Tensor:
    """Component id of each solved edge (weak components of the plan's graph)."""
    x, y = np.asarray(torch.as_tensor(plan.x).cpu()), np.asarray(torch.as_tensor(plan.y).cpu())
    n = plan.num_nodes
    _, label = connected_components(coo_matrix((np.ones(x.size), (x, y)), shape=(n, n)), directed=False)
    return torch.as_tensor(label[x], device=plan.device)[edges]


def _node_components(edge_index: Tensor, num_nodes: int) -> Tensor:
    src, dst = edge_index.cpu().numpy()
    _, label = connected_components(coo_matrix((np.ones(src.size), (src, dst)), shape=(num_nodes,) * 2), directed=False)
    return torch.as_tensor(label, dtype=torch.long)


def _normalised(w: Tensor, groups: Tensor) -> Tensor:
    """Rescale each component's lengths to mean 1 (sum = number of its edges)."""
    size = int(groups.max()) + 1
    total = torch.zeros(size, dtype=w.dtype, device=w.device).index_add_(0, groups, w)
    count = torch.zeros(size, dtype=w.dtype, device=w.device).index_add_(0, groups, torch.ones_like(w))
    return w * (count / total)[groups]


def _component_spread(kappa: Tensor, groups: Tensor) -> Tensor:
    """max - min curvature within each component (-inf for a component without edges)."""
    size = int(groups.max()) + 1
    high = torch.full((size,), -math.inf, dtype=kappa.dtype, device=kappa.device)
    high = high.scatter_reduce(0, groups, kappa, "amax")
    low = torch.full((size,), math.inf, dtype=kappa.dtype, device=kappa.device)
    low = low.scatter_reduce(0, groups, kappa, "amin")
    return torch.where(torch.isfinite(high), high - low, -math.inf)


def _largest_spread(kappa: Tensor, groups: Tensor) -> float:
    return float(_component_spread(kappa, groups).max())


def _subplan(plan: CurvaturePlan, alive: Tensor, w: Tensor, *, directed: bool, options: dict) -> CurvaturePlan:
    """A plan over the surviving solved edges (both directions again if undirected)."""
    x = torch.as_tensor(plan.x, device=plan.device)[alive]
    y = torch.as_tensor(plan.y, device=plan.device)[alive]
    if directed:
        edge_index, length = torch.stack([x, y]), w
    else:
        edge_index, length = torch.stack([torch.cat([x, y]), torch.cat([y, x])]), torch.cat([w, w])
    return CurvaturePlan(edge_index, length, plan.num_nodes, directed=directed, **options)
