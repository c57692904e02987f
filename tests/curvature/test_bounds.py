"""Jost-Liu lower bound and the t / max(dx, dy) upper bound of kappa at alpha = 0.

Checked against hand-worked values, the formulas evaluated with networkx and sets,
and the theorem lower <= kappa_0 <= upper with kappa_0 from an exact OT solve.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import ot
import pytest
import torch
from support import cuda_only
from torch_geometric.data import Data

from graphcurv.curvature.bounds import (
    bounds_coincide,
    curvature_upper_bound,
    jost_liu_lower_bound,
)
from graphcurv.errors import GraphcurvError

F64 = torch.float64


def data_of(graph: nx.Graph) -> Data:
    edges = list(graph.edges())
    pairs = edges + [(v, u) for u, v in edges]
    ei = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t().contiguous()
    return Data(edge_index=ei, num_nodes=graph.number_of_nodes())


def edges_of(data):
    return [tuple(e) for e in data.edge_index.t().tolist()]


def brute_bounds(graph, x, y):
    dx, dy = graph.degree(x), graph.degree(y)
    t = len(set(graph[x]) & set(graph[y]))
    upper = t / max(dx, dy)
    lower = (
        -max(0.0, 1 - 1 / dx - 1 / dy - t / min(dx, dy))
        - max(0.0, 1 - 1 / dx - 1 / dy - t / max(dx, dy))
        + t / max(dx, dy)
    )
    return lower, upper


def brute_kappa0(graph, x, y, dist):
    """kappa at alpha = 0: uniform measures on the neighbours, one exact OT solve."""
    sx, sy = list(graph[x]), list(graph[y])
    a = np.full(len(sx), 1 / len(sx))
    b = np.full(len(sy), 1 / len(sy))
    cost = np.array([[dist[u][v] for v in sy] for u in sx], dtype=float)
    return 1 - ot.emd2(a, b, cost)


def h_tree():
    # two stars joined at their centres 0 - 1, each centre with two more leaves
    return nx.Graph([(0, 1), (0, 2), (0, 3), (1, 4), (1, 5)])


def two_triangles():
    return nx.Graph([(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)])


HAND = {
    # name: (graph, edge, lower, upper, kappa_0)
    # triangle: d = 2, t = 1: 1 - 1/2 - 1/2 - 1/2 < 0, lower = upper = 1/2 = kappa_0
    "triangle": (nx.complete_graph(3), (0, 1), 0.5, 0.5, 0.5),
    # K4: d = 3, t = 2: 1/3 - 2/3 < 0, lower = upper = 2/3; kappa_0 = 2/3 (move y -> x)
    "K4": (nx.complete_graph(4), (0, 1), 2 / 3, 2 / 3, 2 / 3),
    # K5: d = 4, t = 3: 1/2 - 3/4 < 0, both 3/4
    "K5": (nx.complete_graph(5), (0, 1), 0.75, 0.75, 0.75),
    # C4 and C5: d = 2, t = 0: both brackets 0, both bounds 0 = kappa_0
    "C4": (nx.cycle_graph(4), (0, 1), 0.0, 0.0, 0.0),
    "C5": (nx.cycle_graph(5), (0, 1), 0.0, 0.0, 0.0),
    # path 0-1-2-3, middle edge: d = 2, 2 -> 0, 0; kappa_0 = 1 - 1 = 0
    "path": (nx.path_graph(4), (1, 2), 0.0, 0.0, 0.0),
    # star: leaf edge, dx = 1: 1 - 1 - 1/3 < 0 -> 0, 0
    "star": (nx.star_graph(3), (0, 1), 0.0, 0.0, 0.0),
    # tree edge between two degree-3 centres: lower = -2 (1 - 2/3) = -2/3 = kappa_0
    "H tree": (h_tree(), (0, 1), -2 / 3, 0.0, -2 / 3),
    # shared edge of two triangles: d = 3, 3, t = 2 -> as K4: 2/3, 2/3
    "shared edge": (two_triangles(), (1, 2), 2 / 3, 2 / 3, 2 / 3),
    # side edge (0, 1) there: d = 2, 3, t = 1: 1 - 1/2 - 1/3 = 1/6; 1/6 - 1/2 < 0,
    # 1/6 - 1/3 < 0 -> lower = upper = 1/3
    "side edge": (two_triangles(), (0, 1), 1 / 3, 1 / 3, 1 / 3),
    # K_{2,3}: d = 3, 2, t = 0: bracket 1 - 1/3 - 1/2 = 1/6 twice -> lower = -1/3,
    # upper 0; every neighbour of x is 1 from every neighbour of y -> kappa_0 = 0
    "K23": (nx.complete_bipartite_graph(2, 3), (0, 2), -1 / 3, 0.0, 0.0),
}


@pytest.mark.parametrize("name", list(HAND))
def test_hand_examples(name):
    graph, edge, lower, upper, kappa0 = HAND[name]
    data = data_of(graph)
    edges = edges_of(data)
    low = dict(zip(edges, jost_liu_lower_bound(data, dtype=F64).tolist()))
    up = dict(zip(edges, curvature_upper_bound(data, dtype=F64).tolist()))
    same = dict(zip(edges, bounds_coincide(data).tolist()))
    for e in (edge, edge[::-1]):
        assert low[e] == pytest.approx(lower, abs=1e-12)
        assert up[e] == pytest.approx(upper, abs=1e-12)
        assert same[e] == (abs(upper - lower) < 1e-12)
    dist = dict(nx.all_pairs_shortest_path_length(graph))
    assert brute_kappa0(graph, *edge, dist) == pytest.approx(kappa0, abs=1e-12)


GRAPHS = [
    nx.karate_club_graph(),
    nx.gnp_random_graph(30, 0.15, seed=21),
    nx.gnp_random_graph(20, 0.4, seed=22),
    nx.barabasi_albert_graph(50, 3, seed=23),
    nx.watts_strogatz_graph(30, 4, 0.2, seed=24),
    nx.random_labeled_tree(25, seed=25)
    if hasattr(nx, "random_labeled_tree")
    else nx.random_tree(25, seed=25),
]
IDS = ["karate", "gnp30", "gnp20", "ba50", "ws30", "tree"]


@pytest.mark.parametrize("graph", GRAPHS, ids=IDS)
def test_matches_formulas_and_brackets_kappa(graph):
    graph = nx.convert_node_labels_to_integers(graph)
    data = data_of(graph)
    lower = jost_liu_lower_bound(data, dtype=F64)
    upper = curvature_upper_bound(data, dtype=F64)
    same = bounds_coincide(data)
    dist = dict(nx.all_pairs_shortest_path_length(graph))
    for e, (x, y) in enumerate(edges_of(data)):
        ref_low, ref_up = brute_bounds(graph, x, y)
        assert lower[e].item() == pytest.approx(ref_low, abs=1e-12)
        assert upper[e].item() == pytest.approx(ref_up, abs=1e-12)
        if x > y:
            continue
        kappa0 = brute_kappa0(graph, x, y, dist)
        assert lower[e].item() - 1e-9 <= kappa0 <= upper[e].item() + 1e-9, (x, y)
        if same[e]:  # no transport problem needed there
            assert kappa0 == pytest.approx(upper[e].item(), abs=1e-9)


def test_bounds_coincide_tolerance():
    data = data_of(nx.complete_bipartite_graph(2, 3))  # gap 1/3 on every edge
    assert not bounds_coincide(data).any()
    assert bounds_coincide(data, atol=0.34).all()
    with pytest.raises(GraphcurvError):
        bounds_coincide(data, atol=-1.0)


@pytest.mark.parametrize("function", [jost_liu_lower_bound, curvature_upper_bound, bounds_coincide])
def test_weighted_and_directed_input_are_rejected(function):
    data = data_of(nx.cycle_graph(4))
    data.edge_weight = torch.full((8,), 2.0)
    with pytest.raises(GraphcurvError, match="unweighted"):
        function(data)
    data.edge_weight = torch.ones(8)  # unit lengths are unweighted
    assert function(data).shape == (8,)
    one_way = Data(edge_index=torch.tensor([[0, 1, 2], [1, 2, 0]]), num_nodes=3)
    with pytest.raises(GraphcurvError, match="undirected"):
        function(one_way)


def test_default_dtype():
    data = data_of(nx.complete_graph(4))
    assert jost_liu_lower_bound(data).dtype == torch.get_default_dtype()
    assert bounds_coincide(data).dtype == torch.bool


@cuda_only
def test_cuda_matches_cpu():
    data = data_of(nx.barabasi_albert_graph(300, 3, seed=26))
    for function in (jost_liu_lower_bound, curvature_upper_bound):
        cpu = function(data, dtype=F64)
        gpu = function(data.to("cuda"), dtype=F64)
        assert gpu.device.type == "cuda"
        assert torch.allclose(cpu, gpu.cpu(), rtol=0, atol=1e-12)
    gpu_mask = bounds_coincide(data.to("cuda"))
    assert gpu_mask.device.type == "cuda"
    assert torch.equal(bounds_coincide(data), gpu_mask.cpu())
