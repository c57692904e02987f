"""``graphcurv communities GRAPH``: curvature communities (Ricci flow) next to Louvain and SBM."""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path

import typer

from graphcurv_cli import ui
from graphcurv_cli.app import app, settings
from graphcurv_cli.commands.info import GRAPH_HELP

DEFAULT_METHODS = "ricci,louvain,sbm"


@app.command()
def communities(
    graph: str = typer.Argument(..., metavar="GRAPH", help=GRAPH_HELP, show_default=False),
    truth: str = typer.Option(
        None,
        "--truth",
        metavar="ATTR",
        help=(
            "Node attribute holding the ground-truth communities that ARI and NMI are scored "
            "against (a .pt graph's attribute, or the name of its y such as 'value', 'club', "
            "'block'). Default: the graph's y when it has one (football's conferences, "
            "polbooks' leanings, karate's factions); without ground truth ARI and NMI are blank. "
            "Negative labels mean unknown and are left out."
        ),
        show_default=False,
    ),
    methods: str = typer.Option(
        None,
        "--methods",
        help=(
            "Comma-separated methods to run and compare: ricci (Ricci flow, then the cutoff "
            "sweep of highest modularity), louvain (networkx), sbm (graph-tool's stochastic "
            "block model inference). Default: ricci,louvain,sbm (sbm left out when graph-tool "
            "is not installed)."
        ),
        show_default=False,
    ),
    iterations: int = typer.Option(20, "--iterations", "-n", help="Ricci flow iterations (ricci only)."),
    alpha: float = typer.Option(
        0.5, "--alpha", help="Ollivier-Ricci laziness in the flow: the mass each node keeps (ricci only)."
    ),
    cutoff_step: float = typer.Option(
        0.025,
        "--cutoff-step",
        help=(
            "Step of the cutoff sweep over the flowed weights, from the largest weight down to "
            "the smallest; edges heavier than a cutoff are cut and the components are the "
            "communities (ricci only)."
        ),
    ),
    directed: bool = typer.Option(
        False,
        "--directed/--undirected",
        help=(
            "--undirected (default) symmetrises a directed graph first (polblogs); "
            "--directed keeps its arcs (components are then weak, modularity directed)."
        ),
    ),
    draw: Path = typer.Option(
        None,
        "--draw",
        metavar="PNG",
        help="Draw the graph coloured by the communities of the first method into this .png file.",
        show_default=False,
    ),
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        metavar="CSV",
        help="Write the labels to this .csv: node, name, truth (when present), one column per method.",
        show_default=False,
    ),
) -> None:
    """Find communities of GRAPH with Ricci flow and compare them with Louvain and SBM.

    Prints a table (method, communities, modularity, ARI, NMI, seconds); modularity is computed on the original graph, where every edge counts 1. Example:

        graphcurv communities football --iterations 50 --draw football.png
    """
    from torch_geometric.utils import is_undirected

    from graphcurv.analyses.communities import compare_methods, ground_truth
    from graphcurv.errors import GraphcurvError
    from graphcurv.graphs import load_graph

    if output is not None and output.suffix.lower() != ".csv":
        raise GraphcurvError(f"--output must end in .csv, got {output.name!r}")
    if draw is not None and draw.suffix.lower() != ".png":
        raise GraphcurvError(f"--draw must end in .png, got {draw.name!r}")
    chosen = _methods(methods)
    data = load_graph(graph, undirected=not directed)
    labels_truth = ground_truth(data, truth)
    bar = ui.progress_bar("Ricci flow") if "ricci" in chosen else contextlib.nullcontext(None)
    with bar as progress:
        rows = compare_methods(
            data.to(settings().torch_device()),
            chosen,
            truth=labels_truth,
            iterations=iterations,
            alpha=alpha,
            cutoff_step=cutoff_step,
            seed=settings().seed,
            progress=progress,
        )
    name = getattr(data, "name", graph)
    edges = data.edge_index.size(1) // (2 if is_undirected(data.edge_index, num_nodes=data.num_nodes) else 1)
    title = f"communities of {name} ({data.num_nodes:,} nodes, {edges:,} edges)"
    columns = ["method", "communities", "modularity", "ARI", "NMI", "seconds"]
    table_rows = [
        (row.method, row.communities, row.modularity, _blank(row.ari), _blank(row.nmi), round(row.seconds, 3))
        for row in rows
    ]
    ui.console.print(ui.table(title, columns, table_rows))
    for row in rows:
        if row.method == "ricci":
            found = row.result
            flow = found.flow
            note = f" after {flow.iterations} flow iterations" if flow is not None else ""
            converged = " (converged)" if flow is not None and flow.converged else ""
            ui.console.print(
                f"ricci: best cutoff {found.cutoff:.4g} of {len(found.sweep.cutoffs)} in the sweep{note}{converged}"
            )
    if labels_truth is None:
        ui.console.print("no ground truth: ARI and NMI left blank (see --truth)")
    if output is not None:
        _write_labels(output, data, labels_truth, rows)
        ui.console.print(f"wrote {output}")
    if draw is not None:
        from graphcurv.analyses.communities import draw_communities

        first = rows[0]
        draw_communities(data, first.labels, draw, seed=settings().seed, title=f"{name}: {first.method}")
        ui.console.print(f"wrote {draw}")


def _blank(value: float | None) -> float | str:
    return "" if value is None else value


def _methods(text: str | None) -> list[str]:
    from graphcurv.errors import GraphcurvError, MissingDependencyError

    if text is not None:
        chosen = [part.strip() for part in text.split(",") if part.strip()]
        if not chosen:
            raise GraphcurvError("--methods is empty: name one or more of ricci, louvain, sbm")
        return chosen
    chosen = DEFAULT_METHODS.split(",")
    try:
        from graphcurv.optional import import_graph_tool

        import_graph_tool()
    except MissingDependencyError:
        ui.err_console.print("graph-tool is not installed: sbm left out")
        chosen.remove("sbm")
    return chosen


def _write_labels(path: Path, data, labels_truth, rows) -> None:
    from graphcurv.atomic import atomic_path

    names = getattr(data, "node_names", None)
    header = ["node"] + (["name"] if names else []) + (["truth"] if labels_truth is not None else [])
    header += [row.method for row in rows]
    columns = [row.labels.tolist() for row in rows]
    with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for node in range(data.num_nodes):
            line = [node] + ([names[node]] if names else [])
            line += [int(labels_truth[node])] if labels_truth is not None else []
            writer.writerow(line + [column[node] for column in columns])
