r"""Certified W1 bounds for every edge of a group from one shared transport problem.

Take a group of edges (i -> j) whose source measures share the spread part
:math:`\mu_P` (on the predecessors P, total mass :math:`\beta`) and whose target
measures share :math:`\nu_S` (on the successors S, total :math:`\beta`), with the
same centre mass :math:`c = 1 - \beta` on both ends (the engine makes the moved
truncation masses equal). The ground cost of edge (i, j) is

.. math::
    C = \begin{pmatrix} d & D_2[i, S] \\ D_2[P, j] & D_3[P, S] \end{pmatrix},

with the block D3[P, S] shared by the group. Write X for the mass i sends into S
(which equals the mass P sends into j). Any plan is "i -> j with c - X; i -> S and
P -> j with X each; the rest P -> S", and two plans cost almost nothing per edge:

.. math::
    f(0) = c\,d + W_{PS}, \qquad
    f(\beta) = (c - \beta)\,d + \textstyle\sum_s \nu_s D_2[i, s] + \sum_p \mu_p D_2[p, j],

where :math:`W_{PS} = W_1(\mu_P, \nu_S; D_3)` is solved once for the group, with
optimal duals (u, v). Both are upper bounds on W1. Two dual-feasible solutions of the
edge's LP give lower bounds with a few min/max reductions per i and per j:

* with :math:`A_i = \min_s (D_2[i,s] - v_s)`, :math:`B_j = \min_p (D_2[p,j] - u_p)`,
  the duals (u, v, U_i = A_i, V_j = \min(B_j, d - A_i)) are feasible, so
  :math:`W_1 \ge \langle\mu_P, u\rangle + \langle\nu_S, v\rangle + c\,\min(A_i + B_j, d)`;
  when :math:`A_i + B_j \ge d` this equals f(0): the "t = 0" plan is optimal;
* with :math:`A'_i = \max_s (D_2[i,s] - v_s)`, :math:`B'_j = \max_p (D_2[p,j] - u_p)`
  and :math:`e = \max(0, A'_i + B'_j - d)`, the duals complementary to the f(beta)
  plan, lowered by e on P, are feasible (since :math:`u_p + v_s \le D_3[p, s]`), so
  :math:`W_1 \ge f(\beta) - \beta e`; when e = 0 the "reroute everything" plan is optimal.

Where these do not meet, two sharper bounds follow from the same shared solution:

* *swap plan* (upper): every arc (p, s) of the shared plan, carrying w, can be rerouted
  on its own as p -> j and i -> s, changing the cost by
  :math:`w\,\delta_{ps}` with :math:`\delta_{ps} = D_2[i,s] + D_2[p,j] - D_3[p,s] - d`;
  rerouting exactly the arcs with :math:`\delta_{ps} < 0` is a feasible plan, so
  :math:`W_1 \le f(0) + \sum_{ps} w_{ps} \min(\delta_{ps}, 0)`, which is at most both
  f(0) (reroute none) and f(beta) (reroute all);
* *levels* (lower): for any :math:`\theta`, lowering :math:`v_s` to
  :math:`\min(v_s, D_2[i,s] - \theta)` and :math:`u_p` to :math:`\min(u_p, D_2[p,j] - d + \theta)`
  keeps the duals feasible with :math:`U_i = \theta`, :math:`V_j = d - \theta`, so with
  :math:`r_s = D_2[i,s] - v_s` and :math:`q_p = D_2[p,j] - u_p`

  .. math::
      W_1 \ge \langle\mu_P, u\rangle + \langle\nu_S, v\rangle + c\,d
      - \Big(\sum_s \nu_s (\theta - r_s)^+ + \sum_p \mu_p (d - \theta - q_p)^+\Big).

  The bracket is convex in :math:`\theta`, smallest where the :math:`\nu`-quantile of r
  plus the :math:`\mu`-quantile of q at the same mass level reach d; the engine takes
  :math:`\theta` from those quantiles on a grid of ``LEVELS`` mass levels and evaluates the
  bracket exactly there (every :math:`\theta` gives a valid bound).

An edge is *certified* when its best upper and lower bounds meet (to rounding); the
others need their own LP, or not even that when the lower bound on their curvature
cannot lower the running minimum over inputs (:mod:`~graphcurv.neural.curvature.grouped`).
The duals v are first made exactly feasible (:math:`v_s = \min_p D_3[p,s] - u_p`), so
every bound is rigorous in floating point up to the rounding of a few sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVELS = 32  # mass levels on which the lower bound's theta is searched
CHUNK = 1 << 22  # edge x support entries handled at once by the sharper bounds


@dataclass(frozen=True)
class SharedProblem:
    """The group's P -> S problem: its value (the optimal plan's cost), the plan, its
    dual value and feasible duals."""

    value: float
    dual_value: float
    u: np.ndarray
    v: np.ndarray
    plan: np.ndarray


@dataclass(frozen=True)
class EdgeBounds:
    """Per edge of a group: certified ``lower <= W1 <= upper``; ``stay`` marks the edges
    whose upper bound is the "t = 0" plan's, ``partial`` those whose upper bound is the
    swap plan's (strictly below both; the others': "t = 1 - alpha")."""

    lower: np.ndarray
    upper: np.ndarray
    stay: np.ndarray
    partial: np.ndarray


def shared_problem(mu: np.ndarray, nu: np.ndarray, cost: np.ndarray) -> SharedProblem:
    """W1(mu, nu; cost) with POT's exact solver and feasible duals (equal total masses).

    >>> import numpy as np
    >>> p = shared_problem(np.array([0.5, 0.5]), np.array([1.0]), np.array([[1.0], [3.0]]))
    >>> round(p.value, 12), round(p.dual_value, 12)
    (2.0, 2.0)
    """
    import ot

    total = float(mu.sum())
    scale = float(np.abs(cost).max()) or 1.0
    plan, log = ot.emd(mu / total, nu / nu.sum(), cost / scale, numItermax=10_000_000, log=True)
    if log.get("result_code", 1) != 1:
        from graphcurv.errors import GraphcurvError

        raise GraphcurvError(f"network simplex did not reach an optimum on a {cost.shape} shared problem")
    u = np.asarray(log["u"], dtype=np.float64) * scale
    v = (cost - u[:, None]).min(axis=0)  # the c-transform: u_p + v_s <= D3[p, s] exactly
    plan = plan * total
    return SharedProblem(float((plan * cost).sum()), float(mu @ u + nu @ v), u, v, plan)


def edge_bounds(
    centre: float,
    shared: SharedProblem,
    mu: np.ndarray,
    nu: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    edge_row: np.ndarray,
    edge_col: np.ndarray,
    length: np.ndarray,
    block: np.ndarray | None = None,
) -> EdgeBounds:
    """Bounds on W1 of each edge (edge_row[e] -> edge_col[e]) of a group.

    ``rows[r]`` is D2[i_r, S] for the group's distinct sources, ``cols[:, c]`` is
    D2[P, j_c] for its distinct targets; ``length`` the edges' d(i, j). With ``block``
    (D3[P, S]), edges the first bounds leave open also get the swap plan and the level
    bound.
    """
    beta = 1.0 - centre
    reduced_rows = rows - shared.v[None, :]
    reduced_cols = cols - shared.u[:, None]
    a_low, a_high = reduced_rows.min(axis=1), reduced_rows.max(axis=1)
    b_low, b_high = reduced_cols.min(axis=0), reduced_cols.max(axis=0)
    spread_rows, spread_cols = rows @ nu, mu @ cols
    a_low, a_high, r = a_low[edge_row], a_high[edge_row], spread_rows[edge_row]
    b_low, b_high, q = b_low[edge_col], b_high[edge_col], spread_cols[edge_col]
    stay = centre * length + shared.value
    reroute = (centre - beta) * length + r + q
    upper = np.minimum(stay, reroute)
    lower_stay = shared.dual_value + centre * np.minimum(a_low + b_low, length)
    lower_reroute = reroute - beta * np.maximum(a_high + b_high - length, 0.0)
    lower = np.maximum(lower_stay, lower_reroute)
    partial = np.zeros(upper.shape, dtype=bool)
    if block is not None:
        open_ = np.flatnonzero(upper - lower > 1e-13 * np.maximum(1.0, np.abs(upper)))
        if open_.size:
            er, ec = edge_row[open_], edge_col[open_]
            swap, level = _sharper(centre, shared, mu, nu, rows, cols, er, ec, length[open_], block)
            partial[open_] = swap < upper[open_]
            upper[open_] = np.minimum(upper[open_], swap)
            lower[open_] = np.maximum(lower[open_], level)
    return EdgeBounds(np.minimum(lower, upper), upper, (stay <= reroute) & ~partial, partial)


def _sharper(centre, shared, mu, nu, rows, cols, edge_row, edge_col, length, block) -> tuple[np.ndarray, np.ndarray]:
    """The swap-plan upper bound and the level lower bound (module docstring) of some edges."""
    pp, ss = np.nonzero(shared.plan > 0)
    w, arc_cost = shared.plan[pp, ss], block[pp, ss]
    reduced_rows = rows - shared.v[None, :]  # r, per distinct source
    reduced_cols = (cols - shared.u[:, None]).T  # q, per distinct target
    row_levels = _quantiles(reduced_rows, nu)
    col_levels = _quantiles(reduced_cols, mu)
    swap, level = np.empty(length.size), np.empty(length.size)
    step = max(1, CHUNK // max(pp.size, mu.size + nu.size, 1))
    for a in range(0, length.size, step):
        er, ec, d = edge_row[a : a + step], edge_col[a : a + step], length[a : a + step]
        delta = rows[er][:, ss] + cols[pp][:, ec].T - arc_cost[None, :] - d[:, None]
        swap[a : a + step] = shared.value + centre * d + (np.minimum(delta, 0.0) * w[None, :]).sum(1)
        qs, qp = row_levels[er], col_levels[ec]
        crossing = np.minimum((qs + qp < d[:, None]).sum(1, keepdims=True), LEVELS - 1)
        below = np.maximum(crossing - 1, 0)
        candidates = [np.take_along_axis(qs, c, 1)[:, 0] for c in (crossing, below)]
        candidates += [d - np.take_along_axis(qp, c, 1)[:, 0] for c in (crossing, below)]
        r, q = reduced_rows[er], reduced_cols[ec]
        gap = np.full(d.size, np.inf)
        for theta in candidates:
            value = (np.maximum(theta[:, None] - r, 0.0) * nu[None, :]).sum(1)
            value += (np.maximum((d - theta)[:, None] - q, 0.0) * mu[None, :]).sum(1)
            gap = np.minimum(gap, value)
        level[a : a + step] = shared.dual_value + centre * d - gap
    return swap, level


def _quantiles(values: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """Per row of ``values`` (weighted by ``mass``): its mass-quantiles at ``LEVELS`` levels
    (the mass-weighted distribution's value at levels (k + 1/2) / LEVELS of the total)."""
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, 1)
    cumulative = np.cumsum(mass[order], axis=1)
    total = float(mass.sum())
    levels = (np.arange(LEVELS) + 0.5) / LEVELS * total
    # one searchsorted for every row: row r's cumulative masses shifted to [r w, r w + total]
    # (rounding may move a level by one entry: any theta gives a valid bound)
    shift = np.arange(values.shape[0])[:, None] * (2.0 * total + 1.0)
    index = np.searchsorted((cumulative + shift).ravel(), (levels[None, :] + shift).ravel(), side="left")
    index = index.reshape(-1, LEVELS) - np.arange(values.shape[0])[:, None] * values.shape[1]
    return np.take_along_axis(ordered, np.clip(index, 0, values.shape[1] - 1), 1)
