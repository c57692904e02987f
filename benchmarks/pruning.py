"""Pruning sweeps for docs/pruning.md: curvature against magnitude, random, SNIP and SynFlow.

For each trained model:

* neural curvature scores once (``--per-class`` correctly classified val inputs per class,
  alpha 0.9), cached in ``--scores-dir`` in the format of ``graphcurv analyze``'s
  scores.pt, with the scores after 1, 2, 5 and 10 inputs per class;
* the one-shot sweep of every method over the ratio grid on the full test set
  (sweep.csv, sweep.png); for models with Tanh also ``synflow-linear``;
* the same for curvature from fewer (and, with ``--more-per-class``, more) calibration
  inputs (calibration.csv);
* the share of every layer each method removes at ``--allocation-ratio``;
* the per-layer experiment, curvature against magnitude (per_layer.csv, per_layer.png);
* with ``--iterative-ratios``, the prune-rescore extension at those ratios (iterative.csv;
  it recomputes curvature for every ratio and round, so keep the list short).

Files go to ``--out/<model>/``; every number also to ``--out/summary.json``.

    .venv/bin/python benchmarks/pruning.py                                   # the six models of docs/pruning.md
    .venv/bin/python benchmarks/pruning.py --models lenet-relu --models-dir /tmp/models
    .venv/bin/python benchmarks/pruning.py --models vgg9-relu --models-dir . --device cuda   # on a GPU

Models are graphcurv checkpoints ``<models-dir>/<name>.pt`` (``graphcurv train``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from graphcurv.atomic import atomic_path
from graphcurv.datasets import calibration_set, load_dataset
from graphcurv.models import load_checkpoint, load_model
from graphcurv.neural import export
from graphcurv.neural.curvature import neural_curvature
from graphcurv.pruning import load_curvature_scores, mask_summary, prune_masks, pruning_sweep, score, write_sweep_csv
from graphcurv.pruning.per_layer import per_layer_sweep, write_per_layer_csv
from graphcurv.pruning.plots import plot_per_layer, plot_sweep
from graphcurv.pruning.saliency import SATURATING

MODELS = "mlp-relu,mlp-relu-wd,lenet-relu,lenet-relu-wd,lenet-tanh,lenet-tanh-wd"
METHODS = "curvature,curvature-negative,magnitude,random,snip,synflow,curvature-magnitude"
RATIOS = "0,0.01,0.02,0.05,0.1,0.2,0.3,0.4,0.5,0.55,0.6,0.65,0.7,0.75,0.8,0.85,0.9,0.95,0.98"
CHECKPOINTS = (1, 2, 5, 10)


def curvature_scores(model, name: str, per_class: int, args, console: Console) -> Path:
    """The cached scores file of ``name`` over ``per_class`` inputs per class, computed first when missing."""
    path = Path(args.scores_dir) / (f"{name}.pt" if per_class == args.per_class else f"{name}-k{per_class}.pt")
    if path.exists():
        return path
    started = time.perf_counter()
    inputs, labels = calibration_set(model, load_dataset(args.dataset, split="val"), per_class, seed=0)
    graph = export(model, inputs)
    checkpoints = sorted({k for k in CHECKPOINTS if k <= per_class} | {per_class})
    state = path.with_suffix(".state.pt")  # resumable: an interrupted run continues where it stopped
    result = neural_curvature(graph, args.alpha, labels=labels, checkpoints=checkpoints, workers=args.workers,
                              state=state)  # fmt: skip
    payload = {
        "format": "graphcurv-curvature-scores",
        "alpha": args.alpha,
        "samples": result.samples,
        "param_scores": {k: v.cpu() for k, v in result.param_scores.items()},
        "checkpoints": {k: {n: v.cpu() for n, v in s.items()} for k, s in result.checkpoints.items()},
        "metadata": {"model": name, "per_class": per_class, "seed": 0, "seconds": time.perf_counter() - started},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    console.print(f"{name}: curvature scores ({per_class} per class) in {time.perf_counter() - started:.0f} s")
    return path


def allocation(model, methods: list[str], ratio: float, curvature, val) -> dict:
    """Share of every layer that each method removes at ``ratio`` (global scope)."""
    out = {}
    for method in methods:
        scores = score(model, method=method, data=val, ratio=ratio, curvature=curvature, seed=0)
        out[method] = {name: share for name, _, _, share in mask_summary(prune_masks(scores, ratio))}
    return out


def run_model(name: str, args, console: Console) -> dict:
    source = Path(args.models_dir) / f"{name}.pt"
    model = load_model(source, device=args.device)
    dataset = load_checkpoint(source).get("metrics", {}).get("dataset", args.dataset)
    val, test = load_dataset(dataset, split="val"), load_dataset(dataset, split="test")
    scores_path = curvature_scores(model, name, args.per_class, args, console)
    ratios = [float(r) for r in args.ratios.split(",")]
    folder = Path(args.out) / name
    started = time.perf_counter()
    methods = args.methods.split(",")
    if any(isinstance(m, SATURATING) for m in model.modules()):
        methods.append("synflow-linear")  # plain SynFlow's gradients vanish through Tanh: add the variant
    result = pruning_sweep(model, test, methods=methods, ratios=ratios, data=val, device=args.device,
                           curvature=load_curvature_scores(scores_path), seed=0)  # fmt: skip
    write_sweep_csv(folder / "sweep.csv", result)
    plot_sweep(folder / "sweep.png", result, title=f"{name}: one-shot pruning, Fashion-MNIST test set")
    summary = {"dense_accuracy": result.dense_accuracy, "sweep_seconds": time.perf_counter() - started,
               "per_class": args.per_class,
               "headline": {m: result.headline(m) for m in result.methods},
               "accuracy": {m: {f"{p.ratio:g}": p.accuracy for p in result.curve(m)} for m in result.methods}}  # fmt: skip
    calibration = None
    extra = {k: curvature_scores(model, name, k, args, console) for k in args.more_per_class}
    for k in [k for k in CHECKPOINTS if k < args.per_class] + list(extra):
        path, per_class = (extra[k], None) if k in extra else (scores_path, k)
        part = pruning_sweep(model, test, methods=["curvature"], ratios=ratios, device=args.device,
                             curvature=load_curvature_scores(path, per_class=per_class))  # fmt: skip
        part.points = [replace(p, method=f"curvature k={k}") for p in part.points]
        calibration = part if calibration is None else replace(calibration, points=calibration.points + part.points)
    if calibration is not None:
        write_sweep_csv(folder / "calibration.csv", calibration)
        summary["headline"].update({m: calibration.headline(m) for m in calibration.methods})
    if args.iterative_ratios:
        started = time.perf_counter()
        grid = [float(r) for r in args.iterative_ratios.split(",")]
        iterative = pruning_sweep(model, test, methods=["curvature-iterative"], ratios=grid, data=val,
                                  device=args.device, curvature=load_curvature_scores(scores_path), seed=0,
                                  rounds=args.rounds, workers=args.workers)  # fmt: skip
        write_sweep_csv(folder / "iterative.csv", iterative)
        summary["iterative"] = {"rounds": args.rounds, "seconds": time.perf_counter() - started,
                                "headline": iterative.headline("curvature-iterative"),
                                "accuracy": {f"{p.ratio:g}": p.accuracy for p in iterative.points}}  # fmt: skip
    summary["allocation"] = allocation(model, methods, args.allocation_ratio, load_curvature_scores(scores_path), val)
    if args.per_layer:
        layers = per_layer_sweep(model, test, ratios=ratios, methods=["curvature", "magnitude"], device=args.device,
                                 curvature=load_curvature_scores(scores_path))  # fmt: skip
        write_per_layer_csv(folder / "per_layer.csv", layers)
        plot_per_layer(folder / "per_layer.png", layers, title=f"{name}: one layer pruned at a time")
        summary["per_layer"] = {
            layer: {m: layers.headline(layer, m) for m in layers.methods} for layer in layers.layers
        }
    return summary


def _text(value) -> str:
    return "-" if value is None else f"{value:g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=MODELS, help="checkpoint names in --models-dir, comma-separated")
    parser.add_argument("--models-dir", default="/tmp/models")
    parser.add_argument("--dataset", default="fashion-mnist", help="when a checkpoint does not record one")
    parser.add_argument("--methods", default=METHODS)
    parser.add_argument("--ratios", default=RATIOS)
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--alpha", type=float, default=0.9)
    parser.add_argument("--more-per-class", type=int, action="append", default=[],
                        help="also sweep curvature from this many inputs per class (repeatable)")  # fmt: skip
    parser.add_argument("--iterative-ratios", default="", help="also sweep curvature-iterative at these ratios")
    parser.add_argument("--rounds", type=int, default=2, help="prune-rescore rounds of curvature-iterative")
    parser.add_argument("--allocation-ratio", type=float, default=0.6, help="ratio of the per-layer share table")
    parser.add_argument("--workers", type=int, default=None, help="curvature solver processes (default: all CPUs)")
    parser.add_argument("--scores-dir", default="/tmp/graphcurv-pruning-scores", help="curvature scores cache")
    parser.add_argument("--out", default="docs/pruning", help="folder for the CSVs, plots and summary.json")
    parser.add_argument("--no-per-layer", dest="per_layer", action="store_false")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 is fastest on 2 cores)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    console = Console(width=200)
    summary_path = Path(args.out) / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    for name in args.models.split(","):
        summary[name] = run_model(name, args, console)
        with atomic_path(summary_path) as tmp:
            tmp.write_text(json.dumps(summary, indent=1, sort_keys=True))
        console.print(f"done: {name} ({summary[name]['sweep_seconds']:.0f} s)", style="dim")
    methods = list(dict.fromkeys(m for s in summary.values() for m in s["headline"]))
    table = Table(title="largest ratio within 1 point of the dense test accuracy (one-shot, no fine-tuning)")
    for column in ("model", "dense", *methods):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, s in summary.items():
        table.add_row(name, f"{s['dense_accuracy']:.4f}", *(_text(s["headline"].get(m)) for m in methods))
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
