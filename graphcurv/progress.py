"""A minimal progress protocol, so the library reports progress without importing a UI.

Long-running functions take ``progress: ProgressCallback | None``. They call it as
``progress(done, total, description)`` whenever work advances; the CLI turns these
calls into a rich progress bar, scripts may pass their own function or nothing.
"""

from __future__ import annotations

from typing import Protocol


class ProgressCallback(Protocol):
    def __call__(self, done: int, total: int | None, description: str = "") -> None: ...


def report(progress: ProgressCallback | None, done: int, total: int | None, description: str = "") -> None:
    """Call ``progress`` if one was given (a no-op otherwise)."""
    if progress is not None:
        progress(done, total, description)
