import pytest
import torch
from random_transport import TOL, degenerate_problems, exact, random_problems
from support import cuda_only

from graphcurv.errors import GraphcurvError
from graphcurv.transport.pot_batch import wasserstein_pot_batch
from graphcurv.transport.problems import TransportProblems


@pytest.mark.parametrize("integer", [True, False])
def test_log_sinkhorn_upper_bound_close_to_exact(integer):
    p = random_problems(0, integer=integer, extra=20, target_zeros=False)
    values = wasserstein_pot_batch(p, tol=TOL, max_iter=2000)
    err = values - exact(p)
    assert values.shape == (p.num_problems,) and bool(torch.isfinite(values).all())
    assert err.min() >= -1e-12  # rounded plans are feasible
    # ot.batch has neither epsilon scaling nor a certificate: within tol on integer
    # costs here, but on real costs its one reg per bucket leaves errors near 1e-3
    assert err.max() <= (TOL if integer else 20 * TOL)


def test_degenerate_inputs_give_no_nan():
    p = TransportProblems.from_dense(degenerate_problems()[:5])  # ot.batch: the first five
    reference = exact(p)
    for method in ("log_sinkhorn", "proximal"):
        values = wasserstein_pot_batch(p, tol=TOL, method=method, max_iter=200)
        assert bool(torch.isfinite(values).all())
        assert (values - reference).min() >= -1e-12
    values = wasserstein_pot_batch(p, tol=TOL)
    assert (values - reference).abs().max() <= TOL


def test_rejects_unknown_method():
    p = random_problems(1, integer=True, extra=0, target_zeros=False)
    with pytest.raises(GraphcurvError):
        wasserstein_pot_batch(p, method="simplex")


@cuda_only
def test_cuda_matches_cpu():
    p = random_problems(2, integer=True, extra=20, target_zeros=False)
    cpu = wasserstein_pot_batch(p, tol=TOL)
    gpu = wasserstein_pot_batch(p.to("cuda"), tol=TOL)
    assert gpu.device.type == "cuda"
    assert (gpu.cpu() - cpu).abs().max() <= TOL
