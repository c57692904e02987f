r"""Exact Ollivier-Ricci curvature as units of edge chunks, for :mod:`graphcurv.execution`.

A unit is a run of consecutive chunks of a :class:`~graphcurv.curvature.plan.CurvaturePlan`
(the same chunks, so every transport problem is built exactly as in-process and the
values agree bit for bit). The shared data, sent to every worker once, is O(E): the
solved edges and their lengths, both sides' measures as CSR (:class:`Neighbourhoods`)
and the adjacency as a scipy CSR matrix. Each unit builds what its chunks need from
it: the supports, the shared-mass removal, the local distances and the problems, then
solves them with the exact solver in the worker.

Local distances: with equal lengths c, d(u, v) is c times 0, 1, 2 or 3 hops for u in
S_x and v in S_y; a unit finds the one- and two-step pairs among its own support
nodes (rows of A and of A @ A restricted to them), never the whole graph's hop table.
With unequal lengths the unit runs bounded Dijkstra from its own sources
(:class:`~graphcurv.curvature.distances.DijkstraDistances` without the n x n matrix).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from graphcurv.curvature.local_problems import (
    Neighbourhoods,
    build_problems,
    gather_supports,
    remove_shared_mass,
    shared_positions,
    support_index,
)
from graphcurv.transport.exact import ExactSolverPool

DENSE_TABLE_ENTRIES = 2**25  # a chunk's hop table is dense up to 32 MiB
# Whole-graph inputs up to this size are broadcast to every worker; beyond it each unit
# carries its own part (UnitGraphs), so no worker holds the whole graph.
BROADCAST_BYTES = 2**28


class LocalHopDistances:
    """d(u, v) = c x hops (0..3) from the CSR adjacency, for the nodes one chunk asks about."""

    def __init__(self, adjacency: sp.csr_matrix, length: float, transpose: sp.csr_matrix | None = None) -> None:
        self.adjacency, self.length = adjacency, float(length)
        self.transpose = adjacency if transpose is None else transpose  # rows = in-neighbours

    def _cost(self, src_node: np.ndarray, dst_node: np.ndarray, ia: np.ndarray, jb: np.ndarray) -> np.ndarray:
        rows, row_of = np.unique(src_node, return_inverse=True)
        cols, col_of = np.unique(dst_node, return_inverse=True)
        a_rows = self.adjacency[rows]  # row slices only: cheap on CSR
        one = a_rows.tocoo()
        at = np.minimum(np.searchsorted(cols, one.col), cols.size - 1)
        hit = cols[at] == one.col
        two = (a_rows @ self.transpose[cols].T).tocoo()  # two-step pairs among these nodes only
        same_row, same_col = _same_nodes(rows, cols)
        cost_of_hops = np.array([0.0, 1.0, 2.0, 3.0]) * self.length  # the in-process oracle's c x hops
        width = np.int64(cols.size)
        if rows.size * cols.size <= DENSE_TABLE_ENTRIES:  # one byte per (row, col): one lookup per pair
            table = np.full(rows.size * cols.size, 3, dtype=np.uint8)
            table[two.row.astype(np.int64) * width + two.col] = 2
            table[one.row[hit].astype(np.int64) * width + at[hit]] = 1
            table[same_row * width + same_col] = 0
            # the row offset per support entry, then one add and one gather per pair
            return cost_of_hops[table[(row_of.astype(np.int64) * width)[ia] + col_of[jb]]]
        keys = (row_of.astype(np.int64) * width)[ia] + col_of[jb]  # sorted keys of the near pairs
        hops = np.full(keys.size, 3, dtype=np.uint8)
        hops[_contains(np.unique(two.row.astype(np.int64) * width + two.col), keys)] = 2
        hops[_contains(np.unique(one.row[hit].astype(np.int64) * width + at[hit]), keys)] = 1
        hops[_contains(same_row * width + same_col, keys)] = 0
        return cost_of_hops[hops]

    def pairs(self, src_node, dst_node, ia, jb, bound=None) -> np.ndarray:
        return self._cost(src_node, dst_node, ia, jb)

    def __call__(self, u, v, bound=None) -> np.ndarray:
        index = np.arange(np.size(u))
        return self._cost(u, v, index, index)


def _same_nodes(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (r, c) with rows[r] == cols[c] (both sorted and unique), as int64."""
    common, r, c = np.intersect1d(rows, cols, assume_unique=True, return_indices=True)
    return r.astype(np.int64), c.astype(np.int64)


