"""Curvature communities against ground truth: graphcurv, GraphRicciCurvature, Louvain and SBM side by side.

For each graph with ground truth, four methods find communities:

* graphcurv: ``ricci_communities`` (Ricci flow, then the cutoff sweep; the partition of
  highest modularity on the original graph);
* GRC: GraphRicciCurvature's ``compute_ricci_flow`` then ``ricci_community`` (exact,
  method="OTD", alpha 0.5, 2 processes, the same iterations; its cutoff is the last
  modularity drop of the cut graph);
* Louvain: ``networkx.community.louvain_communities`` (seed 0);
* SBM: graph-tool's ``minimize_blockmodel_dl`` (degree-corrected, best of 5 fits).

Every method's modularity is computed the same way (graphcurv's ``modularity``: the
original graph, every edge counts 1); ARI and NMI by scikit-learn. Each run happens in
a forked child process. A second table shows graphcurv's sweep: the partition it picked
and the partition of the sweep that agrees best with the ground truth (an oracle, for
diagnosis only: it looks at the truth).

Graphs: karate (2 factions), football (12 conferences), polbooks (3 leanings), polblogs
(largest connected component, undirected, 2 leanings), planted partitions (4 groups x 32
nodes, expected degree 16, mixing mu = expected fraction of a node's edges that leave
its group) and LFR graphs (n=500, tau1 2.5, tau2 1.5, mean degree 15, max degree 50,
communities of 20..100 nodes, seed 10) across mixing levels.

    .venv/bin/python benchmarks/communities.py                   # everything (long: polblogs)
    .venv/bin/python benchmarks/communities.py --quick           # karate, football, polbooks, 2 planted
    .venv/bin/python benchmarks/communities.py --only football --iterations 50
    .venv/bin/python benchmarks/communities.py --skip-anchor     # without GraphRicciCurvature
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from collections.abc import Callable

import networkx as nx
import numpy as np
import scipy.sparse as sp
import torch
from common import in_child
from scipy.sparse.csgraph import connected_components
from torch_geometric.data import Data
from torch_geometric.utils import subgraph

from graphcurv.analyses.communities import (
    adjusted_rand_index,
    louvain_labels,
    modularity,
    normalized_mutual_information,
    ricci_communities,
    sbm_labels,
)
from graphcurv.graphs import from_networkx, load_graph, to_scipy


def largest_component(data: Data) -> Data:
    """The largest connected component of ``data``, with its ground truth."""
    _, label = connected_components(to_scipy(data), directed=False)
    keep = torch.from_numpy(label == np.bincount(label).argmax())
    edge_index, edge_weight = subgraph(keep, data.edge_index, data.edge_weight, relabel_nodes=True)
    out = Data(edge_index=edge_index, edge_weight=edge_weight, num_nodes=int(keep.sum()), y=data.y[keep])
    out.name = f"{data.name} (largest component)"
    return out


def planted(mu: float, seed: int = 1) -> Data:
    groups, size, degree = 4, 32, 16
    p_in, p_out = degree * (1 - mu) / (size - 1), degree * mu / (size * (groups - 1))
    data = from_networkx(nx.planted_partition_graph(groups, size, p_in, p_out, seed=seed))
    data.y = torch.arange(groups * size) // size
    return data


def lfr(mu: float) -> Data:
    G = nx.LFR_benchmark_graph(
        500, 2.5, 1.5, mu, average_degree=15, max_degree=50, min_community=20, max_community=100, seed=10
    )
    community = {node: min(G.nodes[node]["community"]) for node in G}  # a community's smallest node names it
    data = from_networkx(G)
    data.y = torch.tensor([community[node] for node in G]).unique(return_inverse=True)[1]
    return data


def graphs(quick: bool) -> list[tuple[str, Callable[[], Data]]]:
    out: list[tuple[str, Callable[[], Data]]] = [
        ("karate", lambda: load_graph("karate")),
        ("football", lambda: load_graph("football")),
        ("polbooks", lambda: load_graph("polbooks")),
    ]
    if not quick:
        out.append(("polblogs", lambda: largest_component(load_graph("polblogs", undirected=True))))
    for mu in (0.1, 0.3) if quick else (0.1, 0.2, 0.3, 0.4, 0.5):
        out.append((f"planted mu={mu}", lambda mu=mu: planted(mu)))
    if not quick:
        for mu in (0.1, 0.3, 0.5):
            out.append((f"LFR mu={mu}", lambda mu=mu: lfr(mu)))
    return out


def topology(data: Data) -> nx.Graph:
    """Unit-length networkx graph on nodes 0..n-1 (what GraphRicciCurvature reads)."""
    G = nx.Graph()
    G.add_nodes_from(range(data.num_nodes))
    u, v = data.edge_index.tolist()
    G.add_edges_from((a, b) for a, b in zip(u, v) if a < b)
    nx.set_edge_attributes(G, 1.0, "weight")
    return G


def run_graphcurv(data: Data, iterations: int) -> dict:
    start = time.perf_counter()
    found = ricci_communities(data, iterations=iterations, alpha=0.5)
    seconds = time.perf_counter() - start
    return {
        "labels": found.labels.numpy(),
        "seconds": seconds,
        "cutoff": found.cutoff,
        "cutoffs": len(found.sweep.cutoffs),
        "flow_iterations": found.flow.iterations,
        "oracle": best_in_sweep(data, found),
    }


def best_in_sweep(data: Data, found) -> tuple[float, float, int]:
    """(ARI, cutoff, communities) of the sweep's partition that agrees best with the truth."""
    best, seen = (-1.0, math.nan, 0), set()
    for cutoff, count, _ in found.sweep.rows():
        if count in seen:  # partitions only refine as the cutoff falls: one per count
            continue
        seen.add(count)
        ari = adjusted_rand_index(data.y, partition_at(data, found.flowed_weight, cutoff))
        best = max(best, (ari, cutoff, count), key=lambda t: t[0])
    return best


