import math
import warnings

import pytest
import torch
from torch_geometric.data import Data

from graphcurv.errors import GraphInputError
from graphcurv.graphs.validate import GraphInputWarning, validate_graph


def graph(edges, num_nodes, weights=None, **extra):
    edge_index = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)
    data = Data(edge_index=edge_index, num_nodes=num_nodes, **extra)
    if weights is not None:
        data.edge_weight = torch.tensor(weights, dtype=torch.float64)
    return data


def no_warnings(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphInputWarning)
        return function(*args, **kwargs)


def test_unweighted_directed_graph_is_normalised():
    out = no_warnings(validate_graph, graph([(2, 0), (0, 1)], 4))
    assert out.edge_index.tolist() == [[0, 2], [1, 0]]
    assert out.edge_index.dtype == torch.long
    assert out.edge_weight.dtype == torch.float64 and out.edge_weight.tolist() == [1.0, 1.0]
    assert out.num_nodes == 4  # isolated node 3 kept


def test_num_nodes_inferred_when_missing():
    data = Data(edge_index=torch.tensor([[0, 4], [4, 0]]))
    assert validate_graph(data).num_nodes == 5


def test_input_is_not_modified():
    data = graph([(1, 0), (0, 1), (1, 1)], 2, weights=[3.0, 1.0, 1.0])
    with pytest.warns(GraphInputWarning):
        validate_graph(data, undirected=True)
    assert data.edge_index.tolist() == [[1, 0, 1], [0, 1, 1]]
    assert data.edge_weight.tolist() == [3.0, 1.0, 1.0]


def test_int32_edge_index_is_converted_to_long():
    data = Data(edge_index=torch.tensor([[0], [1]], dtype=torch.int32), num_nodes=2)
    assert validate_graph(data).edge_index.dtype == torch.long


@pytest.mark.parametrize(
    "data",
    [
        Data(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=3),
        Data(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=0),
        Data(edge_index=torch.zeros(2, 0, dtype=torch.long)),
    ],
)
def test_empty_graph_is_an_error(data):
    with pytest.raises(GraphInputError, match="empty graph"):
        validate_graph(data)


def test_only_self_loops_is_an_empty_graph():
    warns = pytest.warns(GraphInputWarning, match="dropped 2 self-loop")
    with warns, pytest.raises(GraphInputError, match="empty graph"):
        validate_graph(graph([(0, 0), (1, 1)], 2))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), -1.5, 0.0])
def test_invalid_length_names_the_edge_and_value(bad):
    data = graph([(0, 1), (1, 2), (2, 3)], 4, weights=[1.0, bad, 2.0])
    with pytest.raises(GraphInputError) as info:
        validate_graph(data)
    message = str(info.value)
    assert "edge (1, 2)" in message
    assert f"length {bad}" in message
    assert "1 such edge" in message


def test_invalid_length_message_uses_node_names():
    data = graph([(0, 1)], 2, weights=[-2.0], node_names=["alice", "bob"])
    with pytest.raises(GraphInputError, match=r"edge \(alice, bob\) has length -2.0"):
        validate_graph(data)


def test_invalid_length_counts_all_bad_edges():
    data = graph([(0, 1), (1, 2), (2, 0)], 3, weights=[0.0, -1.0, float("nan")])
    with pytest.raises(GraphInputError, match="3 such edge"):
        validate_graph(data)


def test_self_loops_are_dropped_with_a_warning():
    data = graph([(0, 0), (0, 1), (2, 2), (1, 2)], 3)
    with pytest.warns(GraphInputWarning, match="dropped 2 self-loop"):
        out = validate_graph(data)
    assert out.edge_index.tolist() == [[0, 1], [1, 2]]


def test_self_loops_can_be_an_error():
    with pytest.raises(GraphInputError, match="1 self-loop"):
        validate_graph(graph([(0, 0), (0, 1)], 2), self_loops="error")


def test_self_loop_with_invalid_length_is_dropped_not_reported():
    data = graph([(0, 0), (0, 1)], 2, weights=[float("nan"), 1.0])
    with pytest.warns(GraphInputWarning):
        out = validate_graph(data)
    assert out.edge_weight.tolist() == [1.0]


def test_duplicate_arcs_are_merged_keeping_the_smallest_length():
    data = graph([(0, 1), (1, 2), (0, 1), (0, 1)], 3, weights=[3.0, 1.0, 0.5, 2.0])
    with pytest.warns(GraphInputWarning, match=r"merged 1 duplicate edge\(s\).*\(0, 1\)"):
        out = validate_graph(data)
    assert out.edge_index.tolist() == [[0, 1], [1, 2]]
    assert out.edge_weight.tolist() == [0.5, 1.0]


def test_duplicates_can_be_an_error():
    with pytest.raises(GraphInputError, match="duplicate"):
        validate_graph(graph([(0, 1), (0, 1)], 2), duplicates="error")


def test_reciprocal_arcs_with_different_lengths_stay_directed():
    data = graph([(0, 1), (1, 0)], 2, weights=[1.0, 2.0])
    out = no_warnings(validate_graph, data)
    assert out.edge_index.tolist() == [[0, 1], [1, 0]]
    assert out.edge_weight.tolist() == [1.0, 2.0]


def test_undirected_symmetrises_edges_given_once():
    data = graph([(2, 1), (0, 1)], 3, weights=[2.0, 1.0])
    out = no_warnings(validate_graph, data, undirected=True)
    assert out.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert out.edge_weight.tolist() == [1.0, 1.0, 2.0, 2.0]


