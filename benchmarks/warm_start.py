"""Edge LPs of the grouped engine solved cold vs started from the shared problem's duals.

For one calibration input of a model (Fashion-MNIST val), runs the engine's bounds pass,
samples up to ``--groups`` open groups per connection (up to ``--edges`` open edges
each), builds their LP batches exactly as the engine ships them to the solver pool
(:class:`~graphcurv.transport.problems.BorderedProblems` with the duals u, v) and solves
every batch in this process twice: cold (no duals) and warm
(:meth:`~graphcurv.transport.problems.BorderedProblems.warm_duals`, the default for
problems of at least ``WARM_ENTRIES`` entries). Prints per connection the LPs, their
median size, both times, the ratio and the largest difference of the values (both are
certified optimal). Used in docs/benchmarks.md ("Warm-started LPs"):

    .venv/bin/python benchmarks/warm_start.py datasets/models/vgg9-lite-relu-fashion-mnist.pt
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--groups", type=int, default=40, help="open groups sampled per connection")
    parser.add_argument("--edges", type=int, default=20, help="open edges per sampled group")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from graphcurv.datasets import calibration_set, load_dataset
    from graphcurv.models import load_model
    from graphcurv.neural import export
    from graphcurv.neural.curvature import neural_chain
    from graphcurv.neural.curvature.grouped import EngineStats, PreparedSample, grouped_geometry
    from graphcurv.neural.curvature.sample import chain_geometry
    from graphcurv.transport.exact import WARM_ENTRIES, _solve_bordered

    torch.set_num_threads(1)
    model = load_model(args.checkpoint)
    inputs, _ = calibration_set(model, load_dataset("fashion-mnist", split="val"), 1)
    graph = export(model, inputs[:1])
    started = time.perf_counter()
    grouped = grouped_geometry(chain_geometry(neural_chain(graph)))
    prepared = PreparedSample(grouped, graph.activation[:, 0], 0.9, 1e-15, 1e-9, None, EngineStats())
    rng = np.random.default_rng(args.seed)
    print(f"warm start from {WARM_ENTRIES} entries; geometry and bounds pass as they go", flush=True)
    print(f"{'conn':>4} {'LPs':>6} {'median entries':>15} {'cold s':>8} {'warm s':>8} {'ratio':>6} {'max diff':>9}")
    totals = np.zeros(2)
    for k in prepared.connections():
        entry = prepared.solvers[k]
        if entry is None or not entry[1]:
            continue
        solver, opened = entry
        batches = []

        def capture(problems, batches=batches):
            batches.append(problems)
            return lambda: None

        for g in rng.choice(len(opened), size=min(args.groups, len(opened)), replace=False):
            lp, problem = opened[g]
            if problem[5] is None:  # unreachable pairs: no shared duals
                continue
            solver._submit(lp[: args.edges], problem, capture, 1 << 22)
        if not batches:
            continue
        times, values = np.zeros(2), [[], []]
        for batch in batches:
            for w, problems in enumerate((dataclasses.replace(batch, u=None, v=None), batch)):
                tic = time.perf_counter()
                values[w].append(_solve_bordered(problems, True, 1e-9))
                times[w] += time.perf_counter() - tic
        cold, warm = (np.concatenate(v) for v in values)
        sizes = [(1 + b.mu.size) * (1 + b.nu.size) for b in batches for _ in range(b.num_problems)]
        diff = float(np.abs(cold - warm).max())
        print(
            f"{k:>4} {cold.size:>6} {int(np.median(sizes)):>15,} {times[0]:>8.2f} {times[1]:>8.2f} "
            f"{times[0] / times[1]:>6.2f} {diff:>9.1e}",
            flush=True,
        )
        totals += times
    print(f"all: cold {totals[0]:.2f} s, warm {totals[1]:.2f} s, ratio {totals[0] / totals[1]:.2f} "
          f"(wall with geometry and bounds {time.perf_counter() - started:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
