"""Exactness at full scale: the grouped engine against the per-edge engine on random live edges.

For ``--inputs`` calibration inputs of a trained model (the first correctly classified
val image of class 0, 1, ...), the script picks ``--edges`` random live edges (no
dead-neuron rule) per connection and computes their kappa_N twice, restricted to
those edges: with the per-edge engine (:func:`~graphcurv.neural.curvature.sample.sample_curvature`,
one exact LP per edge: the old exact path, itself tested against the networkx +
``ot.emd2`` reference) and with the grouped engine
(:func:`~graphcurv.neural.curvature.grouped.grouped_sample_curvature`: shared problems,
certificates, LPs for the rest; no ceiling, so every chosen edge gets its exact value).
It prints per connection and input the largest |difference| and how the grouped engine
settled the edges. Used in docs/benchmarks.md ("Exactness at full scale"):

    .venv/bin/python benchmarks/neural_exactness.py datasets/models/vgg9-lite-relu-fashion-mnist.pt
"""

from __future__ import annotations

import argparse
import resource
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--inputs", type=int, default=2)
    parser.add_argument("--edges", type=int, default=2000, help="random live edges per connection and input")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from graphcurv.datasets import calibration_set, load_dataset
    from graphcurv.models import load_model
    from graphcurv.neural import export
    from graphcurv.neural.curvature import neural_chain
    from graphcurv.neural.curvature.grouped import EngineStats, grouped_geometry, grouped_sample_curvature
    from graphcurv.neural.curvature.sample import chain_geometry, dead_edges, sample_curvature
    from graphcurv.transport.exact import ExactSolverPool

    torch.set_num_threads(1)
    model = load_model(args.checkpoint)
    inputs, _ = calibration_set(model, load_dataset("fashion-mnist", split="val"), 1)
    graph = export(model, inputs[: args.inputs])
    chain = neural_chain(graph)
    geometry = chain_geometry(chain)
    grouped = grouped_geometry(geometry)
    generator = torch.Generator().manual_seed(args.seed)
    worst = 0.0
    with ExactSolverPool(args.workers) as pool:
        for sample in range(args.inputs):
            activation = graph.activation[:, sample]
            chosen = []
            for k in range(len(chain.links)):
                live = torch.nonzero(~dead_edges(geometry, activation.double(), k)).flatten()
                pick = torch.randperm(live.numel(), generator=generator)[: args.edges]
                chosen.append(live[pick].sort().values)
            started = time.perf_counter()
            old, _, _ = sample_curvature(geometry, activation, 0.9, pool.submit, edges=chosen)
            old_seconds = time.perf_counter() - started
            stats = EngineStats()
            started = time.perf_counter()
            new, _, _ = grouped_sample_curvature(grouped, activation, 0.9, pool.submit, edges=chosen, stats=stats)
            new_seconds = time.perf_counter() - started
            print(f"input {sample}: per-edge engine {old_seconds:.1f} s, grouped engine {new_seconds:.1f} s")
            for k, index in enumerate(chosen):
                diff = float((old[k][index] - new[k][index]).abs().max()) if index.numel() else 0.0
                worst = max(worst, diff)
                print(
                    f"  connection {k}: {index.numel():,} live edges, max |diff| {diff:.2e}, {stats.per_connection.get(k)}"
                )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"largest |difference| {worst:.2e} (target 1e-9), peak RSS {peak:.2f} GiB")


if __name__ == "__main__":
    main()
