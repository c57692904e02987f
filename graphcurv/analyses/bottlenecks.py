r"""Bottlenecks of a model: where its neural curvature is negative.

Negative-curvature edges are the bottlenecks of the network's information flow
(``../shared/spec/neural-curvature.md``: removing them first collapses accuracy).
:func:`bottleneck_report` summarises a :class:`~graphcurv.neural.curvature.NeuralCurvature`
per connection (layer l -> layer l+1) and per layer:

* the distribution of the edge scores: count, min, quartiles (linear interpolation,
  as ``numpy.quantile`` and ``torch.quantile``), max, mean and the share of negative
  edges. Two distributions are given: ``score``, the **minimum over samples** (the
  pruning score, with dead-neuron edges of a hidden source at 2.0), which every
  ranking here uses, and ``mean``, the mean of :math:`\kappa_N` over samples (None
  unless the curvature was computed with ``mean=True``: it needs every problem solved);
* the ``top`` most negative edges (lowest ``score``, ties by edge order), one per
  parameter entry (a conv kernel weight appears at every output position; it is
  listed once, at its most negative edge), with the coordinates of both ends (layer, channel and spatial position for conv/input
  layers, unit for linear ones), the raw weight, the parameter entry it reads, and
  the mean activation :math:`a_u` over the calibration samples of both ends;
* per layer, the neurons where negative edges concentrate: the count of incident
  edges (incoming and outgoing) with a negative score, top ``top`` neurons, and the
  number of inactive neurons (activation 0 on every sample: dead neurons in a hidden
  layer; note that min-max normalisation puts each layer's least active node at 0).

Example:

>>> import torch
>>> from graphcurv.neural import export
>>> from graphcurv.neural.curvature import neural_curvature
>>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
>>> graph = export(model, torch.randn(5, 3))
>>> report = bottleneck_report(graph, neural_curvature(graph), top=3)  # doctest: +SKIP
>>> report.connections[0].score.negative_share  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError
from graphcurv.neural.layout import Layer, connections, layers

__all__ = [
    "BottleneckEdge",
    "BottleneckReport",
    "ConnectionBottlenecks",
    "CurvatureDistribution",
    "LayerConcentration",
    "Neuron",
    "NeuronConcentration",
    "bottleneck_report",
    "curvature_distribution",
    "neuron_at",
]


@dataclass(frozen=True)
class Neuron:
    """A node of the neural graph by its coordinates (``position`` is empty for linear layers)."""

    layer: int
    layer_name: str
    index: int  # local index within the layer
    channel: int  # the unit for a linear layer
    position: tuple[int, ...]

    @property
    def label(self) -> str:
        """``classifier.2[17]`` for a unit, ``features.0[c3, 4, 5]`` for channel 3 at (4, 5)."""
        if not self.position:
            return f"{self.layer_name}[{self.channel}]"
        return f"{self.layer_name}[c{self.channel}, {', '.join(map(str, self.position))}]"

    def to_dict(self) -> dict:
        return {**plain(self), "label": self.label}


def neuron_at(layer: Layer, index: int) -> Neuron:
    """The coordinates of the ``index``-th node (row-major over ``(channel, *spatial)``) of ``layer``."""
    if not 0 <= index < layer.num_nodes:
        raise GraphcurvError(f"layer {layer.name!r} has {layer.num_nodes} nodes, no node {index}")
    spatial = layer.spatial
    channel, flat = divmod(index, math.prod(spatial))
    position = tuple(int(p) for p in np.unravel_index(flat, spatial)) if spatial else ()
    return Neuron(layer.index, layer.name, int(index), int(channel), position)


@dataclass(frozen=True)
class CurvatureDistribution:
    """Count, min, quartiles, max, mean and share of negative values of a set of curvatures."""

    count: int
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float
    mean: float
    negative_share: float

    def to_dict(self) -> dict:
        return plain(self)


def curvature_distribution(values: Tensor) -> CurvatureDistribution:
    """The distribution of ``values`` (quartiles by linear interpolation; NaN fields when empty)."""
    array = values.detach().double().cpu().numpy().reshape(-1)
    if array.size == 0:
        nan = float("nan")
        return CurvatureDistribution(0, nan, nan, nan, nan, nan, nan, nan)
    q1, median, q3 = (float(q) for q in np.quantile(array, [0.25, 0.5, 0.75]))
    low, high, mean, negative = (float(f(array)) for f in (np.min, np.max, np.mean, lambda a: (a < 0).mean()))
    return CurvatureDistribution(int(array.size), low, q1, median, q3, high, mean, negative)


@dataclass(frozen=True)
class BottleneckEdge:
    """One edge with its score, coordinates, weight and the mean activation of both ends."""

    connection: int  # position in the chain: layer ``connection`` -> ``connection + 1``
    source: Neuron
    target: Neuron
    score: float  # min over samples (the pruning score)
    mean: float | None  # mean kappa_N over samples (None unless computed with mean=True)
    weight: float
    parameter: str | None  # the parameter tensor the edge reads (None for pooling)
    parameter_index: tuple[int, ...] | None
    source_activation: float
    target_activation: float

    def to_dict(self) -> dict:
        return {**plain(self), "source": self.source.to_dict(), "target": self.target.to_dict()}


@dataclass(frozen=True)
class ConnectionBottlenecks:
    """One connection (layer ``source`` -> ``target``): its score distributions and most negative edges."""

    connection: int
    source: str
    target: str
    kind: str
    edges: int
    score: CurvatureDistribution  # min over samples
    mean: CurvatureDistribution | None  # mean over samples (None unless computed with mean=True)
    most_negative: list[BottleneckEdge]

    def to_dict(self) -> dict:
        return {**plain(self), "most_negative": [edge.to_dict() for edge in self.most_negative]}


@dataclass(frozen=True)
class NeuronConcentration:
    """A neuron and how many of its incident edges have a negative score."""

    neuron: Neuron
    negative_in: int
    negative_out: int
    degree_in: int
    degree_out: int
    activation: float  # mean over samples

    @property
    def negative(self) -> int:
        return self.negative_in + self.negative_out

    def to_dict(self) -> dict:
        return {**plain(self), "neuron": self.neuron.to_dict(), "negative": self.negative}


@dataclass(frozen=True)
class LayerConcentration:
    """The neurons of one layer where negative edges concentrate, most first."""

    layer: int
    name: str
    nodes: int
    inactive: int  # neurons with activation 0 on every sample (dead neurons, in a hidden layer)
    neurons: list[NeuronConcentration]

    def to_dict(self) -> dict:
        return {**plain(self), "neurons": [n.to_dict() for n in self.neurons]}


@dataclass(frozen=True)
class BottleneckReport:
    """Per connection and per layer bottlenecks, and the ``top`` most negative edges of the model."""

    alpha: float
    samples: int
    connections: list[ConnectionBottlenecks]
    layers: list[LayerConcentration]
    most_negative: list[BottleneckEdge]

    def to_dict(self) -> dict:
        return {
            "alpha": self.alpha,
            "samples": self.samples,
            "ranking": "score = min of kappa_N over samples (dead-neuron edges of a hidden source: 2.0)",
            "connections": [c.to_dict() for c in self.connections],
            "layers": [layer.to_dict() for layer in self.layers],
            "most_negative": [edge.to_dict() for edge in self.most_negative],
        }


def plain(value: Any) -> Any:
    """A dataclass (or container of them) as dicts and lists, for JSON (tuples become lists)."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def bottleneck_report(graph: Data, result, *, top: int = 10) -> BottleneckReport:
    """Distributions, most negative edges and concentration neurons of ``result``
    (a :class:`~graphcurv.neural.curvature.NeuralCurvature` of ``graph``), see the module docstring."""
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise GraphcurvError(f"top must be a non-negative integer, got {top!r}")
    chain = result.chain
    layer_list = layers(graph)
    if [layer.num_nodes for layer in layer_list] != list(chain.sizes):
        raise GraphcurvError("the curvature result belongs to another graph (layer sizes differ)")
    if result.samples < 1:
        raise GraphcurvError("the curvature result has no samples")
    activation = graph.activation.detach().double().cpu()
    mean_activation = activation.mean(1)
    kinds = [c.kind for c in _chain_connections(graph, chain)]
    connection_rows = []
    for k, link in enumerate(chain.links):
        score = result.edge_score[k].cpu()
        mean = None if result.edge_mean is None else result.edge_mean[k].cpu()
        lowest = _lowest_edges(score, link.param_index.cpu() if link.param >= 0 else None, top)
        edges = [_edge(graph, layer_list, chain, k, e, score, mean, mean_activation) for e in lowest]
        connection_rows.append(
            ConnectionBottlenecks(
                k,
                chain.names[link.source],
                chain.names[link.target],
                kinds[k],
                link.num_edges,
                curvature_distribution(score),
                None if mean is None else curvature_distribution(mean),
                edges,
            )
        )
    candidates = [edge for row in connection_rows for edge in row.most_negative]
    overall = sorted(candidates, key=lambda edge: edge.score)[:top]  # sorted() is stable: chain order on ties
    concentration = _concentration(layer_list, chain, result.edge_score, activation, mean_activation, top)
    return BottleneckReport(float(result.alpha), int(result.samples), connection_rows, concentration, overall)