def test_undirected_accepts_both_directions_with_equal_lengths():
    data = graph([(0, 1), (1, 0), (1, 2), (2, 1)], 3, weights=[1.0, 1.0, 4.0, 4.0])
    out = no_warnings(validate_graph, data, undirected=True)
    assert out.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert out.edge_weight.tolist() == [1.0, 1.0, 4.0, 4.0]


def test_undirected_directions_that_disagree_are_duplicates():
    data = graph([(0, 1), (1, 0), (1, 2)], 3, weights=[3.0, 2.0, 1.0])
    with pytest.warns(GraphInputWarning, match=r"merged 1 duplicate edge\(s\)"):
        out = validate_graph(data, undirected=True)
    assert out.edge_weight.tolist() == [2.0, 2.0, 1.0, 1.0]
    with pytest.raises(GraphInputError, match="duplicate"):
        validate_graph(data, undirected=True, duplicates="error")


def test_undirected_same_direction_twice_is_a_duplicate():
    data = graph([(0, 1), (0, 1), (1, 2), (2, 1), (2, 1)], 3)
    with pytest.warns(GraphInputWarning, match=r"merged 2 duplicate edge\(s\)"):
        out = validate_graph(data, undirected=True)
    assert out.edge_index.size(1) == 4


@pytest.mark.parametrize(
    "edge_index, message",
    [
        (torch.tensor([[0, 1], [1, 3]]), "outside 0..2"),
        (torch.tensor([[0, -1], [1, 2]]), "outside 0..2"),
        (torch.tensor([0, 1, 2]), "shape"),
        (torch.zeros(3, 2, dtype=torch.long), "shape"),
        (torch.tensor([[0.0], [1.0]]), "integers"),
        (torch.tensor([[True], [False]]), "integers"),
    ],
)
def test_malformed_edge_index(edge_index, message):
    with pytest.raises(GraphInputError, match=message):
        validate_graph(Data(edge_index=edge_index, num_nodes=3))


def test_missing_edge_index():
    with pytest.raises(GraphInputError, match="no edge_index"):
        validate_graph(Data(num_nodes=3))


def test_edge_weight_of_wrong_shape():
    data = Data(edge_index=torch.tensor([[0], [1]]), edge_weight=torch.ones(2), num_nodes=2)
    with pytest.raises(GraphInputError, match="edge_weight must have shape"):
        validate_graph(data)


def test_not_a_data_object():
    with pytest.raises(GraphInputError, match="expected a torch_geometric.data.Data"):
        validate_graph({"edge_index": torch.tensor([[0], [1]])})


def test_node_names_of_wrong_length():
    with pytest.raises(GraphInputError, match="node_names"):
        validate_graph(graph([(0, 1)], 2, node_names=["a"]))


def test_bad_option_values():
    with pytest.raises(GraphInputError, match="self_loops"):
        validate_graph(graph([(0, 1)], 2), self_loops="keep")
    with pytest.raises(GraphInputError, match="duplicates"):
        validate_graph(graph([(0, 1)], 2), duplicates="sum")


def test_other_edge_attributes_follow_their_edges():
    data = graph([(1, 2), (0, 1), (0, 1), (2, 2)], 3, weights=[1.0, 5.0, 2.0, 1.0])
    data.edge_curvature = torch.tensor([10.0, 20.0, 30.0, 40.0])
    data.edge_attr = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    data.y = torch.tensor([0, 1, 1])
    with pytest.warns(GraphInputWarning):
        out = validate_graph(data)
    assert out.edge_index.tolist() == [[0, 1], [1, 2]]
    assert out.edge_curvature.tolist() == [30.0, 10.0]  # the shortest copy of (0, 1)
    assert out.edge_attr.tolist() == [[3.0], [1.0]]
    assert out.y.tolist() == [0, 1, 1]
    with pytest.warns(GraphInputWarning):
        sym = validate_graph(data, undirected=True)
    assert sym.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert sym.edge_curvature.tolist() == [30.0, 30.0, 10.0, 10.0]


def test_warning_names_the_graph():
    data = graph([(0, 0), (0, 1)], 2, name="mygraph")
    with pytest.warns(GraphInputWarning, match="^mygraph: dropped 1 self-loop"):
        validate_graph(data)


def test_output_is_sorted_and_coalesced_on_random_input():
    generator = torch.Generator().manual_seed(0)
    edge_index = torch.randint(0, 30, (2, 400), generator=generator)
    weight = torch.rand(400, generator=generator, dtype=torch.float64) + 0.1
    data = Data(edge_index=edge_index, edge_weight=weight, num_nodes=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GraphInputWarning)
        out = validate_graph(data, undirected=True)
    # independent reference: dict of unordered pairs -> min length
    expected = {}
    for (u, v), w in zip(edge_index.t().tolist(), weight.tolist()):
        if u != v:
            key = (min(u, v), max(u, v))
            expected[key] = min(w, expected.get(key, math.inf))
    got = {}
    for (u, v), w in zip(out.edge_index.t().tolist(), out.edge_weight.tolist()):
        got[(u, v)] = w
    assert len(got) == 2 * len(expected)
    for (u, v), w in expected.items():
        assert got[(u, v)] == w and got[(v, u)] == w
    keys = out.edge_index[0] * 30 + out.edge_index[1]
    assert bool((keys[1:] > keys[:-1]).all())
