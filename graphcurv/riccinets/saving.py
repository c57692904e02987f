"""Writing a Ricci-pruned RandWire: the network built from the pruned stage graphs, as a graphcurv
checkpoint that records how it was made (the ``riccinets`` entry of its metrics).

The record holds the node-mass hyperparameters, the dangling policy, the flow's iterations
and convergence per stage, the dataset and seed, where the stage graphs came from
(``wiring``), and the size and cost of the unpruned and pruned networks with their shares
(:class:`~graphcurv.riccinets.pipeline.NetworkStats`). ``graphcurv riccinets prune`` and
``search`` write it; :func:`graphcurv.models.load_model` reads it back as a ``RandWire``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from graphcurv.riccinets.pipeline import NetworkStats, build_network, network_stats

__all__ = ["PrunedNetwork", "write_pruned_network"]


@dataclass(frozen=True)
class PrunedNetwork:
    """What :func:`write_pruned_network` wrote: the file, and the unpruned and pruned networks' stats."""

    path: Path
    base: NetworkStats
    stats: NetworkStats


def write_pruned_network(
    output: str | os.PathLike[str],
    graphs: list,
    cuts: list,
    shape,
    *,
    hparams: dict[str, float],
    channels: int,
    head_channels: int,
    dangling: str,
    iterations: int,
    dataset: str | None,
    wiring: dict,
    seed: int = 0,
) -> PrunedNetwork:
    """Build the RandWire of the pruned stage graphs (initialised with ``seed``) and write it (atomically).

    Args:
        graphs: the unpruned stage graphs; ``cuts`` one ``RicciPruneResult`` per graph.
        shape: an ``ImageDataset`` giving the image shape and the classes (it may hold no image).
        hparams, dangling, iterations: how the graphs were pruned (recorded).
        channels, head_channels: the network's widths.
        dataset, wiring: recorded provenance (the dataset name, where the graphs came from).
    """
    from graphcurv.models import save_model
    from graphcurv.riccinets.network import randwire_config

    pruned = [c.pruned.graph for c in cuts]
    options = {"channels": channels, "head_channels": head_channels, "seed": seed}
    base = network_stats(build_network(graphs, shape, **options), shape)
    model = build_network(pruned, shape, **options)
    stats = network_stats(model, shape)
    unpruned = randwire_config(graphs)
    metrics = {
        "riccinets": {
            "hparams": hparams, "dangling": dangling, "iterations": iterations, "dataset": dataset, "seed": seed,
            "wiring": wiring, "flow_iterations": [c.iterations for c in cuts], "converged": [c.converged for c in cuts],
            "shares": stats.shares(base), "unpruned": asdict(base), "pruned": asdict(stats),
            "unpruned_graphs": {"nodes": unpruned["nodes"], "edges": unpruned["edges"]},
        }
    }  # fmt: skip
    config = randwire_config(pruned, channels=channels, in_channels=shape.in_channels, num_classes=shape.num_classes,
                             head_channels=head_channels, image_size=shape.image_size)  # fmt: skip
    path = Path(output)
    save_model(model.cpu(), path, arch="randwire", config=config, metrics=metrics)
    return PrunedNetwork(path, base, stats)
