r"""Exact W1 for a batch of small transport problems: POT's network simplex, certified.

For each problem k:

.. math::
    W_1(a, b) = \min_{P \ge 0,\; P 1 = a,\; P^\top 1 = b} \langle P, M \rangle

solved by POT's C++ network simplex (the solver behind ``ot.emd2``; Bonneel et al.
2011). Calling it through ``ot.emd2`` costs about 150 microseconds of Python overhead
per problem, far more than solving a 6 x 6 problem, so graphcurv calls POT's compiled
``emd_c`` directly (about 9 microseconds) and falls back to ``ot.emd2`` when that
internal entry point is absent. :class:`ExactSolverPool` spreads batches over worker
processes (fork; POT's solver holds the GIL too long for threads to pay off) and lets
a caller stream batches: the next batch can be built while the workers solve.

Problems with a point mass on one side, or with two points on one side (e.g. a hub's
edges to its leaves), have closed forms (:func:`_two_point_solutions`) and never reach
the network simplex; the others are solved with no more rows than columns, the
orientation in which POT's network simplex is fast.

Certificate: the solver (or the closed form) returns dual potentials (f, g). A plan is optimal iff
f_i + g_j <= M_ij for all i, j (dual feasibility) and <P, M> = <a, f> + <b, g>
(no duality gap). With ``certify=True`` both are checked for every problem and a
:class:`GraphcurvError` is raised if a violation exceeds ``certify_tol`` (scaled by
the problem's cost range).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections import deque
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch
from torch import Tensor

from graphcurv.errors import GraphcurvError
from graphcurv.transport.problems import BorderedProblems, TransportProblems

try:  # POT's compiled solver; not public API. Its positional arguments (a, b, M,
    # max_iter, numThreads, alpha_init, beta_init) are those of every POT this package
    # allows (>= 0.9.7, which added the warm-start duals alpha_init and beta_init).
    from ot.lp.emd_wrap import emd_c as _emd_c
except ImportError:  # pragma: no cover - exercised only with an unusual POT build
    _emd_c = None

MAX_ITER = 10_000_000
WARM_ENTRIES = 2_000  # smallest problem (cost entries) started from given duals: below it a cold start is as fast
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _solve_arrays(
    arrays: Arrays, certify: bool, tol: float, warm: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """W1 of every problem of a batch given as (a, balanced b, cost, a_ptr, b_ptr, cost_ptr).

    The loop only calls the solver and keeps the dual potentials; the certificate is
    checked for the whole batch at once afterwards (:func:`_check_certificates`).
    ``warm``: feasible duals (f for ``a``, g for ``b``, in the same layout) to start the
    network simplex from on problems of at least ``WARM_ENTRIES`` cost entries; the
    optimum, and so the value, is the same, it is only reached in fewer pivots.
    """
    a, b, cost, a_ptr, b_ptr, c_ptr = arrays
    out = _point_mass_values(arrays)
    f_all, g_all = np.zeros(a.size), np.zeros(b.size)
    solved = _two_point_solutions(arrays, out, f_all, g_all)
    # POT's network simplex compares reduced costs against absolute epsilons, so each
    # problem is solved with its costs scaled to a largest entry of 1 (W1 and the duals
    # scale back linearly); tiny costs (e.g. lengths of 1e-8 late in a Ricci flow)
    # would otherwise stall it or leave 1e-16-sized dual violations.
    scale = _segment_max(cost, c_ptr)
    # Python ints index faster than NumPy scalars in this loop.
    ap, bp, cp = a_ptr.tolist(), b_ptr.tolist(), c_ptr.tolist()
    emd = _emd_c
    for k in np.flatnonzero((np.diff(a_ptr) > 1) & (np.diff(b_ptr) > 1) & ~solved).tolist():
        a0, a1, b0, b1 = ap[k], ap[k + 1], bp[k], bp[k + 1]
        unit = float(scale[k]) if scale[k] > 0 else 1.0
        block = (cost[cp[k] : cp[k + 1]] / unit).reshape(a1 - a0, b1 - b0)
        if emd is None:
            import ot

            out[k] = unit * ot.emd2(a[a0:a1], b[b0:b1], block, numItermax=MAX_ITER)
            continue
        start = None
        if warm is not None and block.size >= WARM_ENTRIES:
            start = (warm[0][a0:a1] / unit, warm[1][b0:b1] / unit)
        value, f, g, code = _network_simplex(emd, a[a0:a1], b[b0:b1], block, start)
        if code != 1:
            raise GraphcurvError(
                f"network simplex did not reach an optimum (code {code}) on a {a1 - a0}x{b1 - b0} problem"
            )
        out[k], f_all[a0:a1], g_all[b0:b1], solved[k] = unit * value, unit * f, unit * g, True
    if certify and solved.any():
        _check_certificates(arrays, out, f_all, g_all, solved, tol)
    return out


def _network_simplex(
    emd, a: np.ndarray, b: np.ndarray, cost: np.ndarray, start: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[float, np.ndarray, np.ndarray, int]:
    r"""W1 value, duals (f for ``a``, g for ``b``) and POT's result code of one problem,
    solved in the orientation with no more rows than columns, from the duals ``start``
    (f, g) when given.

    The problem and its transpose have the same optimum and swapped duals:
    :math:`\min_P \langle P, M \rangle` over couplings of (a, b) equals
    :math:`\min_Q \langle Q, M^\top \rangle` over couplings of (b, a) with
    :math:`Q = P^\top`, and (f, g) is dual optimal for one iff (g, f) is for the other.
    POT's network simplex is several times slower on tall problems such as the
    3,099 x 2 ones of a star's hub edges than on their transposes (issue 18).
    """
    extra = () if start is None else start
    if a.size > b.size:
        _plan, value, g, f, code = emd(b, a, np.ascontiguousarray(cost.T), MAX_ITER, 1, *extra[::-1])
    else:
        _plan, value, f, g, code = emd(a, b, cost, MAX_ITER, 1, *extra)
    return value, f, g, code


def _two_point_solutions(arrays: Arrays, out: np.ndarray, f: np.ndarray, g: np.ndarray) -> np.ndarray:
    r"""Solve every problem with exactly two points on one side (and more than one on the
    other) in closed form; returns which problems it solved.

    With points 1 and 2 of masses :math:`t_1, t_2` on one side and :math:`s_i` on the
    other, a plan sends :math:`x_i \in [0, s_i]` of point i to point 1 and the rest to
    point 2: :math:`W_1 = \sum_i s_i c_{i2} + \min \{\sum_i x_i (c_{i1} - c_{i2}) :
    \sum_i x_i = t_1\}`, a fractional knapsack, solved by filling point 1 in increasing
    order of :math:`\delta_i = c_{i1} - c_{i2}`. With :math:`\delta^*` that of the point
    that fills it, :math:`(\delta^*, 0)` and :math:`\min(c_{i1} - \delta^*, c_{i2})` are
    optimal duals. ``out`` gets the cost of that plan and ``f``, ``g`` the duals, in the
    problem's own orientation, so the certificate checks them as it checks the network
    simplex's. These are e.g. the problems of a hub's edges to its leaves (the hub's
    measure against a leaf and the leaf's one other neighbour), on which the network
    simplex spends a millisecond or more each (issue 18 item 7). Each problem's numbers
    depend on that problem alone, not on the others of its batch.
    """
    a, b, cost, a_ptr, b_ptr, c_ptr = arrays
    na, nb = np.diff(a_ptr), np.diff(b_ptr)
    rows = (na == 2) & (nb >= 2)  # the two points are the block's two rows
    solved = rows | ((nb == 2) & (na > 2))  # ... or its two columns
    other = np.where(rows, nb, na)  # size of the other side
    for m in np.unique(other[solved]).tolist():
        for by_rows in (True, False):
            k = np.flatnonzero(solved & (other == m) & (rows == by_rows))
            if k.size:
                _two_point_group(arrays, k, m, by_rows, out, f, g)
    return solved


def _two_point_group(arrays: Arrays, k: np.ndarray, m: int, by_rows: bool, out, f, g) -> None:
    """:func:`_two_point_solutions` for problems ``k``, all with the two points on the same
    side (rows when ``by_rows``) and ``m`` points on the other, as one (len(k), m) array."""
    a, b, cost, a_ptr, b_ptr, c_ptr = arrays
    i = np.arange(m)
    if by_rows:  # block (2, m): point 1's costs, then point 2's
        first, second = c_ptr[k, None] + i, c_ptr[k, None] + m + i
        many, many_dual, two, two_dual = b_ptr[k, None] + i, g, a_ptr[k], f
        mass, t1 = b[many], a[two]
    else:  # block (m, 2)
        first, second = c_ptr[k, None] + 2 * i, c_ptr[k, None] + 2 * i + 1
        many, many_dual, two, two_dual = a_ptr[k, None] + i, f, b_ptr[k], g
        mass, t1 = a[many], b[two]
    c1, c2 = cost[first], cost[second]
    delta = c1 - c2
    order = np.argsort(delta, axis=1, kind="stable")
    sorted_mass, sorted_c1, sorted_c2 = (np.take_along_axis(x, order, axis=1) for x in (mass, c1, c2))
    before = np.zeros_like(sorted_mass)  # mass ahead of each point in the filling order
    np.cumsum(sorted_mass[:, :-1], axis=1, out=before[:, 1:])
    sent = np.clip(t1[:, None] - before, 0.0, sorted_mass)  # the greedy plan's x_i
    out[k] = (sent * sorted_c1 + (sorted_mass - sent) * sorted_c2).sum(axis=1)
    # The point that fills point 1: the last one reached while it is still short (clamped,
    # so that rounding in the totals cannot step past the end).
    filling = np.clip((before < t1[:, None]).sum(axis=1) - 1, 0, m - 1)
    delta_star = np.take_along_axis(delta, order[np.arange(k.size), filling][:, None], axis=1)
    many_dual[many] = np.minimum(c1 - delta_star, c2)
    two_dual[two], two_dual[two + 1] = delta_star[:, 0], 0.0


def _segment_reduce(ufunc: np.ufunc, values: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """``ufunc`` over each segment ``ptr[k]:ptr[k+1]`` (0 for empty segments)."""
    out = np.zeros(ptr.size - 1)
    nonempty = ptr[1:] > ptr[:-1]
    if nonempty.any():  # runs between consecutive non-empty starts are exactly the segments
        out[nonempty] = ufunc.reduceat(values, ptr[:-1][nonempty])
    return out


def _segment_max(values: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    return _segment_reduce(np.maximum, values, ptr)


def _segment_sums(values: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    return _segment_reduce(np.add, values, ptr)


def _point_mass_values(arrays: Arrays) -> np.ndarray:
    """W1 of the problems with a point mass on one side (the only plan moves everything
    to or from it: W1 = sum of mass x cost), vectorised; 0 for every other problem."""
    a, b, cost, a_ptr, b_ptr, c_ptr = arrays
    na, nb = np.diff(a_ptr), np.diff(b_ptr)
    out = np.zeros(na.size)
    point = ((na == 1) | (nb == 1)) & (na > 0) & (nb > 0)
    if not point.any():
        return out
    problem = np.repeat(np.arange(na.size), na * nb)
    entry = np.flatnonzero(point[problem])
    p = problem[entry]
    local = entry - c_ptr[p]
    # With one source the block is one row: entry = column; with one target, entry = row.
    one_source = na[p] == 1
    mass = np.empty(entry.size)
    mass[one_source] = b[(b_ptr[p] + local)[one_source]]
    mass[~one_source] = a[(a_ptr[p] + local)[~one_source]]
    np.add.at(out, p, mass * cost[entry])
    return out


def _check_certificates(arrays: Arrays, value, f, g, solved, tol: float) -> None:
    """Optimality of every solved problem from its duals: f_i + g_j <= M_ij and
    <a, f> + <b, g> = value, up to ``tol`` times the problem's largest |cost| or |potential|."""
    violation, scale, gap = _certificate_terms(arrays, value, f, g, solved)
    bad = (violation > tol * scale) | (gap > tol * scale)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GraphcurvError(
            f"optimality certificate failed (dual violation {violation[k]:.3g}, gap {gap[k]:.3g}, scale {scale[k]:.3g})"
        )


def _certificate_terms(arrays: Arrays, value, f, g, solved) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per solved problem: the largest dual violation max(f_i + g_j - M_ij), the scale
    (largest |cost| or |potential|) and the duality gap |value - <a, f> - <b, g>|.

    A batch of problems of one shape (every :class:`BorderedProblems` batch) is checked
    as an (n, rows, cols) array by broadcasting; a ragged one entry by entry through
    per-entry indices (several times slower per entry)."""
    a, b, cost, a_ptr, b_ptr, c_ptr = arrays
    na, nb = np.diff(a_ptr), np.diff(b_ptr)
    if na.size and na.min() == na.max() > 0 and nb.min() == nb.max() > 0:
        n, rows, cols = na.size, int(na[0]), int(nb[0])
        fk, gk = f.reshape(n, rows)[solved], g.reshape(n, cols)[solved]
        ck = cost.reshape(n, rows, cols)[solved]
        violation = (fk[:, :, None] + gk[:, None, :] - ck).max(axis=(1, 2))
        magnitude = np.maximum(np.abs(ck).max(axis=(1, 2)), np.abs(fk).max(axis=1))
        scale = np.maximum(np.maximum(magnitude, np.abs(gk).max(axis=1)), 1e-300)
        duals = (a.reshape(n, rows)[solved] * fk).sum(axis=1) + (b.reshape(n, cols)[solved] * gk).sum(axis=1)
        return violation, scale, np.abs(value[solved] - duals)
    problem = np.repeat(np.arange(na.size), na * nb)  # problem of each cost entry
    local = np.arange(cost.size) - c_ptr[problem]
    row, col = a_ptr[problem] + local // nb[problem], b_ptr[problem] + local % nb[problem]
    violation = _segment_max(f[row] + g[col] - cost, c_ptr)[solved]
    # Rounding in the duals scales with the largest of the costs and the potentials.
    magnitude = np.maximum(_segment_max(np.abs(cost), c_ptr), _segment_max(np.abs(f), a_ptr))
    scale = np.maximum(np.maximum(magnitude, _segment_max(np.abs(g), b_ptr))[solved], 1e-300)
    gap = np.abs(value[solved] - (_segment_sums(a * f, a_ptr) + _segment_sums(b * g, b_ptr))[solved])
    return violation, scale, gap


def _balanced_targets(a: np.ndarray, b: np.ndarray, a_ptr: np.ndarray, b_ptr: np.ndarray) -> np.ndarray:
    """``b`` rescaled per problem so both sides carry exactly ``a``'s total (as ``ot.emd`` does)."""
    total_a, total_b = _segment_sums(a, a_ptr), _segment_sums(b, b_ptr)
    ratio = np.divide(total_a, total_b, out=np.zeros_like(total_a), where=total_b > 0)
    return b * np.repeat(ratio, np.diff(b_ptr))


def default_workers() -> int:
    """Worker processes for the exact solver: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _solve_bordered(problems: BorderedProblems, certify: bool, tol: float) -> np.ndarray:
    """:func:`_solve_arrays` of a :class:`BorderedProblems` batch, expanded here (in the
    solver process), started from :meth:`BorderedProblems.warm_duals` when the batch
    carries the shared duals and its problems are large enough to gain from it."""
    a, b, cost, a_ptr, b_ptr, c_ptr = problems.packed()
    warm = None
    if (
        problems.u is not None
        and problems.v is not None
        and (1 + problems.mu.size) * (1 + problems.nu.size) >= WARM_ENTRIES
    ):
        warm = tuple(x.reshape(-1) for x in problems.warm_duals())
    return _solve_arrays((a, _balanced_targets(a, b, a_ptr, b_ptr), cost, a_ptr, b_ptr, c_ptr), certify, tol, warm)


def _numpy_batch(problems: TransportProblems) -> Arrays:
    a, b, cost, a_ptr, b_ptr, c_ptr = (
        np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float64 if t.is_floating_point() else np.int64))
        for t in (problems.a, problems.b, problems.cost, problems.a_ptr, problems.b_ptr, problems.cost_ptr)
    )
    return a, _balanced_targets(a, b, a_ptr, b_ptr), cost, a_ptr, b_ptr, c_ptr


def _pieces(arrays: Arrays, max_entries: int) -> list[Arrays]:
    """Cut a batch into consecutive sub-batches of about ``max_entries`` cost entries each."""
    a, b, cost, a_ptr, b_ptr, c_ptr = arrays
    count = a_ptr.size - 1
    work = np.cumsum(np.diff(c_ptr) + 64)  # entries plus a per-problem overhead
    cuts = np.unique(np.searchsorted(work, np.arange(max_entries, work[-1] + max_entries, max_entries)) + 1)
    cuts = np.unique(np.concatenate([[0], np.minimum(cuts, count), [count]]))
    out = []
    for s, e in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
        out.append(
            (
                a[a_ptr[s] : a_ptr[e]],
                b[b_ptr[s] : b_ptr[e]],
                cost[c_ptr[s] : c_ptr[e]],
                a_ptr[s : e + 1] - a_ptr[s],
                b_ptr[s : e + 1] - b_ptr[s],
                c_ptr[s : e + 1] - c_ptr[s],
            )
        )
    return out


class ExactSolverPool:
    """Worker processes for exact W1, fed batch by batch.

    ``submit(problems)`` returns at once with a function that waits for and returns the
    (B,) result tensor, so the caller can build its next batch meanwhile::

        with ExactSolverPool(workers=2) as pool:
            pending = [pool.submit(batch) for batch in batches]
            results = [wait() for wait in pending]

    With one worker (or no ``fork``) it solves in the calling process instead. At most
    about ``queued_entries`` cost entries wait in the workers' queue: ``submit`` blocks
    on the oldest pieces beyond that, so memory stays bounded however much is submitted.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        certify: bool = True,
        certify_tol: float = 1e-9,
        piece_entries: int = 2**18,
        queued_entries: int = 2**25,
    ) -> None:
        self.workers = default_workers() if workers is None else max(1, int(workers))
        self.certify, self.certify_tol, self.piece_entries = certify, certify_tol, piece_entries
        self.queued_entries = queued_entries
        self._pool = None
        self._in_flight: deque = deque()
        self._queued = 0

    def __enter__(self) -> ExactSolverPool:
        if self.workers > 1 and _fork_available():
            # An executor (not mp.Pool) so that a worker killed, e.g. for memory, raises
            # BrokenProcessPool instead of leaving the caller waiting forever.
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("fork"))
            # Fork the workers now, from this thread: a pool whose first job came from a
            # helper thread would fork while this thread may hold a lock (malloc, torch),
            # and a child stuck on it never reads its pipe, so it outlives a killed parent.
            self._pool.submit(int).result()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)
            self._pool = None

    def map(self, fn, items) -> list:
        """``[fn(item) for item in items]``, run on the workers when there are any."""
        items = list(items)
        if self._pool is None or len(items) < 2:
            return [fn(item) for item in items]
        return list(self._pool.map(fn, items))

    def submit(self, problems: TransportProblems | BorderedProblems):
        """Start solving a batch; returns a function that waits for its (B,) W1 tensor (on
        the batch's device; a :class:`BorderedProblems` batch gives a CPU tensor)."""
        if isinstance(problems, BorderedProblems):
            device, solve = torch.device("cpu"), _solve_bordered
            pieces = problems.split(self.piece_entries) if self._pool is not None else [problems]
            sizes = [piece.entries for piece in pieces]
        else:
            device, solve = problems.device, _solve_arrays
            arrays = _numpy_batch(problems)
            pieces = _pieces(arrays, self.piece_entries) if self._pool is not None else [arrays]
            sizes = [int(piece[2].size) for piece in pieces]
        if self._pool is None:
            result = torch.from_numpy(solve(pieces[0], self.certify, self.certify_tol)).to(device)
            return lambda: result
        futures = []
        for piece, size in zip(pieces, sizes):
            self._throttle()
            futures.append(self._pool.submit(solve, piece, self.certify, self.certify_tol))
            self._in_flight.append((futures[-1], size))
            self._queued += size
        return lambda: torch.from_numpy(np.concatenate([f.result() for f in futures])).to(device)

    def _throttle(self) -> None:
        """Wait for the oldest pieces while more than ``queued_entries`` cost entries are
        queued, so that a caller submitting millions of problems holds a bounded amount
        (the results stay with their futures)."""
        while self._in_flight and self._queued > self.queued_entries:
            future, entries = self._in_flight.popleft()
            future.result()
            self._queued -= entries
        while self._in_flight and self._in_flight[0][0].done():
            self._queued -= self._in_flight.popleft()[1]


