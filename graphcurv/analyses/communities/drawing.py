"""A PNG of a graph with its nodes coloured by community (matplotlib, networkx spring layout).

The layout is networkx's ``spring_layout`` (Fruchterman-Reingold), seeded, so the
same graph and seed give the same picture. Its cost grows quadratically with the
number of nodes, so graphs above :data:`MAX_DRAWN_NODES` nodes are refused. The file
is written atomically (:func:`graphcurv.atomic.atomic_path`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from torch_geometric.data import Data

from graphcurv.analyses.communities.labels import compact_labels, graph_arcs, node_labels
from graphcurv.atomic import atomic_path
from graphcurv.errors import GraphcurvError

__all__ = ["MAX_DRAWN_NODES", "draw_communities"]

MAX_DRAWN_NODES = 10_000


def draw_communities(
    data: Data,
    labels: Any,
    path: str | os.PathLike[str],
    *,
    seed: int = 0,
    title: str | None = None,
    size_inches: float = 8.0,
    dpi: int = 150,
) -> Path:
    """Draw ``data`` with node colours from ``labels`` (one community per node) into the PNG ``path``.

    Up to 20 communities get distinct colours (matplotlib's ``tab20``); more reuse them.

    Raises:
        GraphcurvError: ``path`` not ending in ``.png``, labels of the wrong length,
            an empty graph, or more than :data:`MAX_DRAWN_NODES` nodes.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise GraphcurvError(f"the drawing is a PNG: its path must end in .png, got {path.name!r}")
    src, dst, num_nodes = graph_arcs(data)
    communities = compact_labels(node_labels(labels, num_nodes))
    if num_nodes > MAX_DRAWN_NODES:
        raise GraphcurvError(f"the graph has {num_nodes:,} nodes: drawing is limited to {MAX_DRAWN_NODES:,} nodes")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    graph = nx.Graph()
    graph.add_nodes_from(range(num_nodes))
    graph.add_edges_from(zip(src.tolist(), dst.tolist()))
    layout = nx.spring_layout(graph, seed=seed)
    position = np.array([layout[node] for node in range(num_nodes)])

    figure = Figure(figsize=(size_inches, size_inches))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    once = src < dst
    segments = np.stack([position[src[once]], position[dst[once]]], axis=1)
    axes.add_collection(LineCollection(segments, colors="0.6", linewidths=0.4, alpha=0.6, zorder=1))
    node_size = float(np.clip(3000 / num_nodes, 4, 80))
    axes.scatter(
        position[:, 0],
        position[:, 1],
        c=communities % 20,
        cmap="tab20",
        vmin=0,
        vmax=19,
        s=node_size,
        edgecolors="black",
        linewidths=0.3,
        zorder=2,
    )
    count = int(communities.max()) + 1
    axes.set_title(title or f"{getattr(data, 'name', 'graph')}: {count} communities")
    axes.set_axis_off()
    axes.autoscale_view()
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi)
    return path
