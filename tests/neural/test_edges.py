"""Implicit (generated) and materialised edges are the same edges."""

import torch
from torch import nn

from graphcurv.neural import connection_edges, connections, export, iter_connection_edges, layers
from graphcurv.neural.edges import count_edges

torch.manual_seed(2)


def model_and_inputs():
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2), nn.ReLU(), nn.AvgPool2d(2, ceil_mode=True),
        nn.Conv2d(4, 3, 2), nn.Tanh(), nn.MaxPool2d(2, padding=1), nn.Flatten(), nn.Linear(3 * 2 * 2, 5),
    )  # fmt: skip
    with torch.no_grad():
        model[0].weight[1, 0, 2, 2] = 0.0  # a pruned weight: no edges
        model[7].weight[3, :4] = 0.0
    return model, torch.randn(3, 2, 11, 12)


def rows(chunk):
    return set(zip(chunk.source.tolist(), chunk.target.tolist(), chunk.weight.tolist(), chunk.param_index.tolist()))


def test_generated_chunks_equal_the_stored_edges():
    model, x = model_and_inputs()
    graph = export(model, x)
    assert all(graph.connection_materialised)
    for conn in connections(graph):
        mask = graph.edge_connection == conn.index
        stored = set(
            zip(graph.edge_index[0, mask].tolist(), graph.edge_index[1, mask].tolist(), graph.weight[mask].tolist(),
                graph.param_index[mask].tolist())
        )  # fmt: skip
        for by, side in (("target", "target"), ("source", "source")):
            chunks = list(iter_connection_edges(graph, conn.index, max_edges=40, by=by))
            assert len(chunks) > 1 or conn.num_edges <= 40
            assert all(c.connection == conn.index and c.param == conn.param for c in chunks)
            generated = set().union(*(rows(c) for c in chunks))
            assert generated == stored == rows(connection_edges(graph, conn))
            assert sum(c.num_edges for c in chunks) == len(stored) == conn.num_edges
            # a chunk holds every edge of the nodes on its side: no node is split over chunks
            nodes = [set(getattr(c, side).tolist()) for c in chunks]
            assert sum(len(n) for n in nodes) == len(set().union(*nodes))
    assert not torch.any(graph.weight == 0)


def test_small_max_edges_keeps_large_connections_implicit():
    model, x = model_and_inputs()
    full, partial = export(model, x), export(model, x, max_edges=200)
    sizes = full.connection_num_edges
    kept = partial.connection_materialised
    # smallest first while the total fits in 200
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    total, expected = 0, [False] * len(sizes)
    for i in order:
        if total + sizes[i] <= 200:
            total, expected[i] = total + sizes[i], True
    assert kept == expected and partial.edge_index.size(1) == total < full.edge_index.size(1)
    stored = full.edge_connection.unsqueeze(0) == torch.tensor([i for i, k in enumerate(kept) if k]).unsqueeze(1)
    assert torch.equal(partial.edge_index, full.edge_index[:, stored.any(0)])
    for conn in connections(partial):  # implicit ones still generate every edge
        assert connection_edges(partial, conn).num_edges == conn.num_edges


def test_count_edges_matches_generation_for_every_connection():
    model, x = model_and_inputs()
    graph = export(model, x, max_edges=0)
    assert graph.edge_index.size(1) == 0
    all_layers = layers(graph)
    for conn in connections(graph):
        generated = connection_edges(graph, conn)
        assert count_edges(conn, all_layers[conn.source], all_layers[conn.target]) == generated.num_edges > 0
