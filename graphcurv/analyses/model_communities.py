r"""Communities of a model: Ricci-flow communities on its graph of units and channels.

The neural graph (:func:`graphcurv.neural.export`) is reduced to an undirected
*unit graph* (:func:`unit_graph`):

* nodes: every unit of a flat layer (a linear layer, the logits) and every
  **channel** of a layer with spatial positions that a conv or pooling connection
  reads or writes (the input image of a CNN, conv and pooling layers): all positions
  of a channel are one node. An image fed straight into a linear layer (an MLP) keeps
  one node per input value;
* an edge between two nodes of two layers when at least one neuron edge joins them
  (several connections between the same two layers, e.g. a conv and a residual skip,
  add up), of strength

  .. math::
      s(A, B) = \frac{1}{P_B} \sum_{u \in A,\ v \in B,\ (u, v) \in E} |w_{uv}|

  where :math:`P_B` is the number of spatial positions of the target layer (1 for a
  layer kept at unit level): the summed :math:`|w|` that one neuron of B receives from A, averaged
  over B's positions. For a convolution without padding this is exactly the summed
  :math:`|w|` of the kernel slice ``W[b, a]``; for a linear layer reading a flattened
  conv layer, the summed :math:`|w|` of the unit's weights on the channel's positions;
  for a k x k max pooling, k^2 (weights 1); for a linear layer, :math:`|w|` itself;
* sparsified (``neighbours``, default 4): an edge is kept when it is among the
  ``neighbours`` strongest edges of at least one of its two ends. Dense layers make
  every unit adjacent to whole layers (neighbourhoods of hundreds of nodes: slow
  transport problems and no community signal); the strongest edges carry the structure;
* edge length :math:`1 / s` (as the spec's lengths ``1 / |w|``), rescaled to mean 1
  between every two layers: a conv kernel's summed :math:`|w|` and a single linear
  weight are not on one scale, and without the rescaling the communities would follow
  the layers' weight scales.

Layered graphs have no triangles, so their curvature is mostly negative and their
community structure is weak: on the LeNet variant the best cut has modularity about
0.2-0.25 (Louvain reaches about 0.3 on the same graph). Read the communities as groups
of units joined by their strongest weights, not as sharply separated modules.

:func:`model_communities` runs :func:`graphcurv.analyses.communities.ricci_communities`
(Ricci flow, then the cutoff sweep of highest modularity) on that graph and reports,
per layer, which communities its units or channels fall into, and the *bridges*: edges
between different communities, heaviest flowed length first (the flow stretches the
edges between communities).

Example:

>>> import torch
>>> from graphcurv.neural import export
>>> model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
>>> found = model_communities(export(model, torch.randn(2, 4)), iterations=5)  # doctest: +SKIP
>>> [layer.level for layer in found.layers]  # doctest: +SKIP
['unit', 'unit', 'unit']
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import coalesce

from graphcurv.analyses.bottlenecks import plain
from graphcurv.errors import GraphcurvError
from graphcurv.neural.edges import iter_connection_edges
from graphcurv.neural.layout import connections, layers
from graphcurv.progress import ProgressCallback

__all__ = ["Bridge", "LayerCommunities", "ModelCommunities", "UnitNode", "model_communities", "unit_graph"]


@dataclass(frozen=True)
class UnitNode:
    """A node of the unit graph: a unit of a flat layer or a channel of a spatial layer."""

    layer: int
    layer_name: str
    index: int  # unit or channel
    level: str  # "unit" or "channel"

    @property
    def label(self) -> str:
        return f"{self.layer_name}[{'c' if self.level == 'channel' else ''}{self.index}]"

    def to_dict(self) -> dict:
        return {**plain(self), "label": self.label}


@dataclass(frozen=True)
class LayerCommunities:
    """The communities one layer's units (or channels) fall into."""

    layer: int
    name: str
    level: str
    labels: list[int]  # community of each unit / channel
    counts: dict[int, int]  # community -> how many of the layer's nodes, largest first

    def to_dict(self) -> dict:
        return {**plain(self), "counts": {str(k): v for k, v in self.counts.items()}}


@dataclass(frozen=True)
class Bridge:
    """An edge of the unit graph between two communities."""

    source: UnitNode
    target: UnitNode
    source_community: int
    target_community: int
    strength: float  # s(A, B), summed |w| (see the module docstring)
    flowed_length: float

    def to_dict(self) -> dict:
        return {**plain(self), "source": self.source.to_dict(), "target": self.target.to_dict()}


