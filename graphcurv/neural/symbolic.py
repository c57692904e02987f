"""What a traced tensor *is* in neural-graph terms, and the builder that turns it into layers.

While the traced graph is walked (:mod:`graphcurv.neural.structure`), every tensor
is one of:

* :class:`LayerValue`: the values of the nodes of a layer (maybe viewed with
  another shape; flattening creates no nodes);
* :class:`Pending`: an affine function of layers that has no nodes yet, as
  ``sum of terms + bias`` (a conv, linear, pooling output, a residual sum of
  such outputs and skips, or a parameter-free index map: slicing and zero padding). It becomes a layer (:meth:`GraphBuilder.materialise`)
  when something non-additive consumes it: an activation, another
  linear/conv/pooling operation, or the model's output;
* :class:`ParamValue`: a parameter or buffer (weights, BatchNorm statistics);
* :class:`PaddedValue`: a layer with zero padding over its spatial dimensions, which a
  convolution absorbs; anything else reads it as an index map (:mod:`graphcurv.neural.index_ops`);
* :class:`Normalised`: a softmax of the logits (the output layer is what it normalises);
* :class:`Opaque`: anything else a traced op returns (pooling indices, BatchNorm
  statistics, a dropout mask); using it raises a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import Tensor

from graphcurv.errors import GraphcurvError
from graphcurv.neural.layout import Connection, Layer

__all__ = ["GraphBuilder", "LayerValue", "Normalised", "Opaque", "PaddedValue", "ParamValue", "Pending", "Term"]


@dataclass(frozen=True)
class LayerValue:
    layer: int
    shape: tuple[int, ...]
    version: str  # name of the traced node whose value these nodes hold


@dataclass(frozen=True)
class ParamValue:
    name: str
    tensor: Tensor
    transposed: bool = False


@dataclass(frozen=True)
class PaddedValue:
    value: LayerValue
    pad_before: tuple[int, ...]  # per spatial dimension
    pad_after: tuple[int, ...] = ()  # per spatial dimension (empty: none)
    node: Any = None  # the traced padding operation (a torch.fx Node)


@dataclass(frozen=True)
class Opaque:
    reason: str


@dataclass(frozen=True)
class Normalised:
    """A softmax / log-softmax of the logits: allowed only as the model's output."""

    base: LayerValue | Pending


@dataclass
class Term:
    """One incoming connection of a pending layer (its target is not known yet)."""

    kind: str
    source: int
    param: str | None = None
    weight: Tensor = field(default_factory=lambda: torch.empty(0))
    window: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Pending:
    terms: tuple[Term, ...]
    bias: Tensor | None  # one value per node (flat), float64
    node_shape: tuple[int, ...]
    shape: tuple[int, ...]
    kind: str
    name: str
    value: str  # name of the traced node holding the current value

    def viewed(self, shape: tuple[int, ...], value: str) -> Pending:
        return replace(self, shape=shape, value=value)


class GraphBuilder:
    """Collects layers, connections, per-node biases and parameter names while tracing."""

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self.connections: list[Connection] = []
        self.biases: list[Tensor | None] = []
        self.value_nodes: list[str] = []  # per layer: traced node holding its final activation
        self.param_names: list[str] = []
        self.param_shapes: list[list[int]] = []
        self.reads: list[tuple[int, str, str]] = []  # (layer, version, reader) for the final check
        self._names: set[str] = set()

    def unique_name(self, name: str, node: str) -> str:
        name = name or node
        if name in self._names:
            name = f"{name}:{node}"
        self._names.add(name)
        return name

    def param_index(self, name: str, shape) -> int:
        if name not in self.param_names:
            self.param_names.append(name)
            self.param_shapes.append([int(s) for s in shape])
        return self.param_names.index(name)

    def add_layer(self, name: str, kind: str, shape, value_node: str, bias: Tensor | None = None) -> Layer:
        start = self.layers[-1].stop if self.layers else 0
        layer = Layer(len(self.layers), name, kind, start, tuple(int(s) for s in shape))
        self.layers.append(layer)
        self.biases.append(bias)
        self.value_nodes.append(value_node)
        return layer

    def read(self, value: LayerValue, reader: str) -> None:
        self.reads.append((value.layer, value.version, reader))

    def activate(self, value: LayerValue, activation: str, node: str) -> LayerValue:
        """Apply an elementwise activation to a layer: its nodes now hold the new value."""
        if self.value_nodes[value.layer] != value.version:
            raise GraphcurvError(
                f"layer {self.layers[value.layer].name!r} gets two different activations "
                f"(at {node}); a neuron must have one value"
            )
        layer = self.layers[value.layer]
        layer.activation = activation if layer.activation == "identity" else f"{layer.activation}>{activation}"
        self.value_nodes[value.layer] = node
        return replace(value, version=node)

    def materialise(self, pending: Pending) -> LayerValue:
        """Give a pending affine function its own layer of nodes, with one connection per term."""
        layer = self.add_layer(pending.name, pending.kind, pending.node_shape, pending.value, pending.bias)
        for term in pending.terms:
            param = -1 if term.param is None else self.param_index(term.param, term.weight.shape)
            if param >= 0 and layer.param < 0:
                layer.param = param
            self.connections.append(
                Connection(len(self.connections), term.source, layer.index, term.kind, param, term.window, term.weight)
            )
        return LayerValue(layer.index, pending.shape, pending.value)

    def check_reads(self) -> None:
        """Every consumer must have read a layer's final (post-activation) value."""
        for layer, version, reader in self.reads:
            if self.value_nodes[layer] != version:
                raise GraphcurvError(
                    f"{reader} reads layer {self.layers[layer].name!r} before its activation "
                    f"({self.layers[layer].activation}) while other layers read it after; "
                    "a neuron must have one value"
                )
