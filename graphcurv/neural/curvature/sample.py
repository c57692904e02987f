r"""Neural curvature of every edge of a chain for one calibration sample.

.. math::
    \kappa_N(i, j, x) = \frac{1 - W_1(\mu_i, \nu_j) / d(i, j)}{1 - \alpha}

with the measures of :mod:`~graphcurv.neural.curvature.measures` and exact W1. Dead
neurons: if a hidden end (i in a hidden layer, or j) has activation 0 the edge's
curvature is 1 and no problem is solved. Edges whose source is an input node have
mu_i = delta_i, and those into an output node nu_j = delta_j; the solver evaluates
their W1 in closed form (one side is a point mass).

Truncated measures (:func:`~graphcurv.neural.curvature.measures.side_measures`) come
with a per-edge bound on the curvature error; edges whose bound exceeds ``tol`` are
solved again with untruncated measures, so every value is within ``tol`` of exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from graphcurv import arrays as xp
from graphcurv.neural.curvature.chain import NeuralChain
from graphcurv.neural.curvature.distances import three_hop, two_hop
from graphcurv.neural.curvature.measures import SideLayout, SideMeasures, point_masses, side_layout, side_measures
from graphcurv.neural.curvature.problems import LayerDistances, build_edge_problems, problem_sizes
from graphcurv.transport.problems import TransportProblems

UNTRUNCATED = 1e-200  # masses below this are dropped even on the exact retry (the solver's floor)
Submit = Callable[[TransportProblems], Callable[[], Tensor]]


@dataclass
class ChainGeometry:
    """What every sample shares: side layouts and distance matrices per connection."""

    chain: NeuralChain
    before: list[SideLayout | None]  # predecessors of each link's source layer
    after: list[SideLayout | None]  # successors of each link's target layer
    distances: list[LayerDistances]  # backend arrays (NumPy on the CPU)


def chain_geometry(chain: NeuralChain) -> ChainGeometry:
    """Side layouts and the D2/D3 matrices of every connection (input-independent)."""
    links, sizes = chain.links, chain.sizes
    d2 = [two_hop(links[k], links[k + 1], sizes[k], sizes[k + 1], sizes[k + 2]) for k in range(len(links) - 1)]
    d3 = [three_hop(d2[k], links[k + 2], sizes[k + 3]) for k in range(len(links) - 2)]
    d2, d3 = [xp.to_backend(m) for m in d2], [xp.to_backend(m) for m in d3]
    before, after, distances = [], [], []
    for k in range(len(links)):
        before.append(side_layout(links[k - 1], sizes[k], "in") if k >= 1 else None)
        after.append(side_layout(links[k + 1], sizes[k + 1], "out") if k + 1 < len(links) else None)
        across = d3[k - 1] if 1 <= k < len(links) - 1 else None
        distances.append(LayerDistances(d2[k - 1] if k >= 1 else None, d2[k] if k + 1 < len(links) else None, across))
    return ChainGeometry(chain, before, after, distances)


def sample_curvature(
    geometry: ChainGeometry,
    activation: Tensor,
    alpha: float,
    submit: Submit,
    *,
    threshold: float = 1e-15,
    tol: float = 1e-9,
    max_entries: int = 1 << 18,
    edges: list[Tensor | None] | None = None,
) -> tuple[list[Tensor], list[Tensor], float]:
    """Per connection: the curvature of every edge and which edges hit the dead-neuron
    rule; and the largest truncation error bound left, for one sample's activations.

    ``edges`` (one entry per connection: local edge indices, or ``None`` for all)
    restricts the work to those edges; the others get NaN. Used to time a sample of a
    model too large to run whole (``benchmarks/neural_curvature_scale.py``).
    """
    chain = geometry.chain
    layer_activation = [activation[s : s + n].double() for s, n in zip(chain.starts, chain.sizes)]
    last = chain.num_layers - 1
    jobs = []
    for k, link in enumerate(chain.links):
        src, dst = layer_sides(geometry, layer_activation, k, alpha, threshold)
        dead = torch.zeros(link.num_edges, dtype=torch.bool, device=activation.device)
        if k >= 1:
            dead |= layer_activation[k][link.src] == 0
        if k + 1 < last:
            dead |= layer_activation[k + 1][link.dst] == 0
        chosen = chosen_edges(edges, k, link.num_edges, activation.device)
        live = torch.nonzero(~dead & chosen).flatten()
        if k == 0 or k == last - 1:  # a point mass on one side: closed form, no truncation
            src, dst = layer_sides(geometry, layer_activation, k, alpha, 0.0)
            waits = point_mass_w1(geometry, k, live, src, dst)
        else:
            waits = _submit_edges(geometry, k, live, src, dst, submit, max_entries)
        jobs.append((k, src, dst, dead, live, waits, chosen))
    kappa_out, dead_out, worst = [], [], 0.0
    for k, src, dst, dead, live, waits, chosen in jobs:  # collect in order while later links were solving
        link = chain.links[k]
        w1 = waits if isinstance(waits, Tensor) else _collect(waits, activation.device)
        i, j, length = link.src[live], link.dst[live], link.length[live]
        bound = (src.moved[i] + dst.moved[j]) * (length + src.longest[i] + dst.longest[j]) / (length * (1 - alpha))
        redo = bound > tol
        if bool(redo.any()):
            exact_src, exact_dst = layer_sides(geometry, layer_activation, k, alpha, UNTRUNCATED)
            waits = _submit_edges(geometry, k, live[redo], exact_src, exact_dst, submit, max_entries)
            w1[redo] = _collect(waits, activation.device)
            bound[redo] = 0.0
        worst = max(worst, float(bound.max()) if bound.numel() else 0.0)
        kappa = torch.ones(link.num_edges, dtype=torch.float64, device=activation.device)
        kappa[~chosen] = torch.nan
        kappa[live] = (1.0 - w1 / length) / (1.0 - alpha)
        kappa_out.append(kappa)
        dead_out.append(dead & chosen)
    return kappa_out, dead_out, worst


def chosen_edges(edges: list[Tensor | None] | None, k: int, count: int, device: torch.device) -> Tensor:
    """Mask of the edges of connection k to compute (all unless ``edges[k]`` names some)."""
    if edges is None or edges[k] is None:
        return torch.ones(count, dtype=torch.bool, device=device)
    mask = torch.zeros(count, dtype=torch.bool, device=device)
    mask[torch.as_tensor(edges[k], dtype=torch.long, device=device)] = True
    return mask


def layer_sides(geometry: ChainGeometry, layer_activation, k: int, alpha: float, threshold: float):
    """Measures of the link's source layer (over predecessors) and target layer (over successors)."""
    sizes, device = geometry.chain.sizes, layer_activation[0].device
    before, after = geometry.before[k], geometry.after[k]
    src = side_measures(before, layer_activation[k - 1], alpha, threshold) if before else point_masses(sizes[k], device)
    dst = (
        side_measures(after, layer_activation[k + 2], alpha, threshold) if after else point_masses(sizes[k + 1], device)
    )
    return src, dst


