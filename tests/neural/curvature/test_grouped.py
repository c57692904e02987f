"""The grouped engine: identical values to POT's per-edge ``ot.emd2`` reference, dense and conv,
ReLU (dead neurons) and Tanh (full supports), and its certificates really settle edges."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from graphcurv.neural import export
from graphcurv.neural.curvature import neural_chain, neural_curvature, reference_curvature
from graphcurv.neural.curvature.certificates import edge_bounds, shared_problem
from graphcurv.neural.curvature.grouped import EngineStats, grouped_geometry, grouped_sample_curvature
from graphcurv.neural.curvature.groups import side_classes
from graphcurv.neural.curvature.sample import chain_geometry, sample_curvature
from graphcurv.transport.exact import ExactSolverPool


def _nets():
    torch.manual_seed(0)
    dense = nn.Sequential(
        nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 6), nn.ReLU(), nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3)
    )
    tanh = nn.Sequential(
        nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2)
    )
    conv = nn.Sequential(
        nn.Conv2d(1, 2, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(2, 4, 2, groups=2, dilation=1),
        nn.ReLU(),
        nn.Conv2d(4, 3, 2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(12, 3),
    )
    return [(dense, torch.randn(3, 5)), (tanh, torch.randn(2, 4)), (conv, torch.randn(2, 1, 7, 7))]


@pytest.mark.parametrize("case", range(3))
def test_grouped_equals_per_edge_reference(case):
    model, inputs = _nets()[case]
    graph = export(model, inputs)
    chain = neural_chain(graph)
    grouped = grouped_geometry(chain_geometry(chain))
    stats = EngineStats()
    position = {}
    for k, link in enumerate(chain.links):
        for e, (s, d) in enumerate(zip(link.src.tolist(), link.dst.tolist())):
            position[(s + chain.starts[k], d + chain.starts[k + 1])] = (k, e)
    pairs = graph.edge_index.t().tolist()
    with ExactSolverPool(1) as pool:
        for sample in range(inputs.size(0)):
            kappa, _, _ = grouped_sample_curvature(grouped, graph.activation[:, sample], 0.9, pool.submit, stats=stats)
            expected = reference_curvature(graph, sample, alpha=0.9)
            for e, value in expected.items():
                k, local = position[tuple(pairs[e])]
                assert float(kappa[k][local]) == pytest.approx(value, abs=1e-9)
    assert stats.certified > 0  # the shared-problem certificates settle some edges without an LP


def test_classes_by_neighbour_set():
    model, inputs = _nets()[2]
    geometry = chain_geometry(neural_chain(export(model, inputs)))
    # conv 2->4 with groups=2 on a 4x4 map -> 3x3: a target's predecessors are its group's 2 x 2 x 1
    # window, so classes = positions x groups = 9 x 2.
    assert side_classes(geometry.before[2]).count == 18


def _edge_w1(centre, mu, nu, d, row, col, block):
    """The edge's own LP, by POT: mass ``centre`` on i and j, mu on P, nu on S."""
    import ot

    cost = np.block([[np.array([[d]]), row[None, :]], [col[:, None], block]])
    return ot.emd2(np.concatenate([[centre], mu]), np.concatenate([[centre], nu]), cost)


