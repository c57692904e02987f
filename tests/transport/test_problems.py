import torch

from graphcurv.transport.problems import TransportProblems


def _three():
    return TransportProblems.from_dense(
        [
            (
                torch.tensor([1.0], dtype=torch.float64),
                torch.tensor([0.25, 0.75], dtype=torch.float64),
                torch.tensor([[1.0, 2.0]], dtype=torch.float64),
            ),
            (
                torch.tensor([0.5, 0.5], dtype=torch.float64),
                torch.tensor([1.0], dtype=torch.float64),
                torch.tensor([[0.0], [3.0]]),
            ),
            (
                torch.tensor([0.2, 0.8], dtype=torch.float64),
                torch.tensor([0.6, 0.4], dtype=torch.float64),
                torch.tensor([[0.0, 1.0], [1.0, 0.0]]),
            ),
        ]
    )


def test_ragged_layout_has_no_padding():
    p = _three()
    assert p.sizes().tolist() == [[1, 2], [2, 1], [2, 2]]
    assert p.cost.numel() == 2 + 2 + 4
    a, b, m = p.dense(2)
    assert m.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert a.tolist() == [0.2, 0.8] and b.tolist() == [0.6, 0.4]


def test_select_reorders_and_subsets():
    p = _three()
    q = p.select(torch.tensor([2, 0]))
    assert q.sizes().tolist() == [[2, 2], [1, 2]]
    assert q.dense(1)[2].tolist() == [[1.0, 2.0]]
    assert q.dense(0)[0].tolist() == [0.2, 0.8]


def _bordered(rng, p: int, s: int, n: int, beta: float = 0.1):
    """Random bordered problems whose shared duals (u, v) come from ot.emd on the block."""
    import numpy as np
    import ot

    from graphcurv.transport.problems import BorderedProblems

    mu, nu = rng.random(p), rng.random(s)
    mu, nu = beta * mu / mu.sum(), beta * nu / nu.sum()
    block = rng.random((p, s)) * 3 + 1
    _plan, log = ot.emd(mu / beta, nu / beta, block, log=True)
    u = np.asarray(log["u"])
    v = (block - u[:, None]).min(axis=0)  # exactly feasible
    rows, cols, corner = rng.random((n, s)) * 3 + 1, rng.random((n, p)) * 3 + 1, rng.random(n) + 0.5
    return BorderedProblems(1 - beta, mu, nu, block, corner, rows, cols, u, v)


def test_warm_duals_are_feasible_and_the_best_level_duals():
    """f_i + g_j <= C_ij on every entry of every problem; their value is a lower bound on
    ot.emd2's W1 and no other theta of the same form does better (checked on a grid)."""
    import numpy as np
    import ot

    rng = np.random.default_rng(3)
    for p, s in [(3, 7), (8, 2), (12, 12)]:
        problems = _bordered(rng, p, s, n=6)
        f, g = problems.warm_duals()
        a, b, cost, *_ = problems.packed()
        cost = cost.reshape(problems.num_problems, 1 + p, 1 + s)
        a, b = a.reshape(-1, 1 + p), b.reshape(-1, 1 + s)
        for e in range(problems.num_problems):
            assert (f[e][:, None] + g[e][None, :] <= cost[e] + 1e-12).all()
            value = a[e] @ f[e] + b[e] @ g[e]
            assert value <= ot.emd2(a[e], b[e], cost[e]) + 1e-12
            d, u, v = problems.corner[e], problems.u, problems.v
            for theta in np.linspace(-5.0, 8.0, 131):
                other_f = np.r_[theta, np.minimum(u, problems.cols[e] - d + theta)]
                other_g = np.r_[d - theta, np.minimum(v, problems.rows[e] - theta)]
                assert a[e] @ other_f + b[e] @ other_g <= value + 1e-12


def test_warm_duals_need_the_shared_duals():
    import numpy as np
    import pytest

    from graphcurv.transport.problems import BorderedProblems

    one = np.ones(1)
    with pytest.raises(ValueError, match="shared problem's duals"):
        BorderedProblems(0.5, one / 2, one / 2, np.ones((1, 1)), one, np.ones((1, 1)), np.ones((1, 1))).warm_duals()
