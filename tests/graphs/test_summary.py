import math
import statistics
from pathlib import Path

import networkx as nx
import pytest
import torch
from torch_geometric.data import Data

from graphcurv.graphs.convert import from_networkx
from graphcurv.graphs.generators import erdos_renyi
from graphcurv.graphs.io import read_edgelist
from graphcurv.graphs.summary import GraphSummary, graph_summary

FIXTURE = Path(__file__).resolve().parents[2] / "datasets" / "graphs" / "two_triangles.txt"


def test_fixture_summary_hand_counted():
    s = graph_summary(read_edgelist(FIXTURE))
    assert (s.nodes, s.edges, s.directed, s.weighted) == (6, 7, False, True)
    assert (s.weight_min, s.weight_max) == (1.0, 2.5)
    assert (s.components, s.largest_component, s.isolated_nodes) == (1, 6, 0)
    assert (s.degree_min, s.degree_max, s.degree_median) == (2, 3, 2.0)
    assert s.degree_mean == pytest.approx(14 / 6)
    assert s.groups is None and s.name == "two_triangles.txt"


def test_undirected_summary_matches_networkx():
    data = erdos_renyi(300, mean_degree=1.2, seed=3)  # many components, isolated nodes
    G = nx.fast_gnp_random_graph(300, 1.2 / 299, seed=3)
    s = graph_summary(data)
    degrees = [d for _, d in G.degree()]
    assert s.nodes == G.number_of_nodes() and s.edges == G.number_of_edges()
    assert s.components == nx.number_connected_components(G)
    assert s.largest_component == max(len(c) for c in nx.connected_components(G))
    assert s.isolated_nodes == nx.number_of_isolates(G)
    assert s.isolated_nodes > 0 and s.components > 1
    assert (s.degree_min, s.degree_max) == (min(degrees), max(degrees))
    assert s.degree_mean == pytest.approx(statistics.mean(degrees))
    assert s.degree_median == statistics.median(degrees)
    assert not s.weighted and not s.directed


def test_directed_summary_matches_networkx():
    G = nx.gnm_random_graph(120, 150, seed=8, directed=True)
    s = graph_summary(from_networkx(G))
    degrees = [d for _, d in G.degree()]  # in + out
    assert s.directed and s.edges == 150
    assert s.components == nx.number_weakly_connected_components(G)
    assert s.largest_component == max(len(c) for c in nx.weakly_connected_components(G))
    assert s.isolated_nodes == nx.number_of_isolates(G)
    assert (s.degree_min, s.degree_max) == (min(degrees), max(degrees))
    assert s.degree_median == statistics.median(degrees)


def test_groups_and_rows():
    data = Data(
        edge_index=torch.tensor([[0, 1], [1, 0]]),
        edge_weight=torch.tensor([1.0, 1.0], dtype=torch.float64),
        num_nodes=3,
        y=torch.tensor([0, 2, 2]),
        y_name="value",
        name="tiny",
    )
    s = graph_summary(data)
    assert s.groups == 2 and s.isolated_nodes == 1 and s.components == 2
    rows = dict(s.as_rows())
    assert rows["nodes"] == 3 and rows["edges"] == 1 and rows["name"] == "tiny"
    assert rows["ground-truth groups"] == "2 (from value)"
    assert rows["components"] == 2


def test_rows_for_directed_graph_without_groups():
    s = graph_summary(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2))
    rows = dict(s.as_rows())
    assert rows["components (weak)"] == 1
    assert rows["ground-truth groups"] == "none"
    assert rows["name"] == "unnamed"


def test_summary_is_frozen():
    s = graph_summary(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2))
    assert isinstance(s, GraphSummary)
    with pytest.raises(AttributeError):
        s.nodes = 5
    assert not math.isnan(s.degree_mean)