def _lowest_edges(score: Tensor, param_index: Tensor | None, top: int) -> list[int]:
    """Positions of the ``top`` lowest scores (ties: edge order), one per parameter entry when given."""
    order = torch.sort(score, stable=True).indices
    if param_index is not None:
        _, first = np.unique(param_index[order].numpy(), return_index=True)  # each entry's lowest edge
        order = order[torch.from_numpy(np.sort(first))]
    return order[:top].tolist()


def _chain_connections(graph: Data, chain) -> list:
    by_index = {c.index: c for c in connections(graph)}
    return [by_index[link.index] for link in chain.links]


def _edge(graph: Data, layer_list, chain, k: int, e: int, score: Tensor, mean: Tensor | None, activation: Tensor):
    link = chain.links[k]
    i, j = int(link.src[e]), int(link.dst[e])
    parameter, index = None, None
    if link.param >= 0:
        parameter = graph.param_names[link.param]
        shape = tuple(graph.param_shapes[link.param])
        index = tuple(int(x) for x in np.unravel_index(int(link.param_index[e]), shape))
    return BottleneckEdge(
        k,
        neuron_at(layer_list[link.source], i),
        neuron_at(layer_list[link.target], j),
        float(score[e]),
        None if mean is None else float(mean[e]),
        float(link.weight[e]),
        parameter,
        index,
        float(activation[chain.starts[link.source] + i]),
        float(activation[chain.starts[link.target] + j]),
    )


