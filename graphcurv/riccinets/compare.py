r"""The paper's comparison: RicciNets against lowest-magnitude pruning and the unpruned network.

For every seed (network initialisation and batch order):

1. **unpruned**: the RandWire of the stage graphs, trained ``settings.epochs`` epochs;
2. **riccinets**: the stage graphs pruned by Ricci flow (before training) with the
   given hyperparameters, then trained the same way from scratch;
3. **magnitude**: the trained unpruned network with its lowest-magnitude edges removed
   (``sigmoid(w)`` of the aggregation weights, ranked within each stage) down to the
   edge count RicciNets kept in that stage, the same dangling-node policy, trained weights kept; its
   accuracy right after pruning (``one_shot_accuracy``) and after ``finetune_epochs``
   more epochs (``accuracy``).

Accuracy is top-1 on ``test``; shares are against the unpruned network (see
:mod:`graphcurv.riccinets.pipeline`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from torch_geometric.data import Data

from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.models import evaluate
from graphcurv.progress import ProgressCallback, report
from graphcurv.riccinets.magnitude import magnitude_prune
from graphcurv.riccinets.pipeline import (
    NetworkStats,
    TrainSettings,
    build_network,
    network_stats,
    prune_stages,
    train_and_test,
)

METHODS = ("unpruned", "riccinets", "magnitude")


@dataclass(frozen=True)
class ComparisonRow:
    """One trained network of the comparison."""

    method: str
    seed: int
    accuracy: float
    one_shot_accuracy: float | None
    edges_share: float
    weights_share: float
    flops_share: float
    nodes: int
    edges: int
    parameters: int
    flops: int
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def _row(method: str, seed: int, accuracy: float, stats: NetworkStats, base: NetworkStats, started: float,
         one_shot: float | None = None) -> ComparisonRow:  # fmt: skip
    return ComparisonRow(method, seed, accuracy, one_shot, **stats.shares(base), nodes=stats.nodes, edges=stats.edges,
                         parameters=stats.parameters, flops=stats.flops, seconds=time.perf_counter() - started)  # fmt: skip


def compare_pruning(
    graphs: Sequence[Data],
    hparams: dict[str, float],
    train: ImageDataset,
    test: ImageDataset,
    *,
    channels: int,
    head_channels: int,
    settings: TrainSettings,
    seeds: Sequence[int] = (0,),
    dangling: str = "isolated",
    iterations: int = 50,
    finetune_epochs: int = 1,
    progress: ProgressCallback | None = None,
) -> list[ComparisonRow]:
    """Rows for every seed and method (module docstring); the flow runs once (it is deterministic)."""
    cuts = prune_stages(graphs, hparams, dangling=dangling, iterations=iterations)
    pruned_graphs = [c.pruned.graph for c in cuts]
    kept_per_stage = [int(c.pruned.kept_edges.numel()) for c in cuts]
    rows: list[ComparisonRow] = []
    total = 3 * len(seeds)
    for i, seed in enumerate(seeds):
        run = replace(settings, seed=int(seed))
        started = time.perf_counter()
        dense = build_network(graphs, test, channels=channels, head_channels=head_channels, seed=seed)
        base = network_stats(dense, test)
        rows.append(_row("unpruned", seed, train_and_test(dense, train, test, run), base, base, started))
        report(progress, 3 * i + 1, total, f"seed {seed}: unpruned {rows[-1].accuracy:.4f}")

        started = time.perf_counter()
        ricci = build_network(pruned_graphs, test, channels=channels, head_channels=head_channels, seed=seed)
        stats = network_stats(ricci, test)
        rows.append(_row("riccinets", seed, train_and_test(ricci, train, test, run), stats, base, started))
        report(progress, 3 * i + 2, total, f"seed {seed}: riccinets {rows[-1].accuracy:.4f}")

        started = time.perf_counter()
        pruned, _ = magnitude_prune(dense, keep_edges=kept_per_stage, dangling=dangling)
        one_shot = float(evaluate(pruned, test, device=settings.device))
        accuracy = train_and_test(pruned, train, test, replace(run, epochs=finetune_epochs))
        rows.append(_row("magnitude", seed, accuracy, network_stats(pruned, test), base, started, one_shot))
        report(progress, 3 * i + 3, total, f"seed {seed}: magnitude {rows[-1].accuracy:.4f}")
    return rows


def summarise(rows: Sequence[ComparisonRow]) -> dict[str, dict[str, float]]:
    """Per method: mean and standard deviation (over seeds) of accuracy and the three shares."""
    import statistics

    out: dict[str, dict[str, float]] = {}
    for method in METHODS:
        mine = [r for r in rows if r.method == method]
        if not mine:
            continue
        out[method] = {"runs": len(mine)}
        for key in ("accuracy", "edges_share", "weights_share", "flops_share"):
            values = [getattr(r, key) for r in mine]
            out[method][key] = statistics.fmean(values)
            out[method][f"{key}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
    return out
