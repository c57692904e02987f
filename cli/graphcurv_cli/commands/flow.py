"""``graphcurv flow GRAPH -o flowed.pt``: Ricci flow on the edge lengths of a graph."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path

import typer

from graphcurv_cli import ui
from graphcurv_cli.app import app, settings
from graphcurv_cli.commands.curvature import write_edges
from graphcurv_cli.commands.info import GRAPH_HELP
from graphcurv_cli.execution import DistributedOption, SchedulerOption


class Update(str, Enum):
    ni2019 = "ni2019"
    riccinets = "riccinets"


@app.command()
def flow(
    graph: str = typer.Argument(..., metavar="GRAPH", help=GRAPH_HELP, show_default=False),
    iterations: int = typer.Option(20, "--iterations", "-n", help="Most flow iterations (updates) to run."),
    step: float = typer.Option(1.0, "--step", help="Step of the ni2019 update w <- w - step * kappa * w."),
    delta: float = typer.Option(
        1e-4, "--delta", help="Stop once max - min curvature is below this in every component."
    ),
    alpha: float = typer.Option(0.5, "--alpha", help="Ollivier-Ricci laziness: mass each node keeps."),
    update: Update = typer.Option(
        Update.ni2019, "--update", help="ni2019: w - step*kappa*w (Ni et al.); riccinets: (1 - kappa) * d(x, y)."
    ),
    surgery_every: int = typer.Option(
        0, "--surgery-every", help="Every K iterations cut the longest edges (0: no surgery)."
    ),
    surgery_cut: float = typer.Option(0.02, "--surgery-cut", help="Share of the edges each surgery cuts."),
    directed: bool = typer.Option(
        None, "--directed/--undirected", help="Force the graph to be read as directed or undirected."
    ),
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        help="Write the flowed graph: .pt (PyG Data: edge_weight = flowed lengths, original_weight, "
        "edge_curvature) or .csv (one row per edge).",
    ),
    workers: int = typer.Option(None, "--workers", help="Worker processes (default: all CPUs).", show_default=False),
    distributed: DistributedOption = False,
    scheduler: SchedulerOption = None,
) -> None:
    """Run the discrete Ricci flow: bridges between communities stretch, edges inside them shrink.

    Each component is normalised to mean length 1 after every update; edges cut by surgery get length inf.
    """
    from graphcurv.errors import GraphcurvError
    from graphcurv.execution import execution
    from graphcurv.flow import cut_longest, ricci_flow
    from graphcurv.graphs import load_graph

    if output is not None and output.suffix not in {".csv", ".pt"}:
        raise GraphcurvError(f"--output must end in .csv or .pt, got {output.name!r}")
    if surgery_every < 0:
        raise GraphcurvError(f"--surgery-every must be >= 0, got {surgery_every}")
    data = load_graph(graph, directed=directed, undirected=directed is False)
    device = settings().torch_device()
    data = data.to(device)
    surgery = cut_longest(surgery_cut) if surgery_every else None
    started = time.perf_counter()
    with (
        execution(scheduler=scheduler, workers=workers, distributed=distributed) as ex,
        ui.progress_bar("Ricci flow") as progress,
    ):
        result = ricci_flow(
            data,
            iterations,
            step=step,
            delta=delta,
            alpha=alpha,
            update=update.value,
            surgery=surgery,
            surgery_every=max(surgery_every, 1),
            directed=directed,
            workers=workers,
            progress=progress,
            executor=ex,
        )
    seconds = time.perf_counter() - started
    data = data.cpu()
    original = data.edge_weight if getattr(data, "edge_weight", None) is not None else None
    data.original_weight = original
    data.edge_weight, data.edge_curvature = result.edge_weight.cpu(), result.edge_curvature.cpu()
    ui.console.print(ui.table(_title(data, graph, seconds, device), ["statistic", "value"], _rows(result)))
    if output is not None:
        write_edges(data, output)


def _title(data, graph: str, seconds: float, device) -> str:
    return f"Ricci flow on {getattr(data, 'name', graph)} ({seconds:.2f} s on {device})"


def _rows(result) -> list[tuple[str, object]]:
    import torch

    finite = result.edge_weight[torch.isfinite(result.edge_weight)].cpu()
    quantiles = (
        torch.quantile(finite, torch.tensor([0.0, 0.5, 1.0], dtype=finite.dtype)).tolist() if finite.numel() else []
    )
    rows: list[tuple[str, object]] = [
        ("iterations", result.iterations),
        ("converged", result.converged),
        ("curvature spread at start", result.spread[0]),
        ("curvature spread at end", result.spread[-1]),
        ("components", int(result.component.max()) + 1),
        ("edges cut by surgery", int((~torch.isfinite(result.edge_weight)).sum())),
    ]
    if quantiles:
        rows += [("shortest length", quantiles[0]), ("median length", quantiles[1]), ("longest length", quantiles[2])]
    return rows
