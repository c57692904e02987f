import math

import pytest
import torch
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError
from graphcurv.riccinets.magnitude import largest_edges, magnitude_prune, transfer_weights
from graphcurv.riccinets.network import RandWire, edge_weights
from graphcurv.riccinets.wiring import stage_graphs


def dag(edges, n):
    return Data(edge_index=torch.tensor(edges, dtype=torch.long).reshape(-1, 2).t().contiguous(), num_nodes=n)


DIAMOND = [(0, 1), (0, 2), (1, 3), (2, 3)]


def model_on(graphs, weights=None):
    torch.manual_seed(0)
    model = RandWire(graphs, channels=4, in_channels=3, num_classes=5, head_channels=8)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
        for w, values in zip(edge_weights(model), weights or []):
            w.copy_(torch.tensor(values))
    return model.eval()


def same_parameters(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_largest_edges_hand_example():
    masks = largest_edges([torch.tensor([0.5, -2.0, 3.0]), torch.tensor([1.0, 0.0])], 3)
    assert [m.tolist() for m in masks] == [[True, False, True], [True, False]]


def test_kept_edges_are_exactly_the_largest_sigmoid_weights():
    graphs = stage_graphs(2, 8, "ws", k=4, p=0.5, seed=3)
    model = model_on(graphs)
    torch.manual_seed(1)
    with torch.no_grad():
        for w in edge_weights(model):
            w.normal_()
    ranked = sorted(
        ((torch.sigmoid(w[j]).item(), i, j) for i, w in enumerate(edge_weights(model)) for j in range(w.numel())),
        reverse=True,
    )
    keep = 11
    expected = {(i, j) for _, i, j in ranked[:keep]}
    _, cuts = magnitude_prune(model, keep_edges=keep, dangling="repair")
    assert {(i, j) for i, cut in enumerate(cuts) for j in cut.kept_edges.tolist()} == expected
    assert all(cut.node_map.tolist() == list(range(8)) for cut in cuts)  # repair removes no node


def test_keeping_everything_gives_the_same_network_and_outputs():
    model = model_on(stage_graphs(2, 6, "ws", k=2, p=0.5, seed=1), [[0.3] * 6, [-0.4] * 6])
    pruned, cuts = magnitude_prune(model, keep_share=1.0)
    assert [c.kept_edges.tolist() for c in cuts] == [list(range(6))] * 2
    assert same_parameters(pruned, model) and not pruned.training
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), model(x), rtol=0, atol=1e-6)


def test_remove_copies_nodes_and_edge_weights_and_keeps_the_function():
    # sigmoid(-inf) = 0: the two lowest edges carry nothing, so the cut network computes the same function
    model = model_on([dag(DIAMOND, 4)], [[-math.inf, 2.0, -math.inf, 3.0]])
    pruned, (cut,) = magnitude_prune(model, keep_edges=2, dangling="remove")
    assert cut.kept_edges.tolist() == [1, 3] and cut.node_map.tolist() == [0, -1, 1, 2]
    assert pruned.graphs[0].edge_index.tolist() == [[0, 1], [1, 2]]
    assert edge_weights(pruned)[0].tolist() == [2.0, 3.0]
    for old, new in [(0, 0), (2, 1), (3, 2)]:
        assert same_parameters(pruned.stages[0].nodes[new], model.stages[0].nodes[old])
    for part in ("conv1", "conv2", "head", "classifier"):
        assert same_parameters(getattr(pruned, part), getattr(model, part))
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), model(x))


def test_repair_gives_new_input_nodes_fresh_convolutions():
    # stage 2 (4 -> 8 channels): edge 0 -> 1 is the weakest; node 1 then reads the 4-channel stage input
    model = model_on([dag(DIAMOND, 4), dag(DIAMOND, 4)], [[5.0] * 4, [-1.0, 2.0, 1.0, 3.0]])
    pruned, cuts = magnitude_prune(model, keep_share=7 / 8, dangling="repair")
    assert cuts[1].kept_edges.tolist() == [1, 2, 3] and cuts[1].node_map.tolist() == [0, 1, 2, 3]
    assert pruned.stages[1].nodes[1][1].depthwise.in_channels == 4
    assert model.stages[1].nodes[1][1].depthwise.in_channels == 8
    for v in (0, 2, 3):
        assert same_parameters(pruned.stages[1].nodes[v], model.stages[1].nodes[v])
    assert same_parameters(pruned.stages[0], model.stages[0])
    fresh = RandWire(pruned.graphs, **model.settings())
    assert transfer_weights(model, fresh, cuts) == [[], [1]]


def test_share_rounds_to_the_nearest_count():
    model = model_on([dag(DIAMOND, 4)], [[1.0, 2.0, 3.0, 4.0]])
    _, (cut,) = magnitude_prune(model, keep_share=0.6, dangling="repair")  # 0.6 * 4 = 2.4 -> 2 edges
    assert cut.kept_edges.tolist() == [2, 3]


def test_bad_requests_are_rejected():
    model = model_on([dag(DIAMOND, 4)])
    with pytest.raises(GraphcurvError, match="exactly one"):
        magnitude_prune(model)
    with pytest.raises(GraphcurvError, match="exactly one"):
        magnitude_prune(model, keep_share=0.5, keep_edges=2)
    with pytest.raises(GraphcurvError, match=r"\[0, 1\]"):
        magnitude_prune(model, keep_share=1.5)
    with pytest.raises(GraphcurvError, match="0..4"):
        magnitude_prune(model, keep_edges=5)
    with pytest.raises(GraphcurvError, match="stage 1"):
        magnitude_prune(model, keep_edges=0, dangling="remove")
    with pytest.raises(GraphcurvError, match="RandWire"):
        magnitude_prune(torch.nn.Linear(2, 2), keep_edges=1)
    _, cuts = magnitude_prune(model, keep_edges=3, dangling="repair")
    wider = RandWire([c.graph for c in cuts], channels=6, head_channels=8, num_classes=5)
    with pytest.raises(GraphcurvError, match="same settings"):
        transfer_weights(model, wider, cuts)
    with pytest.raises(GraphcurvError, match="kept edges"):
        transfer_weights(model, RandWire([dag(DIAMOND, 4)], **model.settings()), cuts)
