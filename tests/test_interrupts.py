"""graphcurv.interrupts: signals raise Interrupted, forked children stay quiet, stop_workers leaves none."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool

import psutil
import pytest

from graphcurv.errors import WorkerError
from graphcurv.interrupts import Interrupted, exit_code, handle_signals, stop_workers, worker_error


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_raises_interrupted_with_the_shell_exit_code(signum, code):
    before = signal.getsignal(signum)
    with pytest.raises(Interrupted) as caught, handle_signals():
        os.kill(os.getpid(), signum)
        time.sleep(1)  # the handler runs here
    assert caught.value.signum == signum and exit_code(caught.value) == code
    assert isinstance(caught.value, KeyboardInterrupt)  # no `except Exception` swallows it
    assert signal.getsignal(signum) is before  # restored


def _sleep_forever():
    while True:
        time.sleep(0.05)


def test_forked_children_ignore_sigint_and_die_on_sigterm():
    with handle_signals():
        child = mp.get_context("fork").Process(target=_sleep_forever)
        child.start()
        try:
            time.sleep(0.2)
            os.kill(child.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
            time.sleep(0.3)
            assert child.is_alive()
            os.kill(child.pid, signal.SIGTERM)
            child.join(5)
            assert child.exitcode == -signal.SIGTERM
        finally:
            if child.is_alive():
                child.kill()


def test_stop_workers_terminates_every_child_and_reaps_it():
    context = mp.get_context("fork")
    children = [context.Process(target=_sleep_forever) for _ in range(2)]
    for child in children:
        child.start()
    plain = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pids = [c.pid for c in children] + [plain.pid]
    assert stop_workers(timeout=2) >= 3
    assert all(not c.is_alive() for c in children)
    assert plain.poll() is not None
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)
    assert stop_workers() == 0  # nothing left


def test_a_broken_pool_becomes_a_worker_error():
    try:
        try:
            raise BrokenProcessPool("A process in the process pool was terminated abruptly")
        except BrokenProcessPool as exc:
            raise RuntimeError("while solving") from exc
    except RuntimeError as exc:
        found = worker_error(exc)
    assert isinstance(found, WorkerError) and "solver worker process died" in str(found)
    assert worker_error(ValueError("bad input")) is None


PARENT = """
import multiprocessing as mp, sys, time
from graphcurv.interrupts import handle_signals

def sleep():
    time.sleep(60)

with handle_signals():
    child = mp.get_context("fork").Process(target=sleep)
    child.start()
    print(child.pid, flush=True)
    time.sleep(60)
"""


def test_a_child_dies_with_its_parent_even_when_the_parent_is_sigkilled():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the child outlived its killed parent"
        time.sleep(0.05)
