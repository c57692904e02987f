"""The execution layer: unit order, shared data, the exactly-once check, the missing extra."""

from __future__ import annotations

import os
import sys
import time

import pytest
from support import requires_module

from graphcurv.errors import MissingDependencyError, WorkerError
from graphcurv.execution import DaskExecutor, LocalExecutor, checked_results, executor, import_distributed


def scaled(unit, shared):
    return unit * shared["factor"], os.getpid()


def test_checked_results_puts_units_in_order():
    assert checked_results([(2, "c"), (0, "a"), (1, "b")], 3) == ["a", "b", "c"]


@pytest.mark.parametrize(
    "tagged",
    [[(0, "a"), (0, "a")], [(0, "a")], [(0, "a"), (1, "b"), (2, "c")], [(0, "a"), (-1, "b")]],
    ids=["repeated", "missing", "unknown", "negative"],
)
def test_checked_results_refuses_lost_or_repeated_units(tagged):
    with pytest.raises(WorkerError, match="unit"):
        checked_results(tagged, 2)


@pytest.mark.parametrize("workers", [1, 2])
def test_local_executor_returns_results_in_unit_order(workers):
    with LocalExecutor(workers) as ex:
        results = ex.map(scaled, range(7), shared={"factor": 3}).gather()
    assert [value for value, _ in results] == [3 * i for i in range(7)]
    pids = {pid for _, pid in results}
    assert (pids == {os.getpid()}) if workers == 1 else (os.getpid() not in pids)


def test_executor_picks_by_options():
    assert isinstance(executor(workers=2), LocalExecutor)
    assert isinstance(executor(workers=2, distributed=True), DaskExecutor)
    chosen = executor(scheduler="tcp://127.0.0.1:8786")
    assert isinstance(chosen, DaskExecutor) and chosen.address == "tcp://127.0.0.1:8786"


def test_missing_distributed_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    with pytest.raises(MissingDependencyError, match=r"pip install graphcurv\[distributed\]"):
        import_distributed()
    with pytest.raises(MissingDependencyError, match=r"graphcurv\[distributed\]"):
        DaskExecutor(workers=1).__enter__()


def test_dask_executor_matches_local_and_uses_worker_processes():
    requires_module("distributed")  # in CI (CI=true) a missing package fails here
    with LocalExecutor(1) as ex:
        expected = [value for value, _ in ex.map(scaled, range(9), shared={"factor": 5}).gather()]
    with DaskExecutor(workers=2) as ex:
        results = ex.map(scaled, range(9), shared={"factor": 5}).gather()
        pids = set(ex.worker_pids().values())
    assert [value for value, _ in results] == expected
    assert {pid for _, pid in results} <= pids and os.getpid() not in pids


def doubled(unit, shared):
    return 2 * unit


def test_a_windowed_dask_map_takes_units_from_a_generator_as_results_come_back():
    requires_module("distributed")
    made: list[int] = []

    def units():
        for i in range(12):
            made.append(i)
            yield i

    seen = []
    with DaskExecutor(workers=2) as ex:
        batch = ex.map(doubled, units(), window=3)
        assert made == [0, 1, 2]  # only the window is submitted up front
        results = batch.gather(lambda done, result: seen.append((done, result, len(made))))
        broadcast = ex.share({"factor": 1})
        time.sleep(4)  # Dask's active memory manager, if on, would drop a copy within 2 s
        copies = len(ex.client.who_has([broadcast.value])[broadcast.value.key])
    assert results == [2 * i for i in range(12)]
    assert [(d, r) for d, r, _ in seen] == [(i + 1, 2 * i) for i in range(12)]
    assert all(n <= d + 3 for d, _, n in seen)  # never more than 3 units ahead of the results
    assert copies == 2  # a broadcast stays on every worker (no active memory manager)


def test_a_local_map_runs_at_gather_and_reports_each_result():
    made: list[int] = []

    def units():
        for i in range(5):
            made.append(i)
            yield i

    with LocalExecutor(1) as ex:
        batch = ex.map(doubled, units())
        seen: list = []
        assert batch.gather(lambda done, result: seen.append((done, result))) == [0, 2, 4, 6, 8]
    assert seen == [(i + 1, 2 * i) for i in range(5)] and made == list(range(5))
