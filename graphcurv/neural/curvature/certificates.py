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

An edge is *certified* when its best upper and lower bounds meet (to rounding); the
others need their own LP, or not even that when the lower bound on their curvature
cannot lower the running minimum over inputs (:mod:`~graphcurv.neural.curvature.grouped`).
The duals v are first made exactly feasible (:math:`v_s = \min_p D_3[p,s] - u_p`), so
every bound is rigorous in floating point up to the rounding of a few sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    whose upper bound is the "t = 0" plan's (the others': "t = 1 - alpha")."""

    lower: np.ndarray
    upper: np.ndarray
    stay: np.ndarray


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
) -> EdgeBounds:
    """Bounds on W1 of each edge (edge_row[e] -> edge_col[e]) of a group.

    ``rows[r]`` is D2[i_r, S] for the group's distinct sources, ``cols[:, c]`` is
    D2[P, j_c] for its distinct targets; ``length`` the edges' d(i, j).
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
    return EdgeBounds(np.minimum(np.maximum(lower_stay, lower_reroute), upper), upper, stay <= reroute)
