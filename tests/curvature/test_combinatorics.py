"""Degrees, triangles and the 4-cycle counts of Balanced Forman curvature.

References are independent of the vectorised code: hand-worked small graphs, and a
brute force written from Topping et al. 2022, Definition 1, with Python sets.
"""

from __future__ import annotations

import networkx as nx
import pytest
import torch
from support import cuda_only

from graphcurv.curvature import combinatorics
from graphcurv.curvature.combinatorics import (
    SimpleAdjacency,
    degrees,
    edge_four_cycles,
    edge_triangles,
)
from graphcurv.errors import GraphcurvError


def edge_index_of(graph: nx.Graph) -> torch.Tensor:
    """Both directions of every edge, PyG style."""
    edges = list(graph.edges())
    pairs = edges + [(v, u) for u, v in edges]
    return torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t().contiguous()


def brute_triangles(graph, x, y):
    return len(set(graph[x]) & set(graph[y]))


def brute_four_cycles(graph, x, y):
    """(sq_x, sq_y, gamma_max) exactly as Definition 1 of Topping et al. 2022 reads.

    sq_x = {k in S1(x) \\ S1(y), k != y : exists w in (S1(k) & S1(y)) \\ S1(x), w != x}
    gamma_max = max over k in sq_x of A_k . (A_y - A_x * A_y) - 1, and the same over
    w in sq_y with x and y swapped (0 when there is no such k or w).
    """

    def side(a, b):
        na, nb = set(graph[a]), set(graph[b])
        found, degeneracy = [], []
        for k in na - nb - {b}:
            nk = set(graph[k])
            if any(w != a for w in (nk & nb) - na):
                found.append(k)
                degeneracy.append(len(nk & (nb - na)) - 1)  # A_k . (A_b - A_a * A_b) - 1
        return len(found), max(degeneracy, default=0)

    sq_x, gx = side(x, y)
    sq_y, gy = side(y, x)
    return sq_x, sq_y, max(gx, gy)


def check_against_brute_force(graph):
    graph = nx.convert_node_labels_to_integers(graph)
    ei = edge_index_of(graph)
    n = graph.number_of_nodes()
    tri = edge_triangles(ei, n)
    cyc = edge_four_cycles(ei, n)
    deg = degrees(ei, n)
    assert deg.tolist() == [graph.degree(v) for v in range(n)]
    for e, (x, y) in enumerate(ei.t().tolist()):
        assert tri[e].item() == brute_triangles(graph, x, y)
        expected = brute_four_cycles(graph, x, y)
        assert (cyc.sq_x[e].item(), cyc.sq_y[e].item(), cyc.gamma_max[e].item()) == expected


def values_by_edge(ei, values):
    return {tuple(e): v for e, v in zip(ei.t().tolist(), values.tolist())}


# ------------------------------------------------------------------ hand examples
def test_path():
    # path 0-1-2-3: degrees 1 2 2 1, no triangles, no 4-cycles
    ei = edge_index_of(nx.path_graph(4))
    assert degrees(ei, 4).tolist() == [1, 2, 2, 1]
    assert edge_triangles(ei, 4).tolist() == [0] * 6
    c = edge_four_cycles(ei, 4)
    assert c.sq_x.tolist() == c.sq_y.tolist() == c.gamma_max.tolist() == [0] * 6


def test_four_cycle():
    # C4 0-1-2-3: for edge (0, 1), D_0 = {3}, D_1 = {2}, 3 ~ 2: one chordless 4-cycle,
    # so sq_x = sq_y = 1 and gamma_max = 1 on every edge; no triangles
    ei = edge_index_of(nx.cycle_graph(4))
    c = edge_four_cycles(ei, 4)
    assert c.sq_x.tolist() == c.sq_y.tolist() == c.gamma_max.tolist() == [1] * 8
    assert edge_triangles(ei, 4).tolist() == [0] * 8


def test_five_cycle():
    # C5 has no 3- or 4-cycles
    ei = edge_index_of(nx.cycle_graph(5))
    c = edge_four_cycles(ei, 5)
    assert edge_triangles(ei, 5).sum() == 0
    assert c.sq_x.sum() == c.sq_y.sum() == c.gamma_max.sum() == 0


def test_triangle_and_complete_graphs():
    # K3: one triangle per edge; K4: t = 2; K5: t = 3. Every 4-cycle of K4 / K5 has
    # both diagonals, so sq = gamma_max = 0.
    for n, t in [(3, 1), (4, 2), (5, 3)]:
        ei = edge_index_of(nx.complete_graph(n))
        assert edge_triangles(ei, n).tolist() == [t] * ei.size(1)
        c = edge_four_cycles(ei, n)
        assert c.sq_x.sum() == c.sq_y.sum() == c.gamma_max.sum() == 0


