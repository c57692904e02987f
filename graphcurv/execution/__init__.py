"""One execution layer for graphcurv's expensive work (issue 17).

Work is cut into units (chunks of edges, groups of edges, calibration inputs) and run
by an executor::

    with executor(workers=2, distributed=True) as ex:      # or scheduler="tcp://host:8786"
        results = ex.map(function, units, shared=data).gather()

``ex.share(data)`` ships data once for several maps (pass the handle, or a tuple holding
it, as ``shared``). ``function(unit, shared)`` must be importable by name (a module-level function) so
Dask workers can load it. ``shared`` is sent to every worker once per map (scattered
with ``broadcast=True`` on Dask, inherited by forked workers locally). ``gather``
returns the results in unit order and raises :class:`graphcurv.errors.WorkerError`
unless every unit came back exactly once; ``gather(each)`` calls ``each(units_done,
result)`` as each comes back. A local map runs when it is gathered; a Dask map with
``window=k`` keeps at most k units submitted, taking the next from ``units`` (any iterable)
as results come back.

* :class:`LocalExecutor`: in this process (``workers=1``) or a fork process pool;
* :class:`DaskExecutor`: a ``dask.distributed`` cluster at ``address``, or a
  ``LocalCluster(n_workers=workers, processes=True, threads_per_worker=1)`` that the
  context manager starts and closes. Needs ``pip install graphcurv[distributed]``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from graphcurv.execution.dask_executor import DaskExecutor, import_distributed
from graphcurv.execution.local import LocalExecutor
from graphcurv.execution.units import Shared, checked_results, run_unit


def executor(
    *, scheduler: str | None = None, workers: int | None = None, distributed: bool = False
) -> LocalExecutor | DaskExecutor:
    """The executor the options name: Dask at ``scheduler``, a Dask ``LocalCluster`` of
    ``workers`` processes when ``distributed``, else the local process pool."""
    if scheduler is not None:
        return DaskExecutor(scheduler)
    if distributed:
        return DaskExecutor(workers=workers)
    return LocalExecutor(workers)


@contextlib.contextmanager
def execution(
    *, scheduler: str | None = None, workers: int | None = None, distributed: bool = False
) -> Iterator[LocalExecutor | DaskExecutor | None]:
    """An entered executor when ``scheduler`` or ``distributed`` ask for Dask, else None (the
    default in-process path and its pool of ``workers``): what the CLI's options select."""
    if scheduler is None and not distributed:
        yield None
        return
    with executor(scheduler=scheduler, workers=workers, distributed=distributed) as ex:
        yield ex


__all__ = [
    "DaskExecutor",
    "LocalExecutor",
    "Shared",
    "checked_results",
    "execution",
    "executor",
    "import_distributed",
    "run_unit",
]
