"""Several community methods on one graph, side by side: communities, modularity, ARI, NMI, seconds.

Methods (:data:`METHODS`):

* ``ricci``: :func:`~graphcurv.analyses.communities.ricci.ricci_communities`
  (Ricci flow and the cutoff sweep; its seconds include the flow);
* ``louvain``: :func:`~graphcurv.analyses.communities.baselines.louvain_labels`;
* ``sbm``: :func:`~graphcurv.analyses.communities.baselines.sbm_labels` (graph-tool).

Every method's modularity is computed the same way, on the original graph's topology
(:func:`~graphcurv.analyses.communities.modularity.modularity`), and ARI / NMI against
the ground truth (:mod:`~graphcurv.analyses.communities.metrics`), ``None`` when the
graph has none.

>>> from graphcurv.graphs import load_graph
>>> rows = compare_methods(load_graph("karate"), methods=("louvain",))
>>> rows[0].method, rows[0].communities, round(rows[0].ari, 3)
('louvain', 4, 0.465)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch_geometric.data import Data

from graphcurv.analyses.communities.baselines import louvain_labels, sbm_labels
from graphcurv.analyses.communities.labels import graph_arcs, ground_truth
from graphcurv.analyses.communities.metrics import clustering_agreement
from graphcurv.analyses.communities.modularity import modularity
from graphcurv.analyses.communities.ricci import ricci_communities
from graphcurv.analyses.communities.sweep import check_cutoff_step
from graphcurv.errors import GraphcurvError
from graphcurv.optional import import_graph_tool
from graphcurv.progress import ProgressCallback

__all__ = ["METHODS", "CommunityRow", "compare_methods"]

METHODS = ("ricci", "louvain", "sbm")
COLUMNS = ("method", "communities", "modularity", "ARI", "NMI", "seconds")


@dataclass(frozen=True)
class CommunityRow:
    """One method's result: the six table columns, plus its labels and full result."""

    method: str
    communities: int
    modularity: float
    ari: float | None
    nmi: float | None
    seconds: float
    labels: torch.Tensor
    result: Any | None = None  # RicciCommunities for "ricci"

    def values(self) -> tuple[str, int, float, float | None, float | None, float]:
        """``(method, communities, modularity, ARI, NMI, seconds)``, the columns of :data:`COLUMNS`."""
        return (self.method, self.communities, self.modularity, self.ari, self.nmi, self.seconds)


def compare_methods(
    data: Data,
    methods: Sequence[str] = METHODS,
    *,
    truth: str | Any | None = None,
    iterations: int = 20,
    alpha: float = 0.5,
    cutoff_step: float = 0.025,
    seed: int = 0,
    flowed: Any | None = None,
    progress: ProgressCallback | None = None,
    **flow_options: Any,
) -> list[CommunityRow]:
    """Run each of ``methods`` on ``data`` and score it; one :class:`CommunityRow` per method, in order.

    Args:
        methods: names from :data:`METHODS`, each at most once.
        truth: ground truth: ``None`` = ``data.y`` when present, a node attribute name,
            or labels (negative = unknown); see
            :func:`~graphcurv.analyses.communities.labels.ground_truth`.
        iterations, alpha, cutoff_step, flowed, **flow_options: for ``ricci``
            (:func:`~graphcurv.analyses.communities.ricci.ricci_communities`).
        seed: seed of Louvain and of graph-tool.
        progress: progress of the Ricci flow.

    Raises:
        GraphcurvError: an unknown or repeated method, an empty graph, bad ground truth
            or a bad ``cutoff_step``, all before anything runs.
        MissingDependencyError: ``sbm`` without graph-tool (also before anything runs).
    """
    methods = _check_methods(methods)
    graph_arcs(data)
    check_cutoff_step(cutoff_step)
    labels_truth = ground_truth(data, truth)
    if "sbm" in methods:
        import_graph_tool()
    rows = []
    for method in methods:
        started = time.perf_counter()
        result = None
        if method == "ricci":
            result = ricci_communities(
                data,
                iterations=iterations,
                alpha=alpha,
                cutoff_step=cutoff_step,
                flowed=flowed,
                progress=progress,
                **flow_options,
            )
            labels = result.labels
        elif method == "louvain":
            labels = louvain_labels(data, seed=seed)
        else:
            labels = sbm_labels(data, seed=seed)
        seconds = time.perf_counter() - started
        ari, nmi = (None, None) if labels_truth is None else clustering_agreement(labels_truth, labels)
        rows.append(
            CommunityRow(
                method=method,
                communities=int(labels.unique().numel()),
                modularity=modularity(data, labels),
                ari=ari,
                nmi=nmi,
                seconds=seconds,
                labels=labels,
                result=result,
            )
        )
    return rows


def _check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    if isinstance(methods, str):
        methods = [part.strip() for part in methods.split(",") if part.strip()]
    methods = tuple(methods)
    if not methods:
        raise GraphcurvError(f"no community method given: choose from {', '.join(METHODS)}")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise GraphcurvError(f"unknown community method {unknown[0]!r}: choose from {', '.join(METHODS)}")
    repeated = sorted({m for m in methods if methods.count(m) > 1})
    if repeated:
        raise GraphcurvError(f"community method {repeated[0]!r} is listed twice")
    return methods
