r"""Everything about the Ollivier-Ricci curvature of a graph that does not depend on its lengths.

A :class:`CurvaturePlan` is built once per graph topology and then evaluated for any
edge lengths: :meth:`CurvaturePlan.solve` returns W1(m_x, m_y) and d(x, y) for every
solved edge. Ricci flow changes only the lengths, so it builds one plan and calls it
every iteration; :func:`graphcurv.curvature.ollivier_ricci` builds one and calls it once.

What the plan keeps (all index arrays, NumPy on the CPU, torch on CUDA):

* the unique arcs and the solved edges (every arc of a directed graph, one arc x < y
  per undirected edge), with the map arc -> solved edge that turns per-edge lengths
  into per-arc lengths;
* the CSR layout of both sides (in-/out-neighbours), so a measure is a gather;
* the edge chunks (bounded by ``max_entries`` cost entries each) and, when the
  supports of all chunks fit in ``cache_entries`` entries, every chunk's support index
  and the positions of the nodes shared by both supports (else they are rebuilt per
  call, in O(chunk) memory).

Per call: measures (message passing), the distance oracle for the lengths (hop table
when all lengths are equal, bounded Dijkstra otherwise), the shared-mass removal,
the cost blocks and the transport solves, streamed chunk by chunk to the solver.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from graphcurv import arrays as xp
from graphcurv.arrays import Array
from graphcurv.curvature.arcs import is_symmetric, positions, symmetrised, unique_arcs
from graphcurv.curvature.distances import DijkstraDistances, HopDistances
from graphcurv.curvature.local_problems import (
    Neighbourhoods,
    SideLayout,
    build_problems,
    edge_chunks,
    gather_supports,
    remove_shared_mass,
    shared_positions,
    side_layout,
    support_index,
)
from graphcurv.errors import GraphcurvError
from graphcurv.measures import Measure
from graphcurv.progress import ProgressCallback, report
from graphcurv.transport import solver_session
from graphcurv.transport.exact import ExactSolverPool

MAX_PENDING_CHUNKS = 8  # chunks built ahead of the solver (bounds memory)
UNIT_ENTRIES = 2**22  # cost entries per executor unit at most (about 30,000 edges of degree 10)
UNIT_WINDOW = 3  # executor units with their own data in flight, per worker
DEFAULT_CACHE_ENTRIES = 2**24  # support entries kept across calls (about 40 bytes each)


class CurvaturePlan:
    """Reusable structure for the curvature of one graph topology (see the module docstring).

    Use as a context manager so the exact solver's worker processes live as long as the plan::

        with CurvaturePlan(edge_index, length, n, measure=fn, alpha=0.5) as plan:
            w1, dist = plan.solve(plan.edge_length)
    """

    def __init__(
        self,
        edge_index: Tensor,
        length: Tensor,
        num_nodes: int,
        *,
        measure: Measure,
        alpha: float,
        directed: bool | None = None,
        solver: str = "exact",
        tol: float = 1e-4,
        workers: int | None = None,
        max_entries: int | None = None,
        cache_entries: int = DEFAULT_CACHE_ENTRIES,
        expected_calls: int = 1,
    ) -> None:
        self.device = edge_index.device
        self.num_nodes = num_nodes
        self.measure, self.alpha = measure, alpha
        self.solver, self.tol, self.workers = solver, tol, workers
        given = unique_arcs(
            xp.to_backend(edge_index[0]), xp.to_backend(edge_index[1]), xp.to_backend(length), num_nodes
        )
        symmetric = is_symmetric(given)
        self.directed = (not symmetric) if directed is None else directed
        arcs = given if self.directed or symmetric else symmetrised(given)  # no 2E-arc sort when symmetric
        work = slice(None) if self.directed else arcs.source < arcs.target
        self.x, self.y = arcs.source[work], arcs.target[work]
        self.edge_length = arcs.length[work]  # the lengths the plan was built with
        # Each arc reads the length of its solved edge (x < y for undirected graphs).
        lo, hi = (
            (arcs.source, arcs.target)
            if self.directed
            else (xp.minimum(arcs.source, arcs.target), xp.maximum(arcs.source, arcs.target))
        )
        self.arc_edge = positions(self.x * num_nodes + self.y, lo, hi, num_nodes)
        self.arc_index = torch.stack([xp.to_tensor(arcs.source), xp.to_tensor(arcs.target)]).to(self.device)
        # views of arc_index (no second copy of the arcs: 16 bytes per arc on big graphs)
        self.arc_source, self.arc_target = xp.to_backend(self.arc_index[0]), xp.to_backend(self.arc_index[1])
        self.src_side, self.dst_side = ("in", "out") if self.directed else ("out", "out")
        self.src_layout = side_layout(arcs.source, arcs.target, num_nodes, self.src_side)
        self.dst_layout = (
            self.src_layout
            if self.dst_side == self.src_side
            else side_layout(arcs.source, arcs.target, num_nodes, self.dst_side)
        )
        src_degree = self.src_layout.ptr[1:] - self.src_layout.ptr[:-1]
        dst_degree = self.dst_layout.ptr[1:] - self.dst_layout.ptr[:-1]
        sizes = xp.to_tensor((src_degree[self.x] + 1) * (dst_degree[self.y] + 1))
        self.total_entries = float(sizes.sum())
        if max_entries is None:  # small chunks reuse memory on the CPU; batched solvers like big ones
            max_entries = 2**18 if solver == "exact" else 2**23
        if workers is None and self.total_entries * expected_calls < 2**20:
            self.workers = 1  # not worth starting processes
        self.chunks = list(edge_chunks(sizes, max_entries))
        support_entries = float((src_degree[self.x] + dst_degree[self.y] + 2).sum())
        self._cache: list | None = [] if support_entries <= cache_entries else None
        self._hops: HopDistances | None = None
        self._session = None
        self._submit: Callable | None = None
        self._map: Callable = map
        self._parts = 1

    # -- solver session -------------------------------------------------------------
    def __enter__(self) -> CurvaturePlan:
        if self.solver == "exact":  # one process pool for both shortest paths and solves
            self._session = ExactSolverPool(self.workers)
            pool = self._session.__enter__()
            self._submit, self._map, self._parts = pool.submit, pool.map, pool.workers
        else:
            self._session = solver_session(self.solver, tol=self.tol, workers=self.workers)
            self._submit, self._map, self._parts = self._session.__enter__(), map, 1
        return self

    def __exit__(self, *exc) -> None:
        session, self._session, self._submit = self._session, None, None
        if session is not None:
            session.__exit__(*exc)

    @property
    def num_edges(self) -> int:
        return xp.size(self.x)

    def edge_positions(self, source: Tensor, target: Tensor) -> Tensor:
        """Index of the solved edge behind each given arc (undirected: either direction)."""
        u, v = xp.to_backend(source), xp.to_backend(target)
        if not self.directed:
            u, v = xp.minimum(u, v), xp.maximum(u, v)
        return xp.to_tensor(positions(self.x * self.num_nodes + self.y, u, v, self.num_nodes), self.device)

    # -- evaluation -------------------------------------------------------------------
    def solve(self, edge_length: Array | Tensor, progress: ProgressCallback | None = None) -> tuple[Tensor, Tensor]:
        """W1(m_x, m_y) and d(x, y) (float64 tensors on the plan's device) of every solved
        edge for the given positive lengths of the solved edges."""
        if self._submit is None:
            with self:
                return self.solve(edge_length, progress)
        if isinstance(edge_length, Tensor):
            edge_length = xp.to_backend(edge_length.detach().to(self.device, torch.float64))
        arc_length = edge_length[self.arc_edge]
        src_nb, dst_nb = self._sides(arc_length)
        distance = self._distance_oracle(arc_length)
        if isinstance(distance, DijkstraDistances):
            need = _source_bounds(self.x, self.y, edge_length, src_nb, dst_nb, self.num_nodes)
            distance.prepare(need, map_fn=self._map, parts=self._parts)
        count = self.num_edges
        w1 = torch.empty(count, dtype=torch.float64, device=self.device)
        pending: deque = deque()

        def collect() -> None:
            start, stop, wait = pending.popleft()
            w1[start:stop] = wait().to(self.device)
            report(progress, stop, count, "Ollivier-Ricci curvature")

        report(progress, 0, count, "Ollivier-Ricci curvature")
        for number, (start, stop) in enumerate(self.chunks):
            src_index, dst_index, shared = self._chunk_structure(number, start, stop, src_nb, dst_nb)
            src, dst = remove_shared_mass(
                gather_supports(src_nb, src_index), gather_supports(dst_nb, dst_index), self.num_nodes, shared
            )
            problems = build_problems(src, dst, stop - start, edge_length[start:stop], distance)
            pending.append((start, stop, self._submit(problems)))
            while len(pending) > MAX_PENDING_CHUNKS:
                collect()
        while pending:
            collect()
        dist = xp.to_tensor(distance(self.x, self.y, edge_length), self.device)
        return w1, dist

    def solve_with(
        self,
        executor,
        edge_length: Array | Tensor,
        progress: ProgressCallback | None = None,
        state: str | Path | None = None,
    ) -> tuple[Tensor, Tensor]:
        """:meth:`solve` through a :mod:`graphcurv.execution` executor (exact solver, CPU):
        units of consecutive chunks, each building its supports, local distances and
        problems in the worker from O(E) shared data (:mod:`graphcurv.curvature.chunk_units`);
        bit-for-bit the values of :meth:`solve`. ``state``: a file that keeps the solved
        chunks and lets an interrupted run resume (:mod:`graphcurv.curvature.state`)."""
        import graphcurv.curvature.chunk_units as chunk_units_module
        from graphcurv.curvature.chunk_units import (
            ChunkInputs,
            LocalHopDistances,
            UnitGraphs,
            chunk_units,
            inputs_nbytes,
            solve_chunks,
            solve_unit,
        )
        from graphcurv.curvature.state import CurvatureState, run_signature

        if self.solver != "exact" or self.device.type != "cpu":
            raise GraphcurvError("an executor runs the exact solver on CPU graphs only (solver='exact')")
        if isinstance(edge_length, Tensor):
            edge_length = xp.to_backend(edge_length.detach().to(self.device, torch.float64))
        arc_length = edge_length[self.arc_edge]
        src_nb, dst_nb = self._sides(arc_length)
        count, chunks = self.num_edges, self.chunks
        if state is None:
            run = CurvatureState("", np.empty(count), np.empty(count), np.zeros(len(chunks), dtype=bool))
        else:
            measures = [src_nb.mass, src_nb.self_mass] + ([] if dst_nb is src_nb else [dst_nb.mass, dst_nb.self_mass])
            signature = run_signature([self.x, self.y, edge_length, *measures], chunks)
            run = CurvatureState.load_or_fresh(Path(state), signature, count, len(chunks))
        inputs = ChunkInputs(
            self.x, self.y, edge_length, src_nb, dst_nb, self.num_nodes, self._unit_distances(arc_length)
        )
        count_units = max(16 * executor.parallelism, math.ceil(self.total_entries / UNIT_ENTRIES))
        groups = chunk_units([c for c in range(len(chunks)) if not run.done[c]], count_units)
        solved = [sum(chunks[c][1] - chunks[c][0] for c, done in enumerate(run.done) if done)]
        report(progress, solved[0], count, "Ollivier-Ricci curvature")

        def each(done: int, result: tuple[np.ndarray, np.ndarray]) -> None:
            run.fill(chunks, groups[done - 1], *result)
            if state is not None:
                run.save_if_due(Path(state))
            solved[0] += result[0].size
            report(progress, solved[0], count, "Ollivier-Ricci curvature")

        if (
            getattr(executor, "inherits_shared", False)  # forked workers see the inputs for free
            or not isinstance(inputs.distance, LocalHopDistances)  # Dijkstra needs the whole graph
            or inputs_nbytes(inputs) <= chunk_units_module.BROADCAST_BYTES  # small: send it once
        ):
            batch = executor.map(solve_chunks, [[chunks[c] for c in g] for g in groups], shared=inputs)
        else:  # each unit carries only what it reads: no worker holds the whole graph
            build = UnitGraphs(inputs)
            units = (build([chunks[c] for c in g]) for g in groups)
            batch = executor.map(solve_unit, units, window=UNIT_WINDOW * executor.parallelism)
        try:
            batch.gather(each)
        finally:
            if state is not None and groups:
                run.save(Path(state))  # also when interrupted: what came back is kept
        return torch.from_numpy(run.w1).to(self.device), torch.from_numpy(run.dist).to(self.device)

    def _unit_distances(self, arc_length: Array):
        """The distance oracle of executor units: c x hops from the CSR adjacency for equal
        lengths, else bounded Dijkstra from each unit's own sources (no n x n matrix)."""
        from graphcurv.curvature.chunk_units import LocalHopDistances

        first = float(arc_length[0])
        if bool((arc_length == first).all()):
            out_side = self.dst_layout if self.directed else self.src_layout  # rows: out-neighbours
            adjacency = _csr(out_side, self.num_nodes)
            transpose = _csr(self.src_layout, self.num_nodes) if self.directed else None  # in-neighbours
            return LocalHopDistances(adjacency, first, transpose)
        length = xp.to_tensor(arc_length, self.device)
        return DijkstraDistances(self.arc_index, length, self.num_nodes, max_matrix_bytes=0)

    def _sides(self, arc_length: Array) -> tuple[Neighbourhoods, Neighbourhoods]:
        """Both sides' measures; one object when they are the same side (undirected graphs:
        half the memory, and a shared copy is pickled once for executor workers)."""
        src_nb = self._side(arc_length, self.src_side)
        return src_nb, src_nb if self.dst_side == self.src_side else self._side(arc_length, self.dst_side)

    def _side(self, arc_length: Array, side: str) -> Neighbourhoods:
        length = xp.to_tensor(arc_length, self.device)
        self_mass, edge_mass = self.measure(self.arc_index, length, self.num_nodes, alpha=self.alpha, side=side)
        layout = self.src_layout if side == self.src_side else self.dst_layout
        return layout.with_masses(
            xp.to_backend(length),
            xp.to_backend(self_mass.to(torch.float64)),
            xp.to_backend(edge_mass.to(torch.float64)),
        )

    def _chunk_structure(self, number: int, start: int, stop: int, src_nb: Neighbourhoods, dst_nb: Neighbourhoods):
        if self._cache is not None and number < len(self._cache):
            return self._cache[number]
        src_index = support_index(src_nb, self.x[start:stop])
        dst_index = support_index(dst_nb, self.y[start:stop])
        shared = shared_positions(src_index.node, src_index.pid, dst_index.node, dst_index.pid, self.num_nodes)
        if self._cache is not None:
            self._cache.append((src_index, dst_index, shared))
        return src_index, dst_index, shared

    def _distance_oracle(self, arc_length: Array) -> HopDistances | DijkstraDistances:
        first = float(arc_length[0])
        if bool((arc_length == first).all()):
            if self._hops is None:  # the hop table depends on the topology only
                self._hops = HopDistances(self.arc_index, self.num_nodes, length=first)
            return self._hops.with_length(first)
        return DijkstraDistances(self.arc_index, xp.to_tensor(arc_length, self.device), self.num_nodes)


def _csr(layout: SideLayout, num_nodes: int) -> sp.csr_matrix:
    """The layout's arcs as a 0/1 CSR matrix (its entries are unique and sorted already)."""
    ones = np.ones(xp.size(layout.node), dtype=np.int32)
    index = np.int32 if max(xp.size(layout.node), num_nodes) < 2**31 else np.int64
    matrix = sp.csr_matrix((ones, layout.node.astype(index), layout.ptr.astype(index)), shape=(num_nodes, num_nodes))
    matrix.has_sorted_indices = True
    return matrix


def _source_bounds(x, y, xy_length, src_nb: Neighbourhoods, dst_nb: Neighbourhoods, num_nodes: int) -> np.ndarray:
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