# (mu, nu, d, D2[i, S], D2[P, j], D3[P, S]) with centre 0.9, by hand:
# stay: P -> S is cheap, detours through i and j are long: W1 = 0.9 * 1 + 0.1 * 1 = 1.0 (t = 0);
# reroute: P -> S is long, detours are short: W1 = 0.8 * 1 + 0.1 + 0.1 = 1.0 (t = 1 - alpha);
# swap: p1 -> s1 stays (free), p2 -> s2 is rerouted: W1 = 0.85 + 0.05 + 0.05 = 0.95, below both plans (1.4),
#   and exactly the swap plan (reroute the arcs of the shared plan that gain on their own);
# neither: the shared plan is p1 -> s1, p2 -> s2 (0.6); the optimum reroutes along a chain,
#   i -> s1, p1 -> s2, p2 -> j: W1 = 0.85 + 0.1 + 0.3 + 0.15 = 1.4, below every plan that
#   reroutes single arcs (1.5): an LP is needed.
CASES = {
    "stay": ([0.1], [0.1], 1.0, [5.0], [5.0], [[1.0]], 1.0),
    "reroute": ([0.1], [0.1], 1.0, [1.0], [1.0], [[10.0]], 1.0),
    "swap": ([0.05, 0.05], [0.05, 0.05], 1.0, [5.0, 1.0], [5.0, 1.0], [[0.0, 10.0], [10.0, 10.0]], 0.95),
    "neither": ([0.05, 0.05], [0.05, 0.05], 1.0, [2.0, 6.0], [8.0, 3.0], [[4.0, 6.0], [7.0, 8.0]], 1.4),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_certificate_case_against_emd2(case):
    mu, nu, d, row, col, block, by_hand = (np.asarray(v, dtype=np.float64) for v in CASES[case])
    exact = _edge_w1(0.9, mu, nu, float(d), row, col, block)
    assert exact == pytest.approx(float(by_hand), abs=1e-12)
    shared = shared_problem(mu, nu, block)
    one = np.zeros(1, dtype=np.int64)
    bounds = edge_bounds(0.9, shared, mu, nu, row[None, :], col[:, None], one, one, np.array([d]), block=block)
    assert bounds.lower[0] <= exact + 1e-12 and exact <= bounds.upper[0] + 1e-12
    certified = bounds.upper[0] - bounds.lower[0] < 1e-12
    assert certified == (case != "neither")
    if certified:
        assert bool(bounds.stay[0]) == (case == "stay") and bool(bounds.partial[0]) == (case == "swap")
    crude = edge_bounds(0.9, shared, mu, nu, row[None, :], col[:, None], one, one, np.array([d]))
    assert (crude.upper[0] - crude.lower[0] < 1e-12) == (case in ("stay", "reroute"))  # without the sharper bounds


def test_bounds_enclose_emd2_on_random_groups():
    rng = np.random.default_rng(3)
    for _ in range(40):
        p, s, n = rng.integers(1, 5), rng.integers(1, 5), 6
        mu, nu = rng.random(p), rng.random(s)
        mu, nu = 0.1 * mu / mu.sum(), 0.1 * nu / nu.sum()
        block = rng.random((p, s)) * 3
        rows, cols = rng.random((n, s)) * 3, rng.random((p, n)) * 3
        d = rng.random(n) + 0.2
        shared = shared_problem(mu, nu, block)
        ids = np.arange(n)
        crude = edge_bounds(0.9, shared, mu, nu, rows, cols, ids, ids, d)
        sharp = edge_bounds(0.9, shared, mu, nu, rows, cols, ids, ids, d, block=block)
        assert bool((sharp.upper <= crude.upper + 1e-15).all() and (sharp.lower >= crude.lower - 1e-15).all())
        for e in range(n):
            exact = _edge_w1(0.9, mu, nu, d[e], rows[e], cols[:, e], block)
            for bounds in (crude, sharp):
                assert bounds.lower[e] - 1e-12 <= exact <= bounds.upper[e] + 1e-12


def test_every_case_occurs_in_a_real_net_and_values_match():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 10), nn.ReLU(), nn.Linear(10, 3)
    )
    inputs = torch.randn(3, 8)
    graph = export(model, inputs)
    stats = EngineStats()
    geometry = chain_geometry(neural_chain(graph))
    grouped = grouped_geometry(geometry)
    with ExactSolverPool(1) as pool:
        for sample in range(inputs.size(0)):
            activation = graph.activation[:, sample]
            fast, _, _ = grouped_sample_curvature(grouped, activation, 0.9, pool.submit, stats=stats)
            per_edge, _, _ = sample_curvature(geometry, activation, 0.9, pool.submit)
            for a, b in zip(fast, per_edge):
                torch.testing.assert_close(a, b, rtol=0, atol=1e-9)
    reroute = stats.certified - stats.stay - stats.partial
    assert stats.stay > 0 and stats.partial > 0 and reroute > 0 and stats.solved > 0


def _conv_net():
    torch.manual_seed(4)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(3, 4, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, 2, dilation=2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(16, 3),
    )
    return export(model, torch.randn(4, 1, 8, 8))


def test_minima_with_skips_equal_solving_every_problem():
    graph = _conv_net()
    every = neural_curvature(graph, engine="per-edge", mean=True, workers=1)
    edges = neural_curvature(graph, workers=1)
    params = neural_curvature(graph, exact="parameters", workers=1)
    averaged = neural_curvature(graph, mean=True, workers=1)
    for k, expected in enumerate(every.edge_score):
        torch.testing.assert_close(edges.edge_score[k], expected, rtol=0, atol=1e-9)
        assert bool((params.edge_score[k] <= expected + 1e-9).all())  # skipped edges keep lower bounds
        torch.testing.assert_close(averaged.edge_mean[k], every.edge_mean[k], rtol=0, atol=1e-9)
    assert edges.edge_mean is None
    for name, expected in every.param_scores.items():
        for run in (edges, params, averaged):
            torch.testing.assert_close(run.param_scores[name], expected, rtol=0, atol=1e-9)
    assert any(bool((p != e).any()) for p, e in zip(params.edge_score, every.edge_score))  # skips happened


def test_best_first_rounds_keep_every_entrys_minimum_with_fewer_lps():
    graph = _conv_net()
    grouped = grouped_geometry(chain_geometry(neural_chain(graph)))
    chain = grouped.geometry.chain
    fewer = 0
    with ExactSolverPool(1) as pool:
        for sample in range(graph.activation.size(1)):
            every, entry = EngineStats(), EngineStats()
            full, _, _ = grouped_sample_curvature(grouped, graph.activation[:, sample], 0.9, pool.submit, stats=every)
            best, _, _ = grouped_sample_curvature(
                grouped, graph.activation[:, sample], 0.9, pool.submit, stats=entry, per_parameter=True
            )
            for k, link in enumerate(chain.links):
                if link.param < 0:
                    continue
                size = int(link.param_index.max()) + 1
                low = [
                    t.new_full((size,), np.inf).scatter_reduce(0, link.param_index, t, "amin")
                    for t in (full[k], best[k])
                ]
                assert torch.equal(low[0], low[1])  # the minimum of every entry, exactly
                assert bool((best[k] <= full[k] + 1e-12).all())  # skipped edges hold lower bounds
            assert entry.solved + entry.skipped == every.solved
            fewer += entry.solved < every.solved
    assert fewer > 0
