"""Independent reference for RicciNets tests: the mass formula by hand, networkx distances, POT's exact W1."""

import networkx as nx
import numpy as np
import ot
import torch


def pot_directed_curvature(ei, n, alpha, beta, gamma, delta):
    """Directed ORC from scratch: masses by the formula, networkx distances, POT's exact W1."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(ei.t().tolist())
    n_in, n_out = dict(g.in_degree()), dict(g.out_degree())

    def raw(z):
        ratio = n_out[z] / n_in[z] if n_in[z] else 0.0
        return beta / (n_in[z] + n_out[z]) + gamma * n_in[z] + delta * ratio

    def spread(x, neighbours):
        if not neighbours:
            return {x: 1.0}
        r = np.array([raw(z) for z in neighbours])
        share = r / r.sum() if r.sum() > 1e-7 else np.full(len(r), 1 / len(r))
        return {x: alpha, **{z: (1 - alpha) * s for z, s in zip(neighbours, share, strict=True)}}

    dist = dict(nx.all_pairs_shortest_path_length(g))
    out = []
    for s, t in ei.t().tolist():
        ms, mt = spread(s, list(g.predecessors(s))), spread(t, list(g.successors(t)))
        a, b = list(ms), list(mt)
        cost = np.array([[dist[u].get(v, np.inf) for v in b] for u in a], dtype=float)
        w1 = ot.emd2(np.array([ms[u] for u in a]), np.array([mt[v] for v in b]), cost)
        out.append(1 - w1 / dist[s][t])
    return torch.tensor(out, dtype=torch.float64)
