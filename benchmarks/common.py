"""Shared plumbing of the benchmark scripts: isolated runs in forked children, peak memory."""

from __future__ import annotations

import multiprocessing as mp
import resource


def _child(target, args, queue) -> None:
    try:
        out = target(*args)
        out["peak_mb"] = peak_mb()
        queue.put(out)
    except BaseException as exc:  # noqa: BLE001 - report any failure, never hang the parent
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def peak_mb() -> float:
    """Peak resident memory of this process or any of its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def in_child(target, *args) -> dict:
    """``target(*args)`` (a dict) run in a forked child, with its ``peak_mb`` added."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(target, args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    if "error" in out:
        raise RuntimeError(out["error"])
    return out


def node_name(value):
    """Node names as networkx had them (ints where they look like ints)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return value
