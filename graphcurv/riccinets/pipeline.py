r"""The RicciNets pipeline: stage graphs -> Ricci-flow pruning -> RandWire -> training -> accuracy and cost.

Shares are against the unpruned network built from the same stage graphs:

* ``edges_share``: graph edges left, i.e. aggregation weights left (what both RicciNets
  and the lowest-magnitude baseline remove);
* ``weights_share``: all trainable parameters left (nodes removed take their convs);
* ``flops_share``: FLOPs per forward pass (:func:`graphcurv.riccinets.flops.count_flops`,
  batch 1, aggregation sums included).

Training (:func:`graphcurv.models.train_model`): SGD with momentum 0.9, weight decay
applied by the optimiser, cosine schedule over all steps, seeded batch order; the network
is initialised after ``torch.manual_seed(seed)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch_geometric.data import Data

from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.errors import GraphcurvError
from graphcurv.models import evaluate, train_model
from graphcurv.progress import ProgressCallback
from graphcurv.riccinets.flops import count_flops, count_parameters
from graphcurv.riccinets.network import RandWire
from graphcurv.riccinets.prune import RicciPruneResult, ricci_prune
from graphcurv.riccinets.search import Candidate


@dataclass(frozen=True)
class TrainSettings:
    """How every candidate is trained: ``train_size`` first images of the train split (None: all)."""

    epochs: int = 2
    lr: float = 0.05
    weight_decay: float = 5e-4
    batch_size: int = 128
    train_size: int | None = None
    seed: int = 0
    device: str | None = None


@dataclass(frozen=True)
class NetworkStats:
    """Size and cost of one network."""

    nodes: int
    edges: int
    parameters: int
    flops: int

    def shares(self, base: NetworkStats) -> dict[str, float]:
        """``edges_share``, ``weights_share`` and ``flops_share`` against ``base`` (the unpruned network)."""
        return {
            "edges_share": self.edges / base.edges if base.edges else 1.0,
            "weights_share": self.parameters / base.parameters,
            "flops_share": self.flops / base.flops,
        }


def build_network(graphs: Sequence[Data], data: ImageDataset, *, channels: int, head_channels: int, seed: int):
    """A freshly initialised RandWire for ``data``'s images (initialisation seeded by ``seed``)."""
    torch.manual_seed(int(seed))
    return RandWire(list(graphs), channels=channels, in_channels=data.in_channels, num_classes=data.num_classes,
                    head_channels=head_channels)  # fmt: skip


def network_stats(model: RandWire, data: ImageDataset) -> NetworkStats:
    """Nodes and edges of all stages, parameters, and FLOPs per image of ``data``'s shape."""
    graphs = model.graphs
    shape = (1, data.in_channels, data.image_size, data.image_size)
    return NetworkStats(sum(int(g.num_nodes) for g in graphs), sum(int(g.edge_index.size(1)) for g in graphs),
                        count_parameters(model), count_flops(model, shape))  # fmt: skip


def prune_stages(graphs: Sequence[Data], hparams: dict[str, float], **options) -> list[RicciPruneResult]:
    """:func:`~graphcurv.riccinets.prune.ricci_prune` on every stage with ``hparams`` (alpha, beta, gamma, delta)."""
    return [ricci_prune(g, **hparams, **options) for g in graphs]


def train_and_test(model: RandWire, train: ImageDataset, test: ImageDataset, settings: TrainSettings,
                   progress: ProgressCallback | None = None) -> float:  # fmt: skip
    """Train ``model`` in place by ``settings`` and return its top-1 accuracy on ``test``."""
    if settings.train_size is not None:
        train = train.subset(slice(0, int(settings.train_size)))
    if settings.epochs > 0:
        train_model(model, train, epochs=settings.epochs, lr=settings.lr, weight_decay=settings.weight_decay,
                    batch_size=settings.batch_size, seed=settings.seed, device=settings.device, optimizer="sgd",
                    progress=progress)  # fmt: skip
    return float(evaluate(model, test, device=settings.device))


def candidate_evaluator(
    graphs: Sequence[Data],
    train: ImageDataset,
    val: ImageDataset,
    *,
    channels: int,
    head_channels: int,
    settings: TrainSettings,
    base: NetworkStats,
    dangling: str = "isolated",
    iterations: int = 50,
    on_candidate: Callable[[str], None] | None = None,
) -> Callable[[dict[str, float]], Candidate]:
    """``hparams -> Candidate`` for :func:`~graphcurv.riccinets.search.ricci_search`: prune, train, validate.

    A candidate whose pruning removes a whole stage scores accuracy 0 (and ends its episode).
    """

    def evaluate_candidate(hparams: dict[str, float]) -> Candidate:
        started = time.perf_counter()
        try:
            cuts = prune_stages(graphs, hparams, dangling=dangling, iterations=iterations)
        except GraphcurvError as exc:
            return Candidate(dict(hparams), 0.0, 0.0, 0.0, 0.0, 0.0, time.perf_counter() - started, {"error": str(exc)})
        model = build_network([c.pruned.graph for c in cuts], val, channels=channels, head_channels=head_channels,
                              seed=settings.seed)  # fmt: skip
        stats = network_stats(model, val)
        if on_candidate is not None:
            on_candidate(f"{stats.nodes} nodes, {stats.edges} edges: training")
        accuracy = train_and_test(model, train, val, settings)
        shares = stats.shares(base)
        return Candidate(dict(hparams), accuracy, float(stats.flops), shares["flops_share"], shares["weights_share"],
                         shares["edges_share"], time.perf_counter() - started, {"stats": stats})  # fmt: skip

    return evaluate_candidate
