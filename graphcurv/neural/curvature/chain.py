"""A neural graph as layers and the connections between them, edges as flat tensors.

Neural curvature (``../shared/spec/neural-curvature.md``) is defined on chains: layer 0
(the input) -> layer 1 -> ... -> layer K (the logits), one connection into each layer.
graphcurv extends it to any DAG of layers (residual additions, concatenations, index
maps: ``docs/neural-curvature.md``, "Residual and branching models"): a layer may be fed
by several connections, from any earlier layer, and feed several. This module collects,
per connection (source layer -> target layer, in the order of the target layer, then
the source), every edge's local source and target index, length ``d = 1 / |w|``
(``|w|`` clamped below at 1e-30) and the parameter entry it reads. It checks that layer 0
is the only layer nothing feeds and the last (the logits) the only one that feeds
nothing. A chain is the case where connection k runs from layer k to layer k+1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError
from graphcurv.neural.edges import connection_edges
from graphcurv.neural.layout import connections, layers

MIN_ABS_WEIGHT = 1e-30


@dataclass(frozen=True)
class ChainConnection:
    """The edges of layer ``source`` -> layer ``target``: local indices, lengths and parameter entries."""

    index: int
    src: Tensor
    dst: Tensor
    length: Tensor
    weight: Tensor
    param: int
    param_index: Tensor
    source: int = -1
    target: int = -1
    grid: tuple[tuple[int, ...], ...] | None = None  # (kernel, stride, padding, dilation) per spatial dim

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
    shapes: list[tuple[int, ...]] = field(default_factory=list)  # per layer, channel first

    @property
    def num_layers(self) -> int:
        return len(self.sizes)

    @property
    def is_chain(self) -> bool:
        """Connection k runs from layer k to layer k+1, for every k."""
        return all(link.source == k and link.target == k + 1 for k, link in enumerate(self.links))

    def into(self, layer: int) -> list[int]:
        """Indices of the connections into ``layer``."""
        return [k for k, link in enumerate(self.links) if link.target == layer]

    def out_of(self, layer: int) -> list[int]:
        """Indices of the connections out of ``layer``."""
        return [k for k, link in enumerate(self.links) if link.source == layer]


def neural_chain(data: Data, device: torch.device | str = "cpu") -> NeuralChain:
    """The chain of ``data`` (a graph from :func:`graphcurv.neural.export`)."""
    layer_list, connection_list = layers(data), connections(data)
    if len(layer_list) < 2:
        raise GraphcurvError("a neural graph needs at least an input and an output layer")
    feeds = {c.source for c in connection_list}
    fed = {c.target for c in connection_list}
    last = len(layer_list) - 1
    for layer in range(len(layer_list)):
        if layer != 0 and layer not in fed:
            raise GraphcurvError(f"layer {layer} ({layer_list[layer].name}) is fed by no connection")
        if layer != last and layer not in feeds:
            raise GraphcurvError(f"layer {layer} ({layer_list[layer].name}) feeds no connection (a dead end)")
    links = []
    for c in sorted(connection_list, key=lambda c: (c.target, c.source, c.index)):
        if not c.source < c.target:
            raise GraphcurvError(f"connection {c.index} runs backwards (layer {c.source} -> {c.target})")
        edges = connection_edges(data, c)
        weight = edges.weight.to(device)
        src = edges.source.to(device) - layer_list[c.source].start
        dst = edges.target.to(device) - layer_list[c.target].start
        length = 1.0 / weight.double().abs().clamp(min=MIN_ABS_WEIGHT)
        links.append(
            ChainConnection(
                c.index,
                src,
                dst,
                length,
                weight,
                c.param,
                edges.param_index.to(device),
                c.source,
                c.target,
                _grid(c, layer_list[c.source], layer_list[c.target]),
            )
        )
    return NeuralChain(
        [layer.num_nodes for layer in layer_list],
        [layer.start for layer in layer_list],
        [layer.name for layer in layer_list],
        links,
        [tuple(layer.shape) for layer in layer_list],
    )


def _grid(connection, source, target) -> tuple[tuple[int, ...], ...] | None:
    """(kernel, stride, padding, dilation) per spatial dimension of a connection whose
    target position ``o`` reads source positions ``o * stride - padding + k * dilation``
    (conv, max / avg pooling, the identity skip); None for any other connection."""
    window, dims = connection.window, len(target.shape) - 1
    if dims < 1 or len(source.shape) != len(target.shape):
        return None
    if connection.kind == "skip" and not window and tuple(source.shape) == tuple(target.shape):
        return ((1,) * dims, (1,) * dims, (0,) * dims, (1,) * dims)
    if connection.kind not in ("conv", "max_pool", "avg_pool"):
        return None
    if tuple(window.get("in_shape", source.shape)) != tuple(source.shape):
        return None
    kernel = window["kernel"] if "kernel" in window else list(connection.weight.shape[2:])
    dilation = window.get("dilation", [1] * len(kernel))
    grid = (kernel, window["stride"], window["padding"], dilation)
    if any(len(part) != dims for part in grid):
        return None
    return tuple(tuple(int(v) for v in part) for part in grid)
