"""Baseline community detection: Louvain (networkx) and stochastic block model inference (graph-tool).

Both run on the graph's topology (every edge counts 1; ``edge_weight`` is a length,
not an affinity) and return one community label per node, ``0 .. k - 1``.

* :func:`louvain_labels`: ``networkx.community.louvain_communities`` (Blondel et al.
  2008), greedy modularity maximisation, seeded.
* :func:`sbm_labels`: ``graph_tool.inference.minimize_blockmodel_dl`` (Peixoto 2014),
  the partition of a stochastic block model of minimum description length
  (degree-corrected by default). The fit is a stochastic agglomerative heuristic that
  can stop in a poor local optimum, so it runs ``attempts`` times and keeps the fit of
  smallest description length (``state.entropy()``), as graph-tool's documentation
  advises. graph-tool's generator is seeded (``graph_tool.seed_rng``), yet graph-tool
  2.45 gave different partitions of the same graph from the same seed in repeated runs
  (measured on football, also with one OpenMP thread), so its labels can vary between
  runs; best-of-5 made them far more stable (planted partitions of 3 x 20 and 3 x 40
  nodes: ARI 1 in 10 of 10 runs, against 5 and 5 of 10 for single fits).
  graph-tool is optional (Debian's ``python3-graph-tool``); without it this raises
  :class:`~graphcurv.errors.MissingDependencyError`.

>>> from graphcurv.graphs import load_graph
>>> labels = louvain_labels(load_graph("karate"), seed=0)
>>> labels.shape, int(labels.max()) + 1
(torch.Size([34]), 4)
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import is_undirected

from graphcurv.analyses.communities.labels import compact_labels, graph_arcs
from graphcurv.errors import GraphcurvError
from graphcurv.optional import import_graph_tool

__all__ = ["louvain_labels", "sbm_labels"]


def louvain_labels(data: Data, *, seed: int = 0, resolution: float = 1.0) -> torch.Tensor:
    """Louvain communities of ``data`` (an undirected graph, or a directed one with directed modularity).

    Args:
        seed: seed of networkx's node shuffling (the result depends on it).
        resolution: modularity resolution (> 0); above 1 favours smaller communities.

    Returns:
        (N,) long tensor of community labels.
    """
    src, dst, num_nodes = graph_arcs(data)
    if not resolution > 0:
        raise GraphcurvError(f"resolution must be positive, got {resolution!r}")
    graph = nx.Graph() if _undirected(data) else nx.DiGraph()
    graph.add_nodes_from(range(num_nodes))
    graph.add_edges_from(zip(src.tolist(), dst.tolist()))
    communities = nx.community.louvain_communities(graph, weight=None, resolution=resolution, seed=seed)
    labels = np.empty(num_nodes, dtype=np.int64)
    for index, members in enumerate(communities):
        labels[list(members)] = index
    return torch.from_numpy(compact_labels(labels))


def sbm_labels(data: Data, *, seed: int = 0, degree_corrected: bool = True, attempts: int = 5) -> torch.Tensor:
    """Blocks of the minimum-description-length stochastic block model of ``data`` (graph-tool).

    Args:
        attempts: independent fits; the one of smallest description length is kept.
        seed: seeds graph-tool's generator (``graph_tool.seed_rng``; see the module
            docstring: runs still vary).
        degree_corrected: fit the degree-corrected model (graph-tool's default).

    Returns:
        (N,) long tensor of block labels.

    Raises:
        MissingDependencyError: graph-tool is not installed.
    """
    src, dst, num_nodes = graph_arcs(data)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise GraphcurvError(f"attempts must be a positive integer, got {attempts!r}")
    gt = import_graph_tool()
    from graph_tool.inference import minimize_blockmodel_dl

    directed = not _undirected(data)
    graph = gt.Graph(directed=directed)
    graph.add_vertex(num_nodes)
    once = np.ones(src.size, dtype=bool) if directed else src < dst
    graph.add_edge_list(np.column_stack([src[once], dst[once]]))
    gt.seed_rng(seed)
    fits = [minimize_blockmodel_dl(graph, state_args={"deg_corr": degree_corrected}) for _ in range(attempts)]
    state = min(fits, key=lambda fit: fit.entropy())
    blocks = np.asarray(state.get_blocks().a, dtype=np.int64)
    return torch.from_numpy(compact_labels(blocks))


def _undirected(data: Data) -> bool:
    return bool(is_undirected(data.edge_index.cpu(), num_nodes=data.num_nodes))
