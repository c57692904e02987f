r"""The grouped exact engine: kappa_N of every edge for one input, solving shared structure once.

Same values as :func:`~graphcurv.neural.curvature.sample.sample_curvature` (the per-edge
engine, kept as the reference path), by a different algorithm. Per connection whose
both ends spread (not the first, not the last):

1. edges are grouped by (neighbour class of i, neighbour class of j)
   (:mod:`~graphcurv.neural.curvature.groups`): one class per dense layer, one per
   conv position;
2. per group and input the two spread measures are computed once, truncated (masses
   below ``threshold`` moved onto the centres, then equalised so both centres carry
   the same mass), and the shared problem P -> S is solved once with its duals;
3. per edge, the bounds of :mod:`~graphcurv.neural.curvature.certificates` (two primal
   plans, two dual solutions: a few gathers per edge) settle W1 when they meet;
4. the remaining edges get their own exact LP (POT's network simplex, in the solver
   pool), except those whose certified lower bound on kappa already reaches what they
   could lower: the caller's ``ceiling`` (the running minimum over inputs of the edge)
   and, with ``per_parameter``, the smallest upper bound in this input of any edge that
   reads the same parameter entry (a conv kernel weight's score is the minimum over
   its positions). Such an edge cannot change the minimum; its returned value is its
   lower bound.

Truncation keeps its certified per-edge bound (moved mass times the longest detour);
edges whose bound exceeds ``tol`` are redone with untruncated measures. Groups with
a point mass on one side (a neuron with no active neighbour there) use the closed form.
The first and last connections (a point mass on one side) use the closed form, once per
(class, other end) pair: every centre of a class has the same measure.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from graphcurv import arrays as xp
from graphcurv.neural.curvature.certificates import edge_bounds, shared_problem
from graphcurv.neural.curvature.groups import ConnectionGroups, SideClasses, connection_groups, side_classes
from graphcurv.neural.curvature.indexed import IndexedMatrix
from graphcurv.neural.curvature.measures import SideLayout, side_measures
from graphcurv.neural.curvature.sample import (
    UNTRUNCATED,
    ChainGeometry,
    Submit,
    chosen_edges,
    dead_edges,
    layer_sides,
    point_mass_w1,
)
from graphcurv.transport.problems import BorderedProblems

CERTIFY_TOL = 1e-12  # upper - lower bound on kappa below which an edge counts as certified


@dataclass
class GroupedGeometry:
    """The chain's geometry plus the edge groups of every middle connection."""

    geometry: ChainGeometry
    groups: list[ConnectionGroups | None]
    spread: list[SideClasses | None]  # per connection with one point-mass side: the other side's classes


