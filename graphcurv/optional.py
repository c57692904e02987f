"""Imports of optional dependencies with messages that say how to install them."""

from __future__ import annotations

import warnings
from types import ModuleType

from graphcurv.errors import MissingDependencyError


def import_graph_tool() -> ModuleType:
    """Import graph-tool (Debian's ``python3-graph-tool``, linked into the venv by ``make setup``).

    graph-tool's drawing module warns when pycairo is missing; graphcurv draws with
    matplotlib, so that warning is silenced.
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Error importing cairo")
            import graph_tool
            import graph_tool.collection
            import graph_tool.inference
    except ImportError as exc:
        raise MissingDependencyError(
            "graph-tool is not importable: install Debian's python3-graph-tool and run "
            "`make setup` (it links graph-tool into the virtual environment; needs numpy<2)"
        ) from exc
    return graph_tool
