"""The one shared way the CLI shows progress bars, tables and errors (rich)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from graphcurv.progress import ProgressCallback

console = Console()
err_console = Console(stderr=True)


@contextmanager
def progress_bar(description: str = "working") -> Iterator[ProgressCallback]:
    """A rich progress bar driven by the library's ``progress(done, total, description)`` calls.

    The bar goes to stderr, so piping a command's table output stays clean.
    """
    columns = (
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int | None, desc: str = "") -> None:
            bar.update(task, completed=done, total=total, description=desc or description)

        yield update


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    """Build a rich table; numbers are formatted compactly and right-aligned."""
    out = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        out.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        out.add_row(*(format_value(v) for v in row))
    return out


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return "nan"
        return f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_error(message: str) -> None:
    """One clear line on stderr, as every failing command ends."""
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)


def print_stopped(message: str) -> None:
    """One line on stderr for a run stopped by a signal: what was kept and how to resume."""
    err_console.print(f"[bold yellow]stopped:[/bold yellow] {message}", highlight=False, soft_wrap=True)


def print_exception(exc: BaseException) -> None:
    """The traceback of ``exc`` (``--debug``), on stderr."""
    import traceback

    err_console.print("".join(traceback.format_exception(exc)).rstrip(), highlight=False, markup=False)
