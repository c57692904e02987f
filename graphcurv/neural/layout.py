"""The per-layer structure of a neural graph, stored on the ``Data`` as plain lists.

A neural graph (see ``docs/neural-graph.md``) is a stack of *layers* of nodes
linked by *connections*. Everything is stored as plain ``list``/``dict`` of
``str``/``int``/``bool`` (and one weight tensor per connection), so a saved graph
loads with ``torch.load(weights_only=True)``. This module turns those lists into
:class:`Layer` and :class:`Connection` records and back.

Attributes on the ``Data`` (``L`` layers, ``C`` connections):

* ``layer_names``, ``layer_kinds``, ``layer_activations`` (``L`` str),
  ``layer_ptr`` (``L + 1`` int: nodes of layer ``l`` are ``layer_ptr[l] .. layer_ptr[l+1] - 1``),
  ``layer_shapes`` (per-sample shape, channel first), ``layer_param`` (index into
  ``param_names`` of the weight the layer reads, -1 for none);
* ``connection_source``, ``connection_target`` (layer indices), ``connection_kinds``
  (``linear``, ``conv``, ``max_pool``, ``avg_pool``, ``adaptive_avg_pool``,
  ``adaptive_max_pool``, ``skip``), ``connection_param`` (-1 for parameter-free),
  ``connection_windows`` (conv/pool hyperparameters, a dict of int lists),
  ``connection_num_edges``, ``connection_materialised`` and ``connection_weight``
  (the weight tensor the edges read, BatchNorm-folded when asked; empty when
  parameter-free);
* ``param_names``, ``param_shapes``: the model parameters that edges map to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError

__all__ = ["Connection", "Layer", "connections", "layers", "store_layout"]


@dataclass
class Layer:
    """One layer of nodes: ``shape`` is per sample, channel first (``(units,)`` for linear)."""

    index: int
    name: str
    kind: str
    start: int
    shape: tuple[int, ...]
    activation: str = "identity"
    param: int = -1

    @property
    def num_nodes(self) -> int:
        return math.prod(self.shape)

    @property
    def stop(self) -> int:
        return self.start + self.num_nodes

    @property
    def spatial(self) -> tuple[int, ...]:
        return tuple(self.shape[1:])


@dataclass
class Connection:
    """The edges from layer ``source`` to layer ``target`` made by one operation."""

    index: int
    source: int
    target: int
    kind: str
    param: int = -1
    window: dict[str, list[int]] = field(default_factory=dict)
    weight: Tensor = field(default_factory=lambda: torch.empty(0))
    num_edges: int = 0
    materialised: bool = False


def _require(data: Data, key: str):
    value = data.get(key)
    if value is None:
        raise GraphcurvError(
            f"not a neural graph: the graph has no {key!r} (export a model with graphcurv.neural.export)"
        )
    return value


def layers(data: Data) -> list[Layer]:
    """The layers of a neural graph, in node order."""
    names, ptr = _require(data, "layer_names"), _require(data, "layer_ptr")
    kinds, shapes = data.layer_kinds, data.layer_shapes
    return [
        Layer(i, names[i], kinds[i], int(ptr[i]), tuple(shapes[i]), data.layer_activations[i], int(data.layer_param[i]))
        for i in range(len(names))
    ]


def connections(data: Data) -> list[Connection]:
    """The connections of a neural graph, in the order they were traced."""
    sources = _require(data, "connection_source")
    return [
        Connection(
            index=i,
            source=int(sources[i]),
            target=int(data.connection_target[i]),
            kind=data.connection_kinds[i],
            param=int(data.connection_param[i]),
            window={k: list(v) for k, v in data.connection_windows[i].items()},
            weight=data.connection_weight[i],
            num_edges=int(data.connection_num_edges[i]),
            materialised=bool(data.connection_materialised[i]),
        )
        for i in range(len(sources))
    ]


def store_layout(data: Data, layer_list: list[Layer], connection_list: list[Connection]) -> None:
    """Write layers and connections onto ``data`` as the plain attributes listed above."""
    data.layer_names = [layer.name for layer in layer_list]
    data.layer_kinds = [layer.kind for layer in layer_list]
    data.layer_activations = [layer.activation for layer in layer_list]
    data.layer_ptr = [layer.start for layer in layer_list] + [layer_list[-1].stop]
    data.layer_shapes = [list(layer.shape) for layer in layer_list]
    data.layer_param = [layer.param for layer in layer_list]
    data.connection_source = [c.source for c in connection_list]
    data.connection_target = [c.target for c in connection_list]
    data.connection_kinds = [c.kind for c in connection_list]
    data.connection_param = [c.param for c in connection_list]
    data.connection_windows = [{k: [int(x) for x in v] for k, v in c.window.items()} for c in connection_list]
    data.connection_weight = [c.weight.detach().cpu() for c in connection_list]
    data.connection_num_edges = [int(c.num_edges) for c in connection_list]
    data.connection_materialised = [bool(c.materialised) for c in connection_list]


def node_coordinates(layer_list: list[Layer]) -> tuple[Tensor, Tensor, Tensor]:
    """Per node: layer index, channel and flat spatial position (all long)."""
    layer_ids, channels, positions = [], [], []
    for layer in layer_list:
        spatial = math.prod(layer.spatial)
        local = torch.arange(layer.num_nodes)
        layer_ids.append(torch.full((layer.num_nodes,), layer.index, dtype=torch.long))
        channels.append(local // spatial)
        positions.append(local % spatial)
    return torch.cat(layer_ids), torch.cat(channels), torch.cat(positions)
