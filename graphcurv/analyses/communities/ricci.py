"""Curvature communities (Ni et al. 2019): Ricci flow, then a cutoff sweep over the flowed weights.

:func:`ricci_communities` runs :func:`graphcurv.flow.ricci_flow` (unless flowed
weights are given), then :func:`~graphcurv.analyses.communities.sweep.community_sweep`,
and returns the clustering of highest modularity on the original graph together with
the whole sweep and the flow result.

Disconnected graphs: the flow runs per connected component (each component's flowed
weights have mean 1), and no sweep cutoff ever joins two components, so every
component is split on its own and never dropped.

Example:

>>> from graphcurv.graphs import load_graph
>>> found = ricci_communities(load_graph("karate"), iterations=10)
>>> found.num_communities, round(found.modularity, 3)
(4, 0.405)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data

from graphcurv.analyses.communities.labels import graph_arcs
from graphcurv.analyses.communities.sweep import CommunitySweep, check_cutoff_step, community_sweep
from graphcurv.errors import GraphcurvError
from graphcurv.progress import ProgressCallback

__all__ = ["RicciCommunities", "ricci_communities"]


@dataclass(frozen=True)
class RicciCommunities:
    """Communities found by Ricci flow.

    Attributes:
        labels: (N,) long, community of each node (the best cutoff of the sweep).
        modularity: its modularity on the original graph (every edge counts 1).
        num_communities: number of communities.
        cutoff: the flowed-weight cutoff that produced them.
        sweep: the whole sweep (cutoff -> number of communities, modularity).
        flowed_weight: (E,) the flowed weights the sweep used (CPU, float64).
        flow: the :class:`~graphcurv.flow.RicciFlowResult`, or ``None`` when flowed
            weights were passed in as a tensor.
    """

    labels: torch.Tensor
    modularity: float
    num_communities: int
    cutoff: float
    sweep: CommunitySweep
    flowed_weight: torch.Tensor
    flow: Any | None = None


def ricci_communities(
    data: Data,
    *,
    iterations: int = 20,
    alpha: float = 0.5,
    cutoff_step: float = 0.025,
    min_cutoff: float | None = None,
    flowed: Any | None = None,
    progress: ProgressCallback | None = None,
    **flow_options: Any,
) -> RicciCommunities:
    """Communities of ``data`` from Ricci flow and a modularity-maximising cutoff sweep.

    Args:
        data: the graph (``edge_weight`` = lengths the flow starts from).
        iterations: Ricci flow iterations (ignored when ``flowed`` is given).
        alpha: laziness of the Ollivier-Ricci measures in the flow.
        cutoff_step: distance between consecutive cutoffs of the sweep (> 0).
        min_cutoff: lowest cutoff (default: the smallest flowed weight).
        flowed: skip the flow and sweep these weights instead: a ``RicciFlowResult``
            (anything with ``edge_weight``) or an (E,) tensor / array.
        progress: progress of the flow (and of the sweep), ``progress(done, total, desc)``.
        **flow_options: passed to :func:`graphcurv.flow.ricci_flow` (``step``,
            ``delta``, ``surgery``, ``update``, ``solver``, ``workers``).

    Raises:
        GraphcurvError: an empty graph, a non-positive ``cutoff_step`` (checked before
            the flow runs), flowed weights of the wrong shape, or flow options given
            together with ``flowed``.
    """
    graph_arcs(data)  # an empty graph fails here, before any flow
    check_cutoff_step(cutoff_step)
    if flowed is None:
        from graphcurv.flow import ricci_flow

        flow = ricci_flow(data, iterations=iterations, alpha=alpha, progress=progress, **flow_options)
        weight = flow.edge_weight
    else:
        if flow_options:
            raise GraphcurvError(
                f"flow options ({', '.join(sorted(flow_options))}) have no effect when flowed weights are given"
            )
        flow = flowed if hasattr(flowed, "edge_weight") else None
        weight = flowed.edge_weight if flow is not None else flowed
    sweep = community_sweep(data, weight, cutoff_step=cutoff_step, min_cutoff=min_cutoff, progress=progress)
    if isinstance(weight, torch.Tensor):
        weight = weight.detach().cpu().to(torch.float64)
    else:  # validated by the sweep
        weight = torch.as_tensor(np.asarray(weight, dtype=np.float64))
    return RicciCommunities(
        labels=sweep.labels,
        modularity=sweep.best_modularity,
        num_communities=sweep.best_num_communities,
        cutoff=sweep.best_cutoff,
        sweep=sweep,
        flowed_weight=weight,
        flow=flow,
    )
