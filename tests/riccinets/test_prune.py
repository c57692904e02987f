import pytest
import torch

from graphcurv.curvature import ollivier_ricci
from graphcurv.errors import GraphcurvError
from graphcurv.riccinets.mass import riccinets_measure
from graphcurv.riccinets.prune import ricci_prune
from graphcurv.riccinets.wiring import random_dag
from tests.riccinets.reference import pot_directed_curvature

HYPER = [(0.5, 0.5, 0.0, 0.5), (0.3, 0.5, 0.0, 0.2), (0.0, 1.0, 0.2, 0.0)]


@pytest.mark.parametrize(("alpha", "beta", "gamma", "delta"), HYPER)
def test_flow_keeps_mean_weight_one_and_cuts_below_the_mean(alpha, beta, gamma, delta):
    graph = random_dag(16, "ws", k=4, p=0.75, seed=1)
    result = ricci_prune(graph, alpha=alpha, beta=beta, gamma=gamma, delta=delta, iterations=8, dangling="repair")
    assert result.weight.mean().item() == pytest.approx(1.0, abs=1e-12)
    assert result.threshold == pytest.approx(1.0, abs=1e-12)
    expected = (result.weight >= result.threshold * (1 - 1e-9)).nonzero().flatten()
    assert result.pruned.kept_edges.tolist() == expected.tolist()
    assert 0 < result.pruned.kept_edges.numel() < graph.edge_index.size(1)


def test_one_flow_step_matches_the_update_by_hand():
    """w1 = (1 - kappa0) d0 rescaled to sum |E|, with kappa0 from POT; then kappa1 from the engine at w1."""
    graph = random_dag(12, "ws", k=4, p=0.5, seed=4)
    ei, n = graph.edge_index, graph.num_nodes
    kappa0 = pot_directed_curvature(ei, n, 0.4, 0.5, 0.0, 0.5)
    w1 = 1.0 - kappa0  # d0 = 1 on every edge of an unweighted DAG (src -> dst is a shortest path)
    w1 = w1 * ei.size(1) / w1.sum()
    result = ricci_prune(graph, alpha=0.4, beta=0.5, gamma=0.0, delta=0.5, iterations=1, dangling="repair")
    assert torch.allclose(result.weight, w1, atol=1e-12)
    graph.edge_weight = w1
    measure = riccinets_measure(ei, n, beta=0.5, gamma=0.0, delta=0.5)
    kappa1 = ollivier_ricci(graph, 0.4, measure=measure, directed=True, workers=1).edge_curvature
    assert torch.allclose(result.curvature, kappa1, atol=1e-9)


def test_bad_inputs():
    graph = random_dag(8, "ws", k=2, p=0.0, seed=0)
    with pytest.raises(GraphcurvError, match="alpha must lie"):
        ricci_prune(graph, alpha=1.5)
    graph.edge_index = graph.edge_index[:, :0]
    with pytest.raises(GraphcurvError, match="no edge"):
        ricci_prune(graph)


def test_top_level_names():
    import graphcurv
    from graphcurv.riccinets.wiring import stage_graphs

    assert graphcurv.ricci_prune is ricci_prune and graphcurv.stage_graphs is stage_graphs
