r"""The local transport problem of every edge, built vectorised and in bounded memory.

For an edge (x, y) with measures m_x (x's side: its neighbours, or predecessors on a
directed graph) and m_y (y's side: neighbours, or successors):

1. supports: S_x = {x} + side(x) and S_y = {y} + side(y), with their masses
   (:class:`Neighbourhoods` holds each side as CSR, built once per graph);
2. shared mass: an optimal plan under a metric cost leaves min(m_x(z), m_y(z)) at
   every node z in both supports, so that much is removed from both sides before
   solving (W1 is unchanged; the problem shrinks);
3. cost: d(u, v) for the remaining u in S_x, v in S_y from a distance oracle
   (:mod:`graphcurv.curvature.distances`), never from an all-pairs matrix.

Memory is O(E + sum of the local problem sizes of one chunk): the caller iterates
over :func:`edge_chunks`, which cuts the edge list so that each chunk's problems hold
at most ``max_entries`` cost entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from graphcurv import arrays as xp
from graphcurv.arrays import Array
from graphcurv.transport.problems import TransportProblems


class DistanceFn(Protocol):
    """``pairs(src_node, dst_node, ia, jb, bound)`` = d(src_node[ia], dst_node[jb]) per pair."""

    def pairs(self, src_node: Array, dst_node: Array, ia: Array, jb: Array, bound: LazyBound) -> Array: ...


NEGLIGIBLE_MASS = 1e-16


@dataclass(frozen=True)
class Neighbourhoods:
    """One side's measure as CSR: node c keeps ``self_mass[c]`` and gives ``mass[k]`` to
    ``node[k]`` for k in ``ptr[c]:ptr[c+1]``; ``length[k]`` is the edge's length.
    Fields are NumPy arrays for CPU graphs and torch tensors for CUDA graphs."""

    ptr: Array
    node: Array
    mass: Array
    length: Array
    self_mass: Array

    @property
    def degree(self) -> Array:
        return self.ptr[1:] - self.ptr[:-1]


@dataclass(frozen=True)
class SideLayout:
    """The CSR layout of one side, independent of lengths and masses: arc ``order[k]``
    is CSR entry k, node c's entries are ``ptr[c]:ptr[c+1]``, ``node[k]`` the other end."""

    ptr: Array
    node: Array
    order: Array

    def with_masses(self, length: Array, self_mass: Array, edge_mass: Array) -> Neighbourhoods:
        """The side's measure for per-arc ``length`` and ``edge_mass`` (backend arrays)."""
        return Neighbourhoods(self.ptr, self.node, edge_mass[self.order], length[self.order], self_mass)


def side_layout(source: Array, target: Array, num_nodes: int, side: str) -> SideLayout:
    """Group arcs by the node that spreads mass over them on ``side`` ("out" or "in")."""
    center, other = (source, target) if side == "out" else (target, source)
    order = xp.argsort_stable(center * num_nodes + other)
    ptr = xp.offsets(xp.bincount(center, num_nodes))
    return SideLayout(ptr, other[order], order)


def neighbourhoods(
    edge_index: Tensor, length: Tensor, self_mass: Tensor, edge_mass: Tensor, num_nodes: int, side: str
) -> Neighbourhoods:
    """Group the per-edge masses of a measure by the node that spreads them (``side`` as in
    :mod:`graphcurv.measures`)."""
    source, target, edge_mass, length, self_mass = (
        xp.to_backend(t.contiguous()) for t in (edge_index[0], edge_index[1], edge_mass, length, self_mass)
    )
    return side_layout(source, target, num_nodes, side).with_masses(length, self_mass, edge_mass)


@dataclass(frozen=True)
class Supports:
    """Concatenated supports of many measures: entry k belongs to problem ``pid[k]``."""

    node: Array
    mass: Array
    hop: Array  # length of the edge from the centre (0 for the centre itself)
    pid: Array

    def subset(self, keep: Array, mass: Array) -> Supports:
        return Supports(self.node[keep], mass[keep], self.hop[keep], self.pid[keep])


@dataclass(frozen=True)
class SupportIndex:
    """Where the entries of many supports come from, independent of edge lengths: entry k
    is node ``node[k]`` of problem ``pid[k]``, read from CSR entry ``entry[k]`` of the side,
    or the centre itself where ``is_centre[k]`` (then ``entry[k]`` is 0)."""

    node: Array
    pid: Array
    centre: Array
    entry: Array
    is_centre: Array


def support_index(nb: Neighbourhoods, centers: Array) -> SupportIndex:
    """Index of S_c = {c} + side(c) for each centre c (the centre first)."""
    count = nb.degree[centers] + 1
    pid = xp.repeat(xp.arange(xp.size(centers), centers), count)
    local = xp.arange(xp.size(pid), pid) - xp.offsets(count)[:-1][pid]
    is_center = local == 0
    c = centers[pid]
    if xp.size(nb.node) == 0:  # no edge on this side at all: every measure is a point mass
        return SupportIndex(c, pid, c, local * 0, is_center)
    k = nb.ptr[c] + local - 1
    k[is_center] = 0
    return SupportIndex(xp.where(is_center, c, nb.node[k]), pid, c, k, is_center)


