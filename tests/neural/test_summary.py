import torch
from torch import nn

from graphcurv.neural import export, export_summary
from graphcurv.neural.summary import graph_bytes


def test_summary_rows_by_hand():
    model = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    graph = export(model, torch.randn(4, 1, 3, 3), max_edges=24)
    rows = export_summary(graph)
    # conv: 2 channels x 4 positions x 4 kernel cells = 32 edges (> 24: implicit); linear: 24 edges
    assert [(r.name, r.kind, r.activation, r.nodes, r.edges, r.form) for r in rows] == [
        ("input", "input", "identity", 9, 0, "-"),
        ("0", "conv2d", "relu", 8, 32, "implicit"),
        ("3", "linear", "identity", 3, 24, "materialised"),
    ]
    # per node: 3 long coordinates + float32 bias + 4 float32 activations = 44 bytes
    assert rows[0].memory_bytes == 9 * 44
    assert rows[1].memory_bytes == 8 * 44 + 2 * 1 * 2 * 2 * 4  # + the conv weight it is generated from
    # per stored edge: edge_index 16 + edge_weight 8 + weight 4 + param/param_index/edge_connection 24 = 52
    assert rows[2].memory_bytes == 3 * 44 + 24 * 52 + 3 * 8 * 4
    assert sum(r.memory_bytes for r in rows) == graph_bytes(graph)
    assert rows[1].as_row() == ("0", "conv2d", "relu", "2x2x2", 8, 32, "implicit", rows[1].memory_bytes)
