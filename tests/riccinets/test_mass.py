import itertools

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import scatter

from graphcurv.curvature import ollivier_ricci
from graphcurv.errors import GraphcurvError
from graphcurv.riccinets.mass import riccinets_measure, riccinets_node_mass
from graphcurv.riccinets.wiring import random_dag
from tests.riccinets.reference import pot_directed_curvature

# node 2 has in- and out-degree 2: the public code's failing case at (alpha, beta, delta) = (0.3, 0.5, 0.2)
HAND = torch.tensor([[0, 0, 1, 2, 2], [1, 2, 2, 3, 4]])
GRID = (0.0, 0.3, 0.5, 1.0)


def public_code_hub_mass(n_in, n_out, alpha, beta, delta):
    """The node's own mass in the public RicciNets code (test_mass_calculator.py), for comparison."""
    return 1 - beta * (1 - alpha) + (n_out + n_in) * (n_out / n_in) * delta * (1 - 1 / n_in)


def test_public_formula_fails_where_graphcurv_is_valid():
    assert public_code_hub_mass(2, 2, 0.3, 0.5, 0.2) == pytest.approx(1.05)  # > 1: neighbours get -0.025 each
    measure = riccinets_measure(HAND, 5, beta=0.5, gamma=0.0, delta=0.2)
    self_in, mass_in = measure(HAND, None, 5, alpha=0.3, side="in")
    # predecessors of node 2: node 0 (in 0, out 2) raw 0.5/2 = 0.25; node 1 (in 1, out 1) raw 0.5/2 + 0.2 = 0.45
    assert self_in[2].item() == pytest.approx(0.3)
    assert mass_in[1].item() == pytest.approx(0.7 * 0.25 / 0.70)
    assert mass_in[2].item() == pytest.approx(0.7 * 0.45 / 0.70)
    # successors 3 and 4 (in 1, out 0, deg 1): raw 0.5 each -> 0.35 each
    self_out, mass_out = measure(HAND, None, 5, alpha=0.3, side="out")
    assert mass_out[3:].tolist() == pytest.approx([0.35, 0.35])


def test_raw_node_mass_by_hand():
    raw = riccinets_node_mass(HAND, 5, beta=1.0, gamma=0.5, delta=2.0)
    # node: (in, out, deg) -> 1/deg + 0.5 in + 2 out/in (0 when in = 0)
    expected = [1 / 2, 1 / 2 + 0.5 + 2.0, 1 / 4 + 1.0 + 2.0, 1 + 0.5, 1 + 0.5]
    assert raw.tolist() == pytest.approx(expected)


@pytest.mark.parametrize("graph", [Data(edge_index=HAND, num_nodes=5), random_dag(24, "ws", k=4, p=0.75, seed=2)])
def test_masses_are_probability_measures_over_the_grid(graph):
    ei, n = graph.edge_index, graph.num_nodes
    has = {
        "out": scatter(torch.ones(ei.size(1)), ei[0], dim_size=n) > 0,
        "in": scatter(torch.ones(ei.size(1)), ei[1], dim_size=n) > 0,
    }
    for alpha, beta, gamma, delta in itertools.product(GRID, repeat=4):
        measure = riccinets_measure(ei, n, beta=beta, gamma=gamma, delta=delta)
        for side, center in (("out", ei[0]), ("in", ei[1])):
            self_mass, edge_mass = measure(ei, None, n, alpha=alpha, side=side)
            assert bool((self_mass >= 0).all()) and bool((edge_mass >= 0).all())
            total = self_mass + scatter(edge_mass, center, dim_size=n)
            assert total.tolist() == pytest.approx([1.0] * n, abs=1e-12)
            expected_self = torch.where(has[side], torch.tensor(alpha, dtype=torch.float64), torch.tensor(1.0))
            assert self_mass.tolist() == pytest.approx(expected_self.tolist())


def test_negative_hyperparameters_are_refused():
    with pytest.raises(GraphcurvError, match="beta must lie"):
        riccinets_node_mass(HAND, 5, beta=-0.1, gamma=0.0, delta=0.0)


@pytest.mark.parametrize(
    ("alpha", "beta", "gamma", "delta"),
    [(0.5, 0.5, 0.0, 0.5), (0.3, 0.5, 0.0, 0.2), (0.0, 1.0, 0.3, 0.0), (0.8, 0.0, 0.0, 1.0)],
)
def test_directed_curvature_matches_pot(alpha, beta, gamma, delta):
    graph = random_dag(16, "ws", k=4, p=0.5, seed=7)
    ei, n = graph.edge_index, graph.num_nodes
    measure = riccinets_measure(ei, n, beta=beta, gamma=gamma, delta=delta)
    kappa = ollivier_ricci(graph, alpha, measure=measure, directed=True, workers=1).edge_curvature
    reference = pot_directed_curvature(ei, n, alpha, beta, gamma, delta)
    assert torch.allclose(kappa, reference, atol=1e-9)
