import numpy as np
import ot
import pytest
import torch

from graphcurv.errors import GraphcurvError
from graphcurv.transport import wasserstein
from graphcurv.transport.exact import wasserstein_exact
from graphcurv.transport.problems import BorderedProblems, TransportProblems


def _random_problems(count, seed, integer_costs=False, total=1.0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        na, nb = rng.integers(1, 12, size=2)
        a = rng.random(na) + 0.01
        b = rng.random(nb) + 0.01
        a, b = total * a / a.sum(), total * b / b.sum()
        cost = rng.integers(0, 4, (na, nb)).astype(float) if integer_costs else rng.random((na, nb)) * 3
        out.append((a, b, cost))
    return out


def _pack(problems):
    t = lambda x: torch.tensor(x, dtype=torch.float64)  # noqa: E731
    return TransportProblems.from_dense([(t(a), t(b), t(m)) for a, b, m in problems])


@pytest.mark.parametrize("integer_costs", [False, True])
def test_matches_pot_emd2(integer_costs):
    problems = _random_problems(300, seed=1, integer_costs=integer_costs, total=0.7)
    expected = [ot.emd2(a, b, m) for a, b, m in problems]
    got = wasserstein_exact(_pack(problems), workers=1)
    assert np.abs(got.numpy() - expected).max() <= 1e-9


def test_parallel_workers_agree_with_serial():
    problems = _pack(_random_problems(3000, seed=2))
    serial = wasserstein_exact(problems, workers=1)
    parallel = wasserstein_exact(problems, workers=2, min_problems_per_worker=10)
    assert torch.equal(serial, parallel)


def test_a_bounded_queue_gives_the_same_values():
    from graphcurv.transport.exact import ExactSolverPool

    problems = [_pack(_random_problems(200, seed=s)) for s in range(5)]
    serial = [wasserstein_exact(p, workers=1) for p in problems]
    with ExactSolverPool(2, piece_entries=500, queued_entries=2000) as pool:
        waits = []
        for p in problems:
            waits.append(pool.submit(p))
            assert pool._queued <= 2000 + 500 + 121  # one piece (and one problem) over the bound at most
        got = [wait() for wait in waits]
    for a, b in zip(serial, got):
        assert torch.equal(a, b)


def test_the_pool_forks_its_workers_on_entry_in_the_entering_thread():
    """Workers forked later, from the thread of a first submit (a helper thread), could
    inherit a lock another thread holds and hang; so they exist before any submit, as
    children of this process, forked by the thread that entered the pool."""
    import threading

    import psutil

    from graphcurv.transport.exact import ExactSolverPool

    before = {p.pid for p in psutil.Process().children()}
    with ExactSolverPool(2) as pool:
        started = [p for p in psutil.Process().children() if p.pid not in before]
        assert len(started) == 2
        problems = _pack(_random_problems(40, seed=4))
        out = {}
        helper = threading.Thread(target=lambda: out.setdefault("w1", pool.submit(problems)()))
        helper.start()
        helper.join(timeout=60)
        assert not helper.is_alive()
        assert {p.pid for p in psutil.Process().children()} - before == {p.pid for p in started}
    assert torch.equal(out["w1"], wasserstein_exact(problems, workers=1))


def test_point_masses_and_empty_problems():
    t = lambda x: torch.tensor(x, dtype=torch.float64)  # noqa: E731
    p = TransportProblems.from_dense(
        [
            (t([0.4]), t([0.1, 0.3]), t([[2.0, 1.0]])),  # 0.1*2 + 0.3*1
            (t([0.1, 0.3]), t([0.4]), t([[2.0], [1.0]])),
            (t([1.0]), t([1.0]), t([[0.0]])),
        ]
    )
    assert wasserstein(p).tolist() == pytest.approx([0.5, 0.5, 0.0], abs=1e-15)


def test_unequal_rounding_and_empty_sides():
    t = lambda x: torch.tensor(x, dtype=torch.float64)  # noqa: E731
    p = TransportProblems.from_dense(
        [
            (t([0.3, 0.2]), t([0.25, 0.25 + 1e-15]), t([[0.0, 1.0], [1.0, 0.0]])),
            (t([1e-17]), torch.zeros(0, dtype=torch.float64), torch.zeros(1, 0, dtype=torch.float64)),
            (t([0.5]), t([0.5]), t([[2.0]])),
        ]
    )
    assert wasserstein(p).tolist() == pytest.approx([0.05, 0.0, 1.0], abs=1e-14)


def test_a_killed_worker_raises_instead_of_hanging(monkeypatch):
    import os
    import signal
    from concurrent.futures.process import BrokenProcessPool

    from graphcurv.transport import exact as exact_module

    def die(*args):
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(exact_module, "_emd_c", die)  # forked workers inherit the patch
    problems = _pack(_random_problems(50, seed=3))
    with pytest.raises(BrokenProcessPool), exact_module.ExactSolverPool(workers=2) as pool:
        pool.submit(problems)()


def test_a_wrong_optimum_fails_the_certificate(monkeypatch):
    from graphcurv.transport import exact as exact_module

    real = exact_module._emd_c

    def off_by_a_tenth(a, b, cost, *args):
        plan, value, f, g, code = real(a, b, cost, *args)
        return plan, value + 0.1, f, g, code  # the duals no longer match the value

    monkeypatch.setattr(exact_module, "_emd_c", off_by_a_tenth)
    with pytest.raises(GraphcurvError, match="certificate"):
        exact_module.wasserstein_exact(_pack(_random_problems(5, seed=4)), workers=1)


def test_dual_infeasible_potentials_fail_the_certificate(monkeypatch):
    from graphcurv.transport import exact as exact_module

    real = exact_module._emd_c

    def raised_duals(a, b, cost, *args):
        plan, value, f, g, code = real(a, b, cost, *args)
        # Raising f_0 by 1 breaks f_0 + g_j <= M_0j where it was tight; the value moves with
        # <a, f>, so the duality gap stays zero and only dual feasibility fails.
        f = f.copy()
        f[0] += 1.0
        return plan, value + a[0] * 1.0, f, g, code

    monkeypatch.setattr(exact_module, "_emd_c", raised_duals)
    with pytest.raises(GraphcurvError, match="dual violation"):
        exact_module.wasserstein_exact(_pack(_random_problems(5, seed=4)), workers=1)


def test_works_with_the_emd_c_signature_of_pot_0_9_4(monkeypatch):
    """POT 0.9.4-0.9.6's ``emd_c`` takes exactly (a, b, M, max_iter, numThreads); the
    floor in pyproject.toml is 0.9.7 (for ot.batch), but the 5-argument call works on every POT since 0.9.4."""
    from graphcurv.transport import exact as exact_module

    real = exact_module._emd_c

    def emd_c_0_9_4(a, b, M, max_iter, num_threads):
        return real(a, b, M, max_iter, num_threads)

    monkeypatch.setattr(exact_module, "_emd_c", emd_c_0_9_4)
    problems = _random_problems(40, seed=5)
    expected = [ot.emd2(a, b, m) for a, b, m in problems]
    got = exact_module.wasserstein_exact(_pack(problems), workers=1)
    assert np.abs(got.numpy() - expected).max() <= 1e-9


def _tall_problems(count, seed, targets=(3, 5)):
    """Problems with many more sources than targets, like a hub edge's (hub side x leaf side)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        nb = int(rng.integers(*targets))
        na = int(rng.integers(nb + 1, 300))
        a, b = rng.random(na) + 0.01, rng.random(nb) + 0.01
        out.append((a / a.sum(), b / b.sum(), rng.random((na, nb)) * 3))
    return out


def test_tall_problems_are_solved_transposed(monkeypatch):
    """Issue 18 item 7: every problem reaches POT's network simplex with no more rows than
    columns (it is several times slower on tall ones), and the values and the certificate
    built from the swapped-back duals are those of the problems as given."""
    from graphcurv.transport import exact as exact_module

    real, shapes = exact_module._emd_c, []

    def recording(a, b, cost, *args):
        shapes.append((a.size, b.size, cost.shape))
        return real(a, b, cost, *args)

    monkeypatch.setattr(exact_module, "_emd_c", recording)
    problems = _tall_problems(60, seed=6)
    got = exact_module.wasserstein_exact(_pack(problems), workers=1, certify=True, certify_tol=1e-12)
    assert len(shapes) == len(problems)
    assert all(rows < cols and cost_shape == (rows, cols) for rows, cols, cost_shape in shapes)
    expected = np.array([ot.emd2(a, b, m) for a, b, m in problems])
    assert np.abs(got.numpy() - expected).max() <= 1e-13


def test_transposed_solve_gives_the_values_and_duals_of_the_untransposed_one():
    """The duals come back in the caller's orientation (f for a, g for b): equal to those of
    the untransposed call and of ``ot.emd`` up to the constant shift (f + c, g - c) that every
    optimal dual pair has (the problems are generic, so that is their only freedom)."""
    from graphcurv.transport.exact import MAX_ITER, _emd_c, _network_simplex

    for a, b, cost in _tall_problems(40, seed=7):
        value, f, g, code = _network_simplex(_emd_c, a, b, cost)
        _plan, direct_value, f_direct, g_direct, direct_code = _emd_c(a, b, cost, MAX_ITER, 1)
        _plan, log = ot.emd(a, b, cost, log=True)
        assert code == direct_code == 1
        assert f.shape == a.shape and g.shape == b.shape
        for other_value, f_other, g_other in ((direct_value, f_direct, g_direct), (log["cost"], log["u"], log["v"])):
            assert abs(value - other_value) <= 1e-14
            shift = f_other[0] - f[0]
            assert np.abs(f + shift - f_other).max() <= 1e-11
            assert np.abs(g - shift - g_other).max() <= 1e-11
        assert abs(value - (a @ f + b @ g)) <= 1e-12
        assert (f[:, None] + g[None, :] - cost).max() <= 1e-12


def _two_point_problems(count, seed):
    """Problems with two points on one side (either side), random or small-integer costs
    (ties), a few with a point of zero mass."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        n = int(rng.integers(2, 60))
        many, two = rng.random(n) + 0.01, rng.random(2) + 0.01
        if k % 5 == 4:
            many[0] = 0.0
        many, two = many / many.sum(), two / two.sum()
        cost = rng.integers(0, 4, (n, 2)).astype(float) if k % 2 else rng.random((n, 2)) * 3
        out.append((two, many, np.ascontiguousarray(cost.T)) if k % 3 == 0 else (many, two, cost))
    return out


def test_two_point_problems_are_solved_in_closed_form(monkeypatch):
    """A side of two points (a hub's edges to leaves) is a fractional knapsack: no network
    simplex call, ot.emd2's values, and duals that pass a tight certificate."""
    from graphcurv.transport import exact as exact_module

    calls = []
    monkeypatch.setattr(exact_module, "_emd_c", lambda *args: calls.append(args))
    problems = _two_point_problems(400, seed=8)
    got = exact_module.wasserstein_exact(_pack(problems), workers=1, certify=True, certify_tol=1e-13)
    assert not calls
    expected = np.array([ot.emd2(a, b, m) for a, b, m in problems])
    assert np.abs(got.numpy() - expected).max() <= 1e-14


def test_two_point_duals_are_optimal():
    from graphcurv.transport.exact import _two_point_solutions

    for a, b, cost in _two_point_problems(60, seed=9):
        arrays = _numpy_arrays(a, b, cost)
        value, f, g = np.zeros(1), np.zeros(a.size), np.zeros(b.size)
        assert _two_point_solutions(arrays, value, f, g).tolist() == [True]
        assert abs(value[0] - ot.emd2(a, b, cost)) <= 1e-14
        assert abs(value[0] - (a @ f + b @ g)) <= 1e-14  # no duality gap ...
        assert (f[:, None] + g[None, :] - cost).max() <= 1e-15  # ... and dual feasible


def test_a_wrong_two_point_optimum_fails_the_certificate(monkeypatch):
    from graphcurv.transport import exact as exact_module

    real = exact_module._two_point_solutions

    def off_by_a_tenth(arrays, out, f, g):
        solved = real(arrays, out, f, g)
        out[solved] += 0.1
        return solved

    monkeypatch.setattr(exact_module, "_two_point_solutions", off_by_a_tenth)
    with pytest.raises(GraphcurvError, match="certificate"):
        exact_module.wasserstein_exact(_pack(_two_point_problems(5, seed=10)), workers=1)


def test_two_point_values_do_not_depend_on_the_rest_of_the_batch():
    problems = _two_point_problems(200, seed=11) + _random_problems(200, seed=11)
    together = wasserstein_exact(_pack(problems), workers=1)
    alone = torch.cat([wasserstein_exact(_pack([p]), workers=1) for p in problems])
    assert torch.equal(together, alone)


def _numpy_arrays(a, b, cost):
    ptr = lambda n: np.array([0, n])  # noqa: E731
    return a, b, cost.ravel(), ptr(a.size), ptr(b.size), ptr(cost.size)


@pytest.mark.parametrize("workers", [1, 2])
def test_bordered_problems_equal_pot_per_problem(workers):
    """A batch sharing masses and a cost block, with one border per problem, expanded in
    the solver process: each value equals ot.emd2 on the problem built by hand."""
    from graphcurv.transport.exact import ExactSolverPool
    from graphcurv.transport.problems import BorderedProblems

    rng = np.random.default_rng(5)
    p, s, n = 4, 6, 9
    mu, nu = rng.random(p), rng.random(s)
    mu, nu = 0.1 * mu / mu.sum(), 0.1 * nu / nu.sum()
    block, rows, cols, corner = rng.random((p, s)) + 1, rng.random((n, s)) + 1, rng.random((n, p)) + 1, rng.random(n)
    problems = BorderedProblems(0.9, mu, nu, block, corner, rows, cols)
    with ExactSolverPool(workers, piece_entries=2 * (1 + p) * (1 + s)) as pool:  # several pieces
        values = pool.submit(problems)().numpy()
    for e in range(n):
        cost = np.block([[np.array([[corner[e]]]), rows[e][None, :]], [cols[e][:, None], block]])
        expected = ot.emd2(np.r_[0.9, mu], np.r_[0.9, nu], cost)
        assert values[e] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("p, s", [(30, 80), (90, 25)])
def test_warm_started_bordered_problems_equal_pot(monkeypatch, p, s):
    """Problems large enough to start from the shared duals (both orientations: the solver
    transposes tall ones and must swap the starting duals with them) give ot.emd2's values,
    and the warm start is really used."""
    import graphcurv.transport.exact as exact
    from graphcurv.transport.exact import ExactSolverPool
    from graphcurv.transport.problems import BorderedProblems

    rng = np.random.default_rng(11)
    n = 5
    mu, nu = rng.random(p), rng.random(s)
    mu, nu = 0.1 * mu / mu.sum(), 0.1 * nu / nu.sum()
    block = rng.random((p, s)) * 3 + 1
    _plan, log = ot.emd(mu / 0.1, nu / 0.1, block, log=True)
    u = np.asarray(log["u"])
    v = (block - u[:, None]).min(axis=0)
    rows, cols, corner = rng.random((n, s)) * 3 + 1, rng.random((n, p)) * 3 + 1, rng.random(n) + 0.5
    started = []
    cold = exact._network_simplex

    def spy(emd, a, b, cost, start=None):
        started.append(start is not None)
        return cold(emd, a, b, cost, start)

    monkeypatch.setattr(exact, "_network_simplex", spy)
    with ExactSolverPool(1) as pool:
        values = pool.submit(BorderedProblems(0.9, mu, nu, block, corner, rows, cols, u, v))().numpy()
    assert started == [True] * n
    for e in range(n):
        cost = np.block([[np.array([[corner[e]]]), rows[e][None, :]], [cols[e][:, None], block]])
        assert values[e] == pytest.approx(ot.emd2(np.r_[0.9, mu], np.r_[0.9, nu], cost), abs=1e-12)


def _explicit_certificate_terms(a, b, cost, shapes, value, f, g, solved):
    """Violation, scale and gap of each solved problem, one dense problem at a time."""
    out, ai, bi, ci = [], 0, 0, 0
    for k, (rows, cols) in enumerate(shapes):
        fk, gk, ak, bk = f[ai : ai + rows], g[bi : bi + cols], a[ai : ai + rows], b[bi : bi + cols]
        ck = cost[ci : ci + rows * cols].reshape(rows, cols)
        if solved[k]:
            scale = max(np.abs(ck).max(), np.abs(fk).max(), np.abs(gk).max())
            out.append(((fk[:, None] + gk[None, :] - ck).max(), scale, abs(value[k] - ak @ fk - bk @ gk)))
        ai, bi, ci = ai + rows, bi + cols, ci + rows * cols
    return [np.array(column) for column in zip(*out)]


@pytest.mark.parametrize("uniform", [True, False])
def test_certificate_terms_equal_a_problem_by_problem_check(uniform):
    from graphcurv.transport.exact import _certificate_terms

    rng = np.random.default_rng(3)
    shapes = [(4, 5)] * 6 if uniform else [(4, 5), (2, 7), (4, 5), (1, 3), (6, 2), (4, 5)]
    rows, cols = np.array(shapes).T
    ptr = lambda sizes: np.r_[0, np.cumsum(sizes)]  # noqa: E731
    a, b, cost = rng.random(rows.sum()), rng.random(cols.sum()), rng.random((rows * cols).sum())
    f, g, value = rng.normal(size=a.size), rng.normal(size=b.size), rng.random(len(shapes))
    solved = np.array([True, False, True, True, False, True])
    arrays = (a, b, cost, ptr(rows), ptr(cols), ptr(rows * cols))
    got = _certificate_terms(arrays, value, f, g, solved)
    want = _explicit_certificate_terms(a, b, cost, shapes, value, f, g, solved)
    for x, y in zip(got, want):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-14)


@pytest.mark.parametrize("fault", ["value", "duals"])
def test_a_wrong_optimum_of_a_bordered_batch_fails_the_certificate(monkeypatch, fault):
    from graphcurv.transport import exact as exact_module

    real = exact_module._emd_c

    def wrong(a, b, cost, *args):
        plan, value, f, g, code = real(a, b, cost, *args)
        if fault == "value":
            return plan, value + 0.1, f, g, code
        f = f.copy()
        f[0] += 1.0  # infeasible where f_0 + g_j was tight; the gap stays zero
        return plan, value + a[0], f, g, code

    rng = np.random.default_rng(5)
    p, s, n = 4, 5, 3
    problems = BorderedProblems(
        0.5, np.full(p, 0.5 / p), np.full(s, 0.5 / s), rng.random((p, s)) + 1, rng.random(n) + 1,
        rng.random((n, s)) + 1, rng.random((n, p)) + 1,
    )  # fmt: skip
    monkeypatch.setattr(exact_module, "_emd_c", wrong)
    with pytest.raises(GraphcurvError, match="dual violation" if fault == "duals" else "certificate"):
        exact_module._solve_bordered(problems, True, 1e-9)
