from types import SimpleNamespace

import networkx as nx
import pytest
import torch
from torch_geometric.data import Data

import graphcurv.flow
from graphcurv.analyses.communities import adjusted_rand_index, community_sweep, ricci_communities
from graphcurv.errors import GraphcurvError
from graphcurv.graphs import from_networkx

CLIQUES = [0] * 5 + [1] * 5


def barbell() -> Data:
    """Two 5-cliques joined by the bridge 4-5."""
    return from_networkx(nx.barbell_graph(5, 0))


def is_bridge(data: Data) -> torch.Tensor:
    u, v = data.edge_index
    return ((u == 4) & (v == 5)) | ((u == 5) & (v == 4))


def test_two_cliques_and_a_bridge():
    data = barbell()
    found = ricci_communities(data, iterations=10)
    flowed = found.flowed_weight
    bridge = is_bridge(data)
    # the flow stretches the bridge (negative curvature) and shrinks the clique edges
    assert flowed[bridge].min() > 1.0 > flowed[~bridge].max()
    assert flowed[bridge].min() == flowed.max()
    assert found.flow is not None and found.flow.iterations >= 1
    assert torch.equal(found.flowed_weight, found.flow.edge_weight.cpu().double())
    assert adjusted_rand_index(CLIQUES, found.labels) == 1.0 and found.num_communities == 2
    # Newman modularity of the two cliques, by hand: m = 21, 10 edges and degree sum 21 in each
    assert found.modularity == pytest.approx(2 * (10 / 21 - 0.25))
    assert found.cutoff == found.sweep.best_cutoff and found.cutoff < flowed[bridge].min()


def test_flowed_weights_skip_the_flow(monkeypatch):
    def no_flow(*args, **kwargs):
        raise AssertionError("the flow must not run when flowed weights are given")

    monkeypatch.setattr(graphcurv.flow, "ricci_flow", no_flow)
    data = barbell()
    flowed = torch.where(is_bridge(data), 5.0, 0.5)
    found = ricci_communities(data, flowed=flowed, cutoff_step=0.5)
    assert found.flow is None and found.labels.tolist() == CLIQUES
    assert found.sweep.rows() == community_sweep(data, flowed, cutoff_step=0.5).rows()
    # a flow result (anything with edge_weight) is kept as the result's flow
    result = SimpleNamespace(edge_weight=flowed, iterations=3)
    assert ricci_communities(data, flowed=result).flow is result
    with pytest.raises(GraphcurvError, match="no effect"):
        ricci_communities(data, flowed=flowed, step=0.5)


def test_every_component_is_split():
    G = nx.disjoint_union(nx.barbell_graph(5, 0), nx.barbell_graph(5, 0))
    data = from_networkx(G)
    found = ricci_communities(data, iterations=10)
    assert adjusted_rand_index([0] * 5 + [1] * 5 + [2] * 5 + [3] * 5, found.labels) == 1.0
    assert found.num_communities == 4


def test_bad_parameters_fail_before_the_flow(monkeypatch):
    def no_flow(*args, **kwargs):
        raise AssertionError("bad parameters must be rejected before the flow runs")

    monkeypatch.setattr(graphcurv.flow, "ricci_flow", no_flow)
    with pytest.raises(GraphcurvError, match="cutoff_step must be a positive number"):
        ricci_communities(barbell(), cutoff_step=0)
    with pytest.raises(GraphcurvError, match="cutoff_step must be a positive number"):
        ricci_communities(barbell(), cutoff_step=-0.5)
    with pytest.raises(GraphcurvError, match="empty"):
        ricci_communities(Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=4))


def test_bad_flow_parameters_are_the_flows_errors():
    with pytest.raises(GraphcurvError, match="iterations"):
        ricci_communities(barbell(), iterations=-1)
    with pytest.raises(GraphcurvError, match="flowed weights must hold one value per edge"):
        ricci_communities(barbell(), flowed=torch.ones(3))
