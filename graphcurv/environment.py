"""What graphcurv runs on: versions of its dependencies and available accelerators."""

from __future__ import annotations

import importlib
import platform


def _version(module: str) -> str:
    try:
        return str(getattr(importlib.import_module(module), "__version__", "installed"))
    except Exception:  # noqa: BLE001 - an optional dependency may fail to import in many ways
        return "not installed"


def environment_report() -> dict[str, str]:
    """Versions of graphcurv, Python, torch, PyG, POT, NumPy, graph-tool and CUDA status."""
    import torch

    import graphcurv

    cuda = torch.cuda.is_available()
    report = {
        "graphcurv": graphcurv.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_geometric": _version("torch_geometric"),
        "POT": _version("ot"),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "networkx": _version("networkx"),
        "graph-tool": _graph_tool_version(),
        "CUDA available": "yes" if cuda else "no",
    }
    if cuda:
        report["CUDA devices"] = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    return report


def _graph_tool_version() -> str:
    from graphcurv.optional import import_graph_tool

    try:
        return str(import_graph_tool().__version__).split()[0]
    except ImportError:
        return "not installed"
