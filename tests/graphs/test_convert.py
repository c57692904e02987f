import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from support import requires_graph_tool
from torch_geometric.data import Data
from torch_geometric.utils import is_undirected

from graphcurv.errors import GraphInputError
from graphcurv.graphs.convert import (
    from_graph_tool,
    from_networkx,
    from_scipy,
    label_codes,
    to_graph_tool,
    to_networkx,
    to_scipy,
)
from graphcurv.graphs.validate import GraphInputWarning


def undirected_edges(G):
    return {frozenset((u, v)): w for u, v, w in G.edges(data="weight")}


def weighted_example():
    G = nx.Graph()
    G.add_weighted_edges_from([("x", "y", 2.0), ("y", "z", 0.5), ("z", "w", 1.0)])
    G.add_node("lonely")
    return G


def test_from_networkx_undirected_weighted_with_string_nodes():
    data = from_networkx(weighted_example())
    assert data.num_nodes == 5
    assert data.node_names == ["x", "y", "z", "w", "lonely"]
    assert is_undirected(data.edge_index, data.edge_weight)
    assert data.edge_index.size(1) == 6
    arcs = {
        (data.node_names[u], data.node_names[v]): w
        for (u, v), w in zip(data.edge_index.t().tolist(), data.edge_weight.tolist())
    }
    assert arcs[("x", "y")] == arcs[("y", "x")] == 2.0
    assert arcs[("z", "y")] == 0.5


def test_from_networkx_weight_none_ignores_weights():
    data = from_networkx(weighted_example(), weight=None)
    assert data.edge_weight.tolist() == [1.0] * 6


def test_from_networkx_missing_weight_defaults_to_one():
    G = nx.Graph([(0, 1, {"weight": 3.0}), (1, 2)])
    assert sorted(from_networkx(G).edge_weight.tolist()) == [1.0, 1.0, 3.0, 3.0]


