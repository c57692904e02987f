r"""RandWire: the randomly wired network built from stage DAGs (Xie et al. 2019, small regime).

Layout for ``channels`` :math:`C` and :math:`S` stage graphs:

* ``conv1``: 3x3 conv, stride 2, ``in_channels`` :math:`\to C/2`, then BatchNorm;
* ``conv2``: ReLU :math:`\to` 3x3 separable conv (depthwise 3x3 + pointwise 1x1), stride 2,
  :math:`C/2 \to C` :math:`\to` BatchNorm;
* ``stages``: one random stage per graph, stage :math:`i` (from 0) maps :math:`C_{i-1} \to C_i`
  with :math:`C_i = 2^i C` and :math:`C_{-1} = C` (three stages: :math:`C \to C`,
  :math:`C \to 2C`, :math:`2C \to 4C`);
* ``head``: ReLU :math:`\to` 1x1 conv to ``head_channels`` :math:`\to` BatchNorm :math:`\to` ReLU
  :math:`\to` global average pool; ``classifier``: ``Linear(head_channels, num_classes)``.

Inside a stage, node :math:`v` with predecessors :math:`u_1, \dots, u_k` (:math:`k \ge 1`) computes

.. math::
    y_v = \mathrm{BN}\big(\mathrm{SepConv}\big(\mathrm{ReLU}\big(\textstyle\sum_{i=1}^k
          \sigma(w_{u_i v})\, y_{u_i}\big)\big)\big),

with one learnable scalar :math:`w_e` per edge (initialised to 0, so :math:`\sigma(w_e) = 1/2`)
and a stride-1 :math:`C_i \to C_i` separable conv. A node with no predecessor applies the same op
with stride 2 and :math:`C_{i-1} \to C_i` to the stage input (no aggregation weight). The stage
output is the mean of the nodes with no successor. Both sums are tensor contractions
(``torch.tensordot``, an ``aten.mm``), so :class:`torch.utils.flop_counter.FlopCounterMode`
counts them (:mod:`graphcurv.riccinets.flops`).

The wiring stays on the model as plain edge lists (``model.graphs`` rebuilds the ``Data``), and
:func:`randwire_config` / :func:`randwire_from_config` turn it into the plain ``config`` of a
graphcurv checkpoint (``save_model(model, path, arch="randwire", config=randwire_config(model))``).

>>> import torch
>>> from torch_geometric.data import Data
>>> g = Data(edge_index=torch.tensor([[0, 0, 1], [1, 2, 2]]), num_nodes=3)
>>> model = RandWire([g, g], channels=8, in_channels=1, num_classes=3, head_channels=16)
>>> tuple(model(torch.zeros(2, 1, 28, 28)).shape), [tuple(w.shape) for w in edge_weights(model)]
((2, 3), [(3,), (3,)])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError
from graphcurv.riccinets.wiring import check_dag

__all__ = [
    "RandWire",
    "RandomStage",
    "SeparableConv2d",
    "edge_weights",
    "graphs_from_config",
    "randwire_config",
    "randwire_from_config",
    "stage_edges",
]

_SETTINGS = ("channels", "in_channels", "num_classes", "head_channels")


def stage_edges(graph: Data, what: str = "stage graph") -> tuple[int, list[tuple[int, int]]]:
    """``(num_nodes, [(src, dst), ...])`` of a stage graph, checked: src < dst, no duplicate, a node at least."""
    index = getattr(graph, "edge_index", None)
    if not isinstance(index, Tensor):
        raise GraphcurvError(f"{what} has no edge_index tensor (got {type(index).__name__})")
    if index.dtype.is_floating_point or index.dtype.is_complex or index.dtype == torch.bool:
        raise GraphcurvError(f"{what}: edge_index must hold integer node labels, got {index.dtype}")
    check_dag(graph, what)
    return int(graph.num_nodes), [(int(s), int(d)) for s, d in index.t().tolist()]


def _positive(name: str, value: Any, least: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise GraphcurvError(f"{name} must be an integer >= {least}, got {value!r}")
    return value


class SeparableConv2d(nn.Module):
    """Depthwise 3x3 conv (``groups = in_channels``) then pointwise 1x1 conv, no biases."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, stride, 1, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(self.depthwise(x))


