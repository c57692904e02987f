"""A one-glance summary of a graph: size, direction, lengths, components, degrees, groups.

Conventions: an undirected graph's edges are counted once (``edge_index`` holds
both directions); a node's degree is its number of incident edges, which for a
directed graph is in-degree + out-degree (networkx's ``G.degree``); components
of a directed graph are weakly connected components; an isolated node has
degree 0 (it is also a component of size 1). ``weighted`` means some length
differs from 1.0. ``groups`` is the number of distinct ground-truth labels in
``data.y`` (``None`` without ``y``).

Example:

>>> from graphcurv.graphs.generators import stochastic_block_model
>>> s = graph_summary(stochastic_block_model([5, 5], 1.0, 0.0))
>>> s.nodes, s.edges, s.components, s.groups, s.degree_max
(10, 20, 2, 2, 4)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components
from torch_geometric.data import Data
from torch_geometric.utils import is_undirected

__all__ = ["GraphSummary", "graph_summary"]


@dataclass(frozen=True)
class GraphSummary:
    """Numbers describing one graph (see the module docstring for the conventions)."""

    name: str
    nodes: int
    edges: int
    directed: bool
    weighted: bool
    weight_min: float
    weight_max: float
    components: int
    largest_component: int
    isolated_nodes: int
    degree_min: int
    degree_mean: float
    degree_median: float
    degree_max: int
    groups: int | None
    groups_from: str | None = None

    def as_rows(self) -> list[tuple[str, object]]:
        """``(label, value)`` pairs in display order, for tables and reports.

        >>> from graphcurv.graphs.generators import watts_strogatz
        >>> dict(graph_summary(watts_strogatz(10, 2, 0.0)).as_rows())["edges"]
        10
        """
        groups: object = "none" if self.groups is None else self.groups
        if self.groups is not None and self.groups_from:
            groups = f"{self.groups} (from {self.groups_from})"
        return [
            ("name", self.name),
            ("nodes", self.nodes),
            ("edges", self.edges),
            ("directed", self.directed),
            ("weighted", self.weighted),
            ("length min", self.weight_min),
            ("length max", self.weight_max),
            ("components" + (" (weak)" if self.directed else ""), self.components),
            ("largest component", self.largest_component),
            ("isolated nodes", self.isolated_nodes),
            ("degree min", self.degree_min),
            ("degree mean", self.degree_mean),
            ("degree median", self.degree_median),
            ("degree max", self.degree_max),
            ("ground-truth groups", groups),
        ]


def graph_summary(data: Data) -> GraphSummary:
    """Summarise a validated graph (see the module docstring for the conventions)."""
    num_nodes = int(data.num_nodes)
    edge_index = data.edge_index.detach().cpu()
    weight = data.get("edge_weight")
    if weight is None:
        weight = torch.ones(edge_index.size(1), dtype=torch.float64)
    weight = weight.detach().cpu().double()
    directed = not is_undirected(edge_index, weight, num_nodes)
    weight = weight.numpy()
    row, col = edge_index.numpy()
    degree = np.bincount(row, minlength=num_nodes)
    if directed:
        degree = degree + np.bincount(col, minlength=num_nodes)
    adjacency = sp.coo_array((np.ones(row.size), (row, col)), shape=(num_nodes, num_nodes))
    count, labels = connected_components(adjacency, directed=directed, connection="weak")
    sizes = np.bincount(labels, minlength=count) if num_nodes else np.zeros(0, dtype=int)
    y = data.get("y")
    groups = int(np.unique(y.detach().cpu().numpy()).size) if y is not None else None
    name = data.get("name")
    y_name = data.get("y_name")
    empty = num_nodes == 0
    return GraphSummary(
        name=str(name) if name is not None else "unnamed",
        nodes=num_nodes,
        edges=int(row.size if directed else row.size // 2),
        directed=directed,
        weighted=bool(np.any(weight != 1.0)),
        weight_min=float(weight.min()) if weight.size else float("nan"),
        weight_max=float(weight.max()) if weight.size else float("nan"),
        components=int(count),
        largest_component=int(sizes.max()) if sizes.size else 0,
        isolated_nodes=int((degree == 0).sum()),
        degree_min=0 if empty else int(degree.min()),
        degree_mean=float("nan") if empty else float(degree.mean()),
        degree_median=float("nan") if empty else float(np.median(degree)),
        degree_max=0 if empty else int(degree.max()),
        groups=groups,
        groups_from=str(y_name) if y_name is not None else None,
    )