def test_from_networkx_integer_nodes_are_not_renamed():
    data = from_networkx(nx.path_graph(4))
    assert "node_names" not in data
    assert data.edge_index.tolist() == [[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]


def test_from_networkx_directed_stays_directed():
    G = nx.DiGraph()
    G.add_weighted_edges_from([(0, 1, 1.0), (1, 0, 2.0), (1, 2, 1.0)])
    data = from_networkx(G)
    assert data.edge_index.tolist() == [[0, 1, 1], [1, 0, 2]]
    assert data.edge_weight.tolist() == [1.0, 2.0, 1.0]
    assert not is_undirected(data.edge_index, data.edge_weight)


def test_from_networkx_multigraph_merges_with_min():
    G = nx.MultiGraph()
    G.add_weighted_edges_from([(0, 1, 3.0), (1, 0, 2.0), (1, 2, 1.0)])
    with pytest.warns(GraphInputWarning, match="merged 1 duplicate"):
        data = from_networkx(G)
    assert data.edge_weight.tolist() == [2.0, 2.0, 1.0, 1.0]


def test_from_networkx_self_loop_is_dropped():
    G = nx.Graph([(0, 0), (0, 1)])
    with pytest.warns(GraphInputWarning, match="dropped 1 self-loop"):
        data = from_networkx(G)
    assert data.edge_index.tolist() == [[0, 1], [1, 0]]


def test_from_networkx_truth_labels():
    G = nx.karate_club_graph()
    data = from_networkx(G, weight=None, truth="club")
    clubs = [G.nodes[i]["club"] for i in G]
    expected = [0 if c == "Mr. Hi" else 1 for c in clubs]
    assert data.y.tolist() == expected and data.y_name == "club"


def test_from_networkx_missing_truth_attribute():
    G = nx.Graph([(0, 1)])
    G.nodes[0]["group"] = 1
    with pytest.raises(GraphInputError, match="node 1 has no attribute 'group'"):
        from_networkx(G, truth="group")


def test_from_networkx_non_numeric_weight():
    with pytest.raises(GraphInputError, match="'weight' is not a number"):
        from_networkx(nx.Graph([(0, 1, {"weight": "heavy"})]))


def test_from_networkx_negative_weight():
    with pytest.raises(GraphInputError, match=r"edge \(0, 1\) has length -1.0"):
        from_networkx(nx.Graph([(0, 1, {"weight": -1.0})]))


def test_from_networkx_rejects_other_objects():
    with pytest.raises(GraphInputError, match="expected a networkx graph"):
        from_networkx([(0, 1)])


def test_networkx_round_trip_undirected():
    G = nx.gnm_random_graph(60, 200, seed=3)
    rng = np.random.default_rng(0)
    for u, v in G.edges():
        G.edges[u, v]["weight"] = float(rng.uniform(0.5, 2.0))
    H = to_networkx(from_networkx(G))
    assert type(H) is nx.Graph
    assert set(H.nodes) == set(G.nodes)
    assert undirected_edges(H) == undirected_edges(G)


def test_networkx_round_trip_directed_and_extra_attributes():
    G = nx.gnm_random_graph(30, 90, seed=4, directed=True)
    data = from_networkx(G)
    data.edge_curvature = torch.linspace(-1, 1, data.edge_index.size(1))
    H = to_networkx(data, edge_attrs=("edge_weight", "edge_curvature"))
    assert type(H) is nx.DiGraph
    assert set(H.edges) == set(G.edges)
    for (u, v), k in zip(data.edge_index.t().tolist(), data.edge_curvature.tolist()):
        assert H.edges[u, v]["edge_curvature"] == pytest.approx(k)
        assert H.edges[u, v]["weight"] == 1.0


def test_to_networkx_keeps_isolated_nodes_names_and_labels():
    data = from_networkx(weighted_example(), truth=None)
    data.y = torch.tensor([0, 0, 1, 1, 2])
    H = to_networkx(data)
    assert H.number_of_nodes() == 5
    assert H.nodes[4] == {"name": "lonely", "y": 2}
    back = from_networkx(H, truth="y")
    assert back.y.tolist() == [0, 0, 1, 1, 2]
    assert torch.equal(back.edge_weight, data.edge_weight)


def test_to_networkx_missing_edge_attribute():
    with pytest.raises(GraphInputError, match="edge_curvature"):
        to_networkx(from_networkx(nx.path_graph(3)), edge_attrs=("edge_curvature",))


def test_from_scipy_symmetric_is_undirected():
    A = sp.csr_array(np.array([[0, 2.0, 0], [2.0, 0, 1.0], [0, 1.0, 0]]))
    data = from_scipy(A)
    assert data.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert data.edge_weight.tolist() == [2.0, 2.0, 1.0, 1.0]


def test_from_scipy_asymmetric_is_directed():
    A = sp.coo_array(([1.0, 3.0], ([0, 1], [1, 0])), shape=(3, 3))
    data = from_scipy(A)
    assert data.num_nodes == 3
    assert data.edge_index.tolist() == [[0, 1], [1, 0]]
    assert data.edge_weight.tolist() == [1.0, 3.0]


def test_from_scipy_forced_undirected_merges_with_min():
    A = sp.coo_array(([1.0, 3.0], ([0, 1], [1, 0])), shape=(2, 2))
    with pytest.warns(GraphInputWarning, match="merged 1 duplicate"):
        data = from_scipy(A, directed=False)
    assert data.edge_weight.tolist() == [1.0, 1.0]


def test_from_scipy_symmetric_but_directed_requested():
    A = np.array([[0, 1.0], [1.0, 0]])
    data = from_scipy(A, directed=True)
    assert data.edge_index.size(1) == 2


def test_from_scipy_sums_repeated_coo_entries():
    A = sp.coo_array(([1.0, 2.0], ([0, 0], [1, 1])), shape=(2, 2))
    assert from_scipy(A).edge_weight.tolist() == [3.0]


def test_from_scipy_explicit_zero_is_a_zero_length():
    A = sp.coo_array(([0.0], ([0], [1])), shape=(2, 2))
    with pytest.raises(GraphInputError, match="length 0.0"):
        from_scipy(A)


def test_from_scipy_not_square():
    with pytest.raises(GraphInputError, match="square"):
        from_scipy(sp.csr_array(np.ones((2, 3))))


def test_scipy_round_trip():
    G = nx.gnm_random_graph(40, 100, seed=5, directed=True)
    data = from_networkx(G)
    data.edge_weight = torch.rand(data.edge_index.size(1), dtype=torch.float64) + 0.1
    A = to_scipy(data)
    assert A.shape == (40, 40) and A.nnz == data.edge_index.size(1)
    back = from_scipy(A)
    assert torch.equal(back.edge_index, data.edge_index)
    assert torch.equal(back.edge_weight, data.edge_weight)
    dense = A.toarray()
    for (u, v), w in zip(data.edge_index.t().tolist(), data.edge_weight.tolist()):
        assert dense[u, v] == w


def test_label_codes():
    assert label_codes(["n", "c", "l", "c"]).tolist() == [2, 0, 1, 0]
    assert label_codes([0.0, 1.0, 1.0]).tolist() == [0, 1, 1]
    assert label_codes([5, 3, 5]).tolist() == [1, 0, 1]
    assert label_codes([0.5, 1.5]).tolist() == [0, 1]  # non-integer numbers: sorted as strings
    assert label_codes(["a", 1]).dtype == torch.long


def test_graph_tool_round_trip_undirected():
    gt = requires_graph_tool()
    data = from_networkx(weighted_example())
    data.y = torch.tensor([1, 1, 0, 0, 2])
    g = to_graph_tool(data)
    assert isinstance(g, gt.Graph) and not g.is_directed()
    assert g.num_vertices() == 5 and g.num_edges() == 3
    back = from_graph_tool(g, weight="weight", truth="y", names="label")
    for key in ("edge_index", "edge_weight", "y"):
        assert torch.equal(back[key], data[key]), key
    assert back.node_names == data.node_names
    assert back.name == "networkx"


def test_graph_tool_round_trip_directed():
    requires_graph_tool()
    G = nx.gnm_random_graph(30, 80, seed=6, directed=True)
    data = from_networkx(G)
    g = to_graph_tool(data)
    assert g.is_directed() and g.num_edges() == 80
    edges = {tuple(e) for e in g.get_edges().tolist()}
    assert edges == set(G.edges)
    back = from_graph_tool(g)
    assert torch.equal(back.edge_index, data.edge_index)


def test_from_graph_tool_independent_counts():
    gt = requires_graph_tool()
    g = gt.Graph(directed=False)
    g.add_vertex(4)
    g.add_edge_list([(0, 1), (1, 2), (2, 0), (2, 2), (0, 1)])
    with pytest.warns(GraphInputWarning):
        data = from_graph_tool(g)
    assert data.num_nodes == 4
    assert data.edge_index.size(1) == 6  # triangle, loop dropped, parallel edge merged
    assert data.name == "graph-tool"


def gt_graph(gt, edges, directed=False):
    g = gt.Graph(directed=directed)
    g.add_edge_list(edges)
    return g


def test_from_graph_tool_applies_view_filters():
    gt = requires_graph_tool()
    g = gt_graph(gt, [(0, 1), (1, 2), (2, 3)])
    keep = g.new_vertex_property("bool", vals=[True, True, True, False])
    view = gt.GraphView(g, vfilt=keep)
    data = from_graph_tool(view)
    assert data.num_nodes == 3 and data.edge_index.size(1) == 4


def test_from_graph_tool_unknown_property():
    gt = requires_graph_tool()
    g = gt_graph(gt, [(0, 1)])
    with pytest.raises(GraphInputError, match="no edge property 'length'"):
        from_graph_tool(g, weight="length")
    with pytest.raises(GraphInputError, match="no vertex property 'group'"):
        from_graph_tool(g, truth="group")


def test_from_networkx_large_graph_matches_networkx():
    G = nx.barabasi_albert_graph(3000, 4, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphInputWarning)
        data = from_networkx(G)
    assert data.edge_index.size(1) == 2 * G.number_of_edges()
    degrees = torch.bincount(data.edge_index[0], minlength=data.num_nodes)
    assert degrees.tolist() == [d for _, d in sorted(G.degree())]


def test_data_round_trip_through_networkx_keeps_isolated_nodes():
    # Data round trip through networkx keeps the graph equal
    data = Data(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=4)
    back = from_networkx(to_networkx(data))
    assert torch.equal(back.edge_index, data.edge_index) and back.num_nodes == 4
