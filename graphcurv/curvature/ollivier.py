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
from collections import deque
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import scatter

from graphcurv import arrays as xp
from graphcurv.curvature.arcs import is_symmetric, positions, symmetrised, unique_arcs
from graphcurv.curvature.distances import DijkstraDistances, HopDistances
from graphcurv.curvature.local_problems import (
    build_problems,
    edge_chunks,
    neighbourhoods,
    remove_shared_mass,
    supports,
)
from graphcurv.errors import GraphcurvError
from graphcurv.measures import Measure, resolve_measure
from graphcurv.progress import ProgressCallback, report
from graphcurv.transport import solver_session

ZERO_DISTANCE = 1e-7  # GraphRicciCurvature's EPSILON: below it, kappa = 0
MAX_PENDING_CHUNKS = 8  # chunks built ahead of the solver (bounds memory)


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

    Returns:
        :class:`OllivierRicciResult` with float64 tensors on the device of ``data``.
    """
    edge_index, length, num_nodes = _checked_graph(data)
    device = edge_index.device
    given = unique_arcs(xp.to_backend(edge_index[0]), xp.to_backend(edge_index[1]), xp.to_backend(length), num_nodes)
    if directed is None:
        directed = not is_symmetric(given)
    arcs = given if directed else symmetrised(given)
    # The edges to solve: every arc if directed, one arc (x < y) per undirected edge.
    work = slice(None) if directed else arcs.source < arcs.target
    x, y, xy_length = arcs.source[work], arcs.target[work], arcs.length[work]

    measure_fn = resolve_measure(measure, base=base, exp_power=exp_power)
    arc_index = torch.stack([xp.to_tensor(arcs.source), xp.to_tensor(arcs.target)]).to(device)
    arc_length = xp.to_tensor(arcs.length, device)
    src_side, dst_side = ("in", "out") if directed else ("out", "out")
    src_nb = _side(measure_fn, arc_index, arc_length, num_nodes, alpha, src_side)
    dst_nb = _side(measure_fn, arc_index, arc_length, num_nodes, alpha, dst_side)
    distance = _distance_oracle(arc_index, arc_length, num_nodes)
    if isinstance(distance, DijkstraDistances):
        distance.prepare(_source_bounds(x, y, xy_length, src_nb, dst_nb, num_nodes))

    w1, dist = _solve_edges(
        x, y, xy_length, src_nb, dst_nb, distance, num_nodes, device, solver, tol, workers, max_entries, progress
    )
    kappa = torch.where(dist < ZERO_DISTANCE, torch.zeros_like(w1), 1.0 - w1 / dist.clamp(min=ZERO_DISTANCE))

    # Map the results of the solved edges back onto data.edge_index.
    u, v = xp.to_backend(edge_index[0]), xp.to_backend(edge_index[1])
    if not directed:
        u, v = xp.minimum(u, v), xp.maximum(u, v)
    pos = xp.to_tensor(positions(x * num_nodes + y, u, v, num_nodes), device)
    edge_kappa, edge_w1, edge_dist = kappa[pos], w1[pos], dist[pos]
    node_kappa = _node_curvature(edge_index, edge_kappa, num_nodes, directed)
    return OllivierRicciResult(edge_kappa, node_kappa, edge_w1, edge_dist)


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


def _side(measure_fn: Measure, arcs: Tensor, length: Tensor, num_nodes: int, alpha: float, side: str):
    self_mass, edge_mass = measure_fn(arcs, length, num_nodes, alpha=alpha, side=side)
    return neighbourhoods(arcs, length, self_mass.to(torch.float64), edge_mass.to(torch.float64), num_nodes, side)


def _distance_oracle(arcs: Tensor, length: Tensor, num_nodes: int) -> HopDistances | DijkstraDistances:
    first = length[0]
    if bool((length == first).all()):
        return HopDistances(arcs, num_nodes, length=float(first))
    return DijkstraDistances(arcs, length, num_nodes)


def _solve_edges(x, y, xy_length, src_nb, dst_nb, distance, num_nodes, device, solver, tol, workers, max_entries, progress):
    count = xp.size(x)
    sizes = xp.to_tensor((src_nb.degree[x] + 1) * (dst_nb.degree[y] + 1))
    if max_entries is None:  # small chunks reuse memory on the CPU; batched solvers like big ones
        max_entries = 2**18 if solver == "exact" else 2**23
    if workers is None and float(sizes.sum()) < 2**20:
        workers = 1  # not worth starting processes
    w1 = torch.empty(count, dtype=torch.float64, device=device)
    pending: deque = deque()

    def collect() -> None:
        start, stop, wait = pending.popleft()
        w1[start:stop] = wait().to(device)
        report(progress, stop, count, "Ollivier-Ricci curvature")

    report(progress, 0, count, "Ollivier-Ricci curvature")
    with solver_session(solver, tol=tol, workers=workers) as submit:
        for start, stop in edge_chunks(sizes, max_entries):
            xs, ys = x[start:stop], y[start:stop]
            src, dst = remove_shared_mass(supports(src_nb, xs), supports(dst_nb, ys), num_nodes)
            problems = build_problems(src, dst, stop - start, xy_length[start:stop], distance)
            pending.append((start, stop, submit(problems)))
            while len(pending) > MAX_PENDING_CHUNKS:
                collect()
        while pending:
            collect()
    dist = xp.to_tensor(distance(x, y, xy_length), device)
    return w1, dist


def _source_bounds(x, y, xy_length, src_nb, dst_nb, num_nodes: int) -> np.ndarray:
    """Largest d(u, x) + d(x, y) + d(y, v) any source u needs over all solved edges:
    an upper bound on every distance asked of u (path u -> x -> y -> v)."""
    x, y, xy_length = xp.to_numpy(x), xp.to_numpy(y), xp.to_numpy(xy_length)
    nodes = np.arange(num_nodes)
    longest_out = np.zeros(num_nodes)  # longest edge from y on its side
    np.maximum.at(longest_out, np.repeat(nodes, xp.to_numpy(dst_nb.degree)), xp.to_numpy(dst_nb.length))
    reach = np.zeros(num_nodes)  # max over solved edges (x, y) of d(x, y) + longest_out(y)
    np.maximum.at(reach, x, xy_length + longest_out[y])
    need = reach.copy()  # x itself
    centers = np.repeat(nodes, xp.to_numpy(src_nb.degree))
    np.maximum.at(need, xp.to_numpy(src_nb.node), xp.to_numpy(src_nb.length) + reach[centers])
    return need


def _node_curvature(edge_index: Tensor, edge_kappa: Tensor, num_nodes: int, directed: bool) -> Tensor:
    if directed:
        ends = torch.cat([edge_index[0], edge_index[1]])
        values = torch.cat([edge_kappa, edge_kappa])
    else:  # both directions are stored: each incident edge once per node as its source
        ends, values = edge_index[0], edge_kappa
    total = scatter(values, ends, dim=0, dim_size=num_nodes, reduce="sum")
    count = scatter(torch.ones_like(values), ends, dim=0, dim_size=num_nodes, reduce="sum")
    return torch.where(count > 0, total / count.clamp(min=1), torch.full_like(total, float("nan")))
