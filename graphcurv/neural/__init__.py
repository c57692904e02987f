"""Neural graphs: a trained PyTorch model as a PyG graph of neurons with activation features.

>>> import torch
>>> from graphcurv.neural import export, export_summary
>>> model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
>>> graph = export(model, torch.randn(5, 4))
>>> [row.nodes for row in export_summary(graph)]
[4, 3, 2]

See ``docs/neural-graph.md`` for the graph's definition and attributes.
"""

from graphcurv.neural.activations import normalised_activations
from graphcurv.neural.edges import EdgeChunk, connection_edges, iter_connection_edges
from graphcurv.neural.export import DEFAULT_MAX_EDGES, MIN_WEIGHT, export
from graphcurv.neural.layout import Connection, Layer, connections, layers
from graphcurv.neural.parameters import parameter_scores, scatter_parameter_scores
from graphcurv.neural.summary import LayerRow, export_summary, graph_bytes

__all__ = [
    "DEFAULT_MAX_EDGES",
    "MIN_WEIGHT",
    "Connection",
    "EdgeChunk",
    "Layer",
    "LayerRow",
    "connection_edges",
    "connections",
    "export",
    "export_summary",
    "graph_bytes",
    "iter_connection_edges",
    "layers",
    "normalised_activations",
    "parameter_scores",
    "scatter_parameter_scores",
]
