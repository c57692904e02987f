import networkx as nx
import pytest
import torch
from support import requires_graph_tool
from torch_geometric.data import Data

from graphcurv.analyses.communities import adjusted_rand_index, louvain_labels, sbm_labels
from graphcurv.analyses.communities import baselines as baselines_module
from graphcurv.errors import GraphcurvError, MissingDependencyError
from graphcurv.graphs import from_networkx, load_graph


def as_sets(labels: torch.Tensor) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for node, label in enumerate(labels.tolist()):
        groups.setdefault(label, set()).add(node)
    return {frozenset(g) for g in groups.values()}


def test_louvain_finds_the_two_cliques():
    labels = louvain_labels(from_networkx(nx.barbell_graph(6, 0)))
    assert as_sets(labels) == {frozenset(range(6)), frozenset(range(6, 12))}
    assert labels.dtype == torch.long and sorted(set(labels.tolist())) == [0, 1]


def test_louvain_is_networkx_louvain_on_the_topology():
    data = load_graph("karate-weighted")  # lengths must not act as affinities
    G = nx.Graph()
    G.add_nodes_from(range(34))
    G.add_edges_from(nx.karate_club_graph().edges())
    expected = nx.community.louvain_communities(G, seed=3)
    assert as_sets(louvain_labels(data, seed=3)) == {frozenset(c) for c in expected}


def test_louvain_keeps_isolated_nodes_and_components():
    G = nx.disjoint_union(nx.complete_graph(4), nx.complete_graph(3))
    G.add_node(7)
    assert as_sets(louvain_labels(from_networkx(G))) == {frozenset(range(4)), frozenset({4, 5, 6}), frozenset({7})}


def test_louvain_bad_input():
    with pytest.raises(GraphcurvError, match="resolution"):
        louvain_labels(from_networkx(nx.path_graph(3)), resolution=0)
    with pytest.raises(GraphcurvError, match="empty"):
        louvain_labels(Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=3))


def test_sbm_recovers_planted_blocks():
    requires_graph_tool()
    G = nx.planted_partition_graph(3, 20, 0.6, 0.01, seed=3)
    truth = [v // 20 for v in range(60)]
    labels = sbm_labels(from_networkx(G), seed=0)
    assert labels.shape == (60,) and labels.dtype == torch.long
    assert adjusted_rand_index(truth, labels) == 1.0
    assert sorted(set(labels.tolist())) == [0, 1, 2]


def test_sbm_bad_attempts():
    with pytest.raises(GraphcurvError, match="attempts"):
        sbm_labels(from_networkx(nx.path_graph(3)), attempts=0)


def test_sbm_without_graph_tool(monkeypatch):
    def missing():
        raise MissingDependencyError("graph-tool is not importable: install Debian's python3-graph-tool")

    monkeypatch.setattr(baselines_module, "import_graph_tool", missing)
    with pytest.raises(MissingDependencyError, match="graph-tool"):
        sbm_labels(from_networkx(nx.path_graph(3)))
