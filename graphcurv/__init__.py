"""graphcurv: graph curvature, Ricci flow and curvature communities on PyTorch Geometric graphs.

The library is a functional core (``graphcurv.graphs`` for graph sources,
``graphcurv.curvature`` for curvature) with PyG transforms on top. Graphs are
``torch_geometric.data.Data`` objects throughout.

Top-level names are imported on first use, so ``import graphcurv`` (and the CLI's
``--help``) stays fast; ``graphcurv.load_graph`` and friends work as usual.
"""

from __future__ import annotations

import importlib
from typing import Any

from graphcurv.errors import GraphcurvError, GraphInputError, MissingDependencyError

__version__ = "0.1.0"

_LAZY = {
    "resolve_device": "graphcurv.device",
    "seed_everything": "graphcurv.device",
    "ollivier_ricci": "graphcurv.curvature",
    "forman": "graphcurv.curvature",
    "augmented_forman": "graphcurv.curvature",
    "balanced_forman": "graphcurv.curvature",
    "ricci_flow": "graphcurv.flow",
    "ricci_communities": "graphcurv.analyses.communities",
    "analyze_model": "graphcurv.analyses.model_analysis",
    "load_dataset": "graphcurv.datasets",
    "calibration_set": "graphcurv.datasets",
    "load_model": "graphcurv.models",
    "build_model": "graphcurv.models",
    "train_model": "graphcurv.models",
    "export": "graphcurv.neural",
    "neural_curvature": "graphcurv.neural.curvature",
    "stage_graphs": "graphcurv.riccinets.wiring",
    "ricci_prune": "graphcurv.riccinets.prune",
    **{
        name: "graphcurv.graphs"
        for name in (
            "affinities_from_lengths",
            "from_graph_tool",
            "from_networkx",
            "from_scipy",
            "graph_summary",
            "lengths_from_affinities",
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
        )
    },
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'graphcurv' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["GraphInputError", "GraphcurvError", "MissingDependencyError", "__version__", *_LAZY]