@dataclass
class EngineStats:
    """What settled the live edges: certificates (``stay``: the "t = 0" plan was optimal,
    the others the "t = 1 - alpha" one), closed forms, LPs, or the ceiling."""

    groups: int = 0
    certified: int = 0
    stay: int = 0
    partial: int = 0
    closed_form: int = 0
    solved: int = 0
    skipped: int = 0
    untruncated: int = 0
    per_connection: dict[int, dict[str, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, k: int, name: str, count: int) -> None:
        with self._lock:  # the bounds pass and the LP thread both count
            setattr(self, name, getattr(self, name) + count)
            row = self.per_connection.setdefault(k, {})
            row[name] = row.get(name, 0) + count


def grouped_geometry(geometry: ChainGeometry) -> GroupedGeometry:
    """Group the edges of every connection with spread measures on both ends (input-independent)."""
    links, groups, spread = geometry.chain.links, [], []
    for k, link in enumerate(links):
        before, after = geometry.before[k], geometry.after[k]
        one = after if before is None else before
        spread.append(side_classes(one) if (before is None) != (after is None) else None)
        if before is None or after is None:
            groups.append(None)
            continue
        groups.append(connection_groups(link.src, link.dst, side_classes(before), side_classes(after)))
    return GroupedGeometry(geometry, groups, spread)


@dataclass(frozen=True)
class _ClassMeasures:
    """One input's measure of every class of a side: CSR over classes (numpy)."""

    ptr: np.ndarray
    node: np.ndarray
    mass: np.ndarray
    moved: np.ndarray
    has_side: np.ndarray
    centre: np.ndarray

    def of(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.node[self.ptr[k] : self.ptr[k + 1]], self.mass[self.ptr[k] : self.ptr[k + 1]]


def grouped_sample_curvature(
    grouped: GroupedGeometry,
    activation: Tensor,
    alpha: float,
    submit: Submit,
    *,
    threshold: float = 1e-15,
    tol: float = 1e-9,
    max_entries: int = 1 << 18,
    ceiling: list[Tensor] | None = None,
    per_parameter: bool = False,
    edges: list[Tensor | None] | None = None,
    stats: EngineStats | None = None,
    bounds_only: bool = False,
    prepared: PreparedSample | None = None,
) -> tuple[list[Tensor], list[Tensor], float]:
    """Per connection: kappa_N of every edge and the dead-rule mask; and the largest
    truncation bound left (as :func:`~graphcurv.neural.curvature.sample.sample_curvature`).

    ``ceiling`` (per connection, the running minimum score of every edge) lets edges
    skip their LP when their lower bound cannot go below it; with ``per_parameter``
    the minimum that matters is the parameter entry's (over every edge that reads it,
    as for a conv kernel weight), so an edge also skips when another edge of the same
    entry is certainly lower in this input. A skipped edge's value is its certified
    lower bound, which is >= the minimum it could not reach. ``edges`` restricts the
    work to some edges (the others get NaN); ``stats`` counts what settled each edge.
    With ``bounds_only`` no LP is solved: the first list holds a certified upper bound
    on every edge's kappa instead (its value where certificates or closed forms settle
    it), for a caller that looks ahead over several inputs. ``prepared`` is this
    input's bounds pass done earlier (:func:`prepare_sample`, with the same
    ``threshold``, ``tol`` and ``edges``): only the LPs are left to do.
    """
    if prepared is None:
        prepared = PreparedSample(grouped, activation, alpha, threshold, tol, edges, stats)
        connections = prepared.connections()  # each connection's bounds, as it is reached
    else:
        connections = iter(range(len(prepared.kappa)))
    if bounds_only:
        for _ in connections:
            pass
        return prepared.upper(), prepared.dead_masks(), prepared.worst
    # One helper thread submits each connection's LPs in connection order (with
    # ``per_parameter`` it also waits for them, round by round) while this thread runs the
    # bounds pass of the next connection, so the solver processes do not wait for it.
    helper = ThreadPoolExecutor(1, thread_name_prefix="graphcurv-lps")
    try:
        pending = [
            (k, helper.submit(prepared.submit, k, submit, max_entries, ceiling, per_parameter)) for k in connections
        ]
        for k, job in pending:
            waits = job.result()  # first: the helper creates connection k's values (kappa_of)
            length = grouped.geometry.chain.links[k].length.cpu()
            kappa = prepared.kappa_of(k)
            for index, wait in waits:
                w1 = wait().cpu()
                kappa[index] = (1.0 - w1 / length[index]) / (1.0 - alpha)
    except BaseException:  # interrupted or failed: do not wait for the connections still queued
        helper.shutdown(wait=False, cancel_futures=True)
        raise
    helper.shutdown()
    return prepared.results(), prepared.dead_masks(), prepared.worst


def prepare_sample(
    grouped: GroupedGeometry,
    activation: Tensor,
    alpha: float,
    *,
    threshold: float = 1e-15,
    tol: float = 1e-9,
    edges: list[Tensor | None] | None = None,
    stats: EngineStats | None = None,
) -> PreparedSample:
    """One input's bounds pass on every connection (measures, shared problems,
    certificates, closed forms): what :func:`grouped_sample_curvature` does before any
    LP, kept so that a look-ahead over several inputs and the solve pass share it."""
    prepared = PreparedSample(grouped, activation, alpha, threshold, tol, edges, stats)
    for _ in prepared.connections():
        pass
    return prepared


class PreparedSample:
    """The bounds pass of one input: per connection the values settled so far (dead
    edges 1, unchosen NaN), the dead-rule and live masks, and each middle connection's
    solver with its open problems."""

    def __init__(self, grouped, activation, alpha, threshold, tol, edges, stats) -> None:
        self.grouped, self.alpha, self.threshold, self.tol = grouped, alpha, threshold, tol
        self.device, self.edges = activation.device, edges
        self.stats = EngineStats() if stats is None else stats
        self.values = activation.double().cpu()
        self.kappa: list[Tensor] = []
        self.dead: list[Tensor] = []
        self.live: list[Tensor] = []
        self.solvers: list[tuple[_ConnectionSolver, list] | None] = []
        self.worst = 0.0

    def connections(self):
        """Prepare connection after connection, yielding each index once it is ready."""
        geometry, values, stats, alpha = self.grouped.geometry, self.values, self.stats, self.alpha
        for k, link in enumerate(geometry.chain.links):
            dead = dead_edges(geometry, values, k)
            chosen = chosen_edges(self.edges, k, link.num_edges, torch.device("cpu"))
            live = ~dead & chosen
            kappa = torch.ones(link.num_edges, dtype=torch.float64)
            kappa[~chosen] = torch.nan
            groups, entry = self.grouped.groups[k], None
            spread = self.grouped.spread[k]
            if spread is not None:  # a point mass on one side: the closed form, once per class
                index = torch.nonzero(live).flatten().numpy()
                kappa[index] = torch.from_numpy(_closed_form(geometry, spread, k, index, values, alpha))
                stats.add(k, "closed_form", int(index.size))
            elif groups is None:  # point masses on both sides: the per-edge engine's closed form
                src, dst = layer_sides(geometry, values, k, alpha, 0.0)
                index = torch.nonzero(live).flatten()
                w1 = point_mass_w1(geometry, k, index, src, dst).cpu()
                length = link.length.cpu()[index]
                kappa[index] = (1.0 - w1 / length) / (1.0 - alpha)
                stats.add(k, "closed_form", int(index.numel()))
            else:
                solver = _ConnectionSolver(geometry, groups, k, values, alpha, self.threshold, self.tol, stats)
                entry = (solver, solver.bound(live.numpy(), kappa.numpy()))
                self.worst = max(self.worst, solver.worst)
            self.kappa.append(kappa)
            self.dead.append(dead & chosen)
            self.live.append(live)
            self.solvers.append(entry)
            yield k

    def submit(self, k: int, submit: Submit, max_entries: int, ceiling, per_parameter: bool) -> list:
        """Submit connection k's LPs that can still lower a minimum; ``(edges, wait)`` pairs."""
        entry = self.solvers[k]
        if entry is None:
            return []
        solver, opened = entry
        link = self.grouped.geometry.chain.links[k]
        limit = None if ceiling is None else ceiling[k].detach().double().cpu().numpy()
        share = link.param_index.cpu().numpy() if per_parameter and link.param >= 0 else None
        return solver.solve(opened, self.kappa_of(k).numpy(), submit, max_entries, share, limit)

    def kappa_of(self, k: int) -> Tensor:
        """Connection k's values (after :meth:`compact`, +inf until LPs fill them in)."""
        if self.kappa[k] is None:
            self.kappa[k] = torch.full(
                (self.grouped.geometry.chain.links[k].num_edges,), torch.inf, dtype=torch.float64
            )
        return self.kappa[k]

    def settled(self) -> list[Tensor]:
        """Per connection: the values settled by the bounds pass (certificates, closed
        forms, the dead rule), +inf on the edges whose LP is open and on unchosen ones."""
        out = []
        for kappa, entry in zip(self.kappa, self.solvers):
            kappa = torch.nan_to_num(kappa, nan=torch.inf)
            if entry is not None:
                for lp, _ in entry[1]:
                    kappa[torch.from_numpy(lp)] = torch.inf
            out.append(kappa.to(self.device))
        return out

    def compact(self, ceiling: list[Tensor]) -> list[Tensor]:
        r"""Keep only what the LPs need, for a caller that has folded :meth:`settled`,
        :meth:`dead_masks` and :meth:`upper` into its minima: per open LP its edge and
        floor, dropping those whose floor already reaches ``ceiling`` (per connection,
        a value each edge's LP must undercut to matter: one that includes this input's
        upper bounds, as the look-ahead's does). The per-edge arrays go; later
        :meth:`kappa_of` start at +inf, :meth:`dead_masks` are all False, and the solve
        must get that ``ceiling`` (or a lower one). Returns, per connection, the floors
        of the LPs dropped here (+inf elsewhere): the values skipped LPs would get, for
        the caller to fold in too."""
        dropped = []
        for k, entry in enumerate(self.solvers):
            out = torch.full((self.grouped.geometry.chain.links[k].num_edges,), torch.inf, dtype=torch.float64)
            if entry is not None:
                solver, opened = entry
                limit = ceiling[k].detach().double().cpu().numpy()
                self.solvers[k] = (solver, solver.compact(opened, limit, out.numpy()))
            dropped.append(out.to(self.device))
            self.kappa[k] = None
            self.dead[k] = None
            self.live[k] = None
        return dropped

    def upper(self) -> list[Tensor]:
        """Per connection: a certified upper bound on every live edge's kappa (settled
        values elsewhere)."""
        out = []
        for kappa, live, entry in zip(self.kappa, self.live, self.solvers):
            kappa = kappa.clone()
            if entry is not None:
                kappa[live] = torch.from_numpy(entry[0].upper)[live]
            out.append(kappa.to(self.device))
        return out

    def results(self) -> list[Tensor]:
        return [self.kappa_of(k).to(self.device) for k in range(len(self.kappa))]

    def dead_masks(self) -> list[Tensor]:
        links = self.grouped.geometry.chain.links
        return [
            (torch.zeros(link.num_edges, dtype=torch.bool) if t is None else t).to(self.device)
            for link, t in zip(links, self.dead)
        ]

    def nbytes(self) -> int:
        """Memory held: the per-edge arrays (values, masks, bounds) and the open problems."""
        total = 0
        for kappa, entry in zip(self.kappa, self.solvers):
            total += 0 if kappa is None else kappa.numel() * (8 + 2)
            if entry is not None:
                solver, opened = entry
                total += solver.floor.nbytes + (0 if solver.upper is None else solver.upper.nbytes)
                total += sum(
                    lp.nbytes + sum(a.nbytes for a in problem if isinstance(a, np.ndarray)) for lp, problem in opened
                )
        return total


class _ConnectionSolver:
    """Groups of one connection for one input (a thin holder of what every group reads)."""

    def __init__(self, geometry, groups, k, values, alpha, threshold, tol, stats):
        link, self.k = geometry.chain.links[k], k
        self.groups, self.alpha, self.tol, self.stats = groups, alpha, tol, stats
        self.src, self.dst = link.src.cpu().numpy(), link.dst.cpu().numpy()
        self.length = link.length.cpu().numpy()
        distances = geometry.distances[k]
        self.after = _numpy(distances.after)  # source layer -> successors (D2 on a chain)
        self.before = _numpy(distances.before)  # predecessors -> target layer (D2)
        self.across = _numpy(distances.across)  # predecessors -> successors (D3)
        before, after = geometry.before[k], geometry.after[k]
        left, right = values[geometry.before_nodes[k].cpu()], values[geometry.after_nodes[k].cpu()]
        self.in_measures = [_class_measures(before, groups.sources, left, alpha, t) for t in (threshold, UNTRUNCATED)]
        self.out_measures = [_class_measures(after, groups.targets, right, alpha, t) for t in (threshold, UNTRUNCATED)]
        self.in_longest = _longest(before, left)
        self.out_longest = _longest(after, right)
        self.worst = 0.0

    def bound(self, live: np.ndarray, kappa: np.ndarray) -> list:
        """Phase 1: every group's bounds. Fills ``kappa`` for the live edges settled
        without an LP, ``self.floor`` and ``self.upper`` (certified bounds on the exact
        kappa) for every live edge; returns the open ``(edges, problem)`` pairs."""
        groups, opened = self.groups, []
        self.floor = np.full(kappa.shape, -np.inf)
        self.upper = np.full(kappa.shape, np.inf)
        for g in range(groups.num_groups):
            edges = groups.order[groups.ptr[g] : groups.ptr[g + 1]]
            edges = edges[live[edges]]
            if edges.size == 0:
                continue
            self.stats.add(self.k, "groups", 1)
            cs, ct = int(groups.source_class[g]), int(groups.target_class[g])
            lp, problem, redo = self._group(edges, cs, ct, kappa, truncated=True)
            if lp.size:
                opened.append((lp, problem))
            if redo.size:
                self.stats.add(self.k, "untruncated", int(redo.size))
                lp, problem, _ = self._group(redo, cs, ct, kappa, truncated=False)
                if lp.size:
                    opened.append((lp, problem))
        return opened

    def compact(self, opened: list, limit: np.ndarray, dropped: np.ndarray) -> list:
        """Drop the open LPs whose floor reaches ``limit`` (their floors go into
        ``dropped``, as a skipped LP's value); keep the floors of the others only
        (``self.floor`` becomes a :class:`_Floors`, ``self.upper`` None)."""
        kept = []
        for lp, problem in opened:
            below = self.floor[lp] < limit[lp]
            dropped[lp[~below]] = self.floor[lp[~below]]
            self.stats.add(self.k, "skipped", int((~below).sum()))
            if below.any():
                kept.append((lp[below], problem))
        edges = np.concatenate([lp for lp, _ in kept]) if kept else np.zeros(0, dtype=np.int64)
        self.floor, self.upper = _Floors(edges, self.floor[edges]), None
        return kept

    def solve(self, opened: list, kappa: np.ndarray, submit: Submit, max_entries: int, share, limit) -> list:
        """Phase 2: submit the LPs of the open edges that can still reach the minimum:
        below ``limit`` (the caller's running minimum) and, with ``share`` (the
        parameter entry of every edge), below the smallest upper bound of any edge that
        reads the same parameter in this input. Returns ``(edge indices, wait)`` pairs;
        a skipped edge gets its floor.

        With ``share`` the LPs go best first (:meth:`_best_first`): the exact values of
        the lowest floors lower each entry's limit before the next ones are tried."""
        limit = self._limit(share, limit)
        if share is not None:
            self._best_first(opened, kappa, submit, max_entries, share, limit)
            return []
        waits = []
        for lp, problem in opened:
            if limit is not None:
                skip = self.floor[lp] >= limit[lp]
                kappa[lp[skip]] = self.floor[lp[skip]]
                self.stats.add(self.k, "skipped", int(skip.sum()))
                lp = lp[~skip]
            if lp.size:
                waits.extend(self._submit(lp, problem, submit, max_entries))
        return waits

    def _best_first(self, opened: list, kappa: np.ndarray, submit: Submit, max_entries: int, share, limit) -> None:
        r"""Rounds of LPs over the open edges, lowest floors first within each parameter entry.

        The score of an entry is the minimum over its edges, so an edge whose floor is at
        or above the entry's limit cannot change it. Round r solves, per entry, the
        2^r lowest-floor edges still below the limit. Their exact values then lower
        the limit, which is ``min(limit, exact values so far)``, and every edge left
        at or above it is skipped with its floor. Every value an entry can take below
        its limit is still solved, so the minimum is exact."""
        if not opened:
            return
        edges = np.concatenate([lp for lp, _ in opened])
        group = np.concatenate([np.full(lp.size, g) for g, (lp, _) in enumerate(opened)])
        limit = limit.copy()
        take = 1
        while edges.size:
            below = self.floor[edges] < limit[edges]
            skipped = edges[~below]
            kappa[skipped] = self.floor[skipped]
            self.stats.add(self.k, "skipped", int(skipped.size))
            edges, group = edges[below], group[below]
            if edges.size == 0:
                break
            order = np.lexsort((self.floor[edges], share[edges]))
            edges, group = edges[order], group[order]
            entry = share[edges]
            first = np.r_[0, np.flatnonzero(entry[1:] != entry[:-1]) + 1]
            rank = np.arange(edges.size) - np.repeat(first, np.diff(np.r_[first, edges.size]))
            now = rank < take
            waits = []
            picked, of = edges[now], group[now]
            by_group = np.argsort(of, kind="stable")
            picked, of = picked[by_group], of[by_group]
            for part in np.split(np.arange(picked.size), np.flatnonzero(np.diff(of)) + 1):
                waits.extend(self._submit(picked[part], opened[of[part[0]]][1], submit, max_entries))
            for index, wait in waits:
                index = index.numpy()
                w1 = wait().cpu().numpy()
                kappa[index] = (1.0 - w1 / self.length[index]) / (1.0 - self.alpha)
            solved = edges[now]
            lowest = np.full(int(share.max()) + 1, np.inf)
            np.minimum.at(lowest, share[solved], kappa[solved])
            edges, group = edges[~now], group[~now]
            limit[edges] = np.minimum(limit[edges], lowest[share[edges]])
            take *= 2

    def _limit(self, share, limit) -> np.ndarray | None:
        """Per edge: the value its floor must undercut for its LP to matter (None: all matter)."""
        if self.upper is None:  # compacted: the caller's limit already holds this input's upper bounds
            if limit is None:
                raise ValueError("a compacted bounds pass needs the ceiling it was compacted for")
            return limit
        if share is not None:
            smallest = np.full(int(share.max()) + 1 if share.size else 0, np.inf)
            np.minimum.at(smallest, share, self.upper)
            within = smallest[share]
            limit = within if limit is None else np.minimum(limit, within)
        return limit

    def _group(self, edges: np.ndarray, cs: int, ct: int, kappa: np.ndarray, truncated: bool):
        """Settle what the group's certificates can; return the edges needing an LP, the
        group's problem data for them, and the edges to redo untruncated."""
        which = 0 if truncated else 1
        ins, outs = self.in_measures[which], self.out_measures[which]
        i, j, d = self.src[edges], self.dst[edges], self.length[edges]
        none = np.zeros(0, dtype=np.int64)
        if not (ins.has_side[cs] and outs.has_side[ct]):  # a closed form: untruncated measures, no bound
            w1 = self._point_side(self.in_measures[1], self.out_measures[1], cs, ct, i, j, d)
            kappa[edges] = 1.0 - w1 / d
            kappa[edges] /= 1.0 - self.alpha
            self.upper[edges] = kappa[edges]
            self.stats.add(self.k, "closed_form", int(edges.size))
            return none, None, none
        (p, mu), (s, nu) = ins.of(cs), outs.of(ct)
        moved = max(float(ins.moved[cs]), float(outs.moved[ct]))
        mu, nu = _shave(mu, moved - float(ins.moved[cs])), _shave(nu, moved - float(outs.moved[ct]))
        keep_p, keep_s = mu > 0, nu > 0
        p, mu, s, nu = p[keep_p], mu[keep_p], s[keep_s], nu[keep_s]
        bound = 2.0 * moved * (d + self.in_longest[i] + self.out_longest[j]) / (d * (1.0 - self.alpha))
        if not truncated:
            bound[:] = 0.0
        redo = bound > self.tol
        done, keep = edges[redo], ~redo
        edges, i, j, d, bound = edges[keep], i[keep], j[keep], d[keep], bound[keep]
        if edges.size == 0:
            return none, None, done
        self.worst = max(self.worst, float(bound.max()))
        centre = self.alpha + moved
        rows_i, edge_row = np.unique(i, return_inverse=True)
        cols_j, edge_col = np.unique(j, return_inverse=True)
        block = self.across[np.ix_(p, s)]
        rows = self.after[np.ix_(rows_i, s)]
        cols = self.before[np.ix_(p, cols_j)]
        if not (np.isfinite(block).all() and np.isfinite(rows).all() and np.isfinite(cols).all()):
            # unreachable pairs: leave them to the LP, as the per-edge engine does
            return edges, (p, mu, s, nu, centre, None, None), done
        shared = shared_problem(mu, nu, block)
        bounds = edge_bounds(
            centre, shared, mu, nu, rows, cols, edge_row.reshape(-1), edge_col.reshape(-1), d, block=block
        )
        low_kappa = (1.0 - bounds.upper / d) / (1.0 - self.alpha)
        high_kappa = (1.0 - bounds.lower / d) / (1.0 - self.alpha)
        certified = high_kappa - low_kappa <= CERTIFY_TOL * np.maximum(1.0, np.abs(low_kappa))
        kappa[edges[certified]] = low_kappa[certified]
        self.stats.add(self.k, "certified", int(certified.sum()))
        self.stats.add(self.k, "stay", int((certified & bounds.stay).sum()))
        self.stats.add(self.k, "partial", int((certified & bounds.partial).sum()))
        self.floor[edges] = low_kappa - bound  # the exact (untruncated) kappa lies in [floor, upper]
        self.upper[edges] = high_kappa + bound
        open_ = ~certified
        return edges[open_], (p, mu, s, nu, centre, shared.u, shared.v), done

    def _point_side(self, ins, outs, cs, ct, i, j, d) -> np.ndarray:
        """W1 when one side is a point mass: the other side's measure against one row/column."""
        if ins.has_side[cs]:  # target is delta_j: W1 = mu_c d + sum_p mu_p D2[p, j]
            p, mu = ins.of(cs)
            return (1.0 - mu.sum()) * d + (mu[:, None] * self.before[np.ix_(p, j)]).sum(0)
        if outs.has_side[ct]:  # source is delta_i
            s, nu = outs.of(ct)
            return (1.0 - nu.sum()) * d + (self.after[np.ix_(i, s)] * nu[None, :]).sum(1)
        return d.copy()

    def _submit(self, edges: np.ndarray, problem: tuple, submit: Submit, max_entries: int) -> list:
        """Exact LPs of the open edges of a group, in batches of about ``max_entries``
        entries, shipped as the group's block plus each edge's border (the solver
        process expands them) and the shared problem's duals, from which the solver
        starts each LP (:meth:`~graphcurv.transport.problems.BorderedProblems.warm_duals`)."""
        waits = []
        p, mu, s, nu, centre, u, v = problem
        block = np.ascontiguousarray(self.across[np.ix_(p, s)])
        step = max(1, max_entries // ((1 + p.size) * (1 + s.size)))
        for start in range(0, edges.size, step):
            part = edges[start : start + step]
            i, j, d = self.src[part], self.dst[part], self.length[part]
            rows, cols = self.after[np.ix_(i, s)], self.before[np.ix_(p, j)].T
            problems = BorderedProblems(
                centre, mu, nu, block, d, np.ascontiguousarray(rows), np.ascontiguousarray(cols), u, v
            )
            self.stats.add(self.k, "solved", part.size)
            waits.append((torch.from_numpy(part), submit(problems)))
        return waits


def _closed_form(geometry, classes: SideClasses, k: int, edges: np.ndarray, values: Tensor, alpha: float) -> np.ndarray:
    r"""kappa_N of ``edges`` of a connection with a point mass on one side, per class.

    Targets spread (sources are input nodes): :math:`W_1 = m_j(j)\,d(i, j) + \sum_s m_j(s) D_2[i, s]`,
    and every j of a class has the same measure, so the sum is one dot product per
    (source, class) pair, not per edge; sources spread (targets are logits) likewise with
    :math:`\sum_p m_i(p) D_2[p, j]`. Untruncated measures; D2 entries no measure weighs
    may be inf and count 0 (as :func:`~graphcurv.neural.curvature.sample.point_mass_w1`)."""
    link, distances = geometry.chain.links[k], geometry.distances[k]
    targets_spread = geometry.before[k] is None
    if targets_spread:
        layout, nodes, matrix = geometry.after[k], geometry.after_nodes[k], _numpy(distances.after)
        centre, other = link.dst.cpu().numpy()[edges], link.src.cpu().numpy()[edges]
    else:
        layout, nodes, matrix = geometry.before[k], geometry.before_nodes[k], _numpy(distances.before)
        centre, other = link.src.cpu().numpy()[edges], link.dst.cpu().numpy()[edges]
    length = link.length.cpu().numpy()[edges]
    measures = _class_measures(layout, classes, values[nodes.cpu()], alpha, 0.0)
    cls, width = classes.of[centre].astype(np.int64), int(other.max(initial=0)) + 1
    pairs, pair_of = np.unique(cls * width + other, return_inverse=True)
    pair_class, pair_other = pairs // width, pairs % width
    spread = np.zeros(pairs.size)
    starts = np.flatnonzero(np.r_[True, pair_class[1:] != pair_class[:-1]]) if pairs.size else np.zeros(0, np.int64)
    for a, b in zip(starts, np.r_[starts[1:], pairs.size]):
        t = int(pair_class[a])
        node, mass = measures.of(t)
        if node.size == 0:
            continue
        rows = pair_other[a:b]
        block = matrix[np.ix_(rows, node)] if targets_spread else matrix[np.ix_(node, rows)].T
        spread[a:b] = np.where(np.isinf(block), 0.0, block) @ mass
    w1 = measures.centre[cls] * length + spread[pair_of.reshape(-1)]
    return (1.0 - w1 / length) / (1.0 - alpha)


def _numpy(matrix):
    """A dense distance matrix as a NumPy array; a local one (indexed the same way) on the CPU."""
    if matrix is None:
        return None
    return matrix.to("cpu") if isinstance(matrix, IndexedMatrix) else xp.to_numpy(matrix)


def _shave(mass: np.ndarray, amount: float) -> np.ndarray:
    """Remove ``amount`` of mass from the smallest entries first (the rest is kept as is)."""
    if amount <= 0:
        return mass
    order = np.argsort(mass, kind="stable")
    taken = np.minimum(mass[order], np.maximum(amount - np.concatenate([[0.0], np.cumsum(mass[order])[:-1]]), 0.0))
    out = mass.copy()
    out[order] -= taken
    return out


def _class_measures(layout: SideLayout, classes: SideClasses, activation: Tensor, alpha: float, threshold: float):
    """Measures of the class representatives (identical for every member)."""
    reps = torch.from_numpy(classes.representative)
    ptr = layout.ptr.cpu()
    start, count = ptr[reps], ptr[reps + 1] - ptr[reps]
    entry = torch.repeat_interleave(start - torch.cat([count.new_zeros(1), count.cumsum(0)[:-1]]), count)
    entry = entry + torch.arange(int(count.sum()))
    sub = SideLayout(
        torch.cat([count.new_zeros(1), count.cumsum(0)]), layout.node.cpu()[entry], layout.length.cpu()[entry]
    )
    m = side_measures(sub, activation, alpha, threshold)
    has_side = m.ptr[1:] > m.ptr[:-1]  # some neighbour kept (all truncated away cannot happen: 1 - alpha >> threshold)
    return _ClassMeasures(
        m.ptr.numpy(), m.node.numpy(), m.mass.numpy(), m.moved.numpy(), has_side.numpy(), m.centre_mass.numpy()
    )


def _longest(layout: SideLayout, activation: Tensor) -> np.ndarray:
    """Per centre: the longest edge to an active neighbour (0 if none)."""
    ptr, node, length = layout.ptr.cpu(), layout.node.cpu(), layout.length.cpu()
    owner = torch.repeat_interleave(torch.arange(ptr.numel() - 1), ptr[1:] - ptr[:-1])
    values = torch.where(activation[node] > 0, length.double(), 0.0)
    out = torch.zeros(ptr.numel() - 1, dtype=torch.float64).scatter_reduce(0, owner, values, reduce="amax")
    return out.numpy()


class _Floors:
    """Floors of some edges only, read by edge index like the full array (``floors[edges]``)."""

    def __init__(self, edges: np.ndarray, floor: np.ndarray) -> None:
        order = np.argsort(edges, kind="stable")
        self.edges, self.floor = edges[order], floor[order]
        self.nbytes = self.edges.nbytes + self.floor.nbytes

    def __getitem__(self, edges: np.ndarray) -> np.ndarray:
        return self.floor[np.searchsorted(self.edges, edges)]
