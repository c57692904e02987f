"""Ollivier-Ricci curvature: GraphRicciCurvature (exact, method="OTD") vs graphcurv, side by side.

For each graph both tools compute the curvature of every edge with the same alpha on the
same graph; the script prints seconds, edges per second, peak memory (resident set of
the process that ran the tool, its workers included), the speed ratio, and the largest
absolute difference between the two results. Each run happens in a forked child
process, so peak memory is measured per run.

    .venv/bin/python benchmarks/orc_vs_graphriccicurvature.py            # the full table
    .venv/bin/python benchmarks/orc_vs_graphriccicurvature.py --quick    # small graphs only
    .venv/bin/python benchmarks/orc_vs_graphriccicurvature.py --only "ba(10000" --skip-anchor
    .venv/bin/python benchmarks/orc_vs_graphriccicurvature.py --only star --repeat 5   # the hub case
    # on a GPU machine: the batched solver on CUDA, errors against the exact anchor
    .venv/bin/python benchmarks/orc_vs_graphriccicurvature.py --device cuda --solver sinkhorn --tol 1e-4
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import networkx as nx
import numpy as np
import torch
from common import in_child, node_name
from rich.console import Console
from rich.table import Table

from graphcurv.curvature.ollivier import ollivier_ricci
from graphcurv.graphs import from_networkx


def graphs(quick: bool) -> list[tuple[str, nx.Graph, bool]]:
    """(name, graph, run the anchor too)."""
    out: list[tuple[str, nx.Graph, bool]] = []
    karate = nx.karate_club_graph()
    unit = nx.Graph(karate.edges())
    out.append(("karate", unit, True))
    weighted_karate = nx.Graph()
    weighted_karate.add_weighted_edges_from((u, v, float(d["weight"])) for u, v, d in karate.edges(data=True))
    out.append(("karate (weighted)", weighted_karate, True))
    out.append(("WS(1000,10,0.1)", nx.watts_strogatz_graph(1000, 10, 0.1, seed=1), True))
    ws_weighted = nx.watts_strogatz_graph(1000, 10, 0.1, seed=1)
    rng = np.random.default_rng(1)
    for u, v in ws_weighted.edges():
        ws_weighted[u][v]["weight"] = float(rng.uniform(0.5, 2.0))
    out.append(("WS(1000,10,0.1) weighted", ws_weighted, True))
    out.append(("directed ER(1000, 0.01)", nx.gnp_random_graph(1000, 0.01, seed=2, directed=True), True))
    if quick:
        return out
    out.append(("star(3100)+matching", star_with_matching(3100), True))
    out.append(("ER(2000, mean deg 20)", nx.fast_gnp_random_graph(2000, 20 / 1999, seed=3), True))
    out.append(("BA(5000,5)", nx.barabasi_albert_graph(5000, 5, seed=4), True))
    out.append(("BA(10000,5)", nx.barabasi_albert_graph(10000, 5, seed=5), True))
    out.append(("BA(200000,5)", nx.barabasi_albert_graph(200000, 5, seed=6), False))
    return out


def star_with_matching(leaves: int) -> nx.Graph:
    """The hub case of issue 18 item 7: a hub joined to every leaf, the leaves paired off
    (1-2, 3-4, ...). Each hub edge's problem is about leaves x 2 after the shared mass."""
    G = nx.star_graph(leaves)
    G.add_edges_from((i, i + 1) for i in range(1, leaves, 2))
    return G


def _ensure_weights(G: nx.Graph) -> nx.Graph:
    if not nx.get_edge_attributes(G, "weight"):
        nx.set_edge_attributes(G, 1.0, "weight")
    return G


def run_anchor(G: nx.Graph, alpha: float, proc: int) -> dict:
    from GraphRicciCurvature.OllivierRicci import OllivierRicci

    # GraphRicciCurvature keeps only a node's 3,000 heaviest neighbours in its measure by
    # default (nbr_topk); lifted to the largest degree so that both compute the same curvature.
    topk = max(3000, max((d for _, d in G.degree()), default=0))
    start = time.perf_counter()
    orc = OllivierRicci(G, alpha=alpha, method="OTD", proc=proc, verbose="ERROR", weight="weight", nbr_topk=topk)
    orc.compute_ricci_curvature()
    seconds = time.perf_counter() - start
    values = {(u, v): d["ricciCurvature"] for u, v, d in orc.G.edges(data=True)}
    return {"seconds": seconds, "values": values}


