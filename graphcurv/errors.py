"""Exceptions that graphcurv raises for bad input.

Every error a user can cause (a missing file, a malformed line, a NaN weight, an
empty graph, a bad parameter) is a :class:`GraphcurvError`, so callers and the CLI
can tell user errors from bugs. It subclasses :class:`ValueError` so code written
against plain Python conventions still catches it.
"""

from __future__ import annotations


class GraphcurvError(ValueError):
    """A problem with the user's input or parameters, with a message that says what to fix."""


class GraphInputError(GraphcurvError):
    """A graph file or graph object that graphcurv cannot read as given."""


class MissingDependencyError(GraphcurvError, ImportError):
    """An optional dependency (graph-tool, torchvision, ...) is needed but not installed."""


class InsufficientMemoryError(GraphcurvError, MemoryError):
    """A run would need more memory than the machine has available (refused before it starts)."""


class WorkerError(GraphcurvError, RuntimeError):
    """A worker process (a transport solver) died mid-run: killed, e.g. by the out-of-memory killer."""
