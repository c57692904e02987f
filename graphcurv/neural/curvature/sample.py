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
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from graphcurv import arrays as xp
from graphcurv.neural.curvature import distances as distance_matrices
from graphcurv.neural.curvature.blocks import stack_blocks
from graphcurv.neural.curvature.chain import ChainConnection, NeuralChain
from graphcurv.neural.curvature.distances import LayerPairDistances
from graphcurv.neural.curvature.indexed import IndexedMatrix
from graphcurv.neural.curvature.measures import SideLayout, SideMeasures, point_masses, side_layout, side_measures
from graphcurv.neural.curvature.problems import LayerDistances, build_edge_problems, problem_sizes
from graphcurv.neural.memory import available_memory
from graphcurv.transport.problems import BorderedProblems, TransportProblems

UNTRUNCATED = 1e-200  # masses below this are dropped even on the exact retry (the solver's floor)
Submit = Callable[[TransportProblems | BorderedProblems], Callable[[], Tensor]]


@dataclass
class ChainGeometry:
    """What every sample shares, per connection: side layouts, the nodes each side spreads
    over, and the distance matrices.

    On a DAG the predecessors of a connection's source layer may lie in several layers
    (the sources of every connection into it) and the successors of its target layer in
    several (the targets of every connection out of it): each side's neighbours are
    numbered in the concatenation of those layers (``before_nodes[k]``, ``after_nodes[k]``:
    their global node ids, in that order). ``chain`` holds the connections with their
    ground-cost lengths: d(i, j) is the shortest directed path, which is 1/|w_ij| unless
    the DAG has a shorter way round (a chain never does).
    """

    chain: NeuralChain
    before: list[SideLayout | None]  # predecessors of each link's source layer
    after: list[SideLayout | None]  # successors of each link's target layer
    distances: list[LayerDistances]  # backend arrays (NumPy on the CPU)
    before_nodes: list[Tensor | None] = field(default_factory=list)
    after_nodes: list[Tensor | None] = field(default_factory=list)

    def sides(self, k: int) -> tuple[int, int]:
        """Sizes of the spaces connection k's two sides spread over (0 where a side is absent)."""
        before, after = self.before_nodes[k], self.after_nodes[k]
        return (0 if before is None else int(before.numel())), (0 if after is None else int(after.numel()))


def chain_geometry(chain: NeuralChain) -> ChainGeometry:
    """Side layouts and the distance matrices of every connection (input-independent)."""
    limit = available_memory()
    pairs = LayerPairDistances(chain, limit=limit)
    backend: dict[tuple[int, int], object] = {}

    def block(x: int, y: int):
        if (x, y) not in backend:
            backend[(x, y)] = _to_backend(pairs.between(x, y))
        return backend[(x, y)]

    def stacked(rows: list[int], cols: list[int]):
        parts = [[block(x, y) for y in cols] for x in rows]
        if len(rows) == 1 and len(cols) == 1:
            return parts[0][0]
        tensors = [[_to_tensor(m) for m in row] for row in parts]
        return _to_backend(stack_blocks(tensors, distance_matrices.DENSE_ENTRIES))

    links = [_cost_lengths(chain, pairs, link) for link in chain.links]
    chain = NeuralChain(chain.sizes, chain.starts, chain.names, links, chain.shapes)
    before, after, distances, before_nodes, after_nodes = [], [], [], [], []
    for link in links:
        feeding = [chain.links[k] for k in chain.into(link.source)]
        fed = [chain.links[k] for k in chain.out_of(link.target)]
        left = [f.source for f in feeding]
        right = [f.target for f in fed]
        before.append(_side(chain, feeding, chain.sizes[link.source], "in") if feeding else None)
        after.append(_side(chain, fed, chain.sizes[link.target], "out") if fed else None)
        before_nodes.append(_nodes(chain, left) if feeding else None)
        after_nodes.append(_nodes(chain, right) if fed else None)
        distances.append(
            LayerDistances(
                stacked(left, [link.target]) if feeding else None,
                stacked([link.source], right) if fed else None,
                stacked(left, right) if feeding and fed else None,
            )
        )
    return ChainGeometry(chain, before, after, distances, before_nodes, after_nodes)


def _to_backend(matrix):
    """Dense matrices as backend arrays (NumPy on the CPU); local ones stay as they are."""
    return matrix if isinstance(matrix, IndexedMatrix) else xp.to_backend(matrix)


def _to_tensor(matrix, device=None):
    """Dense matrices as tensors (on ``device`` if given); local ones moved there."""
    if isinstance(matrix, IndexedMatrix):
        return matrix if device is None else matrix.to(device)
    return xp.to_tensor(matrix, device)


def _cost_lengths(chain: NeuralChain, pairs: LayerPairDistances, link: ChainConnection) -> ChainConnection:
    """The connection with d(i, j) the shortest directed path (a detour may be shorter than the edge)."""
    others = [
        k
        for k in chain.into(link.target)
        if chain.links[k].source != link.source and pairs.reaches(link.source, chain.links[k].source)
    ]
    if not others:
        return link
    shortest = pairs.between(link.source, link.target)[link.src, link.dst]
    return replace(link, length=torch.minimum(link.length, shortest))