def test_star():
    # K_{1,3}, centre 0: degrees 3 1 1 1, nothing else
    ei = edge_index_of(nx.star_graph(3))
    assert degrees(ei, 4).tolist() == [3, 1, 1, 1]
    assert edge_triangles(ei, 4).sum() == 0
    assert edge_four_cycles(ei, 4).gamma_max.sum() == 0


def test_two_triangles_sharing_an_edge():
    # triangles 0-1-2 and 1-2-3: t(1, 2) = 2, every other edge t = 1; the 4-cycle
    # 0-1-3-2 has the diagonal 1-2, so no chordless 4-cycle anywhere
    g = nx.Graph([(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)])
    ei = edge_index_of(g)
    t = values_by_edge(ei, edge_triangles(ei, 4))
    assert t[(1, 2)] == t[(2, 1)] == 2
    assert t[(0, 1)] == t[(0, 2)] == t[(1, 3)] == t[(3, 2)] == 1
    assert edge_four_cycles(ei, 4).sq_x.sum() == 0


def test_complete_bipartite_k23():
    # K_{2,3}, sides {0, 1} and {2, 3, 4}. Edge (0, 2): D_0 = {3, 4}, D_2 = {1};
    # 3 ~ 1 and 4 ~ 1, so sq_0 = 2, sq_2 = 1, and node 1 closes 2 cycles: gamma_max = 2
    ei = edge_index_of(nx.complete_bipartite_graph(2, 3))
    c = edge_four_cycles(ei, 5)
    sq_x, sq_y = values_by_edge(ei, c.sq_x), values_by_edge(ei, c.sq_y)
    assert (sq_x[(0, 2)], sq_y[(0, 2)]) == (2, 1)
    assert (sq_x[(2, 0)], sq_y[(2, 0)]) == (1, 2)
    assert c.gamma_max.tolist() == [2] * 12


def test_one_direction_self_loops_and_repeats_use_the_simple_graph():
    # the triangle listed once per edge, with a self-loop and a repeated edge:
    # the simple undirected graph is still the triangle; the self-loop gets 0
    ei = torch.tensor([[0, 1, 2, 1, 0], [1, 2, 0, 1, 1]])
    assert degrees(ei, 3).tolist() == [2, 2, 2]
    assert edge_triangles(ei, 3).tolist() == [1, 1, 1, 0, 1]
    c4 = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])  # C4, one direction
    assert edge_four_cycles(c4, 4).sq_x.tolist() == [1, 1, 1, 1]


def test_empty_and_isolated_nodes():
    ei = torch.empty(2, 0, dtype=torch.long)
    assert degrees(ei, 3).tolist() == [0, 0, 0]
    assert edge_triangles(ei, 3).numel() == 0
    assert edge_four_cycles(ei, 0).gamma_max.numel() == 0


@pytest.mark.parametrize(
    "edge_index, num_nodes",
    [
        (torch.tensor([0, 1]), 2),
        (torch.tensor([[0.0], [1.0]]), 2),
        (torch.tensor([[0], [5]]), 3),
        (torch.tensor([[-1], [0]]), 3),
    ],
)
def test_bad_edge_index_raises(edge_index, num_nodes):
    with pytest.raises(GraphcurvError):
        edge_triangles(edge_index, num_nodes)


# ---------------------------------------------------------------- brute force
@pytest.mark.parametrize(
    "graph",
    [
        nx.karate_club_graph(),
        nx.gnp_random_graph(30, 0.2, seed=1),
        nx.gnp_random_graph(40, 0.12, seed=2),
        nx.gnp_random_graph(25, 0.4, seed=3),
        nx.barabasi_albert_graph(60, 3, seed=4),
        nx.barabasi_albert_graph(50, 2, seed=5),
        nx.grid_2d_graph(4, 5),
        nx.complete_bipartite_graph(3, 4),
        nx.watts_strogatz_graph(40, 6, 0.2, seed=6),
    ],
    ids=["karate", "gnp30", "gnp40", "gnp25dense", "ba60", "ba50", "grid", "k34", "ws40"],
)
def test_matches_brute_force(graph):
    check_against_brute_force(graph)


def test_chunked_enumeration_matches(monkeypatch):
    # tiny chunks force every slicing path (groups kept whole, running count merges)
    graph = nx.gnp_random_graph(30, 0.25, seed=7)
    ei = edge_index_of(graph)
    whole = (edge_triangles(ei, 30), *edge_four_cycles(ei, 30))
    monkeypatch.setattr(combinatorics, "_CHUNK", 40)
    chunked = (edge_triangles(ei, 30), *edge_four_cycles(ei, 30))
    for a, b in zip(whole, chunked):
        assert torch.equal(a, b)
    check_against_brute_force(graph)  # still right with small chunks


