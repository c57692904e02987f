"""Units of work and the check that every unit's result came back exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from graphcurv.errors import WorkerError


class Shared:
    """Data shipped to the workers once and reused by several maps (:meth:`share`).

    ``value`` is the data itself (local executor) or the cluster's handle to it (Dask)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def resolve_shared(shared: Any, ship: Callable[[Any], Any]) -> Any:
    """What a map sends as its shared data: a :class:`Shared` handle's value, a tuple's
    items each resolved, anything else passed to ``ship`` (sent for this map only)."""
    if isinstance(shared, Shared):
        return shared.value
    if isinstance(shared, tuple):
        return tuple(resolve_shared(item, ship) for item in shared)
    return ship(shared)


def run_unit(function: Callable, unit_id: int, unit: Any, shared: Any) -> tuple[int, Any]:
    """Run one unit on a worker: ``(unit_id, function(unit, shared))``."""
    return unit_id, function(unit, shared)


def checked_results(tagged: Iterable[tuple[int, Any]], count: int) -> list:
    """Results in unit order from ``(unit_id, result)`` pairs; a :class:`WorkerError` unless
    every id in ``0..count-1`` came back exactly once."""
    results: list = [None] * count
    seen = [0] * count
    for unit_id, result in tagged:
        if not 0 <= unit_id < count:
            raise WorkerError(f"a result came back for unit {unit_id}, which was never submitted")
        seen[unit_id] += 1
        results[unit_id] = result
    missing = [i for i, n in enumerate(seen) if n == 0]
    repeated = [i for i, n in enumerate(seen) if n > 1]
    if missing or repeated:
        raise WorkerError(
            f"units lost or repeated: {len(missing)} missing (e.g. {missing[:5]}), "
            f"{len(repeated)} returned more than once (e.g. {repeated[:5]})"
        )
    return results
