"""Exact Ollivier-Ricci on the local fork pool vs a Dask LocalCluster with the same worker count.

    .venv/bin/python benchmarks/distributed.py            # BA(10000, 5), 2 workers
    .venv/bin/python benchmarks/distributed.py --n 2000 --m 3 --workers 2 --repeats 1

Prints, side by side: wall time of each path (the LocalCluster's start-up is reported
separately and not counted in the run), the overhead ratio (LocalCluster / local pool)
and whether every value (kappa, W1, d) is bit-for-bit equal.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

# This file is named like the `distributed` package: keep its folder off the import path
# (of this process and of the worker processes it spawns) so `import distributed` finds Dask.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--m", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="runs per path (the best is reported)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from graphcurv.curvature.ollivier import ollivier_ricci
    from graphcurv.execution import DaskExecutor
    from graphcurv.graphs.source import load_graph

    torch.set_num_threads(1)
    data = load_graph(f"ba:n={args.n},m={args.m},seed={args.seed}")
    print(
        f"BA({args.n}, {args.m}): {data.num_nodes} nodes, {data.edge_index.size(1) // 2} edges, {args.workers} workers"
    )

    local_times, local = [], None
    for _ in range(args.repeats):
        started = time.perf_counter()
        local = ollivier_ricci(data, workers=args.workers)
        local_times.append(time.perf_counter() - started)

    started = time.perf_counter()
    dask_times, remote = [], None
    with DaskExecutor(workers=args.workers) as ex:
        startup = time.perf_counter() - started
        for _ in range(args.repeats):
            started = time.perf_counter()
            remote = ollivier_ricci(data, executor=ex)
            dask_times.append(time.perf_counter() - started)

    same = all(
        torch.equal(getattr(local, f).nan_to_num(7.0), getattr(remote, f).nan_to_num(7.0))
        for f in ("edge_curvature", "node_curvature", "wasserstein", "distance")
    )
    best_local, best_dask = min(local_times), min(dask_times)
    print(f"{'path':<28}{'best s':>10}{'all runs s':>28}")
    print(f"{'local fork pool':<28}{best_local:>10.2f}{', '.join(f'{t:.2f}' for t in local_times):>28}")
    print(f"{'Dask LocalCluster':<28}{best_dask:>10.2f}{', '.join(f'{t:.2f}' for t in dask_times):>28}")
    print(f"LocalCluster start-up (not counted): {startup:.2f} s")
    print(f"overhead ratio (LocalCluster / local pool): {best_dask / best_local:.3f}")
    print(f"bit-for-bit identical results: {same}")


if __name__ == "__main__":
    main()
