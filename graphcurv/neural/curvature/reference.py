"""A straightforward neural curvature, one ``ot.emd2`` per (edge, sample): the reference.

Written independently of the fast engine, straight from the spec: a networkx DiGraph
of the materialised edges with lengths 1/|w|, shortest paths by Dijkstra from every
needed source, the measures from their definition, POT's exact solver per problem.
It reads the graph's edges only, so it is also the reference on DAGs (residual
additions, concatenations: ``docs/neural-curvature.md``): pred(i) and succ(j) are the
in- and out-neighbours, every cost and d(i, j) a directed shortest path.
It is slow (seconds for a few thousand edges) and exists to check the engine and to
time it in ``benchmarks/neural_curvature.py``.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import ot
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError


def reference_curvature(
    data: Data,
    sample: int,
    alpha: float = 0.9,
    edges: list[int] | None = None,
    distances: dict | None = None,
    network: nx.DiGraph | None = None,
) -> dict:
    """kappa_N of the materialised edges (all, or the positions ``edges`` into
    ``data.edge_index``) for calibration sample ``sample``: ``{edge position: kappa}``.

    ``distances``: a dict to keep single-source shortest paths in across calls (they do
    not depend on the sample); filled as sources are needed. ``network``: the graph from
    :func:`reference_graph`, when already built.
    """
    if data.get("edge_index") is None or data.edge_index.size(1) == 0:
        raise GraphcurvError("the reference needs materialised edges")
    ptr = list(data.layer_ptr)
    layer_of = np.searchsorted(np.asarray(ptr), np.arange(data.num_nodes), side="right") - 1
    last = len(ptr) - 2
    a = data.activation[:, sample].double().numpy()
    src, dst = data.edge_index.numpy()
    G = reference_graph(data) if network is None else network
    cache: dict[int, dict] = {} if distances is None else distances

    def dist(u: int, v: int) -> float:
        if u not in cache:
            cache[u] = nx.single_source_dijkstra_path_length(G, u, weight="length")
        return cache[u].get(v, math.inf)

    def measure(centre: int, neighbours: list[int], is_point: bool) -> tuple[list[int], list[float]]:
        active = [n for n in neighbours if a[n] > 0]
        if is_point or not active:
            return [centre], [1.0]
        raw = [math.exp(-1.0 / a[n] ** 2) for n in active]
        total = sum(raw)
        share = [1.0 / len(active)] * len(active) if total == 0 else [r / total for r in raw]
        return [centre] + active, [alpha] + [(1 - alpha) * s for s in share]

    out = {}
    for e in range(src.size) if edges is None else edges:
        i, j = int(src[e]), int(dst[e])
        li, lj = layer_of[i], layer_of[j]
        if (li >= 1 and a[i] == 0) or (lj < last and a[j] == 0):
            out[e] = 1.0
            continue
        rows, mu = measure(i, list(G.predecessors(i)), li == 0)
        cols, nu = measure(j, list(G.successors(j)), lj == last)
        cost = np.array([[dist(r, c) for c in cols] for r in rows])
        w1 = ot.emd2(np.array(mu), np.array(nu), cost)
        out[e] = (1.0 - w1 / dist(i, j)) / (1.0 - alpha)
    return out


def reference_graph(data: Data) -> nx.DiGraph:
    """The materialised edges as a networkx DiGraph with ``length = 1 / |w|``."""
    G = nx.DiGraph()
    src, dst = data.edge_index.numpy()
    for u, v, w in zip(src.tolist(), dst.tolist(), data.weight.double().tolist()):
        G.add_edge(u, v, length=1.0 / max(abs(w), 1e-30))
    return G
