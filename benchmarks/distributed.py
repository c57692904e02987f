"""Exact curvature on the local fork pool vs a Dask LocalCluster with the same worker count.

    .venv/bin/python benchmarks/distributed.py            # ORC of BA(10000, 5), 2 workers
    .venv/bin/python benchmarks/distributed.py --n 2000 --m 3 --workers 2 --repeats 1
    .venv/bin/python benchmarks/distributed.py --model datasets/models/lenet-relu-fashion-mnist.pt

Prints, side by side: wall time of each path (the LocalCluster's start-up is reported
separately and not counted in the run), the overhead ratio (LocalCluster / local pool)
and whether every value is bit-for-bit equal. ORC: kappa, W1 and d. ``--model``: the
neural curvature of the model over a Fashion-MNIST calibration set (``--per-class``
inputs per class), as edge and parameter scores; the local pool runs the same units of
work as the cluster (one input each), and the default in-process run is timed too.
"""

from __future__ import annotations

import argparse
import statistics
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
    parser.add_argument("--model", default=None, help="a model checkpoint: time its neural curvature instead")
    parser.add_argument("--per-class", type=int, default=1, help="calibration inputs per class (with --model)")
    args = parser.parse_args()
    if args.model is not None:
        neural(args)
        return

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
    print(
        f"overhead ratio (LocalCluster / local pool): {best_dask / best_local:.3f} best, "
        f"{statistics.median(dask_times) / statistics.median(local_times):.3f} median"
    )
    print(f"bit-for-bit identical results: {same}")


def neural(args) -> None:
    """The model's neural curvature: in-process (default path), local pool of units, LocalCluster."""
    from graphcurv.datasets import calibration_set, load_dataset
    from graphcurv.execution import DaskExecutor, LocalExecutor
    from graphcurv.models import load_model
    from graphcurv.neural import export
    from graphcurv.neural.curvature import neural_curvature

    torch.set_num_threads(1)
    model = load_model(args.model)
    inputs, labels = calibration_set(model, load_dataset("fashion-mnist", split="val"), args.per_class, seed=0)
    graph = export(model, inputs)
    print(
        f"{Path(args.model).name}: {sum(graph.connection_num_edges)} edges, {inputs.size(0)} inputs, {args.workers} workers"
    )
    options = dict(labels=labels, checkpoints=(1,))

    def timed(run):
        times, result = [], None
        for _ in range(args.repeats):
            started = time.perf_counter()
            result = run()
            times.append(time.perf_counter() - started)
        return times, result

    base_times, base = timed(lambda: neural_curvature(graph, workers=args.workers, **options))
    with LocalExecutor(args.workers) as ex:
        local_times, local = timed(lambda: neural_curvature(graph, executor=ex, **options))
    started = time.perf_counter()
    with DaskExecutor(workers=args.workers) as ex:
        startup = time.perf_counter() - started
        dask_times, remote = timed(lambda: neural_curvature(graph, executor=ex, **options))

    def same(a, b) -> bool:
        edges = all(torch.equal(x, y) for x, y in zip(a.edge_score, b.edge_score))
        return edges and all(torch.equal(a.param_scores[n], b.param_scores[n]) for n in a.param_scores)

    worst = max(float((a - b).abs().max()) for a, b in zip(base.edge_score, remote.edge_score))
    print(f"{'path':<34}{'best s':>10}{'all runs s':>28}")
    for name, times in (
        ("in-process (default)", base_times),
        ("local pool, input units", local_times),
        ("Dask LocalCluster, input units", dask_times),
    ):
        print(f"{name:<34}{min(times):>10.2f}{', '.join(f'{t:.2f}' for t in times):>28}")
    print(f"LocalCluster start-up (not counted): {startup:.2f} s")
    print(
        f"overhead ratio (LocalCluster / local pool of units): {min(dask_times) / min(local_times):.3f} best, "
        f"{statistics.median(dask_times) / statistics.median(local_times):.3f} median"
    )
    print(f"overhead ratio (LocalCluster / in-process default): {min(dask_times) / min(base_times):.3f}")
    print(f"bit-for-bit identical scores, local pool vs LocalCluster: {same(local, remote)}")
    print(f"largest edge-score difference, LocalCluster vs in-process: {worst:.2e}")


if __name__ == "__main__":
    main()
