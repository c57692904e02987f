"""Independent references for Ollivier-Ricci tests: GraphRicciCurvature and brute-force POT."""

from __future__ import annotations

import networkx as nx
import numpy as np
import ot
import torch
from torch_geometric.data import Data


def data_from_networkx(G: nx.Graph, weight: str | None = "weight") -> tuple[Data, list]:
    """Data with nodes in G's order; undirected graphs get both directions."""
    nodes = list(G.nodes())
    index = {n: i for i, n in enumerate(nodes)}
    pairs = [(index[u], index[v], float(G[u][v][weight]) if weight else 1.0) for u, v in G.edges()]
    src = [p[0] for p in pairs]
    dst = [p[1] for p in pairs]
    w = [p[2] for p in pairs]
    if not G.is_directed():
        src, dst, w = src + dst, dst + src, w + w
    data = Data(
        edge_index=torch.tensor([src, dst], dtype=torch.long),
        edge_weight=torch.tensor(w, dtype=torch.float64),
        num_nodes=len(nodes),
    )
    return data, nodes


def grc_curvature(G: nx.Graph, data: Data, nodes: list, alpha: float = 0.5) -> torch.Tensor:
    """GraphRicciCurvature 0.6.1, exact OT, on G; aligned with data.edge_index."""
    from GraphRicciCurvature.OllivierRicci import OllivierRicci

    orc = OllivierRicci(G, alpha=alpha, method="OTD", proc=1, verbose="ERROR", weight="weight")
    orc.compute_ricci_curvature()
    H = orc.G
    values = [H[nodes[u]][nodes[v]]["ricciCurvature"] for u, v in data.edge_index.t().tolist()]
    return torch.tensor(values, dtype=torch.float64)


def brute_force_curvature(G: nx.Graph, alpha: float, weight: str | None = "weight") -> dict:
    """kappa(x, y) = 1 - W1 / d(x, y) with lazy uniform measures (unweighted) or the
    exp(-d^2) kernel (weighted), all-pairs networkx distances and ot.emd2."""
    dist = dict(nx.all_pairs_dijkstra_path_length(G, weight=weight)) if weight else dict(
        nx.all_pairs_shortest_path_length(G)
    )

    def measure(node, nbrs, lengths):
        if not nbrs:
            return [node], np.array([1.0])
        raw = np.exp(-np.asarray(lengths, dtype=float) ** 2)
        return [node] + nbrs, np.concatenate([[alpha], (1 - alpha) * raw / raw.sum()])

    out = {}
    for x, y in G.edges():
        if G.is_directed():
            nx_, lx = list(G.predecessors(x)), [G[p][x][weight] if weight else 1.0 for p in G.predecessors(x)]
            ny_, ly = list(G.successors(y)), [G[y][s][weight] if weight else 1.0 for s in G.successors(y)]
        else:
            nx_, lx = list(G[x]), [G[x][p][weight] if weight else 1.0 for p in G[x]]
            ny_, ly = list(G[y]), [G[y][s][weight] if weight else 1.0 for s in G[y]]
        sx, a = measure(x, nx_, lx)
        sy, b = measure(y, ny_, ly)
        M = np.array([[dist[u][v] for v in sy] for u in sx], dtype=float)
        out[(x, y)] = 1.0 - ot.emd2(a, b, M) / dist[x][y]
    return out
