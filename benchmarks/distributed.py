"""Exact curvature on the local fork pool vs a Dask LocalCluster with the same worker count.

    .venv/bin/python benchmarks/distributed.py            # ORC of BA(10000, 5), 2 workers
    .venv/bin/python benchmarks/distributed.py --n 2000 --m 3 --workers 2 --repeats 1
    .venv/bin/python benchmarks/distributed.py --model datasets/models/lenet-relu-fashion-mnist.pt
    .venv/bin/python benchmarks/distributed.py --weak-scaling --edges-per-worker 250000
    .venv/bin/python benchmarks/distributed.py --large 20000000 --workers 2

Prints, side by side: wall time of each path (the LocalCluster's start-up is reported
separately and not counted in the run), the overhead ratio (LocalCluster / local pool)
and whether every value is bit-for-bit equal. ORC: kappa, W1 and d. ``--model``: the
neural curvature of the model over a Fashion-MNIST calibration set (``--per-class``
inputs per class), as edge and parameter scores; the local pool runs the same units of
work as the cluster (one input each), and the default in-process run is timed too.

``--weak-scaling``: ORC through a LocalCluster of 1, 2 and 4 workers on a uniform-attachment
graph of ``workers x edges-per-worker`` edges (per-worker work constant). Each run records
the CPU seconds of the driver process (plan, measures, scatter, the in-process scheduler)
and of every worker, and the gaps between a worker's tasks (per-task overhead); it fits
driver CPU = a + b w + c w^2 and worker CPU = d + e w and predicts the wall time of 64
workers with a core each (driver + slowest worker, as if not overlapped).
``--large E``: ORC of a uniform-attachment graph with at least E edges through a LocalCluster,
with the peak memory of every process, and a spot check of sampled edges against the
in-process engine on their 2-hop subgraphs.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
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
    parser.add_argument("--weak-scaling", action="store_true", help="1, 2, 4 workers at constant work per worker")
    parser.add_argument("--edges-per-worker", type=int, default=250_000)
    parser.add_argument("--large", type=int, default=None, metavar="E", help="ORC of a graph with >= E edges")
    parser.add_argument("--spot-check", type=int, default=200, help="sampled edges checked in-process (--large)")
    args = parser.parse_args()
    if args.model is not None:
        neural(args)
        return
    if args.weak_scaling:
        weak_scaling(args)
        return
    if args.large is not None:
        large(args)
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


def uniform_attachment(n: int, m: int, seed: int = 0):
    """Node t >= 1 links to min(t, m) earlier nodes drawn uniformly (repeats dropped), as a
    PyG graph with both directions: O(E) NumPy, for graphs networkx cannot hold. The degree
    of node s is about m (1 + ln(n / s)): no hubs, unlike BA."""
    from torch_geometric.data import Data

    rng = np.random.default_rng(seed)
    t = np.repeat(np.arange(1, n, dtype=np.int64), m)
    target = (rng.random(t.size) * t).astype(np.int64)  # uniform in 0..t-1
    key = np.unique(t * n + target)
    u, v = key // n, key % n
    edge_index = torch.from_numpy(np.stack([np.concatenate([u, v]), np.concatenate([v, u])]))
    return Data(edge_index=edge_index, num_nodes=n)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _task_gaps(stream: list[dict]) -> list[float]:
    """Idle seconds between consecutive tasks of each worker (scheduling + transfer)."""
    by_worker: dict = {}
    for task in stream:
        span = [s for s in task["startstops"] if s["action"] == "compute"]
        if span:
            by_worker.setdefault(task["worker"], []).append((span[0]["start"], span[-1]["stop"]))
    gaps = []
    for spans in by_worker.values():
        spans.sort()
        gaps += [b[0] - a[1] for a, b in zip(spans[:-1], spans[1:])]
    return gaps


def _weak_run(w: int, args, mode: str) -> dict:
    """One weak-scaling run: w workers, w x edges-per-worker edges, inputs shipped by ``mode``."""
    from distributed import get_task_stream

    import graphcurv.curvature.chunk_units as chunk_units
    from graphcurv.curvature.ollivier import ollivier_ricci
    from graphcurv.execution import DaskExecutor

    data = uniform_attachment(w * args.edges_per_worker // args.m, args.m, seed=args.seed)
    edges = data.edge_index.size(1) // 2
    chunk_units.BROADCAST_BYTES = 2**62 if mode == "broadcast" else -1
    with DaskExecutor(workers=w) as ex:
        scatters, scatter = [], ex.client.scatter

        def timed_scatter(*a, **k):
            started = time.perf_counter()
            result = scatter(*a, **k)
            scatters.append(time.perf_counter() - started)
            return result

        ex.client.scatter = timed_scatter
        before, driver_before = ex.client.run(_cpu_seconds), _cpu_seconds()
        started = time.time()
        with get_task_stream(client=ex.client) as stream:
            ollivier_ricci(data, executor=ex)
        ended, driver = time.time(), _cpu_seconds() - driver_before
        after = ex.client.run(_cpu_seconds)
    spans = [s for t in stream.data for s in t["startstops"] if s["action"] == "compute"]
    first, last = min(s["start"] for s in spans), max(s["stop"] for s in spans)
    row = dict(w=w, E=edges, wall=ended - started, lead=first - started, scatter=sum(scatters), tail=ended - last,
               feed=max(0.0, driver - (first - started) - (ended - last)), tasks=len(stream.data),
               cpu=max(after[k] - before[k] for k in after), gap=statistics.median(_task_gaps(stream.data) or [0.0]))  # fmt: skip
    print(
        f"{mode:<11} {w} workers, {edges} edges: wall {row['wall']:.1f} s = lead {row['lead']:.2f} s (broadcast "
        f"{row['scatter']:.2f} s) + tasks + tail {row['tail']:.2f} s; driver CPU while tasks ran {row['feed']:.1f} s; "
        f"slowest worker CPU {row['cpu']:.1f} s; {row['tasks']} tasks, median gap {row['gap'] * 1e3:.1f} ms",
        flush=True,
    )
    return row


def weak_scaling(args) -> None:
    """ORC at 1, 2, 4 LocalCluster workers with edges proportional to workers, with the inputs
    broadcast whole and shipped as unit graphs; a cost model of each and its predictions.

    Per run: the driver's lead before the first task (plan, measures, the broadcast: the
    workers are idle then, so it is clean even with more workers than cores), the broadcast
    alone (``client.scatter`` timed), the driver's CPU while the tasks run (building and
    sending unit graphs), each worker's CPU, the gaps between a worker's tasks, and the
    tail after the last task. With E = w E0 edges on w workers with a core each:

    * broadcast: T(w) = P E + S E w + C E0 + g k + R E
    * unit graphs: T(w) = P E + max(F E, C E0 + g k) + R E (the driver builds units while
      the workers solve)

    P, R, F per edge from the driver, S per edge x worker from the broadcasts, C per edge
    from the runs where each worker had a core (w <= cores), g the median gap, k tasks per
    worker."""
    import os

    torch.set_num_threads(1)
    cores, e0 = os.cpu_count() or 1, args.edges_per_worker
    for mode in ("broadcast", "unit graphs"):
        rows = [_weak_run(w, args, mode) for w in (1, 2, 4)]
        plan = statistics.median((r["lead"] - r["scatter"]) / r["E"] for r in rows)
        tail = statistics.median(r["tail"] / r["E"] for r in rows)
        feed = statistics.median(r["feed"] / r["E"] for r in rows)
        slope, intercept = np.polyfit([r["E"] * r["w"] for r in rows], [r["scatter"] for r in rows], 1)
        solve = statistics.median(r["cpu"] / (r["E"] / r["w"]) for r in rows if r["w"] <= cores)
        gap, per_worker = statistics.median(r["gap"] for r in rows), rows[0]["tasks"] / rows[0]["w"]
        print(
            f"{mode} model: plan {plan * 1e6:.2f} us/edge, broadcast {max(0.0, slope) * 1e9:.1f} ns per edge x "
            f"worker, driver feed {feed * 1e6:.2f} us/edge, solve {solve * 1e6:.1f} us/edge, tail "
            f"{tail * 1e6:.2f} us/edge, {gap * 1e3:.1f} ms per task x {per_worker:.0f} tasks/worker"
        )

        model = dict(mode=mode, e0=e0, plan=plan, tail=tail, feed=feed, slope=max(0.0, slope),
                     intercept=max(0.0, intercept), work=solve * e0 + gap * per_worker)  # fmt: skip
        for w in (1, 2, 4, 8, 16, 32, 64):
            t = _predicted_wall(model, w)
            print(f"  predicted wall, {w:>2} workers with a core each, {w * e0} edges: {t:7.1f} s, "
                  f"weak-scaling efficiency {_predicted_wall(model, 1) / t:.2f}")  # fmt: skip


def _predicted_wall(m: dict, w: int) -> float:
    """The weak-scaling model of :func:`weak_scaling` at w workers (E = w E0 edges)."""
    e = w * m["e0"]
    if m["mode"] == "broadcast":
        return m["plan"] * e + m["intercept"] + m["slope"] * e * w + m["work"] + m["tail"] * e
    return m["plan"] * e + max(m["feed"] * e, m["work"]) + m["tail"] * e


def _worker_peak() -> float:
    return _peak_rss_gib()


def _printer(started: float):
    """A progress callback printing every 5 % (for a log file)."""
    shown = [-1]

    def show(done: int, total: int | None, description: str = "") -> None:
        step = int(20 * done / max(1, total or 1))
        if step > shown[0]:
            shown[0] = step
            print(f"  {description}: {done}/{total} ({time.perf_counter() - started:.0f} s)", flush=True)

    return show


def large(args) -> None:
    """ORC of a uniform-attachment graph with >= args.large edges on a LocalCluster."""
    from torch_geometric.data import Data
    from torch_geometric.utils import k_hop_subgraph

    from graphcurv.curvature.ollivier import ollivier_ricci
    from graphcurv.execution import DaskExecutor

    torch.set_num_threads(1)
    started = time.perf_counter()
    data = uniform_attachment(int(args.large * 1.002) // args.m + 2, args.m, seed=args.seed)
    edges = data.edge_index.size(1) // 2
    print(f"uniform attachment: {data.num_nodes} nodes, {edges} edges ({time.perf_counter() - started:.0f} s)")
    if edges < args.large:
        raise SystemExit(f"only {edges} edges: raise --large's margin")
    with DaskExecutor(workers=args.workers) as ex:
        started = time.perf_counter()
        result = ollivier_ricci(data, executor=ex, progress=_printer(started))
        wall = time.perf_counter() - started
        workers = ex.client.run(_worker_peak)
    print(f"ORC through the LocalCluster ({args.workers} workers): {wall:.0f} s")
    print(
        f"peak RSS: driver {_peak_rss_gib():.2f} GiB; workers "
        + ", ".join(f"{v:.2f}" for v in workers.values())
        + " GiB"
    )
    rng = np.random.default_rng(args.seed + 1)
    picks = rng.choice(data.edge_index.size(1), size=args.spot_check, replace=False)
    worst = 0.0
    for batch in np.array_split(picks, max(1, args.spot_check // 20)):
        seeds = data.edge_index[:, torch.from_numpy(batch)].reshape(-1).unique()
        subset, sub_index, _, _ = k_hop_subgraph(
            seeds, 2, data.edge_index, relabel_nodes=True, num_nodes=data.num_nodes
        )
        local = ollivier_ricci(Data(edge_index=sub_index, num_nodes=subset.numel()), workers=1)
        where = {(int(a), int(b)): k for k, (a, b) in enumerate(sub_index.t().tolist())}
        for e in batch:
            u, v = (int(torch.searchsorted(subset, data.edge_index[r, e])) for r in (0, 1))
            worst = max(worst, abs(float(local.edge_curvature[where[(u, v)]] - result.edge_curvature[e])))
    print(f"spot check: {args.spot_check} sampled edges, in-process on their 2-hop subgraphs: max |diff| {worst:.2e}")


if __name__ == "__main__":
    main()