def point_mass_w1(geometry: ChainGeometry, k: int, edges: Tensor, src: SideMeasures, dst: SideMeasures) -> Tensor:
    """W1 of edges with a point mass on one side, as one sparse-dense product per sample.

    Source delta_i (input layer): W1 = m_j(j) d(i, j) + sum_s m_j(s) D2[i, s]; target
    delta_j (output layer): W1 = m_i(i) d(i, j) + sum_p m_i(p) D2[p, j]. Entries of D2
    that no measure weighs may be inf; they are zeroed before the product.
    """
    chain, distances = geometry.chain, geometry.distances[k]
    link = chain.links[k]
    i, j, length = link.src[edges], link.dst[edges], link.length[edges]
    if k == 0 and dst.node.numel():  # sources are point masses, targets spread over successors
        d2 = xp.to_tensor(distances.after).to(length.device)
        spread = _sparse(dst, chain.sizes[k + 1], chain.sizes[k + 2])
        product = torch.sparse.mm(spread, torch.nan_to_num(d2, posinf=0.0).t())  # (targets, sources)
        return dst.centre_mass[j] * length + product[j, i]
    if k == chain.num_layers - 2 and src.node.numel():  # targets are point masses
        d2 = xp.to_tensor(distances.before).to(length.device)
        spread = _sparse(src, chain.sizes[k], chain.sizes[k - 1])
        product = torch.sparse.mm(spread, torch.nan_to_num(d2, posinf=0.0))  # (sources, targets)
        return src.centre_mass[i] * length + product[i, j]
    return length * src.centre_mass[i] * dst.centre_mass[j]  # both sides point masses: W1 = d(i, j)


def _sparse(side: SideMeasures, centres: int, neighbours: int) -> Tensor:
    """The neighbour masses of every centre as a sparse (centres x neighbours) matrix."""
    owner = torch.repeat_interleave(torch.arange(centres, device=side.mass.device), side.ptr[1:] - side.ptr[:-1])
    indices = torch.stack([owner, side.node])
    return torch.sparse_coo_tensor(indices, side.mass, (centres, neighbours), check_invariants=False).coalesce()


def _backend(side: SideMeasures) -> SideMeasures:
    return SideMeasures(
        *(xp.to_backend(t) for t in (side.centre_mass, side.ptr, side.node, side.mass, side.moved, side.longest))
    )


def _submit_edges(geometry: ChainGeometry, k: int, edges: Tensor, src, dst, submit: Submit, max_entries: int) -> list:
    """Submit the problems of ``edges`` of link k in chunks of about ``max_entries`` cost entries."""
    if edges.numel() == 0:
        return []
    link, distances = geometry.chain.links[k], geometry.distances[k]
    src, dst = _backend(src), _backend(dst)
    edges = xp.to_backend(edges)
    i, j, length = xp.to_backend(link.src)[edges], xp.to_backend(link.dst)[edges], xp.to_backend(link.length)[edges]
    cumulative = xp.to_tensor(problem_sizes(src, dst, i, j)).cumsum(0)
    waits, start, total = [], 0, xp.size(edges)
    while start < total:
        base = int(cumulative[start - 1]) if start else 0
        stop = int(
            torch.searchsorted(cumulative, torch.tensor(base + max_entries, device=cumulative.device), right=True)
        )
        stop = min(max(stop, start + 1), total)
        part = slice(start, stop)
        waits.append(submit(build_edge_problems(src, dst, i[part], j[part], length[part], distances)))
        start = stop
    return waits


def _collect(waits: list, device: torch.device) -> Tensor:
    if not waits:
        return torch.zeros(0, dtype=torch.float64, device=device)
    return torch.cat([wait().to(device) for wait in waits])
