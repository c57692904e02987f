import networkx as nx
import pytest
import torch
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError
from graphcurv.riccinets.graph_ops import remove_edges, stage_roles
from graphcurv.riccinets.wiring import random_dag


def _on_input_output_path(graph: Data) -> bool:
    """Every node lies on a path from a virtual stage input to a virtual stage output (RandWire rule)."""
    reads_input, feeds_output = stage_roles(graph)
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.num_nodes))
    g.add_edges_from(graph.edge_index.t().tolist())
    g.add_edges_from(("in", v) for v in reads_input.nonzero().flatten().tolist())
    g.add_edges_from((v, "out") for v in feeds_output.nonzero().flatten().tolist())
    return nx.is_directed_acyclic_graph(g) and all(
        nx.has_path(g, "in", v) and nx.has_path(g, v, "out") for v in range(graph.num_nodes)
    )


def test_hand_example_removes_the_starved_chain():
    # 0 -> 1 -> 2 -> 4, 0 -> 3 -> 4; cutting 0 -> 1 starves 1, then 2 (nothing left feeds it)
    g = Data(edge_index=torch.tensor([[0, 0, 1, 2, 3], [1, 3, 2, 4, 4]]), num_nodes=5)
    out = remove_edges(g, torch.tensor([False, True, True, True, True]), dangling="remove")
    assert out.node_map.tolist() == [0, -1, -1, 1, 2]
    assert out.graph.edge_index.tolist() == [[0, 1], [1, 2]]
    assert out.kept_edges.tolist() == [1, 4]
    repaired = remove_edges(g, torch.tensor([False, True, True, True, True]), dangling="repair")
    assert repaired.graph.num_nodes == 5 and repaired.kept_edges.tolist() == [1, 2, 3, 4]
    assert stage_roles(repaired.graph)[0].nonzero().flatten().tolist() == [0, 1]  # node 1 now reads the input
    # cutting 0 -> 1 and 1 -> 2 isolates node 1 only: it goes, node 2 reads the stage input
    isolated = remove_edges(g, torch.tensor([False, True, False, True, True]), dangling="isolated")
    assert isolated.node_map.tolist() == [0, -1, 1, 2, 3]
    assert isolated.graph.edge_index.tolist() == [[0, 1, 2], [2, 3, 3]]


@pytest.mark.parametrize("dangling", ["isolated", "remove", "repair"])
def test_random_pruning_keeps_every_node_on_a_path_and_directions(dangling):
    generator = torch.Generator().manual_seed(0)
    checked = 0
    for seed in range(30):
        g = random_dag(20, "ws", k=4, p=0.75, seed=seed)
        keep = torch.rand(g.edge_index.size(1), generator=generator) < 0.5
        try:
            out = remove_edges(g, keep, dangling)
        except GraphcurvError:
            assert dangling == "remove"
            continue
        checked += 1
        assert _on_input_output_path(out.graph)
        # every pruned edge is an original edge with its direction, through the node map
        original = g.edge_index[:, out.kept_edges]
        assert torch.equal(out.node_map[original], out.graph.edge_index)
        assert bool(keep[out.kept_edges].all())
        if dangling == "remove":
            had_in, had_out = stage_roles(g)
            new_in, new_out = stage_roles(out.graph)
            survivors = (out.node_map >= 0).nonzero().flatten()
            assert bool(had_in[survivors][new_in].all()) and bool(had_out[survivors][new_out].all())
        else:
            assert out.kept_edges.tolist() == keep.nonzero().flatten().tolist()
            touched = torch.zeros(20, dtype=torch.bool)
            touched[g.edge_index[:, keep].flatten()] = True
            expected = touched if dangling == "isolated" else torch.ones(20, dtype=torch.bool)
            assert torch.equal(out.node_map >= 0, expected)
    assert checked >= 10


def test_nothing_left_is_an_error_and_bad_masks_are_refused():
    g = Data(edge_index=torch.tensor([[0, 1], [1, 2]]), num_nodes=3)
    with pytest.raises(GraphcurvError, match="no path from the stage input"):
        remove_edges(g, torch.tensor([False, False]), dangling="remove")
    with pytest.raises(GraphcurvError, match="one entry per edge"):
        remove_edges(g, torch.tensor([True]))
    with pytest.raises(GraphcurvError, match="dangling must be"):
        remove_edges(g, torch.tensor([True, True]), dangling="keep")
