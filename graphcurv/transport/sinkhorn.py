r"""Batched approximate W1: log-domain Sinkhorn with epsilon scaling, rounding to a
feasible plan and a per-problem duality-gap certificate.

For every problem ``(a, b, C)`` of a :class:`TransportProblems` batch (masses
``a >= 0``, ``b >= 0`` of equal total ``m``, cost block ``C``) this returns the cost
``U`` of a feasible plan, an upper bound on

.. math::
    W(a, b) = \min_{P \ge 0,\ P 1 = a,\ P^\top 1 = b} \langle C, P \rangle ,

together with a lower bound ``L <= W``; a problem stops once ``U - L <= tol``, so the
error ``U - W`` is one-sided and certified (``tol`` is absolute, in cost x mass units).

Algorithm, per bucket of similar shapes (:mod:`graphcurv.transport.bucketing`):

1. Entropic OT [1] in the log domain [3, section 4.4] with the masses inside the
   kernel [4, 5]: the plan
   is ``P_ij = a_i b_j exp((f_i + g_j - C_ij) / eps)`` and one iteration is

   .. math::
       f_i \leftarrow -\varepsilon \log \sum_j b_j e^{(g_j - C_{ij})/\varepsilon},\qquad
       g_j \leftarrow -\varepsilon \log \sum_i a_i e^{(f_i - C_{ij})/\varepsilon}.

   Zero masses and padding enter only as ``log 0 = -inf`` inside the log-sum-exp, so
   they never carry mass, never produce NaNs, and padded cost values never matter.
2. Epsilon scaling [4]: ``eps`` starts at the cost range ``R = max C - min C`` of the
   problem and is halved (``decay``) every ``stage_iters`` iterations, warm-starting the
   potentials, down to the floor ``epsilon`` (default: see below). At the floor the
   updates are over-relaxed, ``f <- (1 - w) f + w f_new`` with ``w = relaxation`` [6]
   (``w = 1`` again for a problem whose gap grows tenfold, a sign of divergence).
3. Rounding [2, Algorithm 2]: rows and then columns of ``P`` are scaled down to at most
   ``a`` and ``b``, and the missing mass ``e_a = a - P 1``, ``e_b = b - P^T 1`` is added as
   ``e_a e_b^T / |e_b|_1``. The result is exactly feasible (so ``U >= W``) and
   ``U - <C, P> <= 2 R (|P 1 - a|_1 + |P^T 1 - b|_1)``.
4. Certificate: any potential ``f`` gives a feasible dual point by the double
   c-transform ``g~_j = min_i (C_ij - f_i)``, ``f~_i = min_j (C_ij - g~_j)`` (minima over
   the supports), hence ``L = <a, f~> + <b, g~> <= W`` (weak duality). Candidates: ``f``;
   ``f + eps log a`` and, symmetrically, ``g + eps log b`` (the entropic potentials
   carry an ``eps log(1/mass)`` offset that these remove); and ``round(f - f_1)``,
   which is an optimal dual vertex once ``f`` is within 1/2 of it when costs are
   integers (shortest-path costs of unweighted graphs), a case where ``L`` becomes
   exact long before the entropic bias ``eps m log(n_a n_b)`` would fall below
   ``tol``. ``L`` is the best candidate. Bounds are checked after every stage once
   ``eps`` is within 4x of the floor; finished problems leave the batch in groups
   (the batch is compacted when an eighth of it has finished).

Choice of epsilon. The entropic optimum is within ``eps m log(n_a n_b)`` of ``W`` [2],
so ``eps = tol / (m log(n_a n_b))`` would guarantee ``tol`` a priori, but Sinkhorn needs
``O(R / eps)`` iterations and this ``eps`` is tiny. With the certificate, ``eps`` only
has to be small enough for the rounded plan to be ``tol``-optimal. On integer-cost
problems that error decays like ``exp(-1 / eps)``, hence the default floor
``R / (10 log(R m / tol))`` (about ``R / 100`` at ``tol = 1e-4``); problems with
non-integer costs get ``R / (100 log(R m / tol))``. Problems that do not certify
within ``max_iter`` (degenerate ones, whose Sinkhorn marginals converge slowly, or
real-valued costs that need a smaller ``epsilon``) keep their feasible value, are
counted in a warning and can be handed to an exact ``fallback`` solver.

Precision. float64 by default. With ``dtype=torch.float32`` (for GPUs) the potentials
and the certificate carry float32 rounding, about ``1e-7 * m * R`` per problem: values
stay within ``tol`` of W1 but may fall below it by that much.

Problems with one source or one target are solved in closed form (the only plan:
``W = sum_j b_j C_1j`` or ``sum_i a_i C_i1``); those with zero mass or an empty side
have ``W = 0``.

References:
    [1] M. Cuturi. Sinkhorn distances: lightspeed computation of optimal transport.
        NIPS 2013.
    [2] J. Altschuler, J. Weed, P. Rigollet. Near-linear time approximation algorithms
        for optimal transport via Sinkhorn iteration. NIPS 2017.
    [3] G. Peyre, M. Cuturi. Computational optimal transport. 2019, section 4.4.
    [4] B. Schmitzer. Stabilized sparse scaling algorithms for entropy regularized
        transport problems. SIAM J. Sci. Comput. 2019.
    [5] J. Feydy et al. Interpolating between optimal transport and MMD using Sinkhorn
        divergences. AISTATS 2019.
    [6] A. Thibault, L. Chizat, C. Dossal, N. Papadakis. Overrelaxed Sinkhorn-Knopp
        algorithm for regularized optimal transport. 2017.

Example:

>>> import torch
>>> from graphcurv.transport.problems import TransportProblems
>>> d = dict(dtype=torch.float64)
>>> p = TransportProblems.from_dense([
...     (torch.tensor([0.5, 0.5], **d), torch.tensor([0.25, 0.75], **d),
...      torch.tensor([[0.0, 1.0], [1.0, 0.0]], **d)),
...     (torch.tensor([1.0], **d), torch.tensor([0.25, 0.75], **d),
...      torch.tensor([[2.0, 1.0]], **d)),
... ])
>>> result = solve_sinkhorn(p, tol=1e-6)
>>> [round(v, 6) for v in result.value.tolist()]
[0.25, 1.25]
>>> bool((result.gap <= 1e-6).all())
True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from graphcurv.errors import GraphcurvError
from graphcurv.transport.bucketing import make_buckets, pad_bucket
from graphcurv.transport.problems import TransportProblems

ExactSolver = Callable[[TransportProblems], Tensor]


@dataclass(frozen=True)
class SinkhornResult:
    """Per-problem results of :func:`solve_sinkhorn`, each a ``(B,)`` tensor.

    ``value`` is the cost of a feasible plan (an upper bound on W1) and ``lower_bound``
    a dual lower bound, so ``0 <= value - W1 <= gap``; ``iterations`` counts the Sinkhorn
    iterations of each problem (0 for closed-form ones, -1 for fallback ones).
    """

    value: Tensor
    lower_bound: Tensor
    iterations: Tensor

    @property
    def gap(self) -> Tensor:
        return self.value - self.lower_bound


def wasserstein_sinkhorn(
    problems: TransportProblems,
    *,
    tol: float = 1e-4,
    max_iter: int = 1000,
    epsilon: float | None = None,
    **options,
) -> Tensor:
    """W1 of every problem of the batch to within ``tol``, from above (see the module
    docstring for the method).

    Args:
        problems: ragged batch of transport problems (equal totals per problem).
        tol: absolute error target: ``0 <= result - W1 <= tol`` for every problem whose
            certificate closes within ``max_iter`` iterations (a warning counts the rest,
            which keep a feasible, hence upper, value; pass ``fallback`` to solve them
            exactly).
        max_iter: most Sinkhorn iterations per problem.
        epsilon: smallest entropic regularisation (cost units); default per problem
            ``R / (10 log(R m / tol))`` with ``R`` the cost range and ``m`` the mass
            (``R / (100 log(R m / tol))`` when the costs are not integers).
        **options: see :func:`solve_sinkhorn`.

    Returns:
        ``(B,)`` tensor of the batch's dtype and device.

    Example:

    >>> import torch
    >>> from graphcurv.transport.problems import TransportProblems
    >>> uniform = torch.full((3,), 1 / 3, dtype=torch.float64)
    >>> cost = 1 - torch.eye(3, dtype=torch.float64)
    >>> p = TransportProblems.from_dense([(uniform, uniform, cost)])
    >>> w = wasserstein_sinkhorn(p, tol=1e-4)  # exact W1 is 0: the identity plan
    >>> bool(0 <= w.item() <= 1e-4)
    True
    """
    return solve_sinkhorn(problems, tol=tol, max_iter=max_iter, epsilon=epsilon, **options).value


def solve_sinkhorn(
    problems: TransportProblems,
    *,
    tol: float = 1e-4,
    max_iter: int = 1000,
    epsilon: float | None = None,
    dtype: torch.dtype | None = None,
    decay: float = 0.5,
    stage_iters: int = 4,
    relaxation: float = 1.8,
    growth: float = 2.0,
    max_bucket_elements: int = 1 << 25,
    fallback: ExactSolver | None = None,
    warn: bool = True,
) -> SinkhornResult:
    """Certified Sinkhorn on every problem of the batch, with bounds and iteration counts.

    Args:
        problems, tol, max_iter, epsilon: as in :func:`wasserstein_sinkhorn`.
        dtype: dtype of the iterations; default the batch's. float32 halves the memory
            traffic on a GPU; the certificate is computed in the same dtype, so keep
            ``tol`` well above ``1e-6 * m * R`` with float32.
        decay: factor applied to ``eps`` after each stage, in (0, 1).
        stage_iters: iterations per stage; the certificate is checked after each stage.
        relaxation: over-relaxation weight ``w`` in [1, 2) used at the ``eps`` floor.
        growth: shape-grid ratio of the buckets (padded entries < ``growth**2`` x ragged).
        max_bucket_elements: most padded cost entries solved at once (bounds memory).
        fallback: exact solver for the problems still above ``tol`` after ``max_iter``
            (a function of a :class:`TransportProblems`, returning values); their
            ``lower_bound`` is then set to the fallback value.
        warn: warn about problems left above ``tol`` (when there is no fallback).
    """
    if tol <= 0:
        raise GraphcurvError(f"tol must be positive, got {tol}")
    if not 0 < decay < 1:
        raise GraphcurvError(f"decay must be in (0, 1), got {decay}")
    if not 1 <= relaxation < 2:
        raise GraphcurvError(f"relaxation must be in [1, 2), got {relaxation}")
    if epsilon is not None and epsilon <= 0:
        raise GraphcurvError(f"epsilon must be positive, got {epsilon}")
    if stage_iters < 1 or max_iter < 1:
        raise GraphcurvError("stage_iters and max_iter must be at least 1")
    out_dtype = problems.cost.dtype
    device = problems.device
    num = problems.num_problems
    iterations = torch.zeros(num, dtype=torch.long, device=device)

    value, index = closed_form_values(problems)
    lower = value.clone()
    for bucket in make_buckets(problems, growth=growth, index=index):
        for chunk in bucket.split(max_bucket_elements):
            a, b, cost = (t.to(dtype or out_dtype) for t in pad_bucket(problems, chunk))
            upper, low, its = sinkhorn_dense(
                a,
                b,
                cost,
                tol=tol,
                max_iter=max_iter,
                epsilon=epsilon,
                decay=decay,
                stage_iters=stage_iters,
                relaxation=relaxation,
            )
            value[chunk.index] = upper.to(out_dtype)
            lower[chunk.index] = low.to(out_dtype)
            iterations[chunk.index] = its

    open_ = torch.nonzero(value - lower > tol).flatten()
    if open_.numel() and fallback is not None:
        exact = fallback(problems.select(open_)).to(device=device, dtype=out_dtype)
        value[open_], lower[open_], iterations[open_] = exact, exact, -1
    elif open_.numel() and warn:
        warnings.warn(
            f"Sinkhorn: {open_.numel()} of {num} problem(s) reached max_iter={max_iter} with "
            f"a duality gap above tol={tol}; their values are upper bounds with a larger "
            "error (see SinkhornResult.gap, or pass fallback=an exact solver)",
            RuntimeWarning,
            stacklevel=2,
        )
    return SinkhornResult(value, lower, iterations)


def sinkhorn_dense(
    a: Tensor,
    b: Tensor,
    cost: Tensor,
    *,
    tol: float = 1e-4,
    max_iter: int = 1000,
    epsilon: float | None = None,
    decay: float = 0.5,
    stage_iters: int = 4,
    relaxation: float = 1.8,
) -> tuple[Tensor, Tensor, Tensor]:
    """Certified Sinkhorn on a dense padded batch ``a (K, N)``, ``b (K, M)``, ``cost (K, N, M)``
    (padding: zero masses; every problem with positive mass). Returns the rounded
    (upper) values, the dual lower bounds and the iteration counts, each ``(K,)``."""
    num = cost.shape[0]
    device = cost.device
    # a problem without mass (e.g. masses that underflow in float32) gets a dummy unit
    # mass so that no -inf - -inf appears; its results are reset to 0 at the end
    empty = ~((a > 0).any(1) & (b > 0).any(1))
    if bool(empty.any()):
        a, b = a.clone(), b.clone()
        a[empty, 0] = b[empty, 0] = 1
    log_a, log_b = a.log(), b.log()
    support = (a > 0).unsqueeze(2) & (b > 0).unsqueeze(1)
    big = torch.finfo(cost.dtype).max
    c_min = torch.where(support, cost, big).amin((1, 2))
    c_max = torch.where(support, cost, -big).amax((1, 2))
    # Costs start at 0 on the support (W shifts by c_min * m); padding becomes 0.
    cost = torch.where(support, cost - c_min.view(-1, 1, 1), 0.0)
    mass = a.sum(1)
    spread = (c_max - c_min).clamp_min(torch.finfo(cost.dtype).eps)
    if epsilon is None:
        floor = default_epsilon(cost, support, spread, mass, tol)
    else:
        floor = torch.full_like(mass, epsilon)
    eps = torch.maximum(spread, floor)
    # no certificate is checked before eps is within 4x of the floor (it cannot close)
    stages = torch.log(eps / (4 * floor)).clamp_min(0) / -math.log(decay)
    first_check = stage_iters * int(stages.min().ceil())

    upper = torch.empty_like(mass)
    lower = torch.empty_like(mass)
    its = torch.zeros(num, dtype=torch.long, device=device)
    # per problem still in the batch: position, potentials, eps, floor, best gap at the
    # floor, relaxation weight, finished flag (problems leave the batch in groups)
    pos = torch.arange(num, device=device)
    f, g = torch.zeros_like(a), torch.zeros_like(b)
    best = torch.full_like(mass, math.inf)
    weight = torch.full_like(mass, relaxation)
    checks_at_floor = torch.zeros_like(mass)
    finished = torch.zeros(num, dtype=torch.bool, device=device)
    data = [a, b, log_a, log_b, cost]
    it = 0
    while pos.numel() and not bool(finished.all()):
        a, b, log_a, log_b, cost = data
        steps = min(stage_iters, max_iter - it)
        w = torch.where(eps <= floor, weight, 1.0).unsqueeze(1)
        f, g = _iterate(f, g, eps, w, log_a, log_b, cost, steps)
        it += steps
        if it < first_check and it < max_iter:
            eps = torch.maximum(eps * decay, floor)
            continue
        up, low = _bounds(f, g, eps, a, b, log_a, log_b, cost)
        gap = up - low
        done = (gap <= tol) | (it >= max_iter)
        # over-relaxation safeguard: a gap ten times the best one seen at the floor
        # means divergence; that problem goes on with plain Sinkhorn (w = 1)
        checks_at_floor += (eps <= floor).to(checks_at_floor.dtype)
        diverging = (checks_at_floor > 1) & (gap > 10 * best)
        weight = torch.where(diverging, torch.ones_like(weight), weight)
        best = torch.where(checks_at_floor > 0, torch.minimum(best, gap), best)
        eps = torch.maximum(eps * decay, floor)
        new = done & ~finished
        if bool(new.any()):
            idx = pos[new]
            shift = c_min[idx] * mass[idx]
            upper[idx], lower[idx], its[idx] = up[new] + shift, low[new] + shift, it
            finished |= new
            # compact lazily: copying the cost tensor costs about one pass over it
            if int(finished.sum()) * 8 >= finished.numel():
                keep = ~finished
                pos, finished = pos[keep], finished[keep]
                data = [t[keep] for t in data]
                state = (f, g, eps, floor, best, weight, checks_at_floor)
                f, g, eps, floor, best, weight, checks_at_floor = (t[keep] for t in state)
    zero = torch.zeros_like(upper)
    return torch.where(empty, zero, upper), torch.where(empty, zero, lower), its


def default_epsilon(cost: Tensor, support: Tensor, spread: Tensor, mass: Tensor, tol: float) -> Tensor:
    """Default ``eps`` floor per problem: ``R / (10 log(R m / tol))`` when the costs
    (shifted to start at 0) are integers, ``R / (100 log(R m / tol))`` otherwise.

    With integer costs (shortest paths of unweighted graphs) the error of the rounded
    entropic plan decays like ``exp(-1 / eps)``; real costs have smaller gaps between
    the costs of competing plans, hence a 10x smaller ``eps``.
    """
    integral = torch.where(support, cost == cost.round(), True).flatten(1).all(1)
    scale = torch.where(integral, 10.0, 100.0).to(cost.dtype)
    return spread / (scale * torch.log(spread * mass / tol).clamp_min(1.0))


def _iterate(
    f: Tensor,
    g: Tensor,
    eps: Tensor,
    w: Tensor,
    log_a: Tensor,
    log_b: Tensor,
    cost: Tensor,
    steps: int,
) -> tuple[Tensor, Tensor]:
    """``steps`` (over-relaxed) log-domain Sinkhorn iterations at fixed ``eps``; one pass
    over the ``(K, N, M)`` block plus one log-sum-exp per half-iteration."""
    e2 = eps.view(-1, 1)
    scaled = cost / eps.view(-1, 1, 1)
    for _ in range(steps):
        h = log_b + g / e2
        f = torch.lerp(f, -e2 * torch.logsumexp(h.unsqueeze(1) - scaled, 2), w)
        h = log_a + f / e2
        g = torch.lerp(g, -e2 * torch.logsumexp(h.unsqueeze(2) - scaled, 1), w)
    return f, g


def _bounds(
    f: Tensor,
    g: Tensor,
    eps: Tensor,
    a: Tensor,
    b: Tensor,
    log_a: Tensor,
    log_b: Tensor,
    cost: Tensor,
) -> tuple[Tensor, Tensor]:
    """Cost of the rounded plan (upper bound) and the best dual candidate (lower bound)."""
    e3, e2 = eps.view(-1, 1, 1), eps.view(-1, 1)
    plan = torch.exp((log_a + f / e2).unsqueeze(2) + (log_b + g / e2).unsqueeze(1) - cost / e3)
    upper = (round_to_feasible(plan, a, b) * cost).sum((1, 2))
    rows = torch.stack([f, f + e2 * torch.where(a > 0, log_a, 0.0), torch.round(f - f[:, :1])])
    lower = dual_lower_bound(rows, a, b, cost).amax(0)
    column = g + e2 * torch.where(b > 0, log_b, 0.0)
    lower = torch.maximum(lower, dual_lower_bound(column, b, a, cost.transpose(1, 2)))
    return upper, lower


def dual_lower_bound(f: Tensor, a: Tensor, b: Tensor, cost: Tensor) -> Tensor:
    """Lower bounds on W for batched row potentials ``f`` of shape ``(..., K, N)``: the
    value ``<a, f~> + <b, g~>`` of the double c-transform ``g~_j = min_i (C_ij - f_i)``,
    ``f~_i = min_j (C_ij - g~_j)`` (minima over the supports of ``a`` and ``b``), which is
    dual feasible (``f~_i + g~_j <= C_ij``), hence ``<= W`` by weak duality.

    Called as ``dual_lower_bound(g, b, a, cost.transpose(1, 2))`` it gives the bound of a
    column potential ``g`` (``W`` is symmetric under transposition).
    """
    inf = torch.tensor(math.inf, dtype=cost.dtype, device=cost.device)
    f = torch.where(a > 0, f, -inf)  # rows without mass drop out of the minimum
    g_t = (cost - f.unsqueeze(-1)).amin(-2)
    g_t = torch.where(b > 0, g_t, -inf)
    f_t = (cost - g_t.unsqueeze(-2)).amin(-1)
    return (a * torch.where(a > 0, f_t, 0.0)).sum(-1) + (b * torch.where(b > 0, g_t, 0.0)).sum(-1)


def round_to_feasible(plan: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """Altschuler-Weed-Rigollet rounding [2, Algorithm 2] of batched plans ``(K, N, M)``
    onto ``{P >= 0 : P 1 = a, P^T 1 = b}`` (equal totals): scale rows, then columns, down
    to their targets, then add the outer product of the deficits over their mass.

    ``|result - plan|_1 <= 2 (|plan 1 - a|_1 + |plan^T 1 - b|_1)``; zero-mass rows and
    columns stay empty.
    """
    rows = plan.sum(2)
    plan = plan * torch.where(rows > a, a / rows, 1.0).unsqueeze(2)
    cols = plan.sum(1)
    plan = plan * torch.where(cols > b, b / cols, 1.0).unsqueeze(1)
    err_a = (a - plan.sum(2)).clamp_min(0)
    err_b = (b - plan.sum(1)).clamp_min(0)
    total = err_b.sum(1, keepdim=True)
    err_b = torch.where(total > 0, err_b / total, 0.0)
    return plan + err_a.unsqueeze(2) * err_b.unsqueeze(1)


def closed_form_values(problems: TransportProblems) -> tuple[Tensor, Tensor]:
    """Values of the problems that need no solver, and the index of those that do.

    A problem with one source or one target has a single feasible plan (W is
    ``sum_j b_j C_1j`` or ``sum_i a_i C_i1``); one with an empty side or zero mass has
    ``W = 0``. Returns ``(values, index)``: a ``(B,)`` tensor holding these values (0
    elsewhere) and the long index of the problems with at least two sources, two
    targets and positive mass.
    """
    sizes = problems.sizes().to(problems.device)
    smallest = sizes.min(1).values
    mass = _segment_sum(problems.a, problems.a_ptr)
    values = torch.zeros(problems.num_problems, dtype=problems.cost.dtype, device=problems.device)
    closed = torch.nonzero((smallest == 1) & (mass > 0)).flatten()
    if closed.numel():
        values[closed] = single_side_cost(problems.select(closed))
    return values, torch.nonzero((smallest >= 2) & (mass > 0)).flatten()


def _segment_sum(values: Tensor, ptr: Tensor) -> Tensor:
    """Sums of ``values[ptr[k]:ptr[k+1]]`` (0 for empty segments)."""
    ptr = ptr.to(values.device)
    owner = torch.repeat_interleave(torch.arange(ptr.numel() - 1, device=ptr.device), ptr.diff())
    out = torch.zeros(ptr.numel() - 1, dtype=values.dtype, device=values.device)
    return out.index_add_(0, owner, values)


def single_side_cost(problems: TransportProblems) -> Tensor:
    """W1 of problems with ``n_a == 1`` or ``n_b == 1``: the only plan moves every target
    mass from the single source (``sum_j b_j C_1j``) or every source mass to the single
    target (``sum_i a_i C_i1``)."""
    sizes = problems.sizes()
    n_a, n_b = sizes[:, 0], sizes[:, 1]
    owner = torch.repeat_interleave(torch.arange(problems.num_problems, device=n_a.device), n_a * n_b)
    within = torch.arange(owner.numel(), device=owner.device) - problems.cost_ptr[owner]
    row, col = within // n_b[owner], within % n_b[owner]
    weight = torch.where(
        (n_a == 1)[owner],
        problems.b[problems.b_ptr[owner] + col],
        problems.a[problems.a_ptr[owner] + row],
    )
    out = torch.zeros(problems.num_problems, dtype=problems.cost.dtype, device=problems.device)
    return out.index_add_(0, owner, weight * problems.cost)
