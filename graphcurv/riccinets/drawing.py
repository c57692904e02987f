"""The drawing of pruned stage graphs (the PNG of ``graphcurv riccinets prune``): one panel per
stage, kept edges solid, removed edges faint.

Nodes sit at their topological layer (longest path from a node without predecessor), so every edge
points to the right. Colours say what a surviving node does after pruning: reads the stage input (no
predecessor left), feeds the stage output (no successor left), both, or neither; removed nodes are hollow.

>>> topological_layout([(0, 1), (0, 2), (1, 2)], 3)
[(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)]
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ROLE_COLOURS", "draw_stages", "topological_layout"]

ROLE_COLOURS = {
    "reads the stage input": "tab:green",
    "feeds the stage output": "tab:orange",
    "reads the input, feeds the output": "tab:purple",
    "inner": "tab:blue",
}


def topological_layout(edges: list[tuple[int, int]], num_nodes: int) -> list[tuple[float, float]]:
    """``(x, y)`` per node: x is the longest path from a source (labels are a topological order), y spreads a layer."""
    layer = [0] * num_nodes
    for src, dst in sorted(edges, key=lambda e: e[1]):  # every src < dst: predecessors are final first
        layer[dst] = max(layer[dst], layer[src] + 1)
    members: dict[int, list[int]] = {}
    for node in range(num_nodes):
        members.setdefault(layer[node], []).append(node)
    position = [(0.0, 0.0)] * num_nodes
    for x, nodes in members.items():
        for rank, node in enumerate(nodes):
            position[node] = (float(x), rank - (len(nodes) - 1) / 2)
    return position


def _roles(cut) -> list[str | None]:
    """Per original node: its role in the pruned stage, or ``None`` if it was removed."""
    from graphcurv.riccinets.graph_ops import stage_roles

    reads, feeds = stage_roles(cut.graph)
    roles: list[str | None] = []
    for new in cut.node_map.tolist():
        if new < 0:
            roles.append(None)
        elif reads[new] and feeds[new]:
            roles.append("reads the input, feeds the output")
        else:
            roles.append("reads the stage input" if reads[new] else "feeds the stage output" if feeds[new] else "inner")
    return roles


def _panel(axes, graph, cut, stage: int) -> None:
    from matplotlib.collections import LineCollection

    edges = [(int(s), int(d)) for s, d in graph.edge_index.t().tolist()]
    position = topological_layout(edges, int(graph.num_nodes))
    kept = set(cut.kept_edges.tolist())
    segments = {True: [], False: []}
    for e, (src, dst) in enumerate(edges):
        segments[e in kept].append([position[src], position[dst]])
    axes.add_collection(LineCollection(segments[False], colors="0.75", linewidths=0.6, linestyles="dashed", zorder=1))
    axes.add_collection(LineCollection(segments[True], colors="0.15", linewidths=1.2, zorder=2))
    roles = _roles(cut)
    for node, (x, y) in enumerate(position):
        role = roles[node]
        face = "white" if role is None else ROLE_COLOURS[role]
        axes.scatter([x], [y], s=60, c=face, edgecolors="0.5" if role is None else "black", linewidths=0.8, zorder=3)
    nodes_left = int(cut.graph.num_nodes)
    axes.set_title(f"stage {stage}: {len(kept)}/{len(edges)} edges, {nodes_left}/{int(graph.num_nodes)} nodes")
    axes.autoscale()
    axes.margins(0.08)
    axes.set_xlabel("topological layer")
    axes.set_yticks([])


def draw_stages(path: str | os.PathLike[str], graphs: list, cuts: list, *, title: str = "", dpi: int = 120) -> Path:
    """Draw every stage graph and what pruning kept (module docstring); write the PNG atomically.

    ``cuts`` holds one :class:`~graphcurv.riccinets.graph_ops.PrunedGraph` per stage graph.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from graphcurv.atomic import atomic_path

    figure = Figure(figsize=(5.0 * len(graphs), 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    panels = figure.subplots(1, len(graphs), squeeze=False)[0]
    for i, (axes, graph, cut) in enumerate(zip(panels, graphs, cuts)):
        _panel(axes, graph, cut, i + 1)
    handles = [Line2D([], [], color="0.15", label="kept edge"),
               Line2D([], [], color="0.75", linestyle="dashed", label="removed edge"),
               Line2D([], [], marker="o", linestyle="", markerfacecolor="white", markeredgecolor="0.5",
                      label="removed node")]  # fmt: skip
    handles += [
        Line2D([], [], marker="o", linestyle="", color=colour, label=role) for role, colour in ROLE_COLOURS.items()
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize="small", frameon=False)
    if title:
        figure.suptitle(title)
    path = Path(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi)
    return path
