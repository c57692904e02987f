"""``graphcurv info GRAPH``: load a graph and print its summary table."""

from __future__ import annotations

import warnings

import typer
from rich.markup import escape

from graphcurv_cli import ui
from graphcurv_cli.app import app

GRAPH_HELP = (  # shared by commands that take a GRAPH argument (cheap to import)
    "A file (edge list: 'source target \\[length]' per line, whitespace or CSV, '#' "
    "comments; or a saved graph .pt), a generator spec (ws:n=1000,k=10,p=0.1 / "
    "er:n=2000,mean_degree=20 / ba:n=5000,m=5 / sbm:sizes=40/40/40,p_in=0.3,p_out=0.02, "
    "each with optional seed=N), or a network name (karate, karate-weighted, football, "
    "polbooks, polblogs, dolphins, power, ...)."
)


@app.command()
def info(
    graph: str = typer.Argument(..., metavar="GRAPH", help=GRAPH_HELP, show_default=False),
    directed: bool = typer.Option(
        None,
        "--directed/--undirected",
        help=(
            "--directed reads an edge-list file as arcs (default: undirected edges); "
            "--undirected symmetrises a directed graph (reciprocal arcs merged, smallest length)."
        ),
        show_default=False,
    ),
) -> None:
    """Print a summary of GRAPH: nodes, edges, direction, lengths, components, degrees, ground truth.

    GRAPH is an existing file, a generator spec or a network name, for example:

        graphcurv info edges.txt            (edge list; .csv works too)

        graphcurv info graph.pt             (a saved PyG Data)

        graphcurv info ws:n=1000,k=10,p=0.1,seed=0

        graphcurv info sbm:sizes=40/40/40,p_in=0.3,p_out=0.02

        graphcurv info football             (a real network with ground truth)

    Loading drops self-loops and merges duplicate edges (smallest length), with a note for each.
    """
    from graphcurv.graphs import graph_summary, load_graph

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        data = load_graph(graph, directed=bool(directed), undirected=directed is False)
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            note = escape(str(warning.message))
            ui.err_console.print(f"[yellow]note:[/yellow] {note}", highlight=False, soft_wrap=True)
    summary = graph_summary(data)
    rows = [(label, escape(v) if isinstance(v, str) else v) for label, v in summary.as_rows()]
    ui.console.print(ui.table(escape(f"graph {summary.name}"), ["property", "value"], rows))
