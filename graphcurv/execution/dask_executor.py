"""The Dask executor: units as tasks on a ``dask.distributed`` cluster.

Either an existing scheduler (``address="tcp://host:8786"``) or a ``LocalCluster`` of
``workers`` single-threaded worker processes that the context manager starts and closes.
Shared data is scattered once to every worker (``broadcast=True``; not ``direct=True``: that
sent a 176 MB array 2-5x faster, but LeNet's neural curvature then ran 25 % slower); every task is
submitted with ``retries=2``, and tasks lost with a killed worker are recomputed by Dask.
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Any

from graphcurv.errors import MissingDependencyError
from graphcurv.execution.units import Shared, checked_results, resolve_shared, run_unit

RETRIES = 2


def import_distributed() -> ModuleType:
    """Import ``distributed``, or a :class:`MissingDependencyError` naming the extra."""
    try:
        import distributed
    except ImportError as exc:
        raise MissingDependencyError(
            "running on a Dask cluster needs the `distributed` package: pip install graphcurv[distributed]"
        ) from exc
    if not hasattr(distributed, "Client"):
        raise MissingDependencyError(
            f"`import distributed` found {getattr(distributed, '__file__', '?')}, not Dask's package: "
            "a file or folder named distributed shadows it (pip install graphcurv[distributed])"
        )
    return distributed


def _import_graphcurv() -> None:
    import graphcurv.curvature  # noqa: F401 - imports torch and the solvers once per worker


def _worker_environ() -> dict:
    """The environment of a LocalCluster's worker processes: Dask's defaults (one BLAS/OpenMP
    thread each) less ``MALLOC_TRIM_THRESHOLD_``. Setting it turns off glibc's adaptive mmap
    threshold, so every large NumPy/torch temporary is a fresh mmap and page faults: the
    neural curvature of LeNet ran 10-15 % slower on the workers with it (benchmarks/distributed.py)."""
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    return environ


class DaskExecutor:
    """``with DaskExecutor(workers=2) as ex: ex.map(fn, units, shared=data).gather()``."""

    def __init__(self, address: str | None = None, *, workers: int | None = None, quiet: bool = True) -> None:
        self.address, self.workers, self.quiet = address, workers, quiet
        self.client = None
        self._cluster = None

    def __enter__(self) -> DaskExecutor:
        distributed = import_distributed()
        if self.address is not None:
            self.client = distributed.Client(self.address)
        else:
            import logging

            import dask

            from graphcurv.transport.exact import default_workers

            workers = default_workers() if self.workers is None else max(1, int(self.workers))
            # The active memory manager's ReduceReplicas would drop the broadcast copies down to
            # one within seconds once no task waits on them: a later map would fetch them again,
            # and a killed holder would lose scattered data that cannot be recomputed.
            config = {
                "distributed.nanny.pre-spawn-environ": _worker_environ(),
                "distributed.scheduler.active-memory-manager.start": False,
            }
            with dask.config.set(config):
                self._cluster = distributed.LocalCluster(
                    n_workers=workers,
                    processes=True,
                    threads_per_worker=1,
                    dashboard_address=":0",
                    silence_logs=logging.ERROR if self.quiet else logging.WARNING,
                )
            self.client = distributed.Client(self._cluster)
        self.client.run(_import_graphcurv)  # start-up, not the first map, pays for importing torch
        return self

    def __exit__(self, *exc) -> None:
        client, cluster, self.client, self._cluster = self.client, self._cluster, None, None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    @property
    def parallelism(self) -> int:
        """Worker threads on the cluster now (at least 1)."""
        return max(1, sum(self.client.nthreads().values())) if self.client is not None else 1

    def worker_pids(self) -> dict[str, int]:
        """Process id of every worker (address -> pid), e.g. to test faults."""
        import os

        return self.client.run(os.getpid)

    def share(self, data: Any) -> Shared:
        """Scatter ``data`` to every worker once, for several maps (held until the
        handle and the executor are gone)."""
        if self.client is None:
            raise RuntimeError("use the DaskExecutor as a context manager")
        return Shared(self._broadcast(data))

    def _broadcast(self, data: Any):
        """A future of ``data`` held by every worker."""
        return self.client.scatter([data], broadcast=True, hash=False)[0]

    def map(self, function: Callable, units: Iterable, *, shared: Any = None, window: int | None = None) -> DaskBatch:
        """``function(unit, shared)`` for every unit, as tasks; ``shared`` (scattered once
        for this map) may be a :class:`Shared` handle or a tuple holding some (Dask
        resolves the handles inside the tuple on the worker). ``window``: submit at most
        that many units at a time, taking the next from ``units`` (an iterable, e.g. a
        generator that builds each unit's data) as results come back, so only ``window``
        units' data exist at once; a unit's data travels with its task, so a task lost
        with a worker is rerun from it."""
        if self.client is None:
            raise RuntimeError("use the DaskExecutor as a context manager")
        shared_future = None if shared is None else resolve_shared(shared, self._broadcast)
        client = self.client

        def submit(unit_id: int, unit: Any):
            with warnings.catch_warnings():  # units that carry their data are meant to be large
                warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
                return client.submit(run_unit, function, unit_id, unit, shared_future, retries=RETRIES, pure=False)

        return DaskBatch(submit, iter(units), window, shared_future)


class DaskBatch:
    """Futures of one map: :meth:`gather` waits and returns results in unit order, checked."""

    def __init__(self, submit: Callable, units: Iterator, window: int | None, shared_future) -> None:
        self._submit, self._units, self._window, self._shared = submit, units, window, shared_future
        self._pending: deque = deque()
        self._submitted = 0
        self._top_up()

    def _top_up(self) -> None:
        while self._window is None or len(self._pending) < self._window:
            unit = next(self._units, _END)
            if unit is _END:
                return
            self._pending.append(self._submit(self._submitted, unit))
            self._submitted += 1

    def gather(self, each: Callable[[int, Any], None] | None = None) -> list:
        """Results in unit order; ``each(units_done, result)`` as each comes back (in unit order)."""
        try:
            tagged = []
            while self._pending:
                tagged.append(self._pending.popleft().result())
                self._top_up()
                if each is not None:
                    each(len(tagged), tagged[-1][1])
            return checked_results(tagged, self._submitted)
        finally:
            self._pending, self._shared = deque(), None


_END = object()
