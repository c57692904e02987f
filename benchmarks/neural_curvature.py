"""Neural curvature: the straightforward per-edge reference vs graphcurv, on the same model and inputs.

The reference (``graphcurv.neural.curvature.reference_curvature``) is what the authors'
code does: one exact ``ot.emd2`` per (edge, sample), with costs from explicit shortest
paths (networkx Dijkstra on the neural graph), the shortest paths computed once and
shared by all samples (they do not depend on the input). It is far too slow to run on
every problem of a real model, so it runs on a random subset of (edge, sample) problems
and its full time is extrapolated: time per shortest-path source x nodes + time per
problem x problems. graphcurv runs on everything.
The script prints both, the speed ratio, and the largest |difference| between
graphcurv's per-sample values and the reference on the subset.

    .venv/bin/python benchmarks/neural_curvature.py                     # MLP and LeNet, 10 per class
    .venv/bin/python benchmarks/neural_curvature.py --models lenet --per-class 10 --subset 3000
    .venv/bin/python benchmarks/neural_curvature.py --checkpoint datasets/models/lenet-fashion-mnist.pt

Models: with ``--checkpoint`` a trained model file; otherwise each named architecture is
trained here for ``--epochs`` epochs on Fashion-MNIST (seed 0) first.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import networkx as nx
import torch
from rich.console import Console
from rich.table import Table

from graphcurv.datasets import calibration_set, load_dataset
from graphcurv.models import build_model, load_model, train_model
from graphcurv.neural import export
from graphcurv.neural.curvature import neural_chain, neural_curvature, reference_curvature
from graphcurv.neural.curvature.reference import reference_graph
from graphcurv.neural.curvature.sample import chain_geometry, sample_curvature
from graphcurv.transport.exact import ExactSolverPool


def trained(arch: str, epochs: int) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(arch, in_channels=1, image_size=28, num_classes=10, activation="relu")
    train_model(model, load_dataset("fashion-mnist", split="train"), epochs=epochs, seed=0)
    return model


def calibration_graph(model: torch.nn.Module, per_class: int):
    inputs, labels = calibration_set(model, load_dataset("fashion-mnist", split="val"), per_class, seed=0)
    return export(model, inputs), labels


def compare(graph, alpha: float, subset: int, seed: int) -> tuple[float, float, float, int]:
    """Reference cost per shortest-path source and per problem (timed separately: distances
    do not depend on the sample, so a fair reference computes them once), the largest
    |graphcurv - reference| on the subset, and the number of problems checked."""
    rng = random.Random(seed)
    samples, edges = graph.activation.size(1), graph.edge_index.size(1)
    picks: dict[int, list[int]] = {}
    for _ in range(subset):
        picks.setdefault(rng.randrange(samples), []).append(rng.randrange(edges))
    network = reference_graph(graph)
    # Shortest paths from every source the subset needs, timed per source.
    sources = {u for chosen in picks.values() for e in chosen for u in _sources(network, graph, e)}
    distances: dict = {}
    start = time.perf_counter()
    for u in sources:
        distances[u] = nx.single_source_dijkstra_path_length(network, u, weight="length")
    per_source = (time.perf_counter() - start) / max(len(sources), 1)
    chain = neural_chain(graph)
    geometry = chain_geometry(chain)
    position = {}
    for k, link in enumerate(chain.links):
        for e, (s, d) in enumerate(zip(link.src.tolist(), link.dst.tolist())):
            position[(s + chain.starts[k], d + chain.starts[k + 1])] = (k, e)
    pairs = graph.edge_index.t().tolist()
    seconds, worst, count = 0.0, 0.0, 0
    with ExactSolverPool(1) as pool:
        for sample, chosen in picks.items():
            chosen = sorted(set(chosen))
            start = time.perf_counter()
            expected = reference_curvature(graph, sample, alpha, edges=chosen, distances=distances, network=network)
            seconds += time.perf_counter() - start
            count += len(chosen)
            kappa, _, _ = sample_curvature(geometry, graph.activation[:, sample], alpha, pool.submit)
            for e in chosen:
                k, local = position[tuple(pairs[e])]
                worst = max(worst, abs(float(kappa[k][local]) - expected[e]))
    return per_source, seconds / count, worst, count


def _sources(network, graph, e: int) -> list[int]:
    """Nodes whose shortest paths the reference needs for edge e: i and its predecessors."""
    i = int(graph.edge_index[0, e])
    return [i, *network.predecessors(i)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="mlp,lenet", help="architectures to train and measure")
    parser.add_argument("--checkpoint", action="append", default=[], help="trained model files to measure instead")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--alpha", type=float, default=0.9)
    parser.add_argument("--subset", type=int, default=2000, help="(edge, sample) problems the reference solves")
    parser.add_argument("--workers", type=int, default=None, help="graphcurv's solver processes (default: all CPUs)")
    args = parser.parse_args(argv)

    models = [(path, load_model(path)) for path in args.checkpoint]
    if not models:
        models = [(f"{arch} ({args.epochs} epochs)", trained(arch, args.epochs)) for arch in args.models.split(",")]
    console = Console(width=200)
    table = Table(title=f"Neural curvature, alpha {args.alpha}, {args.per_class} Fashion-MNIST inputs per class")
    for col in (
        "model",
        "edges",
        "samples",
        "problems",
        "reference s (est.)",
        "graphcurv s",
        "speed-up",
        "reference problems timed",
        "max |diff|",
        "truncation bound",
    ):
        table.add_column(col, justify="left" if col == "model" else "right")
    for name, model in models:
        graph, labels = calibration_graph(model, args.per_class)
        edges, samples = graph.edge_index.size(1), graph.activation.size(1)
        result = neural_curvature(graph, args.alpha, labels=labels, workers=args.workers)
        per_source, per_problem, worst, count = compare(graph, args.alpha, args.subset, seed=1)
        # all shortest paths once (every node with an out-edge is a source) + every problem
        reference = per_source * graph.num_nodes + per_problem * edges * samples
        table.add_row(
            name,
            f"{edges:,}",
            str(samples),
            f"{edges * samples:,}",
            f"{reference:,.0f}",
            f"{result.seconds:.1f}",
            f"{reference / result.seconds:,.0f}x",
            f"{count:,}",
            f"{worst:.1e}",
            f"{result.truncation_bound:.1e}",
        )
        console.print(
            f"done: {name}: graphcurv {result.seconds:.1f} s, reference {reference:,.0f} s (est.), "
            f"max |diff| {worst:.1e}",
            style="dim",
        )
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