def run_graphcurv(G: nx.Graph, alpha: float, device: str = "cpu", solver: str = "exact", tol: float = 1e-4) -> dict:
    data = from_networkx(G, weight="weight").to(device)
    if device.startswith("cuda"):  # warm-up: CUDA context and kernels, not timed
        ollivier_ricci(data, alpha=alpha, solver=solver, tol=tol)
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = ollivier_ricci(data, alpha=alpha, solver=solver, tol=tol)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    result = type(result)(*(t.cpu() for t in result))
    ei = data.edge_index.numpy()
    names = getattr(data, "node_names", None)
    kappa = result.edge_curvature.numpy()
    values = {}
    for i in range(ei.shape[1]):
        u, v = int(ei[0, i]), int(ei[1, i])
        if names is not None:
            u, v = node_name(names[u]), node_name(names[v])
        values[(u, v)] = float(kappa[i])
    return {"seconds": seconds, "values": values}


def max_difference(ours: dict, anchor: dict) -> float:
    worst = 0.0
    for (u, v), value in anchor.items():
        mine = ours.get((u, v), ours.get((v, u)))
        worst = max(worst, abs(mine - value))
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--proc", type=int, default=2, help="GraphRicciCurvature's processes")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool and graph (median reported)")
    parser.add_argument("--quick", action="store_true", help="small graphs only")
    parser.add_argument("--only", default="", help="comma-separated substrings of graph names to run")
    parser.add_argument("--skip-anchor", action="store_true", help="graphcurv alone")
    parser.add_argument("--device", default="cpu", help="graphcurv's device: cpu or cuda")
    parser.add_argument("--solver", default="exact", help="graphcurv's transport solver: exact, sinkhorn, pot-batch")
    parser.add_argument("--tol", type=float, default=1e-4, help="tolerance of the batched solvers")
    args = parser.parse_args(argv)

    console = Console(width=200)
    title = (
        f"Ollivier-Ricci curvature, alpha={args.alpha}; GraphRicciCurvature exact OT vs graphcurv "
        f"solver={args.solver} on {args.device} (torch {torch.__version__})"
    )
    table = Table(title=title)
    for col in ("graph", "nodes", "edges", "GRC s", "graphcurv s", "speed-up", "graphcurv edges/s",
                "GRC peak MB", "graphcurv peak MB", "max |diff|"):
        table.add_column(col, justify="left" if col == "graph" else "right")
    filters = [f.strip().lower() for f in args.only.split(",") if f.strip()]
    for name, G, with_anchor in graphs(args.quick):
        if filters and not any(f in name.lower().replace(" ", "") for f in filters):
            continue
        G = _ensure_weights(G)
        edges = G.number_of_edges()
        ours_runs = [
            in_child(run_graphcurv, G, args.alpha, args.device, args.solver, args.tol) for _ in range(args.repeat)
        ]
        ours_s = statistics.median(r["seconds"] for r in ours_runs)
        row = [name, f"{G.number_of_nodes():,}", f"{edges:,}"]
        if with_anchor and not args.skip_anchor:
            anchor_runs = [in_child(run_anchor, G, args.alpha, args.proc) for _ in range(args.repeat)]
            anchor_s = statistics.median(r["seconds"] for r in anchor_runs)
            diff = max_difference(ours_runs[0]["values"], anchor_runs[0]["values"])
            row += [f"{anchor_s:.2f}", f"{ours_s:.2f}", f"{anchor_s / ours_s:.1f}x", f"{edges / ours_s:,.0f}",
                    f"{anchor_runs[0]['peak_mb']:,.0f}", f"{ours_runs[0]['peak_mb']:,.0f}", f"{diff:.1e}"]
        else:
            row += ["-", f"{ours_s:.2f}", "-", f"{edges / ours_s:,.0f}", "-", f"{ours_runs[0]['peak_mb']:,.0f}", "-"]
        table.add_row(*row)
        console.print(f"done: {name}", style="dim")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
