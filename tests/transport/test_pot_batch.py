import ot
import pytest
import torch
from support import cuda_only

from graphcurv.errors import GraphcurvError
from graphcurv.transport.pot_batch import wasserstein_pot_batch
from graphcurv.transport.problems import TransportProblems

TOL = 1e-4
F64 = {"dtype": torch.float64}
SHAPES = [(1, 1), (1, 6), (6, 1), (2, 2), (3, 7), (7, 3), (40, 40), (6, 6), (5, 30), (30, 5)]


@pytest.fixture(autouse=True)
def _one_thread():
    """Small batched ops run as fast on one thread, and stay fast when the machine is busy
    (OpenMP threads of several processes on 2 cores slow down tenfold)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def random_problems(
    seed: int, integer: bool, extra: int = 20, total: float = 0.7
) -> TransportProblems:
    gen = torch.Generator().manual_seed(seed)
    shapes = list(SHAPES) + [
        tuple(s) for s in (torch.rand(extra, 2, generator=gen) ** -1.2).clamp(2, 48).long().tolist()
    ]
    problems = []
    for n_a, n_b in shapes:
        a = torch.rand(n_a, generator=gen, **F64)
        b = torch.rand(n_b, generator=gen, **F64)
        a[torch.rand(n_a, generator=gen) < 0.2] = 0
        a[0] += 0.05
        a, b = a / a.sum() * total, b / b.sum() * total
        if integer:
            cost = torch.randint(0, 4, (n_a, n_b), generator=gen).to(torch.float64)
        else:
            cost = torch.rand(n_a, n_b, generator=gen, **F64)
        problems.append((a, b, cost))
    return TransportProblems.from_dense(problems)


def exact(problems: TransportProblems) -> torch.Tensor:
    out = torch.zeros(problems.num_problems, **F64)
    for k in range(problems.num_problems):
        a, b, cost = (t.cpu().numpy() for t in problems.dense(k))
        total = a.sum() if a.size and b.size else 0.0
        if total > 0:
            out[k] = float(ot.emd2(a / total, b / b.sum(), cost)) * total
    return out


@pytest.mark.parametrize("integer", [True, False])
def test_log_sinkhorn_upper_bound_close_to_exact(integer):
    p = random_problems(0, integer=integer)
    values = wasserstein_pot_batch(p, tol=TOL, max_iter=2000)
    err = values - exact(p)
    assert values.shape == (p.num_problems,) and bool(torch.isfinite(values).all())
    assert err.min() >= -1e-12  # rounded plans are feasible
    # ot.batch has neither epsilon scaling nor a certificate: within tol on integer
    # costs here, but on real costs its one reg per bucket leaves errors near 1e-3
    assert err.max() <= (TOL if integer else 20 * TOL)


def test_degenerate_inputs_give_no_nan():
    problems = [
        (torch.tensor([1.0], **F64), torch.tensor([1.0], **F64), torch.tensor([[2.0]], **F64)),
        (
            torch.tensor([0.3, 0.7], **F64),
            torch.tensor([0.5, 0.5], **F64),
            torch.zeros(2, 2, **F64),
        ),
        (torch.zeros(2, **F64), torch.zeros(3, **F64), torch.rand(2, 3, **F64)),
        (
            torch.tensor([0.0, 0.5, 0.5], **F64),
            torch.tensor([0.25, 0.0, 0.75], **F64),
            torch.tensor([[0.0, 1, 2], [3, 2, 1], [1, 1, 1]], **F64),
        ),
        (torch.zeros(0, **F64), torch.zeros(0, **F64), torch.zeros(0, 0, **F64)),
    ]
    p = TransportProblems.from_dense(problems)
    reference = exact(p)
    for method in ("log_sinkhorn", "proximal"):
        values = wasserstein_pot_batch(p, tol=TOL, method=method, max_iter=200)
        assert bool(torch.isfinite(values).all())
        assert (values - reference).min() >= -1e-12
    values = wasserstein_pot_batch(p, tol=TOL)
    assert (values - reference).abs().max() <= TOL


def test_rejects_unknown_method():
    p = random_problems(1, integer=True, extra=0)
    with pytest.raises(GraphcurvError):
        wasserstein_pot_batch(p, method="simplex")


@cuda_only
def test_cuda_matches_cpu():
    p = random_problems(2, integer=True)
    cpu = wasserstein_pot_batch(p, tol=TOL)
    gpu = wasserstein_pot_batch(p.to("cuda"), tol=TOL)
    assert gpu.device.type == "cuda"
    assert (gpu.cpu() - cpu).abs().max() <= TOL