def wasserstein_exact(
    problems: TransportProblems,
    *,
    workers: int | None = None,
    certify: bool = True,
    certify_tol: float = 1e-9,
    min_problems_per_worker: int = 2000,
) -> Tensor:
    """Exact W1 of every problem in the batch; float64 tensor (B,) on the batch's device.

    ``workers``: processes to use (default: all CPUs available; 1 = in this process).
    Batches of fewer than ``min_problems_per_worker`` problems per worker use fewer.

    >>> import torch
    >>> p = TransportProblems.from_dense([(torch.tensor([0.5, 0.5], dtype=torch.float64),
    ...     torch.tensor([0.5, 0.5], dtype=torch.float64),
    ...     torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64))])
    >>> wasserstein_exact(p).tolist()
    [0.0]
    """
    workers = default_workers() if workers is None else max(1, int(workers))
    workers = min(workers, max(1, problems.num_problems // min_problems_per_worker))
    piece = max(1, int(problems.cost.numel()) // (4 * workers) + 1)
    with ExactSolverPool(workers, certify=certify, certify_tol=certify_tol, piece_entries=piece) as pool:
        return pool.submit(problems)()


def _fork_available() -> bool:
    """Whether worker processes may be forked from this one: Linux with ``fork``, and this
    process not daemonic. A ``DataLoader(num_workers>0)`` worker or a ``multiprocessing.Pool``
    worker is daemonic and may not have children, so there :class:`ExactSolverPool` and the
    local executor solve in-process instead (issue 18 item 3)."""
    return sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods() and not mp.current_process().daemon
