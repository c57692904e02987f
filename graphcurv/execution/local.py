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

    inherits_shared = True  # forked workers see the shared data without a copy being sent

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
        """``function(unit, shared)`` for every unit, run when the batch is gathered;
        ``shared`` may be a :class:`Shared` handle or a tuple holding some."""
        return UnitBatch(function, list(units), resolve_shared(shared, lambda data: data), self.workers)


class UnitBatch:
    """A local map: :meth:`gather` runs the units (in this process, or on a fork pool
    that inherits the shared data) and returns their results in unit order, checked."""

    def __init__(self, function: Callable, units: list, shared: Any, workers: int) -> None:
        self._function, self._units, self._shared, self._workers = function, units, shared, workers

    def gather(self, each: Callable[[int, Any], None] | None = None) -> list:
        """Results in unit order; ``each(units_done, result)`` as each comes back (in unit order)."""
        global _SHARED
        function, units, shared = self._function, self._units, self._shared
        tagged: list = []

        def collect(item: tuple[int, Any]) -> None:
            tagged.append(item)
            if each is not None:
                each(len(tagged), item[1])

        if self._workers == 1 or len(units) < 2 or not _fork_available():
            for i, unit in enumerate(units):
                collect(run_unit(function, i, unit, shared))
            return checked_results(tagged, len(units))
        _SHARED = shared  # set before the pool forks its workers
        pool = ProcessPoolExecutor(min(self._workers, len(units)), mp_context=mp.get_context("fork"))
        try:
            futures = [pool.submit(_run_with_inherited, (function, i, unit)) for i, unit in enumerate(units)]
            for future in futures:  # not pool.map: leaving its iterator cancels futures, racing _stop_pool
                collect(future.result())
        except BaseException:  # interrupted or failed: do not wait for the units still queued
            _stop_pool(pool)
            raise
        finally:
            _SHARED = None
            pool.shutdown(wait=True)
        return checked_results(tagged, len(units))


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's processes: the queued units fail as a broken pool (their work
    is dropped) instead of being run to the end by ``shutdown``. (Cancelling them as well
    races with the pool's own handling of the broken processes.)"""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False)