def _concentration(layer_list, chain, edge_score, activation, mean_activation, top: int) -> list[LayerConcentration]:
    out = []
    for layer_id, layer in enumerate(layer_list):
        n, start = layer.num_nodes, chain.starts[layer_id]
        zero = torch.zeros(n, dtype=torch.long)
        neg_in, neg_out, deg_in, deg_out = zero, zero, zero, zero
        for k in chain.into(layer_id):  # every connection into the layer (several on a DAG)
            dst, score = chain.links[k].dst.cpu(), edge_score[k].cpu()
            neg_in = neg_in + torch.bincount(dst[score < 0], minlength=n)
            deg_in = deg_in + torch.bincount(dst, minlength=n)
        for k in chain.out_of(layer_id):
            src, score = chain.links[k].src.cpu(), edge_score[k].cpu()
            neg_out = neg_out + torch.bincount(src[score < 0], minlength=n)
            deg_out = deg_out + torch.bincount(src, minlength=n)
        negative = neg_in + neg_out
        order = torch.sort(-negative, stable=True).indices[:top]
        neurons = [
            NeuronConcentration(
                neuron_at(layer, u),
                int(neg_in[u]),
                int(neg_out[u]),
                int(deg_in[u]),
                int(deg_out[u]),
                float(mean_activation[start + u]),
            )
            for u in order.tolist()
            if int(negative[u]) > 0
        ]
        inactive = int((activation[start : start + n] == 0).all(dim=1).sum())
        out.append(LayerConcentration(layer_id, layer.name, n, inactive, neurons))
    return out
