r"""Communities from flowed weights: sweep a cutoff, cut heavier edges, score modularity.

After Ricci flow, edges inside communities have shrunk and the edges between them
have stretched (Ni et al. 2019). A cutoff :math:`c` keeps the edges with flowed
weight :math:`w_e \le c`; the connected components of what is kept are the
communities, scored by modularity on the *original* graph, where every edge counts 1
(:mod:`~graphcurv.analyses.communities.modularity`: ``edge_weight`` is a length, not
an affinity).

Cutoffs go from the largest flowed weight downwards in steps of ``cutoff_step``
(:math:`c_k = w_{max} - k \cdot \mathrm{step}`), as GraphRicciCurvature does, down to
``min_cutoff``. GraphRicciCurvature stops at 1; graphcurv's flowed weights have mean 1
per connected component, so intra-community edges sit below 1 and the default floor
is the smallest flowed weight, so the sweep sees every distinct cut. The first cutoff
keeps every edge (the graph's own components); cutoffs near the floor cut almost all
edges and give singleton-heavy partitions with modularity near or below 0; they are
reported as they are. The best clustering is the one of highest modularity (the
largest cutoff among ties).

Unlike GraphRicciCurvature, which picks the cut at a drop of the modularity of the
*cut* graph weighted by the flowed metric, graphcurv maximises the modularity of the
partition on the original graph: the quantity every method here is compared on.

Each distinct set of kept edges is evaluated once (cutoffs that keep the same edges
share a result): ``scipy.sparse.csgraph.connected_components`` per set, modularity
from per-community arc counts and degree sums.

Example: two triangles joined by a stretched bridge.

>>> import torch
>>> from torch_geometric.utils import to_undirected
>>> ei = to_undirected(torch.tensor([[0, 1, 2, 3, 4, 5, 2], [1, 2, 0, 4, 5, 3, 3]]))
>>> from torch_geometric.data import Data
>>> data = Data(edge_index=ei, num_nodes=6)
>>> bridge = (ei[0] == 2) & (ei[1] == 3) | (ei[0] == 3) & (ei[1] == 2)
>>> sweep = community_sweep(data, torch.where(bridge, 3.0, 0.5), cutoff_step=0.5)
>>> sweep.labels.tolist(), sweep.num_communities.tolist()
([0, 0, 0, 1, 1, 1], [1, 2, 2, 2, 2, 2])
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components
from torch_geometric.data import Data

from graphcurv.analyses.communities.labels import graph_arcs
from graphcurv.analyses.communities.modularity import partition_modularity
from graphcurv.errors import GraphcurvError
from graphcurv.progress import ProgressCallback, report

__all__ = ["MAX_CUTOFFS", "CommunitySweep", "check_cutoff_step", "community_sweep"]

MAX_CUTOFFS = 1_000_000
"""More cutoffs than this is a ``cutoff_step`` far too small for the weights' range."""


@dataclass(frozen=True)
class CommunitySweep:
    """The whole sweep (one entry per cutoff, largest first) and its best clustering.

    Attributes:
        cutoffs: (K,) cutoffs, decreasing; edges heavier than a cutoff are cut.
        num_communities: (K,) number of connected components left at each cutoff.
        modularity: (K,) modularity of those components on the original graph.
        best_index: index of the cutoff with the highest modularity.
        labels: (N,) long, community of each node at the best cutoff (``0 .. k - 1``).
    """

    cutoffs: np.ndarray
    num_communities: np.ndarray
    modularity: np.ndarray
    best_index: int
    labels: torch.Tensor

    @property
    def best_cutoff(self) -> float:
        return float(self.cutoffs[self.best_index])

    @property
    def best_modularity(self) -> float:
        return float(self.modularity[self.best_index])

    @property
    def best_num_communities(self) -> int:
        return int(self.num_communities[self.best_index])

    def rows(self) -> list[tuple[float, int, float]]:
        """``(cutoff, number of communities, modularity)`` for every cutoff, largest first."""
        return [(float(c), int(k), float(q)) for c, k, q in zip(self.cutoffs, self.num_communities, self.modularity)]


