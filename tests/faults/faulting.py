"""Helpers of the fault-injection suite: a subprocess runner that signals a real ``graphcurv``
process and checks what it leaves behind, and the one-line-message check.

Every fault test checks the three things docs/reliability.md promises for its row: the exact
one-line message (no traceback), the exit code, and what is left on disk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def analyze_args(model: Path, *extra: str, per_class: int = 1) -> list[str]:
    return ["--device", "cpu", "analyze", str(model), "-d", "digits", "-k", str(per_class), "--no-communities",
            *extra]  # fmt: skip


def one_line_error(err: str, prefix: str = "error:") -> str:
    """The single message line of a failed command's stderr (progress bars aside)."""
    assert "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if line.startswith(("error:", "stopped:"))]
    assert len(lines) == 1 and lines[0].startswith(prefix), err
    return " ".join(err[err.index(prefix) :].split())


@dataclass
class Finished:
    code: int
    out: str
    err: str
    workers: list[int]  # pids of the worker processes seen while it ran


def alive(pids: list[int]) -> list[int]:
    found = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                found.append(pid)
        except psutil.NoSuchProcess:
            pass
    return found


def run_until(args: list[str], cwd: Path, ready, act, *, timeout: float = 60.0, python: str | None = None) -> Finished:
    """Start ``graphcurv ARGS`` (or ``python -c PYTHON ARGS``) in its own session, wait until
    ``ready()`` holds, call ``act(process)``, and return how it ended."""
    command = [sys.executable, "-c", python or "from graphcurv_cli.app import run; run()", *args]
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT / "tests")}
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                               start_new_session=True)  # fmt: skip
    workers: list[int] = []
    deadline = time.monotonic() + timeout
    try:
        while not ready(process):
            if process.poll() is not None or time.monotonic() > deadline:
                out, err = process.communicate()
                raise AssertionError(f"never became ready (exit {process.returncode}): {err.decode()[-2000:]}")
            time.sleep(0.02)
        workers = [child.pid for child in psutil.Process(process.pid).children(recursive=True)]
        act(process)
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return Finished(process.returncode, out.decode(), err.decode(), workers)


def has_workers(count: int = 1):
    def ready(process) -> bool:
        try:
            return len(psutil.Process(process.pid).children()) >= count
        except psutil.Error:
            return False

    return ready
