"""Time and peak memory of a model's neural-curvature geometry, then of one input.

Builds the chain, the distance matrices (dense, or local above 2^24 entries) and the
edge groups of one calibration input's neural graph, then runs the grouped engine on
that input (``per_parameter``, as pruning does), printing wall time and peak RSS after
each stage. Used for ResNet-20 in docs/benchmarks.md, "ResNet-20":

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
    args = parser.parse_args()

    from graphcurv.datasets import calibration_set, load_dataset
    from graphcurv.models import load_model
    from graphcurv.neural import export
    from graphcurv.neural.curvature import neural_chain
    from graphcurv.neural.curvature.grouped import EngineStats, grouped_geometry, grouped_sample_curvature
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
    started = time.perf_counter()
    with ExactSolverPool(args.workers) as pool:
        grouped_sample_curvature(grouped, graph.activation[:, 0], 0.9, pool.submit, stats=stats, per_parameter=True)
    print(f"one input {time.perf_counter() - started:.1f} s, peak RSS {_peak_gib():.2f} GiB", flush=True)
    print(stats, flush=True)


if __name__ == "__main__":
    main()