def dense_bipartite_with_chords():
    # K_{16,16} plus a few edges inside each side: more 4-cycles (about 14,000) than
    # 2-paths (about 8,400) plus diamonds, and the extra edges make the triangles and
    # diamonds that the path count subtracts
    graph = nx.complete_bipartite_graph(16, 16)
    graph.add_edges_from([(0, 1), (1, 2), (16, 17), (20, 22)])
    return graph


@pytest.mark.parametrize("chunk", [1 << 24, 40], ids=["dense-table", "sorted"])
@pytest.mark.parametrize(
    "graph",
    [
        dense_bipartite_with_chords(),
        nx.gnp_random_graph(30, 0.3, seed=9),
        nx.complete_bipartite_graph(3, 5),
        nx.complete_graph(6),
        nx.grid_2d_graph(3, 4),
    ],
    ids=["k16-16+", "gnp30", "k35", "K6", "grid"],
)
def test_path_counting_strategy_matches_brute_force(graph, chunk, monkeypatch):
    # the 2-path strategy, forced, against the brute force of Definition 1; with small
    # chunks and 400 isolated nodes the (y, k) table would be too big: sorted branch
    monkeypatch.setattr(combinatorics, "_CHUNK", chunk)
    graph = nx.convert_node_labels_to_integers(graph)
    if chunk < 100:
        graph.add_nodes_from(range(graph.number_of_nodes(), graph.number_of_nodes() + 400))
    ei = edge_index_of(graph)
    adj = SimpleAdjacency(ei, graph.number_of_nodes())
    sq_a, sq_b, gamma = adj._four_cycles_by_paths(0)
    for e, (x, y) in enumerate(ei.t().tolist()):
        expected = brute_four_cycles(graph, x, y)
        got = adj.per_edge(sq_a, sq_b)[e], adj.per_edge(sq_b, sq_a)[e], adj.per_edge(gamma)[e]
        assert tuple(v.item() for v in got) == expected


def test_dense_bipartite_graph_switches_to_path_counting(monkeypatch):
    # K_{16,16}+: 4-cycles outnumber 2-paths, so listing hands over to path counting
    calls = []
    original = SimpleAdjacency._four_cycles_by_paths

    def spy(self, cost):
        calls.append(cost)
        return original(self, cost)

    monkeypatch.setattr(SimpleAdjacency, "_four_cycles_by_paths", spy)
    check_against_brute_force(dense_bipartite_with_chords())
    assert len(calls) == 1
    calls.clear()
    check_against_brute_force(nx.barabasi_albert_graph(60, 3, seed=4))  # stays listing
    assert not calls


def test_hopeless_four_cycle_counts_raise(monkeypatch):
    # K_{30,30}: 189,225 4-cycles and 54,000 2-paths, both above a lowered limit
    monkeypatch.setattr(combinatorics, "_MAX_FOUR_CYCLE_WORK", 1000)
    ei = edge_index_of(nx.complete_bipartite_graph(30, 30))
    with pytest.raises(GraphcurvError, match="4-cycles"):
        edge_four_cycles(ei, 60)
    assert edge_triangles(ei, 60).sum() == 0  # triangles are not affected


def test_triangle_side_sums():
    # triangles 0-1-2, 1-2-3; pair values = 10 * a + b for the pair (a, b):
    # for the pair (1, 2), apexes 0 and 3: side of 1 sums pairs (0,1), (1,3) = 1 + 13,
    # side of 2 sums (0,2), (2,3) = 2 + 23
    ei = edge_index_of(nx.Graph([(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)]))
    adj = SimpleAdjacency(ei, 4)
    values = (10 * adj.pairs[0] + adj.pairs[1]).double()
    _, sums = adj.triangles(values)
    p = adj.pair_id(torch.tensor([1]), torch.tensor([2])).item()
    assert sums[:, p].tolist() == [14.0, 25.0]


@cuda_only
def test_cuda_matches_cpu():
    graph = nx.barabasi_albert_graph(300, 4, seed=8)
    ei = edge_index_of(graph)
    cpu = (degrees(ei, 300), edge_triangles(ei, 300), *edge_four_cycles(ei, 300))
    gpu = (
        degrees(ei.cuda(), 300),
        edge_triangles(ei.cuda(), 300),
        *edge_four_cycles(ei.cuda(), 300),
    )
    for a, b in zip(cpu, gpu):
        assert b.device.type == "cuda"
        assert torch.equal(a, b.cpu())
