"""A per-layer summary of a neural graph: nodes, edges, stored or implicit, memory.

Example:

>>> import torch
>>> from graphcurv.neural import export
>>> graph = export(torch.nn.Sequential(torch.nn.Linear(3, 2)), torch.randn(4, 3))
>>> [(row.name, row.nodes, row.edges, row.form) for row in export_summary(graph)]
[('input', 3, 0, '-'), ('0', 2, 6, 'materialised')]
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor
from torch_geometric.data import Data

from graphcurv.neural.layout import connections, layers

__all__ = ["LayerRow", "export_summary", "graph_bytes"]

_EDGE_KEYS = ("edge_index", "edge_weight", "weight", "param", "param_index", "edge_connection")
_NODE_KEYS = ("layer", "channel", "position", "bias", "activation", "raw_activation")


@dataclass
class LayerRow:
    """One layer: its incoming edges (all connections into it) and what it costs in memory."""

    name: str
    kind: str
    activation: str
    shape: tuple[int, ...]
    nodes: int
    edges: int
    form: str  # "materialised", "implicit", "mixed", or "-" (no incoming edges)
    memory_bytes: int

    def as_row(self) -> tuple:
        return (
            self.name,
            self.kind,
            self.activation,
            "x".join(map(str, self.shape)) or "1",
            self.nodes,
            self.edges,
            self.form,
            self.memory_bytes,
        )


def _nbytes(data: Data, keys) -> int:
    return sum(t.element_size() * t.numel() for k in keys if isinstance(t := data.get(k), Tensor))


def graph_bytes(data: Data) -> int:
    """Bytes held by every tensor of the graph (edges, nodes, stored weight tensors)."""
    total = sum(v.element_size() * v.numel() for _, v in data if isinstance(v, Tensor))
    return total + sum(w.element_size() * w.numel() for w in data.get("connection_weight", []))


def export_summary(data: Data) -> list[LayerRow]:
    """One :class:`LayerRow` per layer, in node order.

    Memory counts the layer's node tensors, its materialised incoming edges and the
    weight tensors of its incoming connections (what implicit edges are generated from).
    """
    num_edges, num_nodes = max(data.edge_index.size(1), 1), max(int(data.num_nodes), 1)
    per_edge = _nbytes(data, _EDGE_KEYS) / num_edges if data.edge_index.size(1) else 0.0
    per_node = _nbytes(data, _NODE_KEYS) / num_nodes
    rows = []
    all_connections = connections(data)
    for layer in layers(data):
        incoming = [c for c in all_connections if c.target == layer.index]
        stored = sum(c.num_edges for c in incoming if c.materialised)
        total = sum(c.num_edges for c in incoming)
        weights = sum(c.weight.element_size() * c.weight.numel() for c in incoming)
        kinds = {c.materialised for c in incoming}
        form = (
            "-" if not incoming else ("mixed" if len(kinds) == 2 else ("materialised" if True in kinds else "implicit"))
        )
        memory = int(layer.num_nodes * per_node + stored * per_edge + weights)
        rows.append(
            LayerRow(layer.name, layer.kind, layer.activation, layer.shape, layer.num_nodes, total, form, memory)
        )
    return rows
