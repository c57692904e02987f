"""Shared test helpers (importable as `support`: pytest puts tests/ on sys.path).

``requires(name)`` skips a test when an optional dependency (graph-tool, the
Fashion-MNIST files, ...) is missing, except in CI (``CI=true``), where a missing
optional dependency is a failure: CI must exercise every code path. CUDA tests use
``cuda_only``, which always skips without a GPU (CI never has one).
"""

from __future__ import annotations

import importlib
import os

import pytest
import torch

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing_optional(reason: str) -> None:
    """Skip (locally) or fail (in CI) because an optional dependency is absent."""
    if IN_CI:
        pytest.fail(f"optional dependency missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def requires_module(name: str):
    """Import ``name`` or skip/fail the calling test as :func:`missing_optional` says."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing_optional(f"{name} not importable: {exc}")


def requires_graph_tool():
    from graphcurv.errors import MissingDependencyError
    from graphcurv.optional import import_graph_tool

    try:
        return import_graph_tool()
    except MissingDependencyError as exc:
        missing_optional(str(exc))


cuda_only = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
