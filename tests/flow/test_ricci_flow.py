"""Ricci flow: GraphRicciCurvature's flow, hand-checkable graphs, components, surgery, errors."""

from __future__ import annotations

import networkx as nx
import pytest
import torch
from orc_reference import data_from_networkx
from support import requires_module
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from graphcurv import arrays as xp
from graphcurv.curvature import ollivier_ricci
from graphcurv.errors import GraphcurvError
from graphcurv.flow import cut_longest, ricci_flow


def _grc_flow(G: nx.Graph, iterations: int, alpha: float = 0.5):
    requires_module("GraphRicciCurvature")
    from GraphRicciCurvature.OllivierRicci import OllivierRicci

    orc = OllivierRicci(G, alpha=alpha, method="OTD", proc=1, verbose="ERROR")
    orc.compute_ricci_flow(iterations=iterations)
    return orc.G


def _two_cliques(size: int = 5) -> tuple[Data, int]:
    """Two K_size joined by one bridge (size-1, size); returns the data and the bridge's first index."""
    G = nx.barbell_graph(size, 0)
    data, nodes = data_from_networkx(G, weight=None)
    src, dst = data.edge_index
    bridge = int(torch.nonzero((src == size - 1) & (dst == size))[0])
    return data, bridge


def test_flow_matches_graphriccicurvature_on_karate():
    G = nx.karate_club_graph()
    for u, v in G.edges():
        G[u][v].pop("weight", None)  # unweighted start, as GraphRicciCurvature's default
    data, nodes = data_from_networkx(G, weight=None)
    H = _grc_flow(G, iterations=10)
    result = ricci_flow(data, iterations=10)
    pairs = data.edge_index.t().tolist()
    weight = torch.tensor([H[nodes[u]][nodes[v]]["weight"] for u, v in pairs], dtype=torch.float64)
    kappa = torch.tensor([H[nodes[u]][nodes[v]]["ricciCurvature"] for u, v in pairs], dtype=torch.float64)
    assert result.iterations == 10 and not result.converged
    assert torch.allclose(result.edge_weight, weight, atol=1e-6, rtol=0)
    assert torch.allclose(result.edge_curvature, kappa, atol=1e-6, rtol=0)


def test_flow_matches_graphriccicurvature_on_a_weighted_graph():
    G = nx.connected_watts_strogatz_graph(30, 4, 0.3, seed=3)
    generator = torch.Generator().manual_seed(0)
    for u, v in G.edges():
        G[u][v]["weight"] = 0.5 + float(torch.rand(1, generator=generator))
    data, nodes = data_from_networkx(G)
    H = _grc_flow(G, iterations=5)
    result = ricci_flow(data, iterations=5)
    weight = torch.tensor([H[nodes[u]][nodes[v]]["weight"] for u, v in data.edge_index.t().tolist()])
    assert torch.allclose(result.edge_weight, weight.double(), atol=1e-6, rtol=0)


def test_directed_flow_follows_the_directed_curvature():
    G = nx.gnp_random_graph(20, 0.2, seed=3, directed=True)
    data, _ = data_from_networkx(G, weight=None)
    start = ollivier_ricci(data, directed=True)
    expected = data.edge_weight - start.edge_curvature * data.edge_weight
    result = ricci_flow(data, iterations=1, directed=True)
    # One weakly connected component here, so one normalisation.
    assert int(result.component.max()) == 0
    assert torch.allclose(result.edge_weight, expected * expected.numel() / expected.sum(), atol=1e-12)


def test_the_bridge_between_two_cliques_stretches_and_clique_edges_shrink():
    data, bridge = _two_cliques()
    result = ricci_flow(data, iterations=10)
    others = torch.ones(data.edge_index.size(1), dtype=torch.bool)
    others[bridge] = False
    others[(data.edge_index[0] == 5) & (data.edge_index[1] == 4)] = False
    assert result.edge_weight[bridge] > 5.0  # mean is 1; the bridge takes a large share
    assert bool((result.edge_weight[others] < 1.0).all())
    assert result.edge_weight[bridge] == result.edge_weight.max()
    # The bridge is the most negatively curved edge at the start.
    assert int(result.curvature_history[0].argmin()) in {bridge, int(torch.nonzero(~others)[-1])}


