"""Time and peak memory of a model's neural-curvature geometry, then of one input.

Builds the chain, the distance matrices (dense; border-class tables or local matrices
above 2^24 entries) and the edge groups of one calibration input's neural graph. Then
it runs that input's bounds pass (measures, shared problems, certificates: no LP),
printing per connection the time so far, the LPs left open and what settled the rest.
With ``--solve`` it then solves the input whole with the grouped engine
(``per_parameter``, as pruning does). Wall time and peak RSS come after each stage.
Used in docs/benchmarks.md, "Full-scale geometry":

    .venv/bin/python benchmarks/neural_geometry.py datasets/models/vgg9-lite-relu-fashion-mnist.pt
    .venv/bin/python benchmarks/neural_geometry.py datasets/models/resnet20-relu-fashion-mnist.pt
"""

from __future__ import annotations

import argparse
import resource
import time

import torch


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--solve", action="store_true", help="also solve the input's LPs (per parameter)")
    args = parser.parse_args()

    from graphcurv.datasets import calibration_set, load_dataset
    from graphcurv.models import load_model
    from graphcurv.neural import export
    from graphcurv.neural.curvature import neural_chain
    from graphcurv.neural.curvature.grouped import (
        EngineStats,
        PreparedSample,
        grouped_geometry,
        grouped_sample_curvature,
    )
    from graphcurv.neural.curvature.sample import chain_geometry
    from graphcurv.transport.exact import ExactSolverPool

    torch.set_num_threads(1)
    model = load_model(args.checkpoint)
    inputs, _ = calibration_set(model, load_dataset("fashion-mnist", split="val"), 1)
    graph = export(model, inputs[:1])
    started = time.perf_counter()
    chain = neural_chain(graph)
    grouped = grouped_geometry(chain_geometry(chain))
    print(f"edges {sum(link.num_edges for link in chain.links):,}", flush=True)
    print(f"geometry {time.perf_counter() - started:.1f} s, peak RSS {_peak_gib():.2f} GiB", flush=True)
    stats = EngineStats()
    prepared = PreparedSample(grouped, graph.activation[:, 0], 0.9, 1e-15, 1e-9, None, stats)
    started = time.perf_counter()
    for k in prepared.connections():
        entry = prepared.solvers[k]
        opened = 0 if entry is None else sum(lp.size for lp, _ in entry[1])
        print(
            f"connection {k}: {time.perf_counter() - started:.1f} s, open LPs {opened:,}, "
            f"{stats.per_connection.get(k)}",
            flush=True,
        )
    print(f"bounds pass {time.perf_counter() - started:.1f} s, peak RSS {_peak_gib():.2f} GiB", flush=True)
    if args.solve:
        started, solved = time.perf_counter(), EngineStats()
        with ExactSolverPool(args.workers) as pool:
            grouped_sample_curvature(
                grouped, graph.activation[:, 0], 0.9, pool.submit, stats=solved, per_parameter=True
            )
        print(f"one input {time.perf_counter() - started:.1f} s, peak RSS {_peak_gib():.2f} GiB", flush=True)
        print(f"LPs solved {solved.solved:,}, skipped {solved.skipped:,}", flush=True)


if __name__ == "__main__":
    main()
