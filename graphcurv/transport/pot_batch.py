r"""W1 of a ragged batch with POT's batched solvers (``ot.batch.solve_batch``), for comparison.

``ot.batch.solve_batch(M, reg, a, b, ...)`` solves ``B`` equal-size problems
``(B, n, m)`` at once, by log-domain Sinkhorn (``reg > 0``) or a Bregman proximal
point method (``reg=None``) [POT 0.9.6+]. Here every bucket of similar shapes
(:mod:`graphcurv.transport.bucketing`) is padded (zero masses) and solved in one call;
the returned plans are rounded to exactly feasible plans (Altschuler, Weed, Rigollet
2017, Algorithm 2; :func:`graphcurv.transport.sinkhorn.round_to_feasible`), so the
values are upper bounds on W1, as with :func:`~graphcurv.transport.sinkhorn.wasserstein_sinkhorn`.

Differences from ``wasserstein_sinkhorn``: one scalar ``reg`` per bucket and no epsilon
scaling, a stopping rule on the L2 norm of the row-marginal error of the whole
bucket (checked every 10 iterations), and no certificate. ``reg`` defaults to the
smallest per-problem floor of ``wasserstein_sinkhorn``
(:func:`~graphcurv.transport.sinkhorn.default_epsilon`) and the marginal tolerance to
``tol / (4 R)`` (rounding costs at most ``2 R`` times the L1 marginal error), with
``R`` the largest cost range in the bucket.

Measured on the W1 problems of Barabasi-Albert graphs (``benchmarks/transport_solvers.py``):
``method="log_sinkhorn"`` stays above ``tol = 1e-4`` on a few problems per thousand
after 1000 iterations and is slower than ``wasserstein_sinkhorn`` (each bucket runs
until its slowest problem converges); ``method="proximal"`` returns NaN with
zero-mass padding (``log 0`` in its plan update) and, with the masses clamped to
1e-30 as done here, still had errors up to 0.4 after 1000 iterations in POT 0.9.7 (its
update uses ``C + inner_reg * log T`` where its docstring states ``C - inner_reg * log T``).

Example:

>>> import torch
>>> from graphcurv.transport.problems import TransportProblems
>>> d = dict(dtype=torch.float64)
>>> p = TransportProblems.from_dense([
...     (torch.tensor([0.5, 0.5], **d), torch.tensor([0.25, 0.75], **d),
...      torch.tensor([[0.0, 1.0], [1.0, 0.0]], **d)),
... ])
>>> round(wasserstein_pot_batch(p, tol=1e-6).item(), 4)
0.25
"""

from __future__ import annotations

import torch
from torch import Tensor

from graphcurv.errors import GraphcurvError
from graphcurv.transport.bucketing import make_buckets, pad_bucket
from graphcurv.transport.problems import TransportProblems
from graphcurv.transport.sinkhorn import closed_form_values, default_epsilon, round_to_feasible


def wasserstein_pot_batch(
    problems: TransportProblems,
    *,
    tol: float = 1e-4,
    max_iter: int = 1000,
    epsilon: float | None = None,
    method: str = "log_sinkhorn",
    growth: float = 2.0,
    max_bucket_elements: int = 1 << 25,
) -> Tensor:
    """W1 of every problem of the batch with ``ot.batch.solve_batch``, per bucket, rounded
    to feasible plans (upper bounds); see the module docstring.

    Args:
        problems: ragged batch of transport problems (equal totals per problem).
        tol: absolute accuracy aimed at (sets ``reg`` and the marginal tolerance; not
            certified).
        max_iter: ``max_iter`` of ``solve_batch`` (per bucket).
        epsilon: entropic regularisation ``reg`` (cost units); default from ``tol``.
        method: ``"log_sinkhorn"`` or ``"proximal"`` (``reg=None``, unregularised).
        growth: shape-grid ratio of the buckets (padded entries < ``growth**2`` x ragged).
        max_bucket_elements: most padded cost entries per ``solve_batch`` call.

    Returns:
        ``(B,)`` tensor of the batch's dtype and device.
    """
    from ot.batch import solve_batch

    if method not in {"log_sinkhorn", "proximal"}:
        raise GraphcurvError(f"method must be 'log_sinkhorn' or 'proximal', got {method!r}")
    if tol <= 0:
        raise GraphcurvError(f"tol must be positive, got {tol}")
    value, index = closed_form_values(problems)
    for bucket in make_buckets(problems, growth=growth, index=index):
        for chunk in bucket.split(max_bucket_elements):
            a, b, cost = pad_bucket(problems, chunk)
            support = (a > 0).unsqueeze(2) & (b > 0).unsqueeze(1)
            big = torch.finfo(cost.dtype).max
            c_min = torch.where(support, cost, big).amin((1, 2))
            c_max = torch.where(support, cost, -big).amax((1, 2))
            cost = torch.where(support, cost - c_min.view(-1, 1, 1), 0.0)
            spreads = (c_max - c_min).clamp_min(torch.finfo(cost.dtype).eps)
            spread = float(spreads.max())
            reg = epsilon or float(default_epsilon(cost, support, spreads, a.sum(1), tol).min())
            if method == "proximal":
                # log(0) in the proximal update would give NaN: clamp the padding masses
                tiny = torch.finfo(a.dtype).tiny ** 0.5 if a.dtype == torch.float32 else 1e-30
                a_in, b_in, reg_in = a.clamp_min(tiny), b.clamp_min(tiny), None
            else:
                a_in, b_in, reg_in = a, b, reg
            result = solve_batch(
                cost,
                reg_in,
                a=a_in,
                b=b_in,
                max_iter=max_iter,
                tol=tol / (4 * spread),
                method=method,
                grad="detach",
            )
            plan = torch.nan_to_num(result.plan, nan=0.0, posinf=0.0, neginf=0.0)
            plan = torch.where(support, plan, 0.0)
            rounded = round_to_feasible(plan, a, b)
            value[chunk.index] = (rounded * cost).sum((1, 2)) + c_min * a.sum(1)
    return value
