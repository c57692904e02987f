"""How long neural curvature takes on a model too large to run whole here: time a sample, extrapolate.

For one calibration input of a trained model the script

* builds the chain (every edge materialised) and the input-independent distance
  matrices (D2, D3), timed, with the process's peak memory;
* per connection, computes kappa_N of ``--edges`` random edges with the engine's own
  code path (``sample_curvature(..., edges=...)``: truncated measures, exact certified
  transport, the untruncated re-solve where the truncation bound demands it), in one
  process, and extrapolates to every edge of the connection (random edges, dead ones
  included, so seconds x edges / chosen estimates the whole connection without bias);
* subtracts the fixed cost of a call that computes no edge (the measures of every
  layer, the closed forms), timed once, so the estimate of one input on one core is
  that fixed cost plus every connection's extrapolated cost; and scales it to
  ``--inputs`` inputs on ``--cores`` cores assuming perfect parallel speed-up (an
  optimistic bound).

With ``--check`` it also runs the whole input through the engine, so the
extrapolation can be compared with a real time (use it on the LeNet variant), and
checks that the sampled values equal the whole run's on the same edges.

    .venv/bin/python benchmarks/neural_curvature_scale.py --checkpoint datasets/models/lenet-relu-fashion-mnist.pt --check
    .venv/bin/python benchmarks/neural_curvature_scale.py --checkpoint vgg9-relu.pt --edges 2000
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import torch
from rich.console import Console
from rich.table import Table

from graphcurv.datasets import calibration_set, load_dataset
from graphcurv.models import load_model
from graphcurv.neural import export
from graphcurv.neural.curvature import neural_chain
from graphcurv.neural.curvature.sample import chain_geometry, sample_curvature
from graphcurv.transport.exact import ExactSolverPool


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def timed(run, *args, **kwargs):
    """``(run(*args, **kwargs), seconds)``."""
    started = time.perf_counter()
    result = run(*args, **kwargs)
    return result, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a trained model file (graphcurv checkpoint)")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--sample", type=int, default=0, help="which of the 1-per-class calibration inputs")
    parser.add_argument("--edges", type=int, default=2000, help="random edges timed per connection")
    parser.add_argument("--alpha", type=float, default=0.9)
    parser.add_argument("--inputs", type=int, default=100, help="calibration inputs of a full run (10 per class)")
    parser.add_argument("--cores", type=int, default=2, help="cores of the machine the estimate is for")
    parser.add_argument("--check", action="store_true", help="also run the whole input and compare")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    console = Console(width=200)

    model = load_model(args.checkpoint)
    inputs, _ = calibration_set(model, load_dataset(args.dataset, split="val"), 1, seed=0)
    graph = export(model, inputs[args.sample : args.sample + 1])
    started = time.perf_counter()
    chain = neural_chain(graph)
    chain_seconds = time.perf_counter() - started
    started = time.perf_counter()
    geometry = chain_geometry(chain)
    geometry_seconds = time.perf_counter() - started
    console.print(
        f"{args.checkpoint}: {sum(link.num_edges for link in chain.links):,} edges per input; chain {chain_seconds:.1f} s, "
        f"distance matrices {geometry_seconds:.1f} s, peak memory {peak_gib():.1f} GiB"
    )
    activation = graph.activation[:, 0]
    generator = torch.Generator().manual_seed(args.seed)
    table = Table(title=f"kappa_N of one input, alpha {args.alpha}: {args.edges} random edges per connection timed")
    for column in ("connection", "edges", "timed", "live timed", "s timed", "s - fixed", "est. s (1 core)"):
        table.add_column(column, justify="left" if column == "connection" else "right")
    nothing = [torch.zeros(0, dtype=torch.long)] * len(chain.links)
    samples = []
    with ExactSolverPool(1) as pool:
        solve = (geometry, activation, args.alpha, pool.submit)
        fixed = min(timed(sample_curvature, *solve, edges=nothing)[1] for _ in range(3))
        estimate = fixed
        for k, link in enumerate(chain.links):
            chosen = torch.randperm(link.num_edges, generator=generator)[: args.edges]
            edges = [*nothing[:k], chosen, *nothing[k + 1 :]]
            (kappa, dead, _), seconds = timed(sample_curvature, *solve, edges=edges)
            samples.append((chosen, kappa[k][chosen]))
            whole = max(seconds - fixed, 0.0) * link.num_edges / chosen.numel()
            estimate += whole
            live = int((~dead[k][chosen]).sum())
            name = f"{k}: {chain.names[k]} -> {chain.names[k + 1]}"
            table.add_row(
                name, f"{link.num_edges:,}", f"{chosen.numel():,}", f"{live:,}", f"{seconds:.2f}",
                f"{max(seconds - fixed, 0.0):.2f}", f"{whole:,.1f}",
            )  # fmt: skip
        console.print(table)
        console.print(f"fixed cost per input (measures, closed forms; no edge solved): {fixed:.2f} s")
        total = estimate * args.inputs / args.cores
        console.print(
            f"estimated: {estimate:,.0f} s per input on one core; {args.inputs} inputs on {args.cores} cores "
            f"(perfect speed-up) {total:,.0f} s = {total / 3600:.1f} h, plus {geometry_seconds:.0f} s of distances once"
        )
        if args.check:
            started = time.perf_counter()
            kappa, _, _ = sample_curvature(*solve)
            seconds = time.perf_counter() - started
            worst = max(float((kappa[k][chosen] - values).abs().max()) for k, (chosen, values) in enumerate(samples))
            console.print(
                f"whole input, one core: {seconds:.1f} s (estimate {estimate:.1f} s, ratio {estimate / seconds:.2f}); "
                f"max |sampled - whole| {worst:.1e}; peak memory {peak_gib():.1f} GiB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
