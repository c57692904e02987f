import torch
from torch import nn

from graphcurv.graphs import load_data, save_graph
from graphcurv.neural import connections, export, layers
from graphcurv.neural.layout import node_coordinates


def test_saved_graph_loads_with_weights_only_and_keeps_its_layout(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 2, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    graph = export(model, torch.randn(2, 1, 4, 4), max_edges=30)
    save_graph(graph, tmp_path / "graph.pt")
    loaded = load_data(tmp_path / "graph.pt")  # torch.load(weights_only=True) and validate_graph
    assert torch.equal(loaded.edge_index, graph.edge_index) and torch.equal(loaded.activation, graph.activation)
    assert layers(loaded) == layers(graph)
    for a, b in zip(connections(loaded), connections(graph)):
        assert torch.equal(a.weight, b.weight) and (a.kind, a.window, a.materialised) == (
            b.kind,
            b.window,
            b.materialised,
        )
    assert loaded.connection_materialised == [False, True] and loaded.param_names == ["0.weight", "3.weight"]
    assert loaded.layer_shapes == [[1, 4, 4], [2, 2, 2], [3]] and loaded.layer_param == [-1, 0, 1]


def test_node_coordinates_by_hand():
    graph = export(nn.Sequential(nn.Conv2d(1, 2, 2), nn.Flatten(), nn.Linear(8, 2)), torch.randn(1, 1, 3, 3))
    layer, channel, position = node_coordinates(layers(graph))
    assert layer.tolist() == [0] * 9 + [1] * 8 + [2] * 2
    assert channel.tolist() == [0] * 9 + [0, 0, 0, 0, 1, 1, 1, 1] + [0, 1]
    assert position.tolist() == list(range(9)) + [0, 1, 2, 3] * 2 + [0, 0]
    assert torch.equal(graph.channel, channel) and torch.equal(graph.position, position)
