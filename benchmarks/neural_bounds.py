"""LPs solved with the crude certified bounds vs the sharper ones (swap plan, level bound).

Runs ``neural_curvature`` on a model's calibration set (``--per-class`` inputs of each
class, Fashion-MNIST val) four times: crude bounds (the sharper ones switched off) and
sharper bounds, each with ``exact="edges"`` and ``exact="parameters"``, counting the LPs
that reach the solver pool. Prints the counts, the times and the largest difference
between the parameter scores of the two bound sets (both exact). Used in
docs/benchmarks.md ("Sharper bounds"):

    .venv/bin/python benchmarks/neural_bounds.py datasets/models/lenet-relu-fashion-mnist.pt
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--per-class", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from graphcurv.datasets import calibration_set, load_dataset
    from graphcurv.models import load_model
    from graphcurv.neural import export
    from graphcurv.neural.curvature import certificates, neural_curvature
    from graphcurv.transport.exact import ExactSolverPool

    torch.set_num_threads(1)
    model = load_model(args.checkpoint)
    inputs, labels = calibration_set(model, load_dataset("fashion-mnist", split="val"), args.per_class)
    graph = export(model, inputs)
    count = [0]
    submit = ExactSolverPool.submit

    def counting(self, problems):
        count[0] += problems.num_problems
        return submit(self, problems)

    ExactSolverPool.submit = counting
    sharper = certificates._sharper

    def crude(*args):  # no sharper bound: +inf above, -inf below (the crude ones stand)
        return np.full(args[-2].size, np.inf), np.full(args[-2].size, -np.inf)

    scores = {}
    for name, bounds in (("crude", crude), ("sharper", sharper)):
        certificates._sharper = bounds
        for exact in ("edges", "parameters"):
            count[0] = 0
            started = time.perf_counter()
            result = neural_curvature(graph, labels=labels, workers=args.workers, exact=exact)
            scores[(name, exact)] = result.param_scores
            print(f"{name:8} {exact:10} LPs {count[0]:>10,}  {time.perf_counter() - started:7.1f} s", flush=True)
    certificates._sharper = sharper
    for exact in ("edges", "parameters"):
        a, b = scores[("crude", exact)], scores[("sharper", exact)]
        diff = max(float((a[n].nan_to_num(9.0) - b[n].nan_to_num(9.0)).abs().max()) for n in a)
        print(f"{exact}: largest parameter-score difference {diff:.1e}")


if __name__ == "__main__":
    main()
