"""Benchmark the batched transport solvers on the W1 problems of Ollivier-Ricci curvature.

For every edge (x, y) of a graph it builds the problem of ORC with the uniform lazy
measures (alpha = 0.5): m_x(x) = alpha, m_x(z) = (1 - alpha) / deg(x) for z in N(x).
Mass common to m_x and m_y is removed first (an optimal plan under a metric cost leaves
min(m_x, m_y) in place, as the curvature code does), so each problem moves the
residuals ``(m_x - m_y)_+`` onto ``(m_y - m_x)_+`` and has total mass TV(m_x, m_y).
Costs are shortest-path lengths between the supports; they lie in {0, 1, 2, 3}
(u - x - y - v is a path), so they are read off A and A^2 instead of running a BFS per
node: dist = 0 if u = v, 1 if A[u, v], 2 if (A^2)[u, v] > 0, else 3 (identical to a BFS
from every needed node; ``--check-distances`` verifies it on a sample).

Solvers, on the same batch:

* exact: ``ot.emd2`` per problem (POT's network simplex), the reference;
* sinkhorn: :func:`graphcurv.transport.sinkhorn.wasserstein_sinkhorn`;
* pot-batch: :func:`graphcurv.transport.pot_batch.wasserstein_pot_batch` (``ot.batch``).

Usage::

    python benchmarks/transport_solvers.py            # BA(10000, 5) and WS, 5000 edges each
    python benchmarks/transport_solvers.py --graph ba --edges 0 --skip-pot    # all BA edges
    python benchmarks/transport_solvers.py --device cuda --dtype float32 --graph ba \
        --nodes 200000 --edges 100000 --skip-exact --skip-pot   # GPU throughput run

The table reports problems, the sum of problem sizes sum n_a * n_b, seconds,
problems per second, and max |error| / mean error against the exact values, plus
Sinkhorn's iteration percentiles and the number of problems it left uncertified; the
"sinkhorn + emd2 fallback" row solves those exactly. Building the problems takes about
40 bytes of host memory per cost entry (BA(10000, 5), all edges: 34 M entries).
On a shared CPU, ``--threads 1`` gives steadier timings.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphcurv.device import resolve_device
from graphcurv.transport.problems import TransportProblems


def lazy_measures(
    indptr: np.ndarray, indices: np.ndarray, nodes: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniform lazy measures of ``nodes``, concatenated: ``(owner, support, mass)`` with
    ``owner`` the position in ``nodes``; each measure lists its node first."""
    deg = indptr[nodes + 1] - indptr[nodes]
    length = deg + 1
    owner = np.repeat(np.arange(nodes.size), length)
    start = np.cumsum(length) - length
    within = np.arange(owner.size) - start[owner]
    is_self = within == 0
    nbr_pos = indptr[nodes][owner] + within - 1
    support = np.where(is_self, nodes[owner], indices[np.where(is_self, 0, nbr_pos)])
    deg_owner = deg[owner].astype(np.float64)
    neighbour_mass = np.divide(
        1.0 - alpha, deg_owner, out=np.zeros_like(deg_owner), where=deg_owner > 0
    )
    mass = np.where(is_self, np.where(deg[owner] > 0, alpha, 1.0), neighbour_mass)
    return owner, support, mass


