import networkx as nx
import pytest
import torch
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError
from graphcurv.riccinets.wiring import check_dag, load_graphs, random_dag, save_graphs, stage_graphs


def test_ws_dag_has_nk_over_2_edges_oriented_low_to_high():
    g = random_dag(32, "ws", k=4, p=0.75, seed=3)
    reference = nx.connected_watts_strogatz_graph(32, 4, 0.75, tries=1000, seed=3)
    assert g.edge_index.size(1) == 64 == reference.number_of_edges()
    assert {tuple(e) for e in g.edge_index.t().tolist()} == {(min(u, v), max(u, v)) for u, v in reference.edges()}
    assert bool((g.edge_index[0] < g.edge_index[1]).all())
    assert nx.is_directed_acyclic_graph(nx.DiGraph(g.edge_index.t().tolist()))


@pytest.mark.parametrize(
    ("generator", "reference"),
    [
        ("er", lambda: nx.erdos_renyi_graph(20, 0.2, seed=5)),
        ("ba", lambda: nx.barabasi_albert_graph(20, 3, seed=5)),
    ],
)
def test_er_and_ba_match_networkx(generator, reference):
    g = random_dag(20, generator, p=0.2, m=3, seed=5)
    assert g.edge_index.size(1) == reference().number_of_edges()
    assert g.wiring["generator"] == generator


def test_stages_get_different_reproducible_graphs():
    first = stage_graphs(3, 16, "ws", k=4, p=0.75, seed=0)
    again = stage_graphs(3, 16, "ws", k=4, p=0.75, seed=0)
    edges = [set(map(tuple, g.edge_index.t().tolist())) for g in first]
    assert len({frozenset(e) for e in edges}) == 3
    assert all(torch.equal(a.edge_index, b.edge_index) for a, b in zip(first, again, strict=True))


def test_save_load_round_trip(tmp_path):
    graphs = stage_graphs(2, 10, "ba", m=2, seed=1)
    path = save_graphs(tmp_path / "g.pt", graphs)
    loaded = load_graphs(path)
    assert [g.num_nodes for g in loaded] == [10, 10]
    assert all(torch.equal(a.edge_index, b.edge_index) for a, b in zip(graphs, loaded, strict=True))
    assert loaded[0].wiring == graphs[0].wiring


def test_bad_inputs_are_refused(tmp_path):
    with pytest.raises(GraphcurvError, match="even K"):
        random_dag(10, "ws", k=3)
    with pytest.raises(GraphcurvError, match="unknown random graph generator"):
        random_dag(10, "grid")
    with pytest.raises(GraphcurvError, match="lower to a higher"):
        check_dag(Data(edge_index=torch.tensor([[1], [0]]), num_nodes=2))
    with pytest.raises(GraphcurvError, match="duplicate"):
        check_dag(Data(edge_index=torch.tensor([[0, 0], [1, 1]]), num_nodes=2))
    (tmp_path / "x.pt").write_text("not a graph")
    with pytest.raises(GraphcurvError, match="not a readable stage-graphs file"):
        load_graphs(tmp_path / "x.pt")
    with pytest.raises(GraphcurvError, match="no such stage-graphs file"):
        load_graphs(tmp_path / "missing.pt")