def _contains(sorted_keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    if sorted_keys.size == 0:
        return np.zeros(queries.size, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, queries), sorted_keys.size - 1)
    return sorted_keys[pos] == queries


@dataclass(frozen=True)
class ChunkInputs:
    """What every unit reads (scattered once): solved edges, lengths, measures, distances."""

    x: np.ndarray
    y: np.ndarray
    edge_length: np.ndarray
    src_nb: Neighbourhoods
    dst_nb: Neighbourhoods
    num_nodes: int
    distance: Any  # LocalHopDistances or DijkstraDistances (no n x n matrix)


def inputs_nbytes(inputs: ChunkInputs) -> int:
    """Bytes of the arrays of ``inputs`` (what a broadcast sends to each worker)."""
    arrays = [inputs.x, inputs.y, inputs.edge_length]
    for nb in {id(inputs.src_nb): inputs.src_nb, id(inputs.dst_nb): inputs.dst_nb}.values():
        arrays += [nb.ptr, nb.node, nb.mass, nb.length, nb.self_mass]
    distance = inputs.distance
    if isinstance(distance, LocalHopDistances):
        for m in {id(distance.adjacency): distance.adjacency, id(distance.transpose): distance.transpose}.values():
            arrays += [m.data, m.indices, m.indptr]
    return int(sum(np.asarray(a).nbytes for a in arrays))


def solve_chunks(unit: list[tuple[int, int]], inputs: ChunkInputs) -> tuple[np.ndarray, np.ndarray]:
    """W1 and d(x, y) of the solved edges of consecutive chunks ``unit`` (in-worker, exact)."""
    w1, dist = [], []
    with ExactSolverPool(1) as pool:
        for start, stop in unit:
            src_index = support_index(inputs.src_nb, inputs.x[start:stop])
            dst_index = support_index(inputs.dst_nb, inputs.y[start:stop])
            shared = shared_positions(src_index.node, src_index.pid, dst_index.node, dst_index.pid, inputs.num_nodes)
            src, dst = remove_shared_mass(
                gather_supports(inputs.src_nb, src_index),
                gather_supports(inputs.dst_nb, dst_index),
                inputs.num_nodes,
                shared,
            )
            length = inputs.edge_length[start:stop]
            problems = build_problems(src, dst, stop - start, length, inputs.distance)
            w1.append(pool.submit(problems)().numpy())
            dist.append(np.asarray(inputs.distance(inputs.x[start:stop], inputs.y[start:stop], length)))
    return np.concatenate(w1), np.concatenate(dist)


@dataclass(frozen=True)
class UnitGraph:
    """One unit with what it reads (:func:`unit_graph`): its chunks, as ranges of its own edges."""

    chunks: list[tuple[int, int]]
    inputs: ChunkInputs


