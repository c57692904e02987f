"""Ricci flow: GraphRicciCurvature's compute_ricci_flow (exact, method="OTD") vs graphcurv.ricci_flow.

Both tools run the same number of flow iterations (Ni et al.'s update, step 1, alpha 0.5,
normalised to mean length 1) from unit lengths, each in a forked child process. The
script prints seconds, the ratio, seconds per curvature evaluation (iterations + 1), peak
memory, and the largest absolute difference of the flowed lengths. Graphs whose anchor run
would take hours (email-Enron: 36,692 nodes, 183,831 edges) run graphcurv alone.

    .venv/bin/python benchmarks/ricci_flow.py                       # karate and WS(1000,10,0.1)
    .venv/bin/python benchmarks/ricci_flow.py --only ws --repeat 3  # the issue's target graph
    .venv/bin/python benchmarks/ricci_flow.py --only enron --iterations 3 --skip-anchor
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import networkx as nx
import torch
from common import in_child, node_name
from rich.console import Console
from rich.table import Table

from graphcurv.flow import ricci_flow
from graphcurv.graphs import from_networkx, load_graph


def graphs() -> list[tuple[str, nx.Graph, bool]]:
    """(name, graph, run the anchor too)."""
    karate = nx.Graph(nx.karate_club_graph().edges())
    out = [("karate", karate, True), ("WS(1000,10,0.1)", nx.watts_strogatz_graph(1000, 10, 0.1, seed=1), True)]
    out.append(("email-Enron", None, False))  # loaded lazily: only when selected
    return out


def run_anchor(G: nx.Graph, iterations: int, proc: int) -> dict:
    from GraphRicciCurvature.OllivierRicci import OllivierRicci

    start = time.perf_counter()
    orc = OllivierRicci(G, alpha=0.5, method="OTD", proc=proc, verbose="ERROR")
    orc.compute_ricci_flow(iterations=iterations)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "values": {(u, v): d["weight"] for u, v, d in orc.G.edges(data=True)}}


def run_graphcurv(G: nx.Graph | None, iterations: int, name: str) -> dict:
    data = load_graph("email-Enron", undirected=True) if G is None else from_networkx(G)
    start = time.perf_counter()
    result = ricci_flow(data, iterations, delta=1e-4)
    seconds = time.perf_counter() - start
    names = getattr(data, "node_names", None)
    values = {}
    for (u, v), w in zip(data.edge_index.t().tolist(), result.edge_weight.tolist()):
        if names is not None:
            u, v = node_name(names[u]), node_name(names[v])
        values[(u, v)] = w
    return {
        "seconds": seconds,
        "values": values,
        "iterations": result.iterations,
        "nodes": data.num_nodes,
        "edges": data.edge_index.size(1) // 2,
    }


def max_difference(ours: dict, anchor: dict) -> float:
    return max(abs(ours.get((u, v), ours.get((v, u))) - w) for (u, v), w in anchor.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--proc", type=int, default=2, help="GraphRicciCurvature's processes")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool and graph (median reported)")
    parser.add_argument("--only", default="karate,ws", help="comma-separated substrings of graph names")
    parser.add_argument("--skip-anchor", action="store_true", help="graphcurv alone")
    args = parser.parse_args(argv)

    console = Console(width=200)
    table = Table(title=f"Ricci flow, {args.iterations} iterations, alpha 0.5 (torch {torch.__version__})")
    columns = ("graph", "nodes", "edges", "GRC s", "graphcurv s", "speed-up", "graphcurv s/evaluation",
               "GRC peak MB", "graphcurv peak MB", "max |length diff|")
    for col in columns:
        table.add_column(col, justify="left" if col == "graph" else "right")
    filters = [f.strip().lower() for f in args.only.split(",") if f.strip()]
    for name, G, with_anchor in graphs():
        if filters and not any(f in name.lower().replace(" ", "") for f in filters):
            continue
        ours = [in_child(run_graphcurv, G, args.iterations, name) for _ in range(args.repeat)]
        ours_s = statistics.median(r["seconds"] for r in ours)
        per_eval = ours_s / (ours[0]["iterations"] + 1)
        row = [name, f"{ours[0]['nodes']:,}", f"{ours[0]['edges']:,}"]
        if with_anchor and not args.skip_anchor:
            anchor = [in_child(run_anchor, G, args.iterations, args.proc) for _ in range(args.repeat)]
            anchor_s = statistics.median(r["seconds"] for r in anchor)
            diff = max_difference(ours[0]["values"], anchor[0]["values"])
            row += [f"{anchor_s:.2f}", f"{ours_s:.2f}", f"{anchor_s / ours_s:.1f}x", f"{per_eval:.3f}",
                    f"{anchor[0]['peak_mb']:,.0f}", f"{ours[0]['peak_mb']:,.0f}", f"{diff:.1e}"]
        else:
            row += ["-", f"{ours_s:.2f}", "-", f"{per_eval:.3f}", "-", f"{ours[0]['peak_mb']:,.0f}", "-"]
        table.add_row(*row)
        console.print(f"done: {name}", style="dim")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