def gather_supports(nb: Neighbourhoods, index: SupportIndex) -> Supports:
    """The masses and hop lengths of indexed supports under the measure ``nb``."""
    c = index.centre
    if xp.size(nb.node) == 0:
        return Supports(index.node, nb.self_mass[c], nb.self_mass[c] * 0.0, index.pid)
    mass = xp.where(index.is_centre, nb.self_mass[c], nb.mass[index.entry])
    hop = xp.where(index.is_centre, 0.0, nb.length[index.entry])
    return Supports(index.node, mass, hop, index.pid)


def supports(nb: Neighbourhoods, centers: Array) -> Supports:
    """S_c = {c} + side(c) with masses, for each centre c (the centre first)."""
    return gather_supports(nb, support_index(nb, centers))


def shared_positions(src_node: Array, src_pid: Array, dst_node: Array, dst_pid: Array, num_nodes: int):
    """Positions (i, j) of the entries of the same problem and node on both sides."""
    return _intersect(src_pid * num_nodes + src_node, dst_pid * num_nodes + dst_node)


def remove_shared_mass(
    src: Supports, dst: Supports, num_nodes: int, shared: tuple[Array, Array] | None = None
) -> tuple[Supports, Supports]:
    """Subtract min(m_x(z), m_y(z)) at every node z in both supports of the same problem,
    then drop entries left with zero mass. ``shared``: the positions from
    :func:`shared_positions`, when already known."""
    # Keys are unique within each side; a key present on both sides is a shared node.
    if shared is None:
        shared = shared_positions(src.node, src.pid, dst.node, dst.pid, num_nodes)
    src_pos, dst_pos = shared
    src_mass, dst_mass = xp.copy(src.mass), xp.copy(dst.mass)
    common = xp.minimum(src_mass[src_pos], dst_mass[dst_pos])
    src_mass[src_pos] -= common
    dst_mass[dst_pos] -= common
    # Rounding residue and kernel underflow leave masses near 0; POT's solver can crash on
    # masses around 1e-300, and anything below 1e-16 moves W1 by less than 1e-15 per unit
    # of cost, so such entries are dropped.
    return src.subset(src_mass > NEGLIGIBLE_MASS, src_mass), dst.subset(dst_mass > NEGLIGIBLE_MASS, dst_mass)


def _intersect(a: Array, b: Array) -> tuple[Array, Array]:
    """Positions i, j with a[i] == b[j], for arrays of unique keys."""
    both = xp.concat([a, b])
    order = xp.argsort_stable(both)
    sorted_keys = both[order]
    equal = sorted_keys[1:] == sorted_keys[:-1]
    # With a stable sort the entry from `a` (lower positions) comes first.
    return order[:-1][equal], order[1:][equal] - xp.size(a)


class LazyBound:
    """d(u, x) + d(x, y) + d(y, v) per pair, computed only if a distance oracle needs it."""

    def __init__(self, src: Supports, dst: Supports, edge_length: Array, ia: Array, jb: Array) -> None:
        self._args = (src, dst, edge_length, ia, jb)

    def values(self) -> Array:
        src, dst, edge_length, ia, jb = self._args
        return src.hop[ia] + edge_length[src.pid[ia]] + dst.hop[jb]


def build_problems(
    src: Supports, dst: Supports, num_problems: int, edge_length: Array, distance: DistanceFn
) -> TransportProblems:
    """Cost blocks d(u, v) for every remaining (u, v) of each problem, packed ragged.

    Entries are generated row by row: source entry r of problem p is repeated n_b(p)
    times, so a pair's source index ``ia`` is the repeat index and its target index
    ``jb`` follows from the position within the row (no division per entry). The
    distance oracle gets the two supports and (ia, jb), so it can precompute per
    support entry rather than per pair.
    """
    na = xp.bincount(src.pid, num_problems)
    nb = xp.bincount(dst.pid, num_problems)
    a_ptr, b_ptr, c_ptr = xp.offsets(na), xp.offsets(nb), xp.offsets(na * nb)
    row_width = nb[src.pid]  # each source entry is one row of its problem's block
    # target index = b_ptr[p] + (position - start of the row); int32 halves memory traffic
    shift = xp.small_int(xp.offsets(row_width)[:-1] - b_ptr[:-1][src.pid])
    ia = xp.repeat(xp.small_int(xp.arange(xp.size(src.pid), src.pid)), row_width)
    jb = xp.small_int(xp.arange(xp.size(ia), ia)) - shift[ia]
    cost = distance.pairs(src.node, dst.node, ia, jb, LazyBound(src, dst, edge_length, ia, jb))
    fields = (src.mass, dst.mass, cost, a_ptr, b_ptr, c_ptr)
    return TransportProblems(*(xp.to_tensor(f) for f in fields))


def edge_chunks(problem_sizes: Tensor, max_entries: int) -> Iterator[tuple[int, int]]:
    """Cut ``range(len(problem_sizes))`` into consecutive ranges of at most ``max_entries``
    summed size (a single larger problem gets a range of its own)."""
    cumulative = torch.as_tensor(problem_sizes).to(torch.float64).cumsum(0).cpu()
    count, start = cumulative.numel(), 0
    while start < count:
        offset = float(cumulative[start - 1]) if start else 0.0
        limit = torch.tensor(offset + max_entries, dtype=torch.float64)
        stop = max(int(torch.searchsorted(cumulative, limit, right=True)), start + 1)
        yield start, min(stop, count)
        start = stop