def _side(chain: NeuralChain, links: list[ChainConnection], centres: int, side: str) -> SideLayout:
    """Neighbours over several connections, numbered in the concatenation of their far layers."""
    if len(links) == 1:
        return side_layout(links[0], centres, side)
    offset, centre, other, length = 0, [], [], []
    for link in links:
        far = link.source if side == "in" else link.target
        centre.append(link.dst if side == "in" else link.src)
        other.append((link.src if side == "in" else link.dst) + offset)
        length.append(link.length)
        offset += chain.sizes[far]
    centre, other, length = torch.cat(centre), torch.cat(other), torch.cat(length)
    order = torch.argsort(centre, stable=True)
    ptr = torch.cat([centre.new_zeros(1), torch.bincount(centre, minlength=centres).cumsum(0)])
    return SideLayout(ptr, other[order], length[order])


def _nodes(chain: NeuralChain, layers: list[int]) -> Tensor:
    device = chain.links[0].length.device
    return torch.cat([torch.arange(chain.sizes[x], device=device) + chain.starts[x] for x in layers])


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
    values = activation.double()
    jobs = []
    for k, link in enumerate(chain.links):
        src, dst = layer_sides(geometry, values, k, alpha, threshold)
        dead = dead_edges(geometry, values, k)
        chosen = chosen_edges(edges, k, link.num_edges, activation.device)
        live = torch.nonzero(~dead & chosen).flatten()
        if geometry.before[k] is None or geometry.after[k] is None:  # a point mass on one side: closed form
            src, dst = layer_sides(geometry, values, k, alpha, 0.0)
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
            exact_src, exact_dst = layer_sides(geometry, values, k, alpha, UNTRUNCATED)
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


def dead_edges(geometry: ChainGeometry, values: Tensor, k: int) -> Tensor:
    """The dead-neuron rule: edges of connection k with a hidden end of activation 0
    (``values``: every node's activation for one sample). A source is hidden unless it is
    an input node, a target unless it is a logit."""
    link, starts = geometry.chain.links[k], geometry.chain.starts
    dead = torch.zeros(link.num_edges, dtype=torch.bool, device=values.device)
    if geometry.before[k] is not None:
        dead |= values[starts[link.source] + link.src.to(values.device)] == 0
    if geometry.after[k] is not None:
        dead |= values[starts[link.target] + link.dst.to(values.device)] == 0
    return dead


def layer_sides(geometry: ChainGeometry, values: Tensor, k: int, alpha: float, threshold: float):
    """Measures of the link's source layer (over predecessors) and target layer (over
    successors); ``values``: every node's activation for one sample."""
    link, sizes, device = geometry.chain.links[k], geometry.chain.sizes, values.device
    before, after = geometry.before[k], geometry.after[k]
    if before is not None:
        src = side_measures(before, values[geometry.before_nodes[k].to(device)], alpha, threshold)
    else:
        src = point_masses(sizes[link.source], device)
    if after is not None:
        dst = side_measures(after, values[geometry.after_nodes[k].to(device)], alpha, threshold)
    else:
        dst = point_masses(sizes[link.target], device)
    return src, dst


def point_mass_w1(geometry: ChainGeometry, k: int, edges: Tensor, src: SideMeasures, dst: SideMeasures) -> Tensor:
    """W1 of edges with a point mass on one side, by gathering the D2 entries each edge's
    spread measure weighs (work: the measure entries of the edges' spread ends).

    Source delta_i (input layer): W1 = m_j(j) d(i, j) + sum_s m_j(s) D2[i, s]; target
    delta_j (output layer): W1 = m_i(i) d(i, j) + sum_p m_i(p) D2[p, j]. Entries of D2
    that no measure weighs may be inf; they count 0.
    """
    chain, distances = geometry.chain, geometry.distances[k]
    link = chain.links[k]
    i, j, length = link.src[edges], link.dst[edges], link.length[edges]
    if geometry.before[k] is None and dst.node.numel():  # sources are point masses, targets spread
        d2 = _to_tensor(distances.after, length.device)
        return dst.centre_mass[j] * length + _weighted_entries(dst, j, lambda e, n: d2[i[e], n])
    if geometry.after[k] is None and src.node.numel():  # targets are point masses
        d2 = _to_tensor(distances.before, length.device)
        return src.centre_mass[i] * length + _weighted_entries(src, i, lambda e, n: d2[n, j[e]])
    return length * src.centre_mass[i] * dst.centre_mass[j]  # both sides point masses: W1 = d(i, j)


def _weighted_entries(side: SideMeasures, centre: Tensor, lookup, chunk: int = 1 << 22) -> Tensor:
    """Per edge e: sum over the neighbour entries t of ``centre[e]``'s measure of
    mass[t] * lookup(e, node[t]) (inf looked-up values count 0), in chunks of edges of
    about ``chunk`` entries."""
    ptr = side.ptr.to(centre.device)
    first, count = ptr[centre], ptr[centre + 1] - ptr[centre]
    out = torch.zeros(centre.numel(), dtype=torch.float64, device=centre.device)
    ends = count.cumsum(0)
    start = 0
    while start < centre.numel():
        base = int(ends[start - 1]) if start else 0
        stop = int(torch.searchsorted(ends, torch.tensor(base + chunk, device=ends.device), right=True))
        stop = min(max(stop, start + 1), centre.numel())
        n = count[start:stop]
        edge = torch.repeat_interleave(torch.arange(start, stop, device=centre.device), n)
        entry = first[edge] + torch.arange(edge.numel(), device=centre.device) - (ends[edge] - count[edge] - base)
        value = lookup(edge, side.node[entry])
        value = torch.where(torch.isinf(value), 0.0, value) * side.mass[entry]
        out[start:stop] = scatter(value, edge - start, dim=0, dim_size=stop - start, reduce="sum")
        start = stop
    return out


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
