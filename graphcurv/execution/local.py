"""The local executor: units run in this process, or on a fork process pool of this host."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from graphcurv.execution.units import Shared, checked_results, resolve_shared, run_unit
from graphcurv.transport.exact import _fork_available, default_workers

_SHARED: Any = None  # the shared data of the running map, inherited by forked workers


def _run_with_inherited(job: tuple) -> tuple[int, Any]:
    function, unit_id, unit = job
    return run_unit(function, unit_id, unit, _SHARED)


class LocalExecutor:
    """Units in this process (``workers=1``) or on ``workers`` forked processes.

    Shared data reaches forked workers by inheritance (no pickling, once per map).
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else max(1, int(workers))

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        return None

    @property
    def parallelism(self) -> int:
        return self.workers

    def share(self, data: Any) -> Shared:
        """A handle to ``data`` for several maps (forked workers inherit it: nothing is sent)."""
        return Shared(data)

    def map(self, function: Callable, units: Sequence, *, shared: Any = None) -> UnitBatch:
        """``function(unit, shared)`` for every unit; ``shared`` may be a :class:`Shared`
        handle or a tuple holding some."""
        global _SHARED
        units = list(units)
        shared = resolve_shared(shared, lambda data: data)
        if self.workers == 1 or len(units) < 2 or not _fork_available():
            return UnitBatch([run_unit(function, i, unit, shared) for i, unit in enumerate(units)], len(units))
        _SHARED = shared
        try:
            with ProcessPoolExecutor(min(self.workers, len(units)), mp_context=mp.get_context("fork")) as pool:
                jobs = [(function, i, unit) for i, unit in enumerate(units)]
                tagged = list(pool.map(_run_with_inherited, jobs))
        finally:
            _SHARED = None
        return UnitBatch(tagged, len(units))


class UnitBatch:
    """Results of a local map: :meth:`gather` returns them in unit order, checked."""

    def __init__(self, tagged: list, count: int) -> None:
        self._tagged, self._count = tagged, count

    def gather(self, progress: Callable[[int], None] | None = None) -> list:
        """Results in unit order; ``progress(units_done)`` once they are all in."""
        results = checked_results(self._tagged, self._count)
        if progress is not None:
            progress(self._count)
        return results
