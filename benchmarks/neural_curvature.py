"""Neural curvature: the per-edge reference vs the old (per-edge) engine vs the grouped engine.

The reference (``graphcurv.neural.curvature.reference_curvature``) is what the authors'
code does: one exact ``ot.emd2`` per (edge, sample), with costs from explicit shortest
paths (networkx Dijkstra on the neural graph), the shortest paths computed once and
shared by all samples (they do not depend on the input). It is far too slow to run on
every problem of a real model, so it runs on a random subset of (edge, sample) problems
and its full time is extrapolated: time per shortest-path source x nodes + time per
problem x problems. The engines run on everything, one after the other in this
process, side by side in one run; a sampling thread records each run's peak memory
(resident set of this process plus its solver processes, every 20 ms):

* ``per-edge``: the earlier engine (one LP per live edge and input, every value, the mean);
* ``grouped/edges``: the default (every edge's minimum over inputs exact);
* ``grouped/parameters``: only the parameter scores exact (what pruning reads).

The script prints each one's time, speed-up over the reference and over the per-edge
engine, peak memory, and the largest |difference|: per-sample values against the
reference on the subset, and the grouped engines' scores against the per-edge engine's
on every edge (edge scores for ``edges``, parameter scores for both).

    .venv/bin/python benchmarks/neural_curvature.py                     # MLP and LeNet, 1 per class
    .venv/bin/python benchmarks/neural_curvature.py --models lenet --per-class 10 --subset 3000
    .venv/bin/python benchmarks/neural_curvature.py --checkpoint datasets/models/lenet-fashion-mnist.pt

Models: with ``--checkpoint`` a trained model file; otherwise each named architecture is
trained here for ``--epochs`` epochs on Fashion-MNIST (seed 0) first.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
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

ENGINES = {
    "per-edge": {"engine": "per-edge", "mean": True},
    "grouped/edges": {"engine": "grouped", "exact": "edges"},
    "grouped/parameters": {"engine": "grouped", "exact": "parameters"},
}


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
            position[(s + chain.starts[link.source], d + chain.starts[link.target])] = (k, e)
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


class PeakMemory:
    """Largest resident set of this process plus its children while the block runs, in MiB."""

    def __enter__(self) -> PeakMemory:
        import psutil

        self.peak, self._stop, me = 0.0, threading.Event(), psutil.Process()

        def sample() -> None:
            while not self._stop.is_set():
                try:
                    rss = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
                except psutil.Error:
                    continue
                self.peak = max(self.peak, rss / 2**20)
                self._stop.wait(0.02)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_engine(graph, labels, alpha: float, workers: int | None, options: dict) -> dict:
    """One engine on every problem: time, scores and peak memory."""
    with PeakMemory() as memory:
        result = neural_curvature(graph, alpha, labels=labels, workers=workers, **options)
    return {
        "peak_mb": memory.peak,
        "seconds": result.seconds,
        "edge_score": [t.cpu().numpy() for t in result.edge_score],
        "param_scores": {k: v.cpu().numpy() for k, v in result.param_scores.items()},
        "bound": result.truncation_bound,
    }


def largest_difference(a: dict, b: dict, edges: bool) -> float:
    """max |a - b| over parameter scores (and edge scores with ``edges``); NaN entries must match."""
    pairs = [(a["param_scores"][k], b["param_scores"][k]) for k in a["param_scores"]]
    if edges:
        pairs += list(zip(a["edge_score"], b["edge_score"]))
    worst = 0.0
    for x, y in pairs:
        x, y = torch.from_numpy(x).double(), torch.from_numpy(y).double()
        if not torch.equal(torch.isnan(x), torch.isnan(y)):
            return float("inf")
        keep = ~torch.isnan(x)
        if keep.any():
            worst = max(worst, float((x[keep] - y[keep]).abs().max()))
    return worst


def _sources(network, graph, e: int) -> list[int]:
    """Nodes whose shortest paths the reference needs for edge e: i and its predecessors."""
    i = int(graph.edge_index[0, e])
    return [i, *network.predecessors(i)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="mlp,lenet", help="architectures to train and measure")
    parser.add_argument("--checkpoint", action="append", default=[], help="trained model files to measure instead")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--per-class", type=int, default=1)
    parser.add_argument("--alpha", type=float, default=0.9)
    parser.add_argument("--subset", type=int, default=2000, help="(edge, sample) problems the reference solves")
    parser.add_argument("--workers", type=int, default=None, help="graphcurv's solver processes (default: all CPUs)")
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"which of {', '.join(ENGINES)} to run")
    args = parser.parse_args(argv)

    models = [(path, load_model(path)) for path in args.checkpoint]
    if not models:
        models = [(f"{arch} ({args.epochs} epochs)", trained(arch, args.epochs)) for arch in args.models.split(",")]
    console = Console(width=220)
    table = Table(title=f"Neural curvature, alpha {args.alpha}, {args.per_class} Fashion-MNIST inputs per class")
    for col in (
        "model",
        "edges",
        "inputs",
        "engine",
        "reference s (est.)",
        "engine s",
        "vs reference",
        "vs per-edge engine",
        "peak RSS MiB",
        "max |diff|",
        "truncation bound",
    ):
        table.add_column(col, justify="left" if col in ("model", "engine") else "right")
    for name, model in models:
        graph, labels = calibration_graph(model, args.per_class)
        edges, samples = graph.edge_index.size(1), graph.activation.size(1)
        per_source, per_problem, worst, count = compare(graph, args.alpha, args.subset, seed=1)
        # all shortest paths once (every node with an out-edge is a source) + every problem
        reference = per_source * graph.num_nodes + per_problem * edges * samples
        console.print(
            f"{name}: reference {reference:,.0f} s (est. from {count:,} problems), "
            f"max |per-edge engine - reference| {worst:.1e}",
            style="dim",
        )
        runs = {}
        for engine in args.engines.split(","):
            runs[engine] = run_engine(graph, labels, args.alpha, args.workers, ENGINES[engine])
            console.print(f"  {engine}: {runs[engine]['seconds']:.2f} s", style="dim")
        base = runs.get("per-edge")
        for engine, out in runs.items():
            if engine == "per-edge":
                diff = worst
            elif base is None:
                diff = float("nan")  # nothing to compare with on every edge (the subset check is above)
            else:
                diff = largest_difference(out, base, edges=engine != "grouped/parameters")
            table.add_row(
                name,
                f"{edges:,}",
                str(samples),
                engine,
                f"{reference:,.0f}",
                f"{out['seconds']:.2f}",
                f"{reference / out['seconds']:,.0f}x",
                "-" if base is None else f"{base['seconds'] / out['seconds']:.1f}x",
                f"{out['peak_mb']:,.0f}",
                f"{diff:.1e}",
                f"{out['bound']:.1e}",
            )
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
