"""The edges of one connection, generated from its weight tensor (the implicit form).

Every connection can produce its edges on demand from what the graph stores
(the weight tensor, the layer shapes and the conv/pool hyperparameters), in
chunks of whole rows: with ``by="target"`` a chunk holds every incoming edge of
the target nodes it covers (an output channel of a conv or pooling layer, a unit
of a linear layer), with ``by="source"`` every outgoing edge of its source nodes.
Materialised connections are, in addition, stored in ``data.edge_index`` (see
:func:`graphcurv.neural.export`); both forms hold the same edges.

Edges per connection kind (``w`` the weight):

* ``linear``: one edge ``i -> o`` per non-zero ``w[o, i]``;
* ``conv``: one edge per (input node inside the receptive field -> output node)
  and non-zero kernel entry: ``(g * Cin_g + c, i) -> (o, p)`` with weight
  ``w[o, c, k]`` when input position ``i`` is at kernel offset ``k`` of output
  position ``p`` (``g`` the group of ``o``); padding cells have no node, no edge;
* ``avg_pool`` / ``adaptive_avg_pool``: weight ``1 / divisor`` from every cell of
  the window (PyTorch's divisor), so the output is the weighted sum;
* ``max_pool`` / ``adaptive_max_pool``: weight 1 from every cell of the window; the
  output is the *maximum* over the incoming edges of weight x input;
* ``skip`` through an index map (slicing, zero padding; its window holds the map,
  :mod:`graphcurv.neural.index_ops`): weight 1 from each source node the map keeps
  to its target node, none into padding;
* ``skip`` (a residual addition): weight 1 from node ``n`` of the source to node
  ``n`` of the target.

Zero weights give no edge (a pruned weight is no connection). Within a chunk
the order of the edges is unspecified.

Example:

>>> import torch
>>> from graphcurv.neural import export
>>> graph = export(torch.nn.Sequential(torch.nn.Conv1d(1, 2, 2)), torch.randn(1, 1, 4))
>>> [chunk.num_edges for chunk in iter_connection_edges(graph, 0, max_edges=6)]
[6, 6]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from torch import Tensor
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError
from graphcurv.neural import generators
from graphcurv.neural.layout import Connection, Layer, connections, layers

__all__ = ["EdgeChunk", "connection_edges", "count_edges", "generate_edges", "iter_connection_edges"]


@dataclass
class EdgeChunk:
    """Edges of one connection: global node ids, raw weight and the parameter entry each reads."""

    source: Tensor
    target: Tensor
    weight: Tensor  # float32
    param_index: Tensor  # flat index into param_names[param]; -1 for parameter-free edges
    connection: int
    param: int

    @property
    def num_edges(self) -> int:
        return int(self.source.numel())


def generate_edges(
    connection: Connection, source: Layer, target: Layer, start: int, stop: int, by: str = "target"
) -> EdgeChunk:
    """The edges of rows ``start .. stop - 1`` of the ``by`` side (``"target"`` or ``"source"``)."""
    src, dst, weight, pidx = generators.generate(connection, source, target, start, stop, by)
    return EdgeChunk(src, dst, weight.float(), pidx, connection.index, connection.param)


def count_edges(connection: Connection, source: Layer, target: Layer) -> int:
    """Number of edges of ``connection`` without generating them."""
    return generators.count(connection, source, target)


def _lookup(data: Data, connection: int | Connection) -> tuple[Connection, Layer, Layer]:
    all_connections, all_layers = connections(data), layers(data)
    index = connection.index if isinstance(connection, Connection) else int(connection)
    if not 0 <= index < len(all_connections):
        raise GraphcurvError(f"connection {index} does not exist (the graph has {len(all_connections)})")
    found = all_connections[index]
    return found, all_layers[found.source], all_layers[found.target]


def iter_connection_edges(
    data: Data, connection: int | Connection, max_edges: int = 1 << 22, *, by: str = "target"
) -> Iterator[EdgeChunk]:
    """Stream the edges of a connection in chunks of whole rows (at most ``max_edges`` each,
    unless one row alone has more).

    Works for materialised and implicit connections alike; nothing is stored.
    ``by="target"``: each chunk has all incoming edges of its target nodes;
    ``by="source"``: all outgoing edges of its source nodes.

    Example: ``for chunk in iter_connection_edges(graph, 3): use(chunk.source, chunk.target, chunk.weight)``.
    """
    found, source, target = _lookup(data, connection)
    total = generators.rows(found, source, target, by)
    step = max(1, max_edges // max(generators.row_cost(found, source, target, by), 1))
    for start in range(0, total, step):
        yield generate_edges(found, source, target, start, min(start + step, total), by)


def connection_edges(data: Data, connection: int | Connection) -> EdgeChunk:
    """All edges of one connection, generated in one piece."""
    found, source, target = _lookup(data, connection)
    return generate_edges(found, source, target, 0, generators.rows(found, source, target))
