"""graphcurv: graph curvature, Ricci flow and curvature communities on PyTorch Geometric graphs.

The library is a functional core (``graphcurv.graphs`` for graph sources,
``graphcurv.curvature`` for curvature) with PyG transforms on top. Graphs are
``torch_geometric.data.Data`` objects throughout.
"""

from __future__ import annotations

__version__ = "0.1.0"

from graphcurv.device import resolve_device, seed_everything
from graphcurv.errors import GraphcurvError, GraphInputError, MissingDependencyError
from graphcurv.graphs import (
    from_graph_tool,
    from_networkx,
    from_scipy,
    graph_summary,
    load_collection,
    load_data,
    load_graph,
    read_edgelist,
    save_graph,
    to_graph_tool,
    to_networkx,
    to_scipy,
    validate_graph,
    write_edge_csv,
)

__all__ = [
    "__version__",
    "GraphcurvError",
    "GraphInputError",
    "MissingDependencyError",
    "resolve_device",
    "seed_everything",
    "from_graph_tool",
    "from_networkx",
    "from_scipy",
    "graph_summary",
    "load_collection",
    "load_data",
    "load_graph",
    "read_edgelist",
    "save_graph",
    "to_graph_tool",
    "to_networkx",
    "to_scipy",
    "validate_graph",
    "write_edge_csv",
]
