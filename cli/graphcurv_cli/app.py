"""The typer application behind the ``graphcurv`` console script.

Global options (``--device``, ``--seed``, ``--debug``) come before the command:
``graphcurv --device cuda curvature football``. Errors print one line and exit
non-zero; ``--debug`` shows the full traceback instead.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

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


def settings() -> Settings:
    return _settings


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
    any other exception becomes one red line on stderr and exit code 1.
    """
    _register_commands()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="graphcurv")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        ui.print_error("interrupted")
        return 130
    except Exception as exc:
        if _settings.debug or "--debug" in args:
            raise
        ui.print_error(_one_line(exc))
        return 1
    return 0


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