def solve_unit(unit: UnitGraph, shared: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """W1 and d(x, y) of a :class:`UnitGraph`'s edges (in-worker, exact)."""
    return solve_chunks(unit.chunks, unit.inputs)


def _rows(ptr: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR entry positions of the rows ``centres`` (concatenated in that order) and their lengths."""
    count = ptr[centres + 1] - ptr[centres]
    start = np.repeat(ptr[centres] - (np.cumsum(count) - count), count)  # row start - its output offset
    return start + np.arange(start.size, dtype=np.int64), count


class UnitGraphs:
    """Builds the :class:`UnitGraph` of any run of chunks of ``full`` (equal lengths): their
    edges; the measures' rows of their endpoints; the adjacency rows of their support nodes
    (what the one- and two-step pairs among the supports need), on the local ids 0..|V|-1
    of the nodes V these mention. Local ids keep the order of the global ones, so every
    sort, support and cost comes out as with ``full``: the same problems, the same values.

    Per unit the work is O(its entries) plus one O(n) scan: node sets are marked in a
    stamp array and relabelled through one n-entry map, both kept across units."""

    def __init__(self, full: ChunkInputs) -> None:
        if not isinstance(full.distance, LocalHopDistances):
            raise TypeError("unit graphs are built for equal lengths (hop distances) only")
        self.full = full
        adjacency, transpose = full.distance.adjacency, full.distance.transpose
        self._matrices = [(adjacency, adjacency.indptr.astype(np.int64))]
        if transpose is not adjacency:
            self._matrices.append((transpose, transpose.indptr.astype(np.int64)))
        self._stamp = np.zeros(full.num_nodes, dtype=np.int32)
        self._local = np.zeros(full.num_nodes, dtype=np.int64)
        self._units = 0

    def _marked(self, parts: list[np.ndarray]) -> np.ndarray:
        """The sorted distinct nodes of ``parts`` (a fresh stamp marks them)."""
        self._units += 1
        for part in parts:
            self._stamp[part] = self._units
        return np.flatnonzero(self._stamp == self._units)

    def __call__(self, chunks: list[tuple[int, int]]) -> UnitGraph:
        full = self.full
        a, b = chunks[0][0], chunks[-1][1]
        x, y = full.x[a:b], full.y[a:b]
        same = full.dst_nb is full.src_nb
        if same:
            src_centres = dst_centres = self._marked([x, y])
        else:
            src_centres, dst_centres = self._marked([x]), self._marked([y])
        src_entries = _rows(full.src_nb.ptr, src_centres)[0]
        dst_entries = src_entries if same else _rows(full.dst_nb.ptr, dst_centres)[0]
        support = self._marked([src_centres, dst_centres, full.src_nb.node[src_entries], full.dst_nb.node[dst_entries]])
        rows = [_rows(indptr, support) for _, indptr in self._matrices]
        nodes = self._marked([support] + [m.indices[entries] for (m, _), (entries, _) in zip(self._matrices, rows)])
        local = self._local
        local[nodes] = np.arange(nodes.size)
        src_nb = self._sub_neighbourhoods(full.src_nb, src_centres, src_entries, nodes.size)
        dst_nb = src_nb if same else self._sub_neighbourhoods(full.dst_nb, dst_centres, dst_entries, nodes.size)
        subs = [
            self._sub_matrix(m, support, entries, count, nodes.size)
            for (m, _), (entries, count) in zip(self._matrices, rows)
        ]
        distance = LocalHopDistances(subs[0], full.distance.length, subs[1] if len(subs) > 1 else None)
        inputs = ChunkInputs(local[x], local[y], full.edge_length[a:b], src_nb, dst_nb, int(nodes.size), distance)
        return UnitGraph([(start - a, stop - a) for start, stop in chunks], inputs)

    def _sub_neighbourhoods(self, nb: Neighbourhoods, centres: np.ndarray, entries: np.ndarray, size: int):
        degree = np.zeros(size, dtype=np.int64)
        degree[self._local[centres]] = nb.ptr[centres + 1] - nb.ptr[centres]
        ptr = np.concatenate([[0], np.cumsum(degree)])
        self_mass = np.zeros(size)
        self_mass[self._local[centres]] = nb.self_mass[centres]  # only centres spread mass
        return Neighbourhoods(ptr, self._local[nb.node[entries]], nb.mass[entries], nb.length[entries], self_mass)

    def _sub_matrix(self, matrix: sp.csr_matrix, rows: np.ndarray, entries: np.ndarray, count: np.ndarray, size: int):
        degree = np.zeros(size, dtype=np.int64)
        degree[self._local[rows]] = count
        indptr = np.concatenate([[0], np.cumsum(degree)]).astype(matrix.indptr.dtype)
        indices = self._local[matrix.indices[entries]].astype(matrix.indices.dtype)
        sub = sp.csr_matrix((matrix.data[entries], indices, indptr), shape=(size, size))
        sub.has_sorted_indices = True  # the relabelling keeps the order
        return sub


def unit_graph(full: ChunkInputs, chunks: list[tuple[int, int]]) -> UnitGraph:
    """The :class:`UnitGraph` of consecutive ``chunks`` of ``full`` (see :class:`UnitGraphs`)."""
    return UnitGraphs(full)(chunks)


def chunk_units(chunks: list[tuple[int, int]], count: int) -> list[list[tuple[int, int]]]:
    """Consecutive chunks grouped into at most ``count`` units of about equal numbers of chunks."""
    count = max(1, min(count, len(chunks)))
    bounds = np.linspace(0, len(chunks), count + 1).round().astype(int)
    return [chunks[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
