"""A minimal progress protocol, so the library reports progress without importing a UI.

Long-running functions take ``progress: ProgressCallback | None``. They call it as
``progress(done, total, description)`` whenever work advances; the CLI turns these
calls into a rich progress bar, scripts may pass their own function or nothing.

A pipeline of several stages (``graphcurv.analyze_model``) takes ``progress_bars``
instead: ``progress_bars(description)`` is a context manager that yields the
callback of one stage (the CLI passes its rich bar, one bar per stage);
:func:`stage` opens one, or none when no factory is given.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol


class ProgressCallback(Protocol):
    def __call__(self, done: int, total: int | None, description: str = "") -> None: ...


class ProgressBars(Protocol):
    def __call__(self, description: str) -> contextlib.AbstractContextManager[ProgressCallback | None]: ...


@contextlib.contextmanager
def stage(progress_bars: ProgressBars | None, description: str) -> Iterator[ProgressCallback | None]:
    """The progress callback of one stage of a pipeline: ``progress_bars(description)``'s, or ``None``."""
    if progress_bars is None:
        yield None
        return
    with progress_bars(description) as progress:
        yield progress


def report(progress: ProgressCallback | None, done: int, total: int | None, description: str = "") -> None:
    """Call ``progress`` if one was given (a no-op otherwise)."""
    if progress is not None:
        progress(done, total, description)
