"""``graphcurv curvature GRAPH``: per-edge curvature of a graph, saved to CSV or .pt."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path

import typer

from graphcurv_cli import ui
from graphcurv_cli.app import app, keep_on_stop, settings
from graphcurv_cli.commands.info import GRAPH_HELP
from graphcurv_cli.execution import DistributedOption, SchedulerOption


class Method(str, Enum):
    ollivier = "ollivier"
    forman = "forman"
    augmented = "augmented"
    balanced = "balanced"


class Solver(str, Enum):
    exact = "exact"
    sinkhorn = "sinkhorn"
    pot_batch = "pot-batch"


@app.command()
def curvature(
    graph: str = typer.Argument(..., metavar="GRAPH", help=GRAPH_HELP, show_default=False),
    method: Method = typer.Option(Method.ollivier, "--method", "-m", help="Which curvature to compute."),
    alpha: float = typer.Option(0.5, "--alpha", help="Ollivier-Ricci laziness: mass each node keeps."),
    solver: Solver = typer.Option(
        Solver.exact, "--solver", help="Transport solver: exact (certified) or a batched approximate one."
    ),
    tol: float = typer.Option(1e-4, "--tol", help="Absolute W1 tolerance of approximate solvers."),
    directed: bool = typer.Option(
        None, "--directed/--undirected", help="Force the graph to be read as directed or undirected."
    ),
    output: Path = typer.Option(
        None, "--output", "-o", help="Write edges with their curvature: .csv (a table) or .pt (PyG Data)."
    ),
    top: int = typer.Option(10, "--top", help="How many of the most negative edges to list."),
    workers: int = typer.Option(None, "--workers", help="Worker processes (default: all CPUs)."),
    distributed: DistributedOption = False,
    scheduler: SchedulerOption = None,
    state: Path = typer.Option(
        None,
        "--state",
        help=(
            "Ollivier-Ricci (exact): file that keeps the solved edges as they come back, so a run stopped by "
            "Ctrl-C or a lost Dask scheduler resumes where it stopped when run again with the same file."
        ),
        show_default=False,
    ),
) -> None:
    """Compute the curvature of every edge and summarise it (distribution, most negative edges)."""
    from graphcurv.curvature.summary import curvature_summary
    from graphcurv.errors import GraphcurvError
    from graphcurv.graphs import load_graph

    if output is not None and output.suffix not in {".csv", ".pt"}:
        raise GraphcurvError(f"--output must end in .csv or .pt, got {output.name!r}")
    if state is not None and (method is not Method.ollivier or solver is not Solver.exact):
        raise GraphcurvError("--state keeps exact Ollivier-Ricci runs only (--method ollivier --solver exact)")
    if state is not None:
        keep_on_stop(lambda: _kept_state(state))
    data = load_graph(graph, directed=directed, undirected=directed is False)
    device = settings().torch_device()
    data = data.to(device)
    started = time.perf_counter()
    if method is Method.ollivier:
        from graphcurv.curvature.ollivier import ollivier_ricci
        from graphcurv.execution import execution

        run = dict(alpha=alpha, solver=solver.value, tol=tol, workers=workers)
        with execution(scheduler=scheduler, workers=workers, distributed=distributed) as ex:
            with ui.progress_bar("Ollivier-Ricci curvature") as progress:
                result = ollivier_ricci(data, **run, progress=progress, executor=ex, state=state)
        data.edge_curvature, data.node_curvature = result.edge_curvature, result.node_curvature
    else:
        from graphcurv.curvature.forman import forman_curvature

        data.edge_curvature = forman_curvature(data, method.value)
    seconds = time.perf_counter() - started
    data = data.cpu()
    summary = curvature_summary(data, data.edge_curvature, top=top)
    title = f"{method.value} curvature of {getattr(data, 'name', graph)} ({seconds:.2f} s on {device})"
    ui.console.print(ui.table(title, ["statistic", "value"], summary.distribution_rows()))
    names = getattr(data, "node_names", None)
    label = (lambda i: str(names[i])) if names else str  # ids, not quantities: no separators
    rows = [(label(u), label(v), k) for u, v, k in summary.most_negative]
    ui.console.print(ui.table(f"{len(rows)} most negative edges", ["source", "target", "curvature"], rows))
    if output is not None:
        write_edges(data, output)


def _kept_state(state: Path) -> str | None:
    """What an interrupted run keeps: the solved chunks in its state file (None: none yet)."""
    from graphcurv.curvature.state import state_progress

    progress = state_progress(state)
    return f"{progress[0]} of {progress[1]} chunks of edges in {state}" if progress and progress[0] else None


def write_edges(data, output: Path) -> None:
    """Save a graph with per-edge lengths and curvature: a .csv table or a .pt ``Data``."""
    from graphcurv.graphs import save_graph, write_edge_csv

    if output.suffix == ".csv":
        write_edge_csv(data, output, attributes=("edge_weight", "edge_curvature"))
    else:
        save_graph(data, output)
    ui.console.print(f"wrote {output}")