@dataclass(frozen=True)
class ModelCommunities:
    """Ricci-flow communities of a model's unit graph, per layer, with the bridges between them."""

    nodes: list[UnitNode]
    labels: Tensor  # (G,) community of each unit-graph node
    num_communities: int
    modularity: float
    cutoff: float
    iterations: int
    layers: list[LayerCommunities]
    bridges: list[Bridge]
    seconds: float
    graph: Data  # the unit graph (edge_weight: lengths before the flow)

    def to_dict(self) -> dict:
        return {
            "graph": "units of linear layers, channels of conv/pooling layers; length 1 / summed |w|",
            "nodes": int(self.labels.numel()),
            "edges": int(self.graph.edge_index.size(1) // 2),
            "num_communities": self.num_communities,
            "modularity": self.modularity,
            "cutoff": self.cutoff,
            "iterations": self.iterations,
            "seconds": self.seconds,
            "layers": [layer.to_dict() for layer in self.layers],
            "bridges": [bridge.to_dict() for bridge in self.bridges],
        }


def unit_graph(graph: Data, *, neighbours: int | None = 4) -> tuple[Data, list[UnitNode]]:
    """The undirected unit graph of a neural graph (both directions of every edge stored),
    with ``edge_weight`` = length (mean 1 per connection) and ``edge_strength`` = s(A, B);
    and its nodes. ``neighbours``: keep each node's strongest incident edges (None: all)."""
    if neighbours is not None and (isinstance(neighbours, bool) or not isinstance(neighbours, int) or neighbours < 1):
        raise GraphcurvError(f"neighbours must be a positive integer or None, got {neighbours!r}")
    layer_list, connection_list = layers(graph), connections(graph)
    by_channel = _channel_layers(layer_list, connection_list)
    positions = [math.prod(layer.spatial) if by_channel[layer.index] else 1 for layer in layer_list]
    nodes, first = [], []
    for layer in layer_list:
        first.append(len(nodes))
        level = "channel" if by_channel[layer.index] else "unit"
        nodes += [UnitNode(layer.index, layer.name, i, level) for i in range(layer.num_nodes // positions[layer.index])]
    totals: dict[tuple[int, int], Tensor] = {}  # (source layer, target layer) -> summed |w| per unit pair
    for conn in connection_list:
        source, target = layer_list[conn.source], layer_list[conn.target]
        per_source, per_target = positions[source.index], positions[target.index]
        shape = (source.num_nodes // per_source, target.num_nodes // per_target)
        total = totals.setdefault((source.index, target.index), torch.zeros(shape, dtype=torch.float64))
        for chunk in iter_connection_edges(graph, conn, by="target"):
            a = (chunk.source.cpu() - source.start) // per_source
            b = (chunk.target.cpu() - target.start) // per_target
            total.index_put_((a, b), chunk.weight.cpu().double().abs() / per_target, accumulate=True)
    pairs, strengths, groups = [], [], []
    for k, ((s, t), total) in enumerate(totals.items()):
        a, b = torch.nonzero(total > 0, as_tuple=True)
        pairs.append(torch.stack([a + first[s], b + first[t]]))
        strengths.append(total[a, b])
        groups.append(torch.full((a.numel(),), k))
    if not pairs or sum(p.size(1) for p in pairs) == 0:
        raise GraphcurvError("the neural graph has no edges: no unit graph to find communities in")
    pair, strength, group = torch.cat(pairs, 1), torch.cat(strengths), torch.cat(groups)
    if neighbours is not None:
        keep = _strongest(pair, strength, len(nodes), neighbours)
        pair, strength, group = pair[:, keep], strength[keep], group[keep]
    length = 1.0 / strength
    for k in group.unique():  # the lengths between every two layers to mean 1
        where = group == k
        length[where] /= length[where].mean()
    edge_index, values = coalesce(
        torch.cat([pair, pair.flip(0)], 1), torch.stack([length, strength], 1).repeat(2, 1), len(nodes)
    )
    data = Data(edge_index=edge_index, edge_weight=values[:, 0].contiguous(), num_nodes=len(nodes))
    data.edge_strength = values[:, 1].contiguous()
    return data, nodes


def _channel_layers(layer_list, connection_list) -> list[bool]:
    """Whether each layer is taken channel by channel: it has spatial positions and a
    conv or pooling connection reads or writes it."""
    spatial_op = [False] * len(layer_list)
    for conn in connection_list:
        if conn.kind not in ("linear", "skip"):
            spatial_op[conn.source] = spatial_op[conn.target] = True
    return [len(layer.shape) > 1 and spatial_op[layer.index] for layer in layer_list]


def _strongest(pair: Tensor, strength: Tensor, num_nodes: int, count: int) -> Tensor:
    """Edges that are among the ``count`` strongest of at least one of their two ends."""
    ends, both = torch.cat([pair[0], pair[1]]), torch.cat([strength, strength])
    order = torch.argsort(-both, stable=True)
    order = order[torch.argsort(ends[order], stable=True)]  # by node, strongest first
    per_node = torch.bincount(ends, minlength=num_nodes)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel()) - (per_node.cumsum(0) - per_node)[ends[order]]
    chosen = rank < count
    return chosen[: pair.size(1)] | chosen[pair.size(1) :]


def model_communities(
    graph: Data,
    *,
    iterations: int = 20,
    alpha: float = 0.5,
    neighbours: int | None = 4,
    cutoff_step: float = 0.025,
    bridges: int = 10,
    progress: ProgressCallback | None = None,
    **flow_options: Any,
) -> ModelCommunities:
    """Ricci-flow communities of the unit graph of ``graph`` (see the module docstring).

    Args:
        iterations, alpha, cutoff_step, **flow_options: passed to
            :func:`~graphcurv.analyses.communities.ricci_communities`.
        neighbours: each node keeps its ``neighbours`` strongest edges (see :func:`unit_graph`);
            ``None`` keeps all (slow: dense layers give neighbourhoods of hundreds of nodes).
        bridges: how many bridges (inter-community edges, heaviest flowed length first) to report.
        progress: progress of the flow and the sweep.
    """
    from graphcurv.analyses.communities import ricci_communities

    if isinstance(bridges, bool) or not isinstance(bridges, int) or bridges < 0:
        raise GraphcurvError(f"bridges must be a non-negative integer, got {bridges!r}")
    started = time.perf_counter()
    data, nodes = unit_graph(graph, neighbours=neighbours)
    found = ricci_communities(
        data, iterations=iterations, alpha=alpha, cutoff_step=cutoff_step, progress=progress, **flow_options
    )
    labels = found.labels.cpu()
    per_layer = _layers(nodes, labels)
    bridge_list = _bridges(data, nodes, labels, found.flowed_weight, bridges)
    flow_iterations = found.flow.iterations if found.flow is not None else 0
    return ModelCommunities(
        nodes,
        labels,
        int(found.num_communities),
        float(found.modularity),
        float(found.cutoff),
        int(flow_iterations),
        per_layer,
        bridge_list,
        time.perf_counter() - started,
        data,
    )


def _layers(nodes: list[UnitNode], labels: Tensor) -> list[LayerCommunities]:
    out = []
    layer_ids = torch.tensor([node.layer for node in nodes])
    for layer in layer_ids.unique().tolist():
        where = torch.nonzero(layer_ids == layer).flatten()
        members = labels[where]
        values, counts = members.unique(return_counts=True)
        order = sorted(zip(counts.tolist(), values.tolist()), key=lambda vc: (-vc[0], vc[1]))
        head = nodes[int(where[0])]
        out.append(LayerCommunities(layer, head.layer_name, head.level, members.tolist(), {v: c for c, v in order}))
    return out


def _bridges(data: Data, nodes: list[UnitNode], labels: Tensor, flowed: Tensor, count: int) -> list[Bridge]:
    src, dst = data.edge_index.cpu()
    flowed = flowed.cpu()
    between = (src < dst) & (labels[src] != labels[dst]) & torch.isfinite(flowed)
    where = torch.nonzero(between).flatten()
    order = where[torch.sort(-flowed[where], stable=True).indices][:count]
    return [
        Bridge(
            nodes[int(src[e])],
            nodes[int(dst[e])],
            int(labels[src[e]]),
            int(labels[dst[e]]),
            float(data.edge_strength[e]),
            float(flowed[e]),
        )
        for e in order.tolist()
    ]
