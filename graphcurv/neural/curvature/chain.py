"""A neural graph as a chain of layers, with the edges of every connection as flat tensors.

Neural curvature (``../shared/spec/neural-curvature.md``) is defined on graphs whose
edges run only between consecutive layers: layer 0 (the input) -> layer 1 -> ... ->
layer K (the logits), one connection into each layer. This module checks that and
collects, per connection l (layer l -> layer l+1), every edge's local source and
target index, length ``d = 1 / |w|`` (``|w|`` clamped below at 1e-30) and the
parameter entry it reads. Residual skip connections (a layer fed by two
connections) are not part of the definition and are refused with a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError
from graphcurv.neural.edges import connection_edges
from graphcurv.neural.layout import connections, layers

MIN_ABS_WEIGHT = 1e-30


@dataclass(frozen=True)
class ChainConnection:
    """The edges of layer l -> layer l+1: local indices, lengths and parameter entries."""

    index: int
    src: Tensor
    dst: Tensor
    length: Tensor
    weight: Tensor
    param: int
    param_index: Tensor

    @property
    def num_edges(self) -> int:
        return int(self.src.numel())


@dataclass(frozen=True)
class NeuralChain:
    """Layers (sizes, first global node id, names) and the connections between them."""

    sizes: list[int]
    starts: list[int]
    names: list[str]
    links: list[ChainConnection]

    @property
    def num_layers(self) -> int:
        return len(self.sizes)


def neural_chain(data: Data, device: torch.device | str = "cpu") -> NeuralChain:
    """The chain of ``data`` (a graph from :func:`graphcurv.neural.export`)."""
    layer_list, connection_list = layers(data), connections(data)
    if len(layer_list) < 2:
        raise GraphcurvError("a neural graph needs at least an input and an output layer")
    into = [[] for _ in layer_list]
    for c in connection_list:
        into[c.target].append(c)
    links = []
    for target in range(1, len(layer_list)):
        feeding = into[target]
        if len(feeding) != 1 or feeding[0].source != target - 1:
            found = ", ".join(f"{c.kind} from layer {c.source}" for c in feeding) or "none"
            raise GraphcurvError(
                f"neural curvature needs a chain of layers (one connection into each layer, from the layer "
                f"before); layer {target} ({layer_list[target].name}) is fed by: {found}. Residual skips and "
                "branches are not supported"
            )
        c = feeding[0]
        edges = connection_edges(data, c)
        weight = edges.weight.to(device)
        src = edges.source.to(device) - layer_list[c.source].start
        dst = edges.target.to(device) - layer_list[c.target].start
        length = 1.0 / weight.double().abs().clamp(min=MIN_ABS_WEIGHT)
        links.append(ChainConnection(c.index, src, dst, length, weight, c.param, edges.param_index.to(device)))
    return NeuralChain(
        [layer.num_nodes for layer in layer_list],
        [layer.start for layer in layer_list],
        [layer.name for layer in layer_list],
        links,
    )
