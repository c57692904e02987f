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

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from graphcurv.transport.problems import TransportProblems

DistanceFn = Callable[[Tensor, Tensor, Tensor], Tensor]  # (u, v, upper bound) -> d(u, v)


@dataclass(frozen=True)
class Neighbourhoods:
    """One side's measure as CSR: node c keeps ``self_mass[c]`` and gives ``mass[k]`` to
    ``node[k]`` for k in ``ptr[c]:ptr[c+1]``; ``length[k]`` is the edge's length."""

    ptr: Tensor
    node: Tensor
    mass: Tensor
    length: Tensor
    self_mass: Tensor

    @property
    def degree(self) -> Tensor:
        return self.ptr.diff()


def neighbourhoods(
    edge_index: Tensor, length: Tensor, self_mass: Tensor, edge_mass: Tensor, num_nodes: int, side: str
) -> Neighbourhoods:
    """Group the per-edge masses of a measure by the node that spreads them (``side`` as in
    :mod:`graphcurv.measures`)."""
    center, other = (edge_index[0], edge_index[1]) if side == "out" else (edge_index[1], edge_index[0])
    order = torch.argsort(center * num_nodes + other)
    counts = torch.bincount(center, minlength=num_nodes)
    ptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=center.device)
    ptr[1:] = counts.cumsum(0)
    return Neighbourhoods(ptr, other[order], edge_mass[order], length[order], self_mass)


@dataclass(frozen=True)
class Supports:
    """Concatenated supports of many measures: entry k belongs to problem ``pid[k]``."""

    node: Tensor
    mass: Tensor
    hop: Tensor  # length of the edge from the centre (0 for the centre itself)
    pid: Tensor


def supports(nb: Neighbourhoods, centers: Tensor) -> Supports:
    """S_c = {c} + side(c) with masses, for each centre c (the centre first)."""
    count = nb.degree[centers] + 1
    pid = torch.repeat_interleave(torch.arange(centers.numel(), device=centers.device), count)
    start = torch.zeros_like(count)
    start[1:] = count.cumsum(0)[:-1]
    local = torch.arange(pid.numel(), device=centers.device) - start[pid]
    is_center = local == 0
    c = centers[pid]
    k = (nb.ptr[c] + local - 1).clamp(min=0, max=max(nb.node.numel() - 1, 0))
    if nb.node.numel() == 0:  # no edge on this side at all: every measure is a point mass
        return Supports(c, nb.self_mass[c].to(torch.float64), torch.zeros(c.numel(), dtype=torch.float64), pid)
    node = torch.where(is_center, c, nb.node[k])
    mass = torch.where(is_center, nb.self_mass[c], nb.mass[k])
    hop = torch.where(is_center, torch.zeros_like(nb.length[k]), nb.length[k])
    return Supports(node, mass, hop, pid)


def remove_shared_mass(src: Supports, dst: Supports, num_nodes: int) -> tuple[Supports, Supports]:
    """Subtract min(m_x(z), m_y(z)) at every node z in both supports of the same problem,
    then drop entries left with zero mass."""
    key_src = src.pid * num_nodes + src.node
    key_dst = dst.pid * num_nodes + dst.node
    # Keys are unique within each side; a key present on both sides is a shared node.
    common, src_pos, dst_pos = _intersect(key_src, key_dst)
    src_mass, dst_mass = src.mass.clone(), dst.mass.clone()
    if common:
        shared = torch.minimum(src_mass[src_pos], dst_mass[dst_pos])
        src_mass[src_pos] -= shared
        dst_mass[dst_pos] -= shared
    keep_src, keep_dst = src_mass > 0, dst_mass > 0
    return (
        Supports(src.node[keep_src], src_mass[keep_src], src.hop[keep_src], src.pid[keep_src]),
        Supports(dst.node[keep_dst], dst_mass[keep_dst], dst.hop[keep_dst], dst.pid[keep_dst]),
    )


def _intersect(a: Tensor, b: Tensor) -> tuple[bool, Tensor, Tensor]:
    """Positions i, j with a[i] == b[j] for arrays of unique keys."""
    both = torch.cat([a, b])
    order = torch.argsort(both, stable=True)
    sorted_keys = both[order]
    equal = sorted_keys[1:] == sorted_keys[:-1]
    if not bool(equal.any()):
        empty = torch.empty(0, dtype=torch.long, device=a.device)
        return False, empty, empty
    first, second = order[:-1][equal], order[1:][equal]
    # With a stable sort the entry from `a` (lower positions) comes first.
    return True, first, second - a.numel()


def build_problems(
    src: Supports, dst: Supports, num_problems: int, edge_length: Tensor, distance: DistanceFn
) -> TransportProblems:
    """Cost blocks d(u, v) for every remaining (u, v) of each problem, packed ragged.

    Entries are generated row by row: source entry r of problem p is repeated n_b(p)
    times, so a pair's source index is the repeat index and its target index follows
    from the position within the row (no division per entry).
    """
    device = src.node.device
    na = torch.bincount(src.pid, minlength=num_problems)
    nb = torch.bincount(dst.pid, minlength=num_problems)
    a_ptr, b_ptr, c_ptr = (_ptr(t) for t in (na, nb, na * nb))
    row_width = nb[src.pid]  # each source entry is one row of its problem's block
    row_start = _ptr(row_width)[:-1]
    ia = torch.repeat_interleave(torch.arange(src.pid.numel(), device=device), row_width)
    # target index = b_ptr[p] + (position - row_start[row])
    jb = torch.arange(ia.numel(), device=device) - (row_start - b_ptr[:-1][src.pid])[ia]
    u, v = src.node[ia], dst.node[jb]
    bound = _LazyBound(src.hop, dst.hop, edge_length, src.pid, ia, jb)
    cost = distance(u, v, bound)
    return TransportProblems(src.mass, dst.mass, cost, a_ptr, b_ptr, c_ptr)


class _LazyBound:
    """d(u, x) + d(x, y) + d(y, v) per pair, computed only if a distance oracle needs it."""

    def __init__(self, src_hop, dst_hop, edge_length, src_pid, ia, jb):
        self._args = (src_hop, dst_hop, edge_length, src_pid, ia, jb)

    def tensor(self) -> Tensor:
        src_hop, dst_hop, edge_length, src_pid, ia, jb = self._args
        return src_hop[ia] + edge_length[src_pid[ia]] + dst_hop[jb]


def _ptr(counts: Tensor) -> Tensor:
    ptr = torch.zeros(counts.numel() + 1, dtype=torch.long, device=counts.device)
    ptr[1:] = counts.cumsum(0)
    return ptr


def edge_chunks(problem_sizes: Tensor, max_entries: int) -> Iterator[tuple[int, int]]:
    """Cut ``range(len(problem_sizes))`` into consecutive ranges of at most ``max_entries``
    summed size (a single larger problem gets a range of its own)."""
    cumulative = problem_sizes.to(torch.float64).cumsum(0).cpu()
    count, start = problem_sizes.numel(), 0
    while start < count:
        offset = float(cumulative[start - 1]) if start else 0.0
        stop = int(torch.searchsorted(cumulative, torch.tensor(offset + max_entries, dtype=torch.float64), right=True))
        stop = max(stop, start + 1)
        yield start, min(stop, count)
        start = stop
