"""The typer application behind the ``graphcurv`` console script.

Global options (``--device``, ``--seed``, ``--debug``) come before the command:
``graphcurv --device cuda curvature football``. Errors print one line and exit
non-zero; ``--debug`` shows the full traceback instead.

How every command fails (docs/reliability.md lists each case and its message):

* before any work, every output option (``--output``, ``--state``, ``--draw``,
  ``--save-graphs``) is checked to be writable (:func:`graphcurv.atomic.check_writable`);
* SIGINT (Ctrl-C) and SIGTERM stop the run: worker processes are terminated
  (:mod:`graphcurv.interrupts`), one line says what was kept (what a command
  registered with :func:`keep_on_stop`, e.g. ``analyze``'s state file) and the command
  that resumes, and the exit code is 130 or 143;
* a worker process that dies (killed, out of memory) ends the run with one line too.
"""

from __future__ import annotations

import functools
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer

from graphcurv_cli import ui

app = typer.Typer(
    name="graphcurv",
    help=(
        "Graph curvature toolkit on PyTorch Geometric: Ollivier-Ricci and Forman curvature, "
        "Ricci flow and curvature communities on graphs, and curvature analysis of trained "
        "neural networks."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@dataclass
class Settings:
    """Global options, shared by every command through ``ctx.obj``."""

    device: str = "auto"
    seed: int = 0
    debug: bool = False

    def torch_device(self):
        """The ``torch.device`` that ``--device`` names (auto = CUDA when available)."""
        from graphcurv.device import resolve_device

        return resolve_device(self.device)


_settings = Settings()
OUTPUT_PARAMETERS = ("output", "state", "draw", "save_graphs")  # checked writable before a command runs
_kept: list[Callable[[], str | None]] = []


def settings() -> Settings:
    return _settings


def keep_on_stop(describe: Callable[[], str | None]) -> None:
    """Register what the running command keeps on disk if it is stopped (interrupt, dead worker).

    ``describe()`` is called then and returns e.g. ``"the curvature of 7 inputs in s.pt"``,
    or ``None`` when nothing is kept (yet).
    """
    _kept.append(describe)


@app.callback()
def _global_options(
    device: str = typer.Option(
        "auto", "--device", help="Where to compute: cpu, cuda, cuda:N, or auto (CUDA if available)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for every random generator (reproducible runs)."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
) -> None:
    from graphcurv.device import resolve_device, seed_everything

    _settings.device, _settings.seed, _settings.debug = device, seed, debug
    resolve_device(device)  # fail early on --device cuda without CUDA
    seed_everything(seed)


def _register_commands() -> None:
    """Import every module of :mod:`graphcurv_cli.commands`; each registers its command(s)."""
    import importlib
    import pkgutil

    from graphcurv_cli import commands

    for module in sorted(m.name for m in pkgutil.iter_modules(commands.__path__)):
        importlib.import_module(f"graphcurv_cli.commands.{module}")
    _reflow_help(app)
    _check_outputs_first(app)


def _check_outputs_first(typer_app: typer.Typer) -> None:
    """Make every command check its output options (:data:`OUTPUT_PARAMETERS`) before it runs."""
    for info in typer_app.registered_commands:
        if info.callback is not None and not hasattr(info.callback, "__wrapped__"):
            info.callback = _outputs_checked(info.callback)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _check_outputs_first(group.typer_instance)


def _outputs_checked(command: Callable) -> Callable:
    @functools.wraps(command)  # typer reads the wrapped signature
    def checked(*args, **kwargs):
        from graphcurv.atomic import check_writable

        for name in OUTPUT_PARAMETERS:
            if isinstance(kwargs.get(name), Path):
                check_writable(kwargs[name])
        return command(*args, **kwargs)

    return checked


def _reflow_help(typer_app: typer.Typer) -> None:
    """Let every command's docstring paragraphs wrap to the terminal.

    typer's rich mode keeps the single line breaks of a docstring's later paragraphs,
    which renders source-wrapped prose ragged in a narrow terminal; a paragraph that
    starts with ``\\b`` keeps its lines (as in click).
    """
    for info in typer_app.registered_commands:
        text = info.help or (info.callback.__doc__ if info.callback else None)
        if text:
            info.help = reflow(text)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


def reflow(text: str) -> str:
    """Join the lines of every paragraph of a docstring (paragraphs starting with ``\\b`` are kept).

    >>> reflow("First line\\n    goes on.\\n\\n    Second\\n    paragraph.")
    'First line goes on.\\n\\nSecond paragraph.'
    """
    import inspect

    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split("\n")) for p in paragraphs)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code.

    Usage errors, ``--help`` and explicit exits are handled by typer (as ``SystemExit``);
    SIGINT / SIGTERM stop the workers and exit 130 / 143 with one line; any other
    exception becomes one red line on stderr and exit code 1.
    """
    from graphcurv.interrupts import handle_signals

    _register_commands()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _kept.clear()
    with handle_signals():
        try:
            app(args=args, prog_name="graphcurv")
        except SystemExit as exc:
            interrupt = _interrupt_under(exc)  # typer turns KeyboardInterrupt into exit code 130
            if interrupt is None:
                return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            return _interrupted(interrupt, args, _settings.debug or debug)
        except KeyboardInterrupt as exc:
            return _interrupted(exc, args, _settings.debug or debug)
        except Exception as exc:
            _stop_workers()
            if _settings.debug or debug:
                raise
            ui.print_error(_failed_line(exc, args))
            return 1
    return 0


def _interrupt_under(exc: BaseException) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt (or :class:`~graphcurv.interrupts.Interrupted`) that ``exc`` was raised from."""
    for _ in range(10):
        if exc is None or isinstance(exc, KeyboardInterrupt):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _interrupted(exc: KeyboardInterrupt, args: list[str], debug: bool) -> int:
    """Stop the workers, say what was kept and how to resume; the exit code (130 or 143)."""
    from graphcurv.interrupts import exit_code

    _stop_workers()
    if debug:
        ui.print_exception(exc)
    ui.print_stopped(_stopped_line(f"interrupted by {_signal(exc)}", args))
    return exit_code(exc)


def _stop_workers() -> None:
    from graphcurv.interrupts import ignoring_signals, stop_workers

    with ignoring_signals():  # a second Ctrl-C does not cut the cleanup short
        stop_workers()


def _signal(exc: BaseException) -> str:
    from graphcurv.interrupts import Interrupted, signal_name

    return signal_name(exc.signum) if isinstance(exc, Interrupted) else "SIGINT"


def _kept_text() -> list[str]:
    kept = []
    for describe in _kept:
        try:
            text = describe()
        except Exception:  # noqa: BLE001 - describing what is kept must not hide the real error
            text = None
        if text:
            kept.append(text)
    return kept


def _stopped_line(what: str, args: list[str]) -> str:
    """``what``, what was kept, and the command that resumes (or reruns) the run."""
    command = shlex.join(["graphcurv", *args])
    kept = _kept_text()
    if kept:
        return f"{what}; kept {'; '.join(kept)}; resume with: {command}"
    return f"{what}; nothing was written (outputs are written only once complete); run again with: {command}"


def _failed_line(exc: BaseException, args: list[str]) -> str:
    """One line for a failed command; a dead worker or a failed write also say what was kept."""
    from graphcurv.atomic import WriteError
    from graphcurv.interrupts import worker_error

    dead = worker_error(exc)
    if dead is not None:
        return _stopped_line(str(dead), args)
    if isinstance(exc, WriteError) and _kept_text():
        return _stopped_line(_one_line(exc), args)
    return _one_line(exc)


def _one_line(exc: BaseException) -> str:
    from graphcurv.errors import GraphcurvError

    text = " ".join(str(exc).split()) or exc.__class__.__name__
    if isinstance(exc, (GraphcurvError, FileNotFoundError, PermissionError, IsADirectoryError)):
        return text
    return f"{exc.__class__.__name__}: {text} (run with --debug for the traceback)"


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
