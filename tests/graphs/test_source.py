from pathlib import Path

import networkx as nx
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import is_undirected

from graphcurv.errors import GraphInputError
from graphcurv.graphs.convert import to_networkx
from graphcurv.graphs.io import save_graph
from graphcurv.graphs.source import load_graph, parse_generator_spec
from graphcurv.graphs.validate import GraphInputWarning

FIXTURE = Path(__file__).resolve().parents[2] / "datasets" / "graphs" / "two_triangles.txt"


def test_edge_list_path():
    data = load_graph(str(FIXTURE))
    assert data.num_nodes == 6 and data.edge_index.size(1) == 14
    assert load_graph(FIXTURE).num_nodes == 6  # a Path works too


def test_edge_list_read_as_directed(tmp_path):
    path = tmp_path / "arcs.txt"
    path.write_text("0 1\n1 2\n")
    assert load_graph(str(path), directed=True).edge_index.tolist() == [[0, 1], [1, 2]]
    assert load_graph(str(path)).edge_index.size(1) == 4


def test_pt_path_keeps_direction_and_can_be_symmetrised(tmp_path):
    path = tmp_path / "g.pt"
    data = Data(
        edge_index=torch.tensor([[0, 1, 1], [1, 0, 2]]),
        edge_weight=torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64),
        num_nodes=3,
    )
    save_graph(data, path)
    loaded = load_graph(str(path))
    assert torch.equal(loaded.edge_index, data.edge_index)
    assert not is_undirected(loaded.edge_index, loaded.edge_weight)
    with pytest.warns(GraphInputWarning, match="merged 1 duplicate"):
        sym = load_graph(str(path), undirected=True)
    assert sym.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert sym.edge_weight.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_generator_specs():
    ws = load_graph("ws:n=100,k=4,p=0.1,seed=2")
    expected = nx.watts_strogatz_graph(100, 4, 0.1, seed=2)
    assert {frozenset(e) for e in to_networkx(ws).edges()} == {frozenset(e) for e in expected.edges()}
    er = load_graph("er:n=200,mean_degree=10")
    assert er.num_nodes == 200
    ba = load_graph("ba:n=50,m=2")
    assert ba.edge_index.size(1) == 2 * nx.barabasi_albert_graph(50, 2, seed=0).number_of_edges()
    sbm = load_graph("sbm:sizes=10/20,p_in=1.0,p_out=0.0")
    assert sbm.y.bincount().tolist() == [10, 20]
    assert sbm.edge_index.size(1) == 2 * (45 + 190)


def test_generator_spec_name_loads_the_same_graph_again():
    first = load_graph("ws:n=60,k=4,p=0.3,seed=9")
    again = load_graph(first.name)
    assert torch.equal(first.edge_index, again.edge_index)


def test_collection_name():
    data = load_graph("karate")
    assert data.name == "karate" and data.num_nodes == 34


@pytest.mark.parametrize(
    "spec, message",
    [
        ("ws:n=10,k=2", r"missing p \(ws accepts n, k, p, seed\)"),
        ("ws:n=10,k=2,p=0.1,q=1", r"unknown key 'q' .*ws accepts n, k, p, seed"),
        ("er:n=10,degree=3", r"unknown key 'degree' .*er accepts n, p, mean_degree, seed"),
        ("ws:n=ten,k=2,p=0.1", "bad value 'ten' for n .*expected an integer"),
        ("ws:n=10,k=2,p=high", "bad value 'high' for p .*expected a number"),
        ("sbm:sizes=4/x,p_in=1,p_out=0", "expected block sizes like 40/40/40"),
        ("ws:n=10,n=11,k=2,p=0", "key 'n' given twice"),
        ("ws:n=10,k=2,p", "'p' is not key=value"),
        ("zz:n=10", "unknown generator 'zz'.*ws, er, ba, sbm"),
        ("ws:n=10,k=20,p=0.1", "k=20 must be at most n=10"),
        ("er:n=10,p=0", "empty graph"),
    ],
)
def test_bad_generator_specs(spec, message):
    with pytest.raises(GraphInputError, match=message):
        load_graph(spec)


def test_parse_generator_spec_rejects_text_without_kind():
    with pytest.raises(GraphInputError, match="expected kind:key=value"):
        parse_generator_spec("n=10")


@pytest.mark.parametrize("spec", ["/nonexistent.txt", "missing.csv", "some/dir/graph", "nope.pt"])
def test_missing_file_that_looks_like_a_path(spec):
    with pytest.raises(GraphInputError, match=f"no such file: {spec}"):
        load_graph(spec)


def test_unknown_name():
    with pytest.raises(GraphInputError, match="unknown graph 'nonsense'.*generator spec"):
        load_graph("nonsense")


def test_directory(tmp_path):
    with pytest.raises(GraphInputError, match="is a directory"):
        load_graph(str(tmp_path))


def test_directed_and_undirected_together():
    with pytest.raises(GraphInputError, match="either directed or undirected"):
        load_graph("karate", directed=True, undirected=True)


def test_undirected_keeps_an_undirected_graph_unchanged():
    a = load_graph(str(FIXTURE))
    b = load_graph(str(FIXTURE), directed=False, undirected=True)
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.edge_weight, b.edge_weight)