def _lookup(keys_sorted: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pos = np.searchsorted(keys_sorted, keys).clip(max=max(keys_sorted.size - 1, 0))
    found = keys_sorted[pos] == keys if keys_sorted.size else np.zeros(keys.size, bool)
    return pos, found


def edge_problems(
    graph: nx.Graph, edges: np.ndarray | None = None, alpha: float = 0.5
) -> TransportProblems:
    """The W1 problems of ORC for ``edges`` (``(E, 2)`` node pairs; all edges by default),
    with the shared mass removed; see the module docstring. float64, CPU."""
    graph = nx.convert_node_labels_to_integers(graph)
    n = graph.number_of_nodes()
    adj = nx.to_scipy_sparse_array(graph, nodelist=range(n), format="csr", dtype=np.int64)
    adj = sp.csr_matrix(adj)
    adj.data[:] = 1
    adj.sort_indices()
    if edges is None:
        edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    x, y = edges[:, 0], edges[:, 1]
    src_owner, src_node, src_mass = lazy_measures(adj.indptr, adj.indices, x, alpha)
    tgt_owner, tgt_node, tgt_mass = lazy_measures(adj.indptr, adj.indices, y, alpha)
    # remove the mass common to m_x and m_y
    src_key = src_owner * n + src_node
    tgt_key = tgt_owner * n + tgt_node  # sorted? owner-major, then support order
    order = np.argsort(tgt_key, kind="stable")
    pos, found = _lookup(tgt_key[order], src_key)
    common = np.where(found, np.minimum(src_mass, tgt_mass[order][pos]), 0.0)
    src_res = src_mass - common
    tgt_res = tgt_mass.copy()
    np.subtract.at(tgt_res, order[pos[found]], common[found])
    keep_s, keep_t = src_res > 0, tgt_res > 0
    src_owner, src_node, src_res = src_owner[keep_s], src_node[keep_s], src_res[keep_s]
    tgt_owner, tgt_node, tgt_res = tgt_owner[keep_t], tgt_node[keep_t], tgt_res[keep_t]
    num = edges.shape[0]
    n_a = np.bincount(src_owner, minlength=num)
    n_b = np.bincount(tgt_owner, minlength=num)
    a_ptr = np.concatenate([[0], np.cumsum(n_a)])
    b_ptr = np.concatenate([[0], np.cumsum(n_b)])
    # all (u, v) pairs, problem-major and row-major inside a problem
    rep = n_b[src_owner]
    pair_src = np.repeat(np.arange(src_owner.size), rep)
    pair_owner = src_owner[pair_src]
    row_start = np.cumsum(rep) - rep
    j = np.arange(pair_src.size) - row_start[pair_src]
    u = src_node[pair_src]
    v = tgt_node[b_ptr[pair_owner] + j]
    # distances: 0, 1 (A), 2 (A^2), else 3
    a_keys = _csr_keys(adj, n)
    a2 = adj @ adj
    a2.sort_indices()
    a2_keys = _csr_keys(a2, n)
    key = u * n + v
    dist = np.full(key.size, 3.0)
    dist[_lookup(a2_keys, key)[1]] = 2.0
    dist[_lookup(a_keys, key)[1]] = 1.0
    dist[u == v] = 0.0
    cost_ptr = np.concatenate([[0], np.cumsum(n_a * n_b)])
    t = torch.from_numpy
    return TransportProblems(
        t(src_res.astype(np.float64)),
        t(tgt_res.astype(np.float64)),
        t(dist),
        t(a_ptr.astype(np.int64)),
        t(b_ptr.astype(np.int64)),
        t(cost_ptr.astype(np.int64)),
    )


def check_distances(
    graph: nx.Graph, edges: np.ndarray, problems: TransportProblems, sample: int
) -> int:
    """Compare the cost blocks of ``sample`` random problems with networkx BFS distances;
    returns the number of problems checked (raises AssertionError on a mismatch)."""
    graph = nx.convert_node_labels_to_integers(graph)
    rng = np.random.default_rng(0)
    picked = rng.choice(problems.num_problems, min(sample, problems.num_problems), replace=False)
    for k in picked.tolist():
        x, y = (int(v) for v in edges[k])
        m_x = {z: 0.5 / graph.degree(x) for z in graph.neighbors(x)} | {x: 0.5}
        m_y = {z: 0.5 / graph.degree(y) for z in graph.neighbors(y)} | {y: 0.5}
        source = [z for z in [x, *sorted(graph.neighbors(x))] if m_x[z] > m_y.get(z, 0.0)]
        target = [z for z in [y, *sorted(graph.neighbors(y))] if m_y[z] > m_x.get(z, 0.0)]
        bfs = {u: nx.single_source_shortest_path_length(graph, u, cutoff=3) for u in source}
        expected = np.array([[bfs[u][v] for v in target] for u in source], dtype=float)
        got = problems.dense(k)[2].numpy()
        assert expected.shape == got.shape and (expected == got).all(), f"edge {x}-{y}"
    return len(picked)


def _csr_keys(matrix: sp.csr_matrix, n: int) -> np.ndarray:
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    return rows * n + matrix.indices.astype(np.int64)


def exact_values(problems: TransportProblems) -> np.ndarray:
    """``ot.emd2`` (network simplex, exact) for every problem, in a Python loop."""
    import ot

    a, b, cost = (t.cpu().numpy() for t in (problems.a, problems.b, problems.cost))
    a_ptr, b_ptr, c_ptr = (
        t.cpu().numpy() for t in (problems.a_ptr, problems.b_ptr, problems.cost_ptr)
    )
    out = np.zeros(problems.num_problems)
    for k in range(problems.num_problems):
        ak, bk = a[a_ptr[k] : a_ptr[k + 1]], b[b_ptr[k] : b_ptr[k + 1]]
        if ak.size and bk.size:
            out[k] = ot.emd2(ak, bk, cost[c_ptr[k] : c_ptr[k + 1]].reshape(ak.size, bk.size))
    return out


def _timed(fn, device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return out, time.perf_counter() - start


def build_graph(name: str, nodes: int, seed: int) -> nx.Graph:
    if name == "ba":
        return nx.barabasi_albert_graph(nodes, 5, seed=seed)
    if name == "ws":
        return nx.watts_strogatz_graph(1000, 10, 0.1, seed=seed)
    raise ValueError(f"unknown graph {name!r}")


def run(args: argparse.Namespace, graph_name: str) -> list[dict]:
    from graphcurv.transport.bucketing import make_buckets, padding_counts, padding_waste_bound
    from graphcurv.transport.pot_batch import wasserstein_pot_batch
    from graphcurv.transport.sinkhorn import solve_sinkhorn

    device = resolve_device(args.device)
    dtype = torch.float32 if args.dtype == "float32" else torch.float64
    graph = build_graph(graph_name, args.nodes, args.seed)
    edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    if 0 < args.edges < len(edges):
        edges = edges[
            np.random.default_rng(args.seed).choice(len(edges), args.edges, replace=False)
        ]
    label = (
        f"BA({graph.number_of_nodes()}, 5)" if graph_name == "ba" else "WS(1000, 10, 0.1)"
    ) + f", {len(edges)} of {graph.number_of_edges()} edges"
    start = time.perf_counter()
    problems = edge_problems(graph, edges)
    built = time.perf_counter() - start
    sizes = problems.sizes()
    total = int((sizes[:, 0] * sizes[:, 1]).sum())
    if args.check_distances:
        checked = check_distances(graph, edges, problems, args.check_distances)
        print(f"costs of {checked} problems match networkx BFS distances")
    buckets = make_buckets(problems)
    padded, ragged = padding_counts(problems, buckets)
    print(
        f"\n{label}: {problems.num_problems} problems, sum of sizes {total:,}, largest "
        f"{tuple(sizes.max(0).values.tolist())}, built in {built:.1f} s; {len(buckets)} buckets, "
        f"padded/ragged = {padded / max(ragged, 1):.2f} (bound {padding_waste_bound():.0f}); "
        f"device {device}, {args.dtype}, {torch.get_num_threads()} CPU thread(s)"
    )
    on_device = problems.to(device)
    rows = []
    exact = None
    if not args.skip_exact:
        exact, seconds = _timed(lambda: exact_values(problems), torch.device("cpu"))
        rows.append({"solver": "exact (ot.emd2, CPU)", "seconds": seconds, "values": exact})

    def sinkhorn():
        return solve_sinkhorn(
            on_device, tol=args.tol, max_iter=args.max_iter, dtype=dtype, warn=False
        )

    if args.warmup and device.type == "cuda":
        solve_sinkhorn(
            on_device.select(torch.arange(min(256, problems.num_problems))), tol=args.tol
        )
    result, seconds = _timed(sinkhorn, device)
    its = result.iterations.cpu().numpy()
    note = (
        f"iterations p50/p90/p99/max {np.percentile(its, 50):.0f}/{np.percentile(its, 90):.0f}/"
        f"{np.percentile(its, 99):.0f}/{its.max()}, gap > tol: {int((result.gap > args.tol).sum())}"
    )
    if exact is not None:
        certified = (result.gap <= args.tol).cpu().numpy()
        err = np.asarray(result.value.double().cpu()) - exact
        note += f", max |err| of the certified: {np.abs(err[certified]).max():.2e}"
    rows.append(
        {"solver": "sinkhorn (graphcurv)", "seconds": seconds, "values": result.value, "note": note}
    )
    if args.fallback:

        def with_fallback():
            def fallback(sub: TransportProblems) -> torch.Tensor:
                return torch.from_numpy(exact_values(sub))

            return solve_sinkhorn(
                on_device, tol=args.tol, max_iter=args.max_iter, dtype=dtype, fallback=fallback
            )

        result, seconds = _timed(with_fallback, device)
        note = f"{int((result.iterations < 0).sum())} problem(s) solved by the fallback"
        rows.append(
            {
                "solver": "sinkhorn + emd2 fallback",
                "seconds": seconds,
                "values": result.value,
                "note": note,
            }
        )
    if not args.skip_pot:
        batch = (
            on_device
            if dtype == torch.float64
            else TransportProblems(
                on_device.a.to(dtype),
                on_device.b.to(dtype),
                on_device.cost.to(dtype),
                on_device.a_ptr,
                on_device.b_ptr,
                on_device.cost_ptr,
            )
        )
        values, seconds = _timed(
            lambda: wasserstein_pot_batch(
                batch, tol=args.tol, max_iter=args.max_iter, method=args.pot_method
            ),
            device,
        )
        rows.append(
            {"solver": f"pot-batch ({args.pot_method})", "seconds": seconds, "values": values}
        )

    print(
        f"{'solver':<24} {'problems':>9} {'sum sizes':>12} {'seconds':>9} {'problems/s':>11} "
        f"{'max |err|':>10} {'mean err':>10}"
    )
    for row in rows:
        values = np.asarray(torch.as_tensor(row["values"]).double().cpu())
        if exact is not None:
            err = values - exact
            max_err, mean_err = f"{np.abs(err).max():.2e}", f"{err.mean():.2e}"
        else:
            max_err = mean_err = "-"
        print(
            f"{row['solver']:<24} {problems.num_problems:>9} {total:>12,} {row['seconds']:>9.2f} "
            f"{problems.num_problems / row['seconds']:>11,.0f} {max_err:>10} {mean_err:>10}"
        )
        if "note" in row:
            print(f"{'':<24} {row['note']}")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graph", choices=["ba", "ws", "both"], default="both")
    parser.add_argument("--nodes", type=int, default=10000, help="nodes of the BA graph")
    parser.add_argument("--edges", type=int, default=5000, help="edges sampled per graph (0 = all)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    parser.add_argument(
        "--dtype",
        choices=["float64", "float32"],
        default="float64",
        help="dtype of the Sinkhorn iterations (and of the pot-batch input)",
    )
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--max-iter", type=int, default=1000)
    parser.add_argument(
        "--pot-method", choices=["log_sinkhorn", "proximal"], default="log_sinkhorn"
    )
    parser.add_argument(
        "--skip-exact", action="store_true", help="no ot.emd2 reference (no errors)"
    )
    parser.add_argument("--skip-pot", action="store_true", help="no ot.batch run")
    parser.add_argument(
        "--no-fallback",
        dest="fallback",
        action="store_false",
        help="no run of sinkhorn with ot.emd2 for the problems it leaves uncertified",
    )
    parser.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="no warm-up solve before timing on CUDA",
    )
    parser.add_argument(
        "--check-distances",
        type=int,
        default=0,
        metavar="N",
        help="verify the costs of N random problems against networkx BFS",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)"
    )
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    for name in ["ba", "ws"] if args.graph == "both" else [args.graph]:
        run(args, name)


if __name__ == "__main__":
    main()
