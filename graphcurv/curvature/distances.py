r"""Distances between the supports of two neighbourhood measures, without an all-pairs matrix.

For an edge (x, y) the transport cost needs d(u, v) for u in the support of m_x
(x and its in-/neighbours) and v in the support of m_y (y and its out-/neighbours).

* Equal lengths c on every edge (unweighted graphs): u -> x -> y -> v is a path, so
  d(u, v) is c times 0, 1, 2 or 3 hops. :class:`HopDistances` stores a 2-bit code
  per node pair (same node, adjacent, two steps apart, further) and answers each
  pair with one lookup: memory n^2 / 4 bytes, time O(1) per pair. Beyond
  ``max_bitmap_bytes`` (default: half the available memory, at most 16 GiB) it falls
  back to binary search in the sorted keys of the one- and two-step pairs (memory
  O(nnz(A) + nnz(A^2)), much slower per pair).
* Any positive lengths: :class:`DijkstraDistances` runs scipy's Dijkstra from each
  needed source u, bounded by d(u, x) + d(x, y) + max_v d(y, v) (no shorter path
  can need more), in groups of sources so the dense rows stay within a memory cap.

Both answer ``distances(u, v) -> Tensor`` for 1-d node index tensors, in float64, on
the device of the inputs.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import dijkstra
from torch import Tensor

from graphcurv import arrays as xp
from graphcurv.arrays import Array
from graphcurv.errors import GraphcurvError


def default_max_table_bytes() -> int:
    """Half of the memory available now (Linux ``MemAvailable``), at most 16 GiB; 4 GiB if unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return min(16 * 2**30, int(line.split()[1]) * 1024 // 2)
    except OSError:
        pass
    return 4 * 2**30


def _code_matrix(pairs: list[tuple[np.ndarray, np.ndarray, int]], num_nodes: int, device: torch.device) -> Array:
    """Flat uint8 table with a 2-bit code per ordered pair (u, v): bits ``2 (v % 4)`` of
    byte ``u * ceil(n/4) + v // 4``. ``pairs`` lists ``(rows, cols, code)`` groups without
    repeated pairs, in increasing code order; a later group overwrites an earlier one.
    NumPy on the CPU, torch on CUDA."""
    width = (num_nodes + 3) // 4
    cpu = xp.numpy_for(device)
    table = (
        np.zeros(num_nodes * width, dtype=np.uint8)
        if cpu
        else torch.zeros(num_nodes * width, dtype=torch.uint8, device=device)
    )
    for rows, cols, code in pairs:
        if not cpu:
            rows, cols = torch.from_numpy(rows).to(device), torch.from_numpy(cols).to(device)
        byte, position = rows * width + (cols >> 2), cols & 3
        # Within one bit position every pair owns its byte, so plain fancy-index writes work.
        for k in range(4):
            where = byte[position == k]
            table[where] = (table[where] & (255 ^ (3 << 2 * k))) | (code << 2 * k)
    return table


class HopDistances:
    """d(u, v) in {0, 1, 2, 3} hops (times the common edge length) for pairs at most 3 hops apart.

    The 2-bit code of a pair is 3 - hops for pairs at most 2 hops apart (3 on the
    diagonal, 2 for arcs, 1 for two-step pairs) and 0 otherwise, so one lookup gives
    ``hops = 3 - code``.
    """

    def __init__(
        self,
        edge_index: Tensor,
        num_nodes: int,
        *,
        length: float = 1.0,
        max_bitmap_bytes: int | None = None,
    ) -> None:
        self.num_nodes = num_nodes
        self.length = float(length)
        self.device = edge_index.device
        src, dst = edge_index[0].cpu().numpy(), edge_index[1].cpu().numpy()
        adj = sp.csr_matrix((np.ones(src.size, dtype=np.int32), (src, dst)), shape=(num_nodes, num_nodes))
        adj.sum_duplicates()
        two, one = (adj @ adj).tocoo(), adj.tocoo()
        if max_bitmap_bytes is None:
            max_bitmap_bytes = default_max_table_bytes()
        self.use_bitmap = num_nodes * ((num_nodes + 3) // 4) <= max_bitmap_bytes
        if self.use_bitmap:
            as_i = lambda a: a.astype(np.int64)  # noqa: E731
            diag = np.arange(num_nodes, dtype=np.int64)
            self.codes = _code_matrix(
                [(as_i(two.row), as_i(two.col), 1), (as_i(one.row), as_i(one.col), 2), (diag, diag, 3)],
                num_nodes,
                self.device,
            )
        else:
            n = np.int64(num_nodes)
            self.one_keys = xp.to_backend(
                torch.from_numpy(np.unique(one.row.astype(np.int64) * n + one.col)).to(self.device)
            )
            self.two_keys = xp.to_backend(
                torch.from_numpy(np.unique(two.row.astype(np.int64) * n + two.col)).to(self.device)
            )

    def with_length(self, length: float) -> HopDistances:
        """The same hop table for another common edge length (no recomputation)."""
        if length == self.length:
            return self
        other = copy.copy(self)
        other.length = float(length)
        return other

    def hops(self, u: Array, v: Array) -> Array:
        """Hop counts (0..3) as uint8, for NumPy arrays or torch tensors of node indices."""
        table = self.codes if self.use_bitmap else self.one_keys
        if xp.is_numpy(table) and not xp.is_numpy(u):  # torch indices on a CPU (NumPy) table
            return torch.from_numpy(self.hops(u.cpu().numpy(), v.cpu().numpy())).to(u.device)
        if self.use_bitmap:
            width = (self.num_nodes + 3) // 4
            code = (self.codes[u * width + (v >> 2)] >> xp.as_uint8(2 * (v & 3))) & 3
            return 3 - code
        keys = u * self.num_nodes + v
        hops = xp.as_uint8(keys * 0 + 3)
        hops[_contains(self.two_keys, keys)] = 2
        hops[_contains(self.one_keys, keys)] = 1
        hops[u == v] = 0
        return hops

    def __call__(self, u: Array, v: Array, bound: object = None) -> Array:
        return xp.as_float64(self.hops(u, v)) * self.length

    def pairs(self, src_node: Array, dst_node: Array, ia: Array, jb: Array, bound: object = None) -> Array:
        """d(src_node[ia], dst_node[jb]): table offsets per support entry, one lookup per pair."""
        if not self.use_bitmap:
            return self(src_node[ia], dst_node[jb])
        width = (self.num_nodes + 3) // 4
        row = src_node * width
        col, shift = dst_node >> 2, xp.as_uint8(2 * (dst_node & 3))
        code = (self.codes[row[ia] + col[jb]] >> shift[jb]) & 3
        # cost = (3 - code) * length, as one table lookup
        cost_of_code = xp.float64_like([3.0 * self.length, 2.0 * self.length, self.length, 0.0], code)
        return cost_of_code[code if xp.is_numpy(code) else code.long()]


def _contains(sorted_keys: Array, queries: Array) -> Array:
    if xp.size(sorted_keys) == 0:
        return queries < 0  # all False
    pos = xp.searchsorted(sorted_keys, queries)
    pos[pos >= xp.size(sorted_keys)] = 0
    return sorted_keys[pos] == queries


class DijkstraDistances:
    """Exact weighted shortest paths for pairs (u, v) with a known upper bound on d(u, v).

    ``distances(u, v, bound)``: ``bound[i] >= d(u[i], v[i])`` lets each Dijkstra stop
    early (pass e.g. d(u, x) + d(x, y) + d(y, v) along the path u -> x -> y -> v).
    Sources are run in groups of similar bound, so a group's limit is tight.

    :meth:`prepare` takes the largest bound each node will ever need; when the n x n
    distances fit in ``max_matrix_bytes`` (default: half the available memory, at most
    16 GiB) it runs every Dijkstra once and answers all later calls from that matrix.
    The matrix holds float64 when that fits, else float32: distances are then rounded
    to a relative 2^-24 (6e-8), which moves a curvature by about as much. Beyond that,
    every chunk of queries runs its own bounded Dijkstras (exact, but sources repeat
    across chunks).
    """

    def __init__(
        self,
        edge_index: Tensor,
        edge_weight: Tensor,
        num_nodes: int,
        *,
        max_row_bytes: int = 2**28,
        max_matrix_bytes: int | None = None,
    ) -> None:
        self.num_nodes = num_nodes
        src, dst = edge_index[0].cpu().numpy(), edge_index[1].cpu().numpy()
        w = edge_weight.detach().to(torch.float64).cpu().numpy()
        if (w <= 0).any():
            raise GraphcurvError("edge lengths must be positive for shortest paths")
        # Parallel edges: keep the shortest (scipy would sum them).
        order = np.lexsort((w, dst, src))
        keep = np.ones(order.size, dtype=bool)
        keep[1:] = (src[order][1:] != src[order][:-1]) | (dst[order][1:] != dst[order][:-1])
        o = order[keep]
        self.graph = sp.csr_matrix((w[o], (src[o], dst[o])), shape=(num_nodes, num_nodes))
        self.rows_per_group = max(1, min(4096, max_row_bytes // (8 * max(num_nodes, 1))))
        self.max_matrix_bytes = default_max_table_bytes() if max_matrix_bytes is None else max_matrix_bytes
        self._matrix: np.ndarray | None = None

    def prepare(self, need: np.ndarray, *, map_fn=map, parts: int = 1) -> None:
        """Precompute all distances within ``need[u]`` of each source u, if they fit.

        ``map_fn`` runs the Dijkstra groups (e.g. a process pool's ``map``); sources are
        cut into at least ``parts`` groups so that every worker gets some.
        """
        n = self.num_nodes
        if n * n * 8 <= self.max_matrix_bytes:
            dtype = np.float64
        elif n * n * 4 <= self.max_matrix_bytes:
            dtype = np.float32
        else:
            return
        matrix = np.full((n, n), np.inf, dtype=dtype)
        sources = np.flatnonzero(need > 0)
        rows = max(1, min(self.rows_per_group, -(-sources.size // (4 * parts)) if parts > 1 else self.rows_per_group))
        groups = list(self._groups(need[sources], rows))
        jobs = [(self.graph, sources[g], _limit(need[sources[g]]), dtype) for g in groups]
        for group, result in zip(groups, map_fn(_dijkstra_rows, jobs)):
            matrix[sources[group]] = result
        self._matrix = matrix

    def _groups(self, need: np.ndarray, rows: int):
        """Positions into ``need`` in groups of ``rows`` sources of similar bound."""
        order = np.argsort(need, kind="stable")
        for start in range(0, need.size, rows):
            yield order[start : start + rows]

    def _runs(self, sources: np.ndarray, need: np.ndarray):
        """(positions into ``sources``, dense Dijkstra rows) per group of similar bound."""
        for group in self._groups(need, self.rows_per_group):
            yield group, _dijkstra_rows((self.graph, sources[group], _limit(need[group]), np.float64))

    def __call__(self, u: Array, v: Array, bound) -> Array:
        """Distances for pairs; ``bound`` is an array of upper bounds or has ``values()``."""
        numpy_in = xp.is_numpy(u)
        un, vn = (u, v) if numpy_in else (u.cpu().numpy(), v.cpu().numpy())
        if self._matrix is not None:
            out = self._matrix[un, vn].astype(np.float64, copy=False)
        else:
            bound = bound.values() if hasattr(bound, "values") else bound
            bn = bound if xp.is_numpy(bound) else bound.detach().to(torch.float64).cpu().numpy()
            out = self._lookup(un, vn, bn)
        if not np.isfinite(out).all():
            raise GraphcurvError("a shortest path exceeded its bound: lengths changed during the computation?")
        return out if numpy_in else torch.from_numpy(out).to(u.device)

    def _lookup(self, un: np.ndarray, vn: np.ndarray, bn: np.ndarray) -> np.ndarray:
        out = np.empty(un.size, dtype=np.float64)
        sources, inverse = np.unique(un, return_inverse=True)
        need = np.zeros(sources.size)
        np.maximum.at(need, inverse, bn)
        # Queries sorted by the group of their source, so each group reads one slice.
        group_of = np.empty(sources.size, dtype=np.int64)
        slot = np.empty(sources.size, dtype=np.int64)
        runs = list(self._runs(sources, need))
        for g, (group, _) in enumerate(runs):
            group_of[group], slot[group] = g, np.arange(group.size)
        query_group = group_of[inverse]
        order = np.argsort(query_group, kind="stable")
        bounds = np.searchsorted(query_group[order], np.arange(len(runs) + 1))
        for g, (_, rows) in enumerate(runs):
            q = order[bounds[g] : bounds[g + 1]]
            out[q] = rows[slot[inverse[q]], vn[q]]
        return out

    def pairs(self, src_node: Array, dst_node: Array, ia: Array, jb: Array, bound) -> Array:
        """d(src_node[ia], dst_node[jb]) with upper bounds ``bound``."""
        return self(src_node[ia], dst_node[jb], bound)


def _limit(need: np.ndarray) -> float:
    """A Dijkstra limit safely above every bound of a group (rounding in path sums)."""
    return float(need.max()) * (1 + 1e-9) + 1e-12


def _dijkstra_rows(job: tuple) -> np.ndarray:
    """Dense rows of bounded Dijkstra: ``job = (csr graph, sources, limit, dtype)``."""
    graph, sources, limit, dtype = job
    return dijkstra(graph, directed=True, indices=sources, limit=limit).astype(dtype, copy=False)
