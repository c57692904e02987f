import networkx as nx
import pytest
import torch
from orc_reference import data_from_networkx

from graphcurv.curvature.idleness import lin_lu_yau, ollivier_ricci_alphas
from graphcurv.curvature.ollivier import ollivier_ricci
from graphcurv.errors import GraphcurvError

ALPHAS = [0.0, 0.05, 0.2, 0.5, 0.9, 1.0]


@pytest.mark.parametrize(
    "graph", [nx.karate_club_graph(), nx.barabasi_albert_graph(60, 2, seed=1), nx.cycle_graph(7)]
)
def test_sweep_equals_one_solve_per_alpha(graph):
    data, _ = data_from_networkx(graph, weight=None)
    sweep = ollivier_ricci_alphas(data, ALPHAS)
    for row, alpha in zip(sweep, ALPHAS):
        direct = ollivier_ricci(data, alpha=alpha).edge_curvature
        assert (row - direct).abs().max().item() <= 1e-12


def test_lin_lu_yau_by_hand():
    # Complete graph K_n: kappa_LLY = n / (n - 1) (from kappa_1/2 = 1/2 + 1/(2(n-1))).
    data, _ = data_from_networkx(nx.complete_graph(5), weight=None)
    assert torch.allclose(lin_lu_yau(data), torch.full((20,), 5 / 4, dtype=torch.float64))


def test_weighted_and_directed_fall_back_to_direct_solves():
    G = nx.karate_club_graph()
    weighted, _ = data_from_networkx(G)  # integer interaction weights as lengths
    sweep = ollivier_ricci_alphas(weighted, [0.2, 0.6])
    assert torch.allclose(sweep[1], ollivier_ricci(weighted, alpha=0.6).edge_curvature)
    with pytest.raises(GraphcurvError, match="equal edge lengths"):
        lin_lu_yau(weighted)
    with pytest.raises(GraphcurvError, match="at least one"):
        ollivier_ricci_alphas(weighted, [])
