"""Options that choose where long work runs: the local process pool or a Dask cluster
(:func:`graphcurv.execution.execution`)."""

from __future__ import annotations

from typing import Annotated

import typer

DISTRIBUTED_HELP = (
    "Run the work on a Dask LocalCluster of --workers processes (needs pip install graphcurv[distributed])."
)
SCHEDULER_HELP = "Run the work on the Dask cluster whose scheduler is at this address (tcp://host:8786)."

DistributedOption = Annotated[bool, typer.Option("--distributed", help=DISTRIBUTED_HELP)]
SchedulerOption = Annotated[str | None, typer.Option("--scheduler", help=SCHEDULER_HELP, show_default=False)]