def test_one_update_by_hand_for_both_rules():
    data, _ = _two_cliques(4)
    start = ollivier_ricci(data)
    for update, expected in [
        ("ni2019", data.edge_weight - 0.5 * start.edge_curvature * data.edge_weight),
        ("riccinets", (1.0 - start.edge_curvature) * start.distance),
    ]:
        expected = expected * expected.numel() / expected.sum()
        result = ricci_flow(data, iterations=1, step=0.5, update=update)
        assert torch.allclose(result.edge_weight, expected, atol=1e-12)
        after = ollivier_ricci(Data(edge_index=data.edge_index, edge_weight=expected, num_nodes=data.num_nodes))
        assert torch.allclose(result.edge_curvature, after.edge_curvature, atol=1e-12)
        assert torch.allclose(result.curvature_history[0], start.edge_curvature, atol=1e-12)


def test_components_flow_as_if_alone_and_each_keeps_mean_one():
    clique, _ = _two_cliques(4)
    cycle = to_undirected(torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]]))
    n = clique.num_nodes
    both = Data(edge_index=torch.cat([clique.edge_index, cycle + n], dim=1), num_nodes=n + 5)
    together = ricci_flow(both, iterations=4)
    alone = ricci_flow(clique, iterations=4)
    k = clique.edge_index.size(1)
    assert torch.allclose(together.edge_weight[:k], alone.edge_weight, atol=1e-12)
    assert together.edge_weight[k:].sum().item() == pytest.approx(cycle.size(1))
    assert together.component.tolist() == [0] * n + [1] * 5


def test_a_lone_edge_component_is_left_alone():
    # A lone edge has kappa = 1 (both measures coincide), so w - kappa * w = 0; its
    # component is already uniform and keeps length 1 while the rest flows.
    clique, _ = _two_cliques(4)
    n = clique.num_nodes
    lone = torch.tensor([[n, n + 1], [n + 1, n]])
    both = Data(edge_index=torch.cat([clique.edge_index, lone], dim=1), num_nodes=n + 2)
    result = ricci_flow(both, iterations=3)
    alone = ricci_flow(clique, iterations=3)
    k = clique.edge_index.size(1)
    assert torch.allclose(result.edge_weight[:k], alone.edge_weight, atol=1e-12)
    assert result.edge_weight[k:].tolist() == [1.0, 1.0]
    assert result.edge_curvature[k:].tolist() == [1.0, 1.0]


def test_a_vertex_transitive_graph_converges_at_once():
    ring = Data(edge_index=to_undirected(torch.tensor([[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0]])), num_nodes=6)
    result = ricci_flow(ring, iterations=20)
    assert result.converged and result.iterations == 1
    assert result.spread == pytest.approx([0.0, 0.0], abs=1e-12)
    assert torch.allclose(result.edge_weight, torch.ones(12, dtype=torch.float64))


def test_surgery_cuts_the_stretched_bridge():
    data, bridge = _two_cliques()
    result = ricci_flow(data, iterations=8, surgery=cut_longest(0.01), surgery_every=4)
    assert torch.isinf(result.edge_weight[bridge]) and torch.isnan(result.edge_curvature[bridge])
    kept = torch.isfinite(result.edge_weight)
    assert int((~kept).sum()) == 2  # both directions of the bridge only
    assert result.edge_weight[kept].sum().item() == pytest.approx(int(kept.sum()))  # two components, mean 1 each


def test_torch_backend_gives_the_same_flow():
    data, _ = _two_cliques(4)
    expected = ricci_flow(data, iterations=3)
    with xp.torch_backend_on_cpu():
        result = ricci_flow(data, iterations=3)
    assert torch.allclose(result.edge_weight, expected.edge_weight, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"iterations": -1}, "iterations"),
        ({"iterations": 2.5}, "iterations"),
        ({"step": 0.0}, "step"),
        ({"delta": -1.0}, "delta"),
        ({"update": "hamilton"}, "unknown flow update"),
        ({"surgery_every": 0}, "surgery_every"),
        ({"step": 50.0}, "smaller step"),
    ],
)
def test_bad_parameters_are_rejected(kwargs, message):
    data, _ = _two_cliques(4)
    with pytest.raises(GraphcurvError, match=message):
        ricci_flow(data, **kwargs)


def test_an_empty_graph_is_rejected():
    with pytest.raises(GraphcurvError, match="no edges"):
        ricci_flow(Data(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=3))