def _node_op(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    """ReLU -> separable conv -> BatchNorm."""
    return nn.Sequential(nn.ReLU(), SeparableConv2d(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))


class RandomStage(nn.Module):
    """One random stage on a DAG given as ``num_nodes`` and ``edges`` (src < dst); see the module docstring.

    ``aggregation_weight[e]`` is :math:`w_e` for the edge in column ``e`` of the graph's ``edge_index``.
    """

    def __init__(self, num_nodes: int, edges: Sequence[tuple[int, int]], in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.num_nodes, self.edges = int(num_nodes), [(int(s), int(d)) for s, d in edges]
        self.in_channels, self.out_channels = in_channels, out_channels
        order = sorted(range(len(self.edges)), key=lambda e: (self.edges[e][1], e))  # incoming edges grouped
        self.predecessors: list[list[int]] = [[] for _ in range(self.num_nodes)]
        self.spans: list[tuple[int, int]] = []
        for e in order:
            self.predecessors[self.edges[e][1]].append(self.edges[e][0])
        start = 0
        for preds in self.predecessors:
            self.spans.append((start, start + len(preds)))
            start += len(preds)
        has_successor = {s for s, _ in self.edges}
        self.input_nodes = [v for v in range(self.num_nodes) if not self.predecessors[v]]
        self.output_nodes = [v for v in range(self.num_nodes) if v not in has_successor]
        self.register_buffer("order", torch.tensor(order, dtype=torch.long), persistent=False)
        self.aggregation_weight = nn.Parameter(torch.zeros(len(self.edges)))
        self.nodes = nn.ModuleList(
            _node_op(in_channels, out_channels, 2) if not preds else _node_op(out_channels, out_channels, 1)
            for preds in self.predecessors
        )

    @property
    def graph(self) -> Data:
        """The stage DAG as a ``Data`` (columns in the order of ``aggregation_weight``)."""
        index = torch.tensor(self.edges, dtype=torch.long).reshape(-1, 2).t().contiguous()
        return Data(edge_index=index, num_nodes=self.num_nodes)

    def forward(self, x: Tensor) -> Tensor:
        gates = torch.sigmoid(self.aggregation_weight)[self.order]
        outputs: list[Tensor] = []
        for v, op in enumerate(self.nodes):  # labels are a topological order
            if self.predecessors[v]:
                start, stop = self.spans[v]
                stacked = torch.stack([outputs[u] for u in self.predecessors[v]])
                outputs.append(op(torch.tensordot(gates[start:stop], stacked, dims=1)))
            else:
                outputs.append(op(x))
        stacked = torch.stack([outputs[v] for v in self.output_nodes])
        return torch.tensordot(stacked.new_full((len(self.output_nodes),), 1.0 / len(self.output_nodes)), stacked, 1)


class RandWire(nn.Module):
    """The RandWire network (small regime) with one random stage per graph; see the module docstring.

    Args:
        graphs: one stage DAG per stage (``edge_index`` with src < dst, ``num_nodes`` >= 1).
        channels: :math:`C` (78 in the paper's small regime); stage :math:`i` has :math:`2^i C`.
        in_channels: image channels (1 for Fashion-MNIST, 3 for CIFAR).
        num_classes: number of logits.
        head_channels: width of the final 1x1 conv (1280).

    Any image of side >= 8 works (28 x 28, 32 x 32, ...); in training mode BatchNorm needs more than one
    value per channel, so a batch of one 8 x 8 image (1 x 1 maps in the last stages) needs eval mode.
    """

    def __init__(
        self,
        graphs: Sequence[Data],
        *,
        channels: int = 78,
        in_channels: int = 3,
        num_classes: int = 10,
        head_channels: int = 1280,
    ) -> None:
        super().__init__()
        self.channels = _positive("channels", channels, 2)
        self.in_channels = _positive("in_channels", in_channels)
        self.num_classes = _positive("num_classes", num_classes)
        self.head_channels = _positive("head_channels", head_channels)
        if isinstance(graphs, Data) or not isinstance(graphs, Sequence) or not graphs:
            raise GraphcurvError("graphs must be a non-empty sequence of stage graphs (one Data per stage)")
        wiring = [stage_edges(g, f"stage {i + 1} graph") for i, g in enumerate(graphs)]
        half = channels // 2
        self.conv1 = nn.Sequential(nn.Conv2d(in_channels, half, 3, 2, 1, bias=False), nn.BatchNorm2d(half))
        self.conv2 = nn.Sequential(nn.ReLU(), SeparableConv2d(half, channels, 2), nn.BatchNorm2d(channels))
        widths = [channels] + [channels * 2**i for i in range(len(wiring))]
        self.stages = nn.ModuleList(
            RandomStage(n, edges, widths[i], widths[i + 1]) for i, (n, edges) in enumerate(wiring)
        )
        self.head = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(widths[-1], head_channels, 1, bias=False),
            nn.BatchNorm2d(head_channels),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(head_channels, num_classes)

    @property
    def graphs(self) -> list[Data]:
        """The stage DAGs, rebuilt from the edge lists the model keeps."""
        return [stage.graph for stage in self.stages]

    def settings(self) -> dict[str, int]:
        """``channels``, ``in_channels``, ``num_classes`` and ``head_channels`` (keyword arguments of the class)."""
        return {name: getattr(self, name) for name in _SETTINGS}

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv2(self.conv1(x))
        for stage in self.stages:
            x = stage(x)
        return self.classifier(self.head(x))


def edge_weights(model: RandWire) -> list[Tensor]:
    r"""Per stage, the aggregation parameter :math:`w_e` of every edge, aligned with ``edge_index`` columns.

    These are the live parameters (not copies): the effective weights are ``torch.sigmoid`` of them.
    """
    if not isinstance(model, RandWire):
        raise GraphcurvError(f"edge_weights needs a RandWire, got {type(model).__name__}")
    return [stage.aggregation_weight for stage in model.stages]


def randwire_config(graphs: Sequence[Data] | RandWire, **settings: Any) -> dict[str, Any]:
    """The plain checkpoint ``config`` of a RandWire: settings, ``nodes`` and ``edges`` (edge pairs per stage).

    ``graphs`` is the list of stage graphs or a :class:`RandWire` (whose settings are then the defaults);
    ``settings`` are the class's keyword arguments, plus an optional ``image_size`` kept for the record.

    >>> from torch_geometric.data import Data
    >>> randwire_config([Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2)], channels=8)["edges"]
    [[[0, 1]]]
    """
    unknown = sorted(set(settings) - {*_SETTINGS, "image_size"})
    if unknown:
        raise GraphcurvError(f"unknown RandWire settings {unknown}: use {', '.join(_SETTINGS)} or image_size")
    if isinstance(graphs, RandWire):
        settings = {**graphs.settings(), **settings}
        graphs = graphs.graphs
    if isinstance(graphs, Data) or not isinstance(graphs, Sequence) or not graphs:
        raise GraphcurvError("graphs must be a non-empty sequence of stage graphs (or a RandWire)")
    wiring = [stage_edges(g, f"stage {i + 1} graph") for i, g in enumerate(graphs)]
    defaults = {"channels": 78, "in_channels": 3, "num_classes": 10, "head_channels": 1280}
    config: dict[str, Any] = {name: int(settings.get(name, defaults[name])) for name in _SETTINGS}
    if "image_size" in settings:
        config["image_size"] = int(settings["image_size"])
    config["nodes"] = [n for n, _ in wiring]
    config["edges"] = [[[s, d] for s, d in edges] for _, edges in wiring]
    return config


def graphs_from_config(config: Mapping[str, Any]) -> list[Data]:
    """The stage graphs stored in a :func:`randwire_config` (``nodes`` and ``edges``), checked."""
    nodes, edges = config.get("nodes"), config.get("edges")
    if not isinstance(nodes, Sequence) or not isinstance(edges, Sequence) or len(nodes) != len(edges) or not nodes:
        raise GraphcurvError("a RandWire config needs 'nodes' and 'edges': one node count and one edge list per stage")
    graphs = []
    for i, (n, pairs) in enumerate(zip(nodes, edges)):
        try:
            index = torch.tensor([[int(s), int(d)] for s, d in pairs], dtype=torch.long).reshape(-1, 2).t()
        except (TypeError, ValueError) as exc:
            raise GraphcurvError(f"stage {i + 1} of the RandWire config: edges must be [src, dst] pairs") from exc
        graph = Data(edge_index=index.contiguous(), num_nodes=_positive(f"stage {i + 1} node count", n))
        stage_edges(graph, f"stage {i + 1} graph of the RandWire config")
        graphs.append(graph)
    return graphs


def randwire_from_config(config: Mapping[str, Any]) -> RandWire:
    """A freshly initialised :class:`RandWire` from a :func:`randwire_config` (what ``build_model`` calls).

    ``image_size`` (>= 8) and ``activation`` (only ``"relu"``) are accepted for the model registry.
    """
    unknown = sorted(set(config) - {*_SETTINGS, "image_size", "activation", "nodes", "edges"})
    if unknown:
        raise GraphcurvError(f"unknown RandWire config keys {unknown}")
    if str(config.get("activation", "relu")).strip().lower() != "relu":
        raise GraphcurvError(f"RandWire uses ReLU, got activation={config['activation']!r}")
    if "image_size" in config:
        _positive("image_size", config["image_size"], 8)
    return RandWire(graphs_from_config(config), **{k: config[k] for k in _SETTINGS if k in config})
