"""RicciNets on Fashion-MNIST for docs/riccinets.md: the controller's search, then the paper's comparison.

1. Stage graphs: WS(K, P) on N nodes, one per stage (seeded), saved to ``--out/graphs.pt``.
2. Search (paper section 3.3): REINFORCE over the (alpha, beta, delta) grid (gamma = 0),
   every candidate pruned by Ricci flow, trained ``--search-epochs`` on the first
   ``--search-train`` training images and scored on the first ``--val-size`` val images;
   reward A - mu * F / F_unpruned. Log: ``--out/search.jsonl``.
3. Comparison (paper table): the search's best hyperparameters (by reward) against
   lowest-magnitude pruning to the same per-stage edge counts and the unpruned network,
   ``--seeds`` seeds, ``--epochs`` epochs on ``--train-size`` training images, top-1 on
   the full test set. Also the paper-default-like setting (0.5, 0.5, 0, 0.5) when
   ``--also-default``. Rows: ``--out/compare.csv``; everything: ``--out/summary.json``.

    .venv/bin/python benchmarks/riccinets.py                                  # the CPU-sized run of the docs
    .venv/bin/python benchmarks/riccinets.py --channels 78 --head-channels 1280 --train-size 0 \\
        --epochs 4 --search-train 0 --episodes 20 --steps 5 --dataset cifar10 --data-root DIR --device cuda
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from graphcurv.atomic import atomic_path
from graphcurv.datasets import load_dataset
from graphcurv.files import write_csv
from graphcurv.riccinets.compare import compare_pruning, summarise
from graphcurv.riccinets.controller import HyperGrid
from graphcurv.riccinets.pipeline import TrainSettings, build_network, candidate_evaluator, network_stats
from graphcurv.riccinets.search import ricci_search
from graphcurv.riccinets.wiring import save_graphs, stage_graphs


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--n", type=int, default=32, help="nodes per stage")
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--p", type=float, default=0.75)
    parser.add_argument("--stages", type=int, default=3)
    parser.add_argument("--graph-seed", type=int, default=0)
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--head-channels", type=int, default=256)
    parser.add_argument("--dangling", default="isolated")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--mu", type=float, default=0.5)
    parser.add_argument("--floor", type=float, default=0.6, help="accuracy floor that ends an episode")
    parser.add_argument("--discount", type=float, default=0.99)
    parser.add_argument("--search-epochs", type=int, default=1)
    parser.add_argument("--search-train", type=int, default=10000, help="training images per candidate (0: all)")
    parser.add_argument("--val-size", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-size", type=int, default=20000, help="training images in the comparison (0: all)")
    parser.add_argument("--finetune", type=int, default=1, help="epochs of fine-tuning after magnitude pruning")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--also-default", action="store_true", help="also compare (alpha, beta, gamma, delta) = .5,.5,0,.5")
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="docs/riccinets")
    return parser.parse_args()


def table(title: str, summary: dict) -> Table:
    out = Table(title=title)
    for column in ("method", "top-1 (%)", "edges left (%)", "weights left (%)", "FLOPs (%)"):
        out.add_column(column, justify="right")
    for method, s in summary.items():
        out.add_row(method, f"{100 * s['accuracy']:.2f} ± {100 * s['accuracy_std']:.2f}",
                    f"{100 * s['edges_share']:.1f}", f"{100 * s['weights_share']:.1f}", f"{100 * s['flops_share']:.1f}")
    return out


def main() -> None:
    args = parse()
    torch.set_num_threads(args.threads)
    console = Console()
    out = Path(args.out)
    train = load_dataset(args.dataset, split="train", root=args.data_root)
    val = load_dataset(args.dataset, split="val", root=args.data_root).subset(slice(0, args.val_size))
    test = load_dataset(args.dataset, split="test", root=args.data_root)
    graphs = stage_graphs(args.stages, args.n, "ws", k=args.k, p=args.p, seed=args.graph_seed)
    save_graphs(out / "graphs.pt", graphs)
    net = {"channels": args.channels, "head_channels": args.head_channels}
    base = network_stats(build_network(graphs, val, seed=0, **net), val)
    summary: dict = {"args": vars(args), "unpruned": base.__dict__}

    started = time.perf_counter()
    search_settings = TrainSettings(epochs=args.search_epochs, train_size=args.search_train or None, device=args.device)
    evaluate = candidate_evaluator(graphs, train, val, settings=search_settings, base=base, dangling=args.dangling, **net)

    def progress(done: int, total: int, description: str) -> None:
        console.print(f"[{done}/{total}] {description} ({time.perf_counter() - started:.0f} s)")

    result = ricci_search(evaluate, grid=HyperGrid(), episodes=args.episodes, steps_per_episode=args.steps,
                          discount=args.discount, accuracy_floor=args.floor, mu=args.mu, flops_baseline=base.flops,
                          log_path=out / "search.jsonl", progress=progress)  # fmt: skip
    best = result.best
    summary["search"] = {
        "seconds": time.perf_counter() - started,
        "candidates": len(result.steps),
        "evaluated": sum(not s.cached for s in result.steps),
        "episode_rewards": result.episode_rewards,
        "best": {"hparams": best.candidate.hparams, "reward": best.reward, "accuracy": best.candidate.accuracy,
                 "flops_share": best.candidate.flops_share, "edges_share": best.candidate.edges_share,
                 "weights_share": best.candidate.weights_share},
        "final_action": result.final_action,
    }
    console.print(f"search: best {best.candidate.hparams} reward {best.reward:.4f}; controller's choice "
                  f"{result.final_action} ({summary['search']['seconds']:.0f} s)")

    settings = TrainSettings(epochs=args.epochs, train_size=args.train_size or None, device=args.device)
    seeds = [int(s) for s in args.seeds.split(",")]
    settings_list = [("searched", best.candidate.hparams)]
    if args.also_default:
        settings_list.append(("default", {"alpha": 0.5, "beta": 0.5, "gamma": 0.0, "delta": 0.5}))
    rows_out = []
    for label, hparams in settings_list:
        started = time.perf_counter()
        rows = compare_pruning(graphs, hparams, train, test, settings=settings, seeds=seeds, dangling=args.dangling,
                               finetune_epochs=args.finetune, progress=progress, **net)  # fmt: skip
        stats = summarise(rows)
        summary[f"compare_{label}"] = {"hparams": hparams, "summary": stats, "rows": [r.as_dict() for r in rows],
                                       "seconds": time.perf_counter() - started}  # fmt: skip
        rows_out += [[label, *r.as_dict().values()] for r in rows]
        console.print(table(f"{label} {hparams}", stats))
    header = ["setting", *rows[0].as_dict().keys()]
    write_csv(out / "compare.csv", header, rows_out)
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