def community_sweep(
    data: Data,
    flowed_weight: Any,
    *,
    cutoff_step: float = 0.025,
    min_cutoff: float | None = None,
    progress: ProgressCallback | None = None,
) -> CommunitySweep:
    """Sweep cutoffs over ``flowed_weight`` and return every cutoff's communities and modularity.

    Args:
        data: the graph (its topology; ``edge_weight`` is not used).
        flowed_weight: (E,) non-negative flowed lengths aligned with ``data.edge_index``
            (both directions of an undirected edge should carry the same value; an edge
            is kept while either direction is). ``inf`` marks an edge cut by surgery
            during the flow: it is never kept.
        cutoff_step: distance between consecutive cutoffs (> 0).
        min_cutoff: the lowest cutoff (default: the smallest flowed weight); at most the
            largest flowed weight.
        progress: called as ``progress(done, total, "community sweep")``.

    Raises:
        GraphcurvError: an empty graph, weights of the wrong shape, NaN, negative or
            all infinite, a non-positive ``cutoff_step``, a floor above the largest
            weight, or more than :data:`MAX_CUTOFFS` cutoffs.
    """
    src, dst, num_nodes = graph_arcs(data)
    weight = _flowed_weights(flowed_weight, src.size)
    cutoffs = _cutoffs(weight, cutoff_step, min_cutoff)
    order = np.argsort(weight, kind="stable")
    kept_counts = np.searchsorted(weight[order], cutoffs, side="right")  # arcs with w <= cutoff
    sorted_src, sorted_dst = src[order], dst[order]
    out_degree = np.bincount(src, minlength=num_nodes)
    in_degree = np.bincount(dst, minlength=num_nodes)

    distinct, position = np.unique(kept_counts, return_inverse=True)
    num_communities = np.empty(distinct.size, dtype=np.int64)
    scores = np.empty(distinct.size)
    best_labels, best_score = None, -math.inf
    for i, kept in enumerate(distinct[::-1]):  # from most edges kept (largest cutoff) down
        j = distinct.size - 1 - i
        adjacency = sp.coo_array(
            (np.ones(kept, dtype=np.int8), (sorted_src[:kept], sorted_dst[:kept])), shape=(num_nodes, num_nodes)
        ).tocsr()
        num_communities[j], labels = connected_components(adjacency, directed=False)
        scores[j] = partition_modularity(src, dst, labels, out_degree, in_degree)
        if scores[j] > best_score:
            best_score, best_labels = scores[j], labels
        report(progress, i + 1, distinct.size, "community sweep")

    modularity = scores[position.reshape(-1)]
    best_index = int(np.argmax(modularity))
    return CommunitySweep(
        cutoffs=cutoffs,
        num_communities=num_communities[position.reshape(-1)],
        modularity=modularity,
        best_index=best_index,
        labels=torch.from_numpy(best_labels.astype(np.int64)),
    )


def _flowed_weights(flowed_weight: Any, num_arcs: int) -> np.ndarray:
    if isinstance(flowed_weight, torch.Tensor):
        flowed_weight = flowed_weight.detach().cpu().to(torch.float64).numpy()
    try:
        weight = np.asarray(flowed_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GraphcurvError(f"flowed weights must be numbers: {exc}") from None
    if weight.shape != (num_arcs,):
        raise GraphcurvError(
            f"flowed weights must hold one value per edge of edge_index ({num_arcs}), got shape {weight.shape}"
        )
    if np.any(np.isnan(weight)) or np.any(weight < 0):
        raise GraphcurvError("flowed weights must be non-negative numbers (NaN found or a negative value)")
    if not np.any(np.isfinite(weight)):
        raise GraphcurvError("every flowed weight is infinite (every edge was cut): nothing to sweep")
    return weight


def check_cutoff_step(cutoff_step: float) -> float:
    """``cutoff_step`` as a float, or a clear error when it is not a positive finite number."""
    if isinstance(cutoff_step, bool) or not isinstance(cutoff_step, numbers.Real):
        raise GraphcurvError(f"cutoff_step must be a positive number, got {cutoff_step!r}")
    if not (math.isfinite(cutoff_step) and cutoff_step > 0):
        raise GraphcurvError(f"cutoff_step must be a positive number, got {cutoff_step!r}")
    return float(cutoff_step)


def _cutoffs(weight: np.ndarray, cutoff_step: float, min_cutoff: float | None) -> np.ndarray:
    cutoff_step = check_cutoff_step(cutoff_step)
    finite = weight[np.isfinite(weight)]
    top = float(finite.max())
    floor = float(finite.min()) if min_cutoff is None else float(min_cutoff)
    if not math.isfinite(floor) or floor > top:
        raise GraphcurvError(f"min_cutoff must be a number at most the largest flowed weight ({top:.6g}), got {floor}")
    count = math.floor((top - floor) / cutoff_step * (1 + 1e-12)) + 1
    if count > MAX_CUTOFFS:
        raise GraphcurvError(
            f"cutoff_step {cutoff_step:g} gives {count:,} cutoffs between {floor:.6g} and {top:.6g} "
            f"(at most {MAX_CUTOFFS:,}): use a larger step or a higher min_cutoff"
        )
    return np.maximum(top - cutoff_step * np.arange(count, dtype=np.float64), floor)
