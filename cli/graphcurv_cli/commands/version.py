"""``graphcurv version``: versions of graphcurv and the libraries it runs on."""

from __future__ import annotations

from graphcurv_cli import ui
from graphcurv_cli.app import app


@app.command()
def version() -> None:
    """Print the versions of graphcurv, torch, PyG, POT, and whether CUDA is available."""
    from graphcurv.environment import environment_report

    rows = list(environment_report().items())
    ui.console.print(ui.table("graphcurv environment", ["component", "version"], rows))
