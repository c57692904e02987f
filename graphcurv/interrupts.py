r"""Stopping cleanly on Ctrl-C and ``kill``: signals, worker processes, exit codes.

Long runs (neural curvature, Ricci flow, sweeps, training) spread their work over
worker processes (:class:`~graphcurv.transport.exact.ExactSolverPool` forks them).
When the user interrupts, three things must hold:

1. the main process stops at once, with an exception every ``except Exception`` lets
   through (:class:`Interrupted`, a :class:`KeyboardInterrupt`), so ``with`` blocks
   and atomic writers (:mod:`graphcurv.atomic`) clean up on the way out;
2. worker processes do not print their own ``KeyboardInterrupt`` traceback (Ctrl-C
   signals the whole process group): inside :func:`handle_signals`, a process forked
   by this one ignores SIGINT, dies on SIGTERM without running Python code, and (on
   Linux) gets SIGTERM when this process dies, even of SIGKILL;
3. no worker outlives the run: :func:`stop_workers` terminates every child process
   (SIGTERM, then SIGKILL after ``timeout`` seconds) and reaps it.

The exit code of a run stopped by signal :math:`s` is :math:`128 + s` (the shell's
convention): 130 for SIGINT, 143 for SIGTERM (:attr:`Interrupted.exit_code`).

Example (what ``graphcurv``'s entry point does)::

    from graphcurv.interrupts import Interrupted, handle_signals, stop_workers

    with handle_signals():
        try:
            long_run()
        except Interrupted as stop:
            stopped = stop_workers()
            sys.exit(stop.exit_code)
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor

from graphcurv.errors import WorkerError

__all__ = [
    "HANDLED_SIGNALS",
    "Interrupted",
    "exit_code",
    "handle_signals",
    "ignoring_signals",
    "signal_name",
    "stop_workers",
    "worker_died",
    "worker_error",
]


def worker_died(during: str = "") -> str:
    """The message of a run whose solver worker died (``during``: e.g. ``"neural curvature"``).

    >>> worker_died("neural curvature")[:60]
    'a solver worker process died during neural curvature (killed'
    """
    where = f" during {during}" if during else ""
    return (
        f"a solver worker process died{where} (killed by a signal: the out-of-memory killer, or kill); "
        "the other workers were stopped"
    )


HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_owner: int | None = None  # pid of the process whose handlers are installed (None: none installed)


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGINT from Ctrl-C, or SIGTERM from ``kill``)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal_name(signum))
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        """128 + the signal number: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signum


def signal_name(signum: int) -> str:
    """``"SIGINT"`` for 2, ``"SIGTERM"`` for 15, ...

    >>> signal_name(15)
    'SIGTERM'
    """
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_code(exc: BaseException) -> int:
    """The exit code of a run that ``exc`` stopped: :attr:`Interrupted.exit_code`, 130 for a plain
    :class:`KeyboardInterrupt`.

    >>> exit_code(Interrupted(signal.SIGTERM)), exit_code(KeyboardInterrupt())
    (143, 130)
    """
    return exc.exit_code if isinstance(exc, Interrupted) else 128 + signal.SIGINT


def _raise_interrupted(signum: int, _frame) -> None:
    if os.getpid() != _owner:  # a forked child that has not run its after-fork hook yet
        if signum == signal.SIGTERM:
            os._exit(128 + signum)
        return
    raise Interrupted(signum)


_fork_parent: int | None = None  # set in the parent just before a fork from its main thread
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _before_fork() -> None:
    global _fork_parent
    from_main = threading.current_thread() is threading.main_thread()
    _fork_parent = os.getpid() if _owner is not None and from_main else None


def _after_fork_in_child() -> None:
    """In a child forked inside :func:`handle_signals`: Ctrl-C is the parent's to handle; SIGTERM
    kills; and so does the death of the parent, even by SIGKILL (Linux ``PR_SET_PDEATHSIG``), so
    no worker outlives a killed run."""
    if _owner is None:
        return
    with contextlib.suppress(ValueError, OSError):  # not the main thread: keep the inherited handlers
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if _fork_parent is None or not sys.platform.startswith("linux"):
        return  # forked from another thread: its exit (not the process's) would fire the signal
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != _fork_parent:  # the parent died before prctl took effect
        os._exit(128 + signal.SIGTERM)


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise :class:`Interrupted` in this process;
    processes forked meanwhile ignore SIGINT and die on SIGTERM. The previous handlers
    are restored afterwards. Outside the main thread this does nothing (Python only
    lets the main thread set handlers)."""
    global _owner
    outer, _owner = _owner, os.getpid()
    try:
        previous = {s: signal.signal(s, _raise_interrupted) for s in HANDLED_SIGNALS}
    except ValueError:  # not the main thread
        _owner = outer
        yield
        return
    try:
        yield
    finally:
        _owner = outer
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def ignoring_signals() -> Iterator[None]:
    """SIGINT and SIGTERM are ignored within the block (a second Ctrl-C during cleanup)."""
    try:
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in HANDLED_SIGNALS}
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stop_workers(timeout: float = 3.0) -> int:
    """Terminate every child process of this one (and theirs), wait for them, and return how many there were.

    Children get SIGTERM; those still running after ``timeout`` seconds get SIGKILL.
    Multiprocessing children are joined (so their pool sees them exit); any other
    descendant (found with psutil) is reaped too. Safe to call when there are none.
    """
    import psutil

    me = psutil.Process()
    try:
        descendants = me.children(recursive=True)
    except psutil.Error:
        descendants = []
    children = multiprocessing.active_children()
    for child in children:
        with contextlib.suppress(OSError, ValueError):
            child.terminate()
    for proc in descendants:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    mp_pids = {child.pid for child in children}
    for child in children:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            child.join(timeout)
            if child.is_alive():
                child.kill()
                child.join(timeout)
    others = [proc for proc in descendants if proc.pid not in mp_pids]
    _, alive = psutil.wait_procs(others, timeout=timeout)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=timeout)
    return len(mp_pids | {proc.pid for proc in descendants})


def worker_error(exc: BaseException) -> WorkerError | None:
    """``exc`` as a :class:`~graphcurv.errors.WorkerError` if a worker process died under it
    (a broken process pool, here or as its cause), else ``None``.

    >>> from concurrent.futures.process import BrokenProcessPool
    >>> str(worker_error(BrokenProcessPool("terminated abruptly"))).startswith("a solver worker process died")
    True
    >>> worker_error(ValueError("bad")) is None
    True
    """
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, WorkerError):
            return exc
        if isinstance(exc, BrokenExecutor):
            return WorkerError(worker_died())
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None
