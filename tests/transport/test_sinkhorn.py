import math
import warnings

import pytest
import torch
from random_transport import F64, TOL, degenerate_problems, exact, random_problems
from support import cuda_only

from graphcurv.errors import GraphcurvError
from graphcurv.transport.problems import TransportProblems
from graphcurv.transport.sinkhorn import (
    closed_form_values,
    dual_lower_bound,
    round_to_feasible,
    solve_sinkhorn,
    wasserstein_sinkhorn,
)


def check_bounds(result, reference, tol=TOL, slack=1e-12):
    err = result.value - reference
    assert bool(torch.isfinite(result.value).all()) and bool(
        torch.isfinite(result.lower_bound).all()
    )
    assert err.min() >= -slack, "a rounded plan is feasible: its cost is an upper bound"
    assert bool((result.lower_bound <= reference + slack).all()), "the dual bound is a lower bound"
    assert bool((err <= result.gap + slack).all())
    certified = result.gap <= tol
    assert bool((err[certified] <= tol).all())
    return err, certified


@pytest.mark.parametrize("seed", [0, 1])
def test_integer_costs_within_tol_of_exact(seed):
    p = random_problems(seed, integer=True, extra=60)
    result = solve_sinkhorn(p, tol=TOL)
    err, certified = check_bounds(result, exact(p))
    assert bool(certified.all())
    assert err.abs().max() <= TOL


def test_real_costs_bounds_and_fallback():
    p = random_problems(2, integer=False, extra=20)
    reference = exact(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = solve_sinkhorn(p, tol=TOL, max_iter=400)
    check_bounds(result, reference)

    def emd(sub: TransportProblems) -> torch.Tensor:
        return exact(sub)

    with_fallback = solve_sinkhorn(p, tol=TOL, max_iter=400, fallback=emd)
    err, certified = check_bounds(with_fallback, reference)
    assert bool(certified.all()) and err.abs().max() <= TOL
    fell_back = with_fallback.iterations == -1
    assert bool(fell_back.any()), "this batch should exercise the fallback"
    assert torch.equal(fell_back, result.gap > TOL)


def test_wasserstein_sinkhorn_is_the_value():
    p = random_problems(3, integer=True, extra=5)
    values = wasserstein_sinkhorn(p, tol=TOL)
    assert values.shape == (p.num_problems,) and values.dtype == torch.float64
    assert (values - exact(p)).abs().max() <= TOL


def test_closed_form_single_source_or_target():
    a = torch.tensor([0.2, 0.3, 0.5], **F64)
    cost = torch.tensor([[1.0, 2.0, 3.0]], **F64)
    p = TransportProblems.from_dense(
        [
            (torch.tensor([1.0], **F64), a, cost),
            (a, torch.tensor([1.0], **F64), cost.T),
            (torch.tensor([0.4], **F64), torch.tensor([0.4], **F64), torch.tensor([[2.5]], **F64)),
        ]
    )
    values, index = closed_form_values(p)
    assert index.numel() == 0
    assert torch.allclose(values, torch.tensor([2.3, 2.3, 1.0], **F64), atol=1e-15, rtol=0)
    result = solve_sinkhorn(p)
    assert torch.equal(result.value, values) and bool((result.iterations == 0).all())


def test_degenerate_inputs_give_no_nan():
    problems = degenerate_problems()
    p = TransportProblems.from_dense(problems)
    reference = exact(p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in (torch.float64, torch.float32):
            result = solve_sinkhorn(p, tol=TOL, dtype=dtype)
            assert bool(torch.isfinite(result.value).all())
            assert (result.value - reference).abs().max() <= TOL
    assert result.value[[2, 4, 5]].tolist() == [0.0, 0.0, 0.0]


def test_float32_iterations_stay_within_tol():
    p = random_problems(4, integer=True, extra=10)
    result = solve_sinkhorn(p, tol=TOL, dtype=torch.float32)
    assert result.value.dtype == torch.float64
    err = result.value - exact(p)
    assert err.abs().max() <= TOL and err.min() >= -1e-6  # float32 rounding only


def test_round_to_feasible_is_feasible_and_close():
    gen = torch.Generator().manual_seed(5)
    a = torch.rand(6, 5, generator=gen, **F64)
    b = torch.rand(6, 7, generator=gen, **F64)
    a[:, 1] = 0
    a, b = a / a.sum(1, keepdim=True), b / b.sum(1, keepdim=True)
    plan = torch.rand(6, 5, 7, generator=gen, **F64) / 35
    rounded = round_to_feasible(plan, a, b)
    assert bool((rounded >= 0).all())
    assert torch.allclose(rounded.sum(2), a, atol=1e-14, rtol=0)
    assert torch.allclose(rounded.sum(1), b, atol=1e-14, rtol=0)
    violation = (plan.sum(2) - a).abs().sum(1) + (plan.sum(1) - b).abs().sum(1)
    assert bool(((rounded - plan).abs().sum((1, 2)) <= 2 * violation + 1e-14).all())


def test_dual_lower_bound_is_a_lower_bound():
    p = random_problems(6, integer=False, extra=0)
    reference = exact(p)
    gen = torch.Generator().manual_seed(6)
    for k in range(p.num_problems):
        a, b, cost = p.dense(k)
        f = torch.randn(3, 1, a.numel(), generator=gen, **F64)
        bound = dual_lower_bound(f, a.unsqueeze(0), b.unsqueeze(0), cost.unsqueeze(0))
        assert bound.shape == (3, 1) and bool((bound <= reference[k] + 1e-12).all())


def test_warns_when_not_certified_and_rejects_bad_parameters():
    p = random_problems(7, integer=True, extra=0)
    with pytest.warns(RuntimeWarning, match="max_iter"):
        solve_sinkhorn(p, tol=1e-9, max_iter=4)
    bad_options = [
        {"tol": 0},
        {"decay": 1.0},
        {"relaxation": 2.0},
        {"epsilon": -1.0},
        {"max_iter": 0},
    ]
    for bad in bad_options:
        with pytest.raises(GraphcurvError):
            solve_sinkhorn(p, **bad)


def test_explicit_epsilon_and_no_relaxation():
    p = random_problems(8, integer=True, extra=5)
    reference = exact(p)
    result = solve_sinkhorn(p, tol=TOL, epsilon=0.02, relaxation=1.0)
    err, certified = check_bounds(result, reference)
    assert bool(certified.all())
    assert math.isclose(float(err.abs().max()), 0.0, abs_tol=TOL)


@cuda_only
def test_cuda_matches_cpu():
    p = random_problems(9, integer=True)
    cpu = solve_sinkhorn(p, tol=TOL)
    gpu = solve_sinkhorn(p.to("cuda"), tol=TOL)
    assert gpu.value.device.type == "cuda"
    assert (gpu.value.cpu() - cpu.value).abs().max() <= TOL
    gpu32 = solve_sinkhorn(p.to("cuda"), tol=TOL, dtype=torch.float32)
    assert (gpu32.value.cpu() - exact(p)).abs().max() <= TOL