def partition_at(data: Data, weight: torch.Tensor, cutoff: float) -> np.ndarray:
    """Connected components once the edges heavier than ``cutoff`` are cut."""
    keep = (weight <= cutoff).numpy()
    src, dst = data.edge_index.numpy()
    n = data.num_nodes
    return connected_components(sp.coo_array((np.ones(keep.sum()), (src[keep], dst[keep])), shape=(n, n)))[1]


def run_anchor(data: Data, iterations: int, proc: int) -> dict:
    from GraphRicciCurvature.OllivierRicci import OllivierRicci

    G = topology(data)
    start = time.perf_counter()
    orc = OllivierRicci(G, alpha=0.5, method="OTD", proc=proc, verbose="ERROR")
    orc.compute_ricci_flow(iterations=iterations)
    cutoff, clustering = orc.ricci_community()
    seconds = time.perf_counter() - start
    return {"labels": np.array([clustering[v] for v in range(data.num_nodes)]), "seconds": seconds}


def run_louvain(data: Data) -> dict:
    start = time.perf_counter()
    labels = louvain_labels(data, seed=0)
    return {"labels": labels.numpy(), "seconds": time.perf_counter() - start}


def run_sbm(data: Data) -> dict:
    start = time.perf_counter()
    labels = sbm_labels(data, seed=0)
    return {"labels": labels.numpy(), "seconds": time.perf_counter() - start}


def score(data: Data, out: dict) -> dict:
    labels = out["labels"]
    return {
        "communities": len(np.unique(labels)),
        "modularity": modularity(data, labels),
        "ari": adjusted_rand_index(data.y, labels),
        "nmi": normalized_mutual_information(data.y, labels),
        "seconds": out["seconds"],
    }


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small graphs only (no polblogs, no LFR)")
    parser.add_argument("--only", default="", help="comma-separated substrings of graph names")
    parser.add_argument("--iterations", type=int, default=50, help="Ricci flow iterations (both tools)")
    parser.add_argument("--proc", type=int, default=2, help="GraphRicciCurvature's processes")
    parser.add_argument("--skip-anchor", action="store_true", help="leave GraphRicciCurvature out")
    parser.add_argument("--skip-sbm", action="store_true", help="leave graph-tool's SBM out")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message=".*self-loop|.*parallel")

    filters = [f.strip().lower() for f in args.only.split(",") if f.strip()]
    rows, sweep_rows = [], []
    for name, make in graphs(args.quick):
        if filters and not any(f in name.lower() for f in filters):
            continue
        data = make()
        runs = [("graphcurv", run_graphcurv, (args.iterations,))]
        if not args.skip_anchor:
            runs.append(("GRC", run_anchor, (args.iterations, args.proc)))
        runs.append(("Louvain", run_louvain, ()))
        if not args.skip_sbm:
            runs.append(("SBM", run_sbm, ()))
        size = f"{data.num_nodes:,} / {data.edge_index.size(1) // 2:,}"
        truth_groups = int(data.y.max()) + 1
        for method, target, extra in runs:
            try:
                out = in_child(target, data, *extra)
            except RuntimeError as exc:  # the child's error, as one line
                rows.append([name, size, method, "-", "-", "-", "-", "-", f"failed: {exc}"])
                print(f"{name}: {method} failed: {exc}", file=sys.stderr)
                continue
            s = score(data, out)
            rows.append(
                [name, size, method, f"{s['communities']} ({truth_groups})", f"{s['modularity']:.3f}",
                 f"{s['ari']:.3f}", f"{s['nmi']:.3f}", f"{s['seconds']:.2f}", ""]
            )  # fmt: skip
            if method == "graphcurv":
                ari, cutoff, k = out["oracle"]
                sweep_rows.append(
                    [name, str(out["flow_iterations"]), f"{out['cutoff']:.3f}", str(s["communities"]),
                     f"{s['ari']:.3f}", f"{cutoff:.3f}", str(k), f"{ari:.3f}", str(out["cutoffs"])]
                )  # fmt: skip
            print(f"done: {name} {method} ({s['seconds']:.1f} s)", file=sys.stderr, flush=True)

    print(f"Communities against ground truth; Ricci flow: {args.iterations} iterations, alpha 0.5 "
          f"(torch {torch.__version__}, {torch.get_num_threads()} thread)\n")  # fmt: skip
    header = ["graph", "nodes / edges", "method", "communities (truth)", "modularity", "ARI", "NMI", "seconds", "note"]
    print(markdown(header, rows))
    print("\ngraphcurv's sweep: the partition it picks (highest modularity) and the sweep's partition closest to the")
    print("ground truth (oracle: it looks at the truth; diagnosis only)\n")
    header = ["graph", "flow iterations", "cutoff", "communities", "ARI", "oracle cutoff", "communities",
              "oracle ARI", "cutoffs swept"]  # fmt: skip
    print(markdown(header, sweep_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
