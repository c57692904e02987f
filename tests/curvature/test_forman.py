"""Forman, augmented Forman and Balanced Forman curvature.

Checked against hand-worked values, a networkx/set brute force of the definitions,
GraphRicciCurvature's FormanRicci, and Topping et al.'s theorem that Balanced Forman
curvature is a lower bound of the Lin-Lu-Yau curvature (= 2 * kappa at alpha 1/2).
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import ot
import pytest
import torch
from support import cuda_only
from torch_geometric.data import Data

from graphcurv.curvature.forman import augmented_forman, balanced_forman, forman
from graphcurv.errors import GraphcurvError

F64 = torch.float64


def data_of(graph: nx.Graph, weight: str | None = None, dtype=F64) -> Data:
    """PyG Data with both directions of every edge; lengths from ``weight``."""
    edges = list(graph.edges())
    pairs = edges + [(v, u) for u, v in edges]
    ei = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t().contiguous()
    data = Data(edge_index=ei, num_nodes=graph.number_of_nodes())
    if weight is not None:
        data.edge_weight = torch.tensor([float(graph[u][v][weight]) for u, v in pairs], dtype=dtype)
    return data


def edges_of(data):
    return [tuple(e) for e in data.edge_index.t().tolist()]


def unweighted(graph):
    graph = nx.convert_node_labels_to_integers(graph)
    for _, _, attrs in graph.edges(data=True):
        attrs.pop("weight", None)
    return graph


def two_triangles():
    return nx.Graph([(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)])


# ------------------------------------------------------------------- brute force
def brute_forman(graph, x, y):
    return 4 - graph.degree(x) - graph.degree(y)


def brute_augmented(graph, x, y):
    return 4 - graph.degree(x) - graph.degree(y) + 3 * len(set(graph[x]) & set(graph[y]))


def brute_balanced(graph, x, y):
    """Topping et al. 2022, Definition 1, read literally with Python sets."""
    dx, dy = graph.degree(x), graph.degree(y)
    if min(dx, dy) == 1:
        return 0.0
    nx_, ny_ = set(graph[x]), set(graph[y])
    t = len(nx_ & ny_)

    def side(a, b):
        na, nb = set(graph[a]), set(graph[b])
        count, gammas = 0, [0]
        for k in na - nb - {b}:
            nk = set(graph[k])
            closing = [w for w in (nk & nb) - na if w != a]
            if closing:
                count += 1
                gammas.append(len(closing))
        return count, max(gammas)

    (sx, gx), (sy, gy) = side(x, y), side(y, x)
    gamma = max(gx, gy)
    ric = 2 / dx + 2 / dy - 2 + 2 * t / max(dx, dy) + t / min(dx, dy)
    if gamma > 0:
        ric += (sx + sy) / (gamma * max(dx, dy))
    return ric


def brute_kappa(graph, x, y, alpha, dist):
    """Ollivier-Ricci curvature of an unweighted edge by one exact OT solve."""

    def measure(v):
        nbrs = list(graph[v])
        return [v, *nbrs], [alpha] + [(1 - alpha) / len(nbrs)] * len(nbrs)

    sx, mx = measure(x)
    sy, my = measure(y)
    cost = np.array([[dist[a][b] for b in sy] for a in sx], dtype=float)
    return 1 - ot.emd2(np.array(mx), np.array(my), cost)


RANDOM_GRAPHS = [
    nx.karate_club_graph(),
    nx.gnp_random_graph(30, 0.15, seed=11),
    nx.gnp_random_graph(20, 0.35, seed=12),
    nx.barabasi_albert_graph(50, 2, seed=13),
    nx.barabasi_albert_graph(40, 4, seed=14),
    nx.watts_strogatz_graph(30, 4, 0.3, seed=15),
    nx.grid_2d_graph(4, 4),
    nx.complete_bipartite_graph(2, 3),
]
RANDOM_IDS = ["karate", "gnp30", "gnp20", "ba50", "ba40", "ws30", "grid", "k23"]


# ---------------------------------------------------------------- hand examples
HAND = {
    # name: (graph, edge, forman 4 - dx - dy, augmented + 3t, balanced)
    # path 0-1-2: dx = 1, dy = 2 -> F = 1; min degree 1 -> Ric = 0
    "path": (nx.path_graph(3), (0, 1), 1, 1, 0.0),
    # C4: d = 2, t = 0 -> F = 0; Ric = 1 + 1 - 2 + (1 + 1) / (1 * 2) = 1
    "C4": (nx.cycle_graph(4), (0, 1), 0, 0, 1.0),
    # C5: no 4-cycle -> Ric = 1 + 1 - 2 = 0
    "C5": (nx.cycle_graph(5), (0, 1), 0, 0, 0.0),
    # triangle: d = 2, t = 1 -> aug 3; Ric = 1 + 1 - 2 + 2/2 + 1/2 = 1.5
    "triangle": (nx.complete_graph(3), (0, 1), 0, 3, 1.5),
    # K4: d = 3, t = 2 -> F = -2, aug 4; Ric = 2/3 + 2/3 - 2 + 4/3 + 2/3 = 4/3
    "K4": (nx.complete_graph(4), (0, 1), -2, 4, 4 / 3),
    # K5: d = 4, t = 3 -> F = -4, aug 5; Ric = 1/2 + 1/2 - 2 + 6/4 + 3/4 = 5/4
    "K5": (nx.complete_graph(5), (0, 1), -4, 5, 5 / 4),
    # star K_{1,3}: 4 - 3 - 1 = 0; a leaf -> Ric = 0
    "star": (nx.star_graph(3), (0, 1), 0, 0, 0.0),
    # two triangles 0-1-2, 1-2-3, shared edge (1, 2): d = 3, 3, t = 2 -> like K4
    "shared edge": (two_triangles(), (1, 2), -2, 4, 4 / 3),
    # edge (0, 1) there: d = 2, 3, t = 1 -> F = -1, aug 2;
    # Ric = 1 + 2/3 - 2 + 2/3 + 1/2 = 5/6 (the 4-cycle 0-1-3-2 has the chord 1-2)
    "side edge": (two_triangles(), (0, 1), -1, 2, 5 / 6),
    # K_{2,3}: d = 3, 2, t = 0 -> F = -1; sq = 2 + 1, gamma_max = 2:
    # Ric = 2/3 + 1 - 2 + 3 / (2 * 3) = 1/6
    "K23": (nx.complete_bipartite_graph(2, 3), (0, 2), -1, -1, 1 / 6),
}


@pytest.mark.parametrize("name", list(HAND))
def test_hand_examples(name):
    graph, edge, f1, aug, bal = HAND[name]
    data = data_of(graph)
    values = {
        "forman": forman(data, dtype=F64),
        "augmented": augmented_forman(data, dtype=F64),
        "balanced": balanced_forman(data, dtype=F64),
    }
    expected = {"forman": f1, "augmented": aug, "balanced": bal}
    edges = edges_of(data)
    for key, result in values.items():
        by_edge = dict(zip(edges, result.tolist()))
        assert by_edge[edge] == pytest.approx(expected[key], abs=1e-12), key
        assert by_edge[edge[::-1]] == pytest.approx(expected[key], abs=1e-12), key


def test_weighted_hand_examples():
    # path 0 -4- 1 -1- 2: F(e) = 2 - w_e * sum over the other edges e' at either end of
    # 1 / sqrt(w_e w_e'): edge (0, 1): 2 - 4 * 1 / sqrt(4 * 1) = 0;
    # edge (1, 2): 2 - 1 * 1 / sqrt(1 * 4) = 1.5
    path = nx.Graph()
    path.add_edge(0, 1, weight=4.0)
    path.add_edge(1, 2, weight=1.0)
    by_edge = dict(zip(edges_of(data_of(path, "weight")), forman(data_of(path, "weight")).tolist()))
    assert by_edge[(0, 1)] == pytest.approx(0.0, abs=1e-12)
    assert by_edge[(2, 1)] == pytest.approx(1.5, abs=1e-12)
    # triangle with w01 = 4, others 1: augmented F(e) = w_e * (t w_e + 2 / w_e - 0)
    # (no neighbour outside the triangle): (0, 1): 4 * (4 + 1/2) = 18; (0, 2): 3
    tri = nx.Graph()
    tri.add_edge(0, 1, weight=4.0)
    tri.add_edge(0, 2, weight=1.0)
    tri.add_edge(1, 2, weight=1.0)
    data = data_of(tri, "weight")
    by_edge = dict(zip(edges_of(data), augmented_forman(data).tolist()))
    assert by_edge[(1, 0)] == pytest.approx(18.0, abs=1e-12)
    assert by_edge[(0, 2)] == pytest.approx(3.0, abs=1e-12)


@pytest.mark.parametrize("graph", RANDOM_GRAPHS, ids=RANDOM_IDS)
def test_matches_brute_force(graph):
    graph = unweighted(graph)
    data = data_of(graph)
    f1, aug, bal = forman(data), augmented_forman(data), balanced_forman(data, dtype=F64)
    for e, (x, y) in enumerate(edges_of(data)):
        assert f1[e].item() == brute_forman(graph, x, y)
        assert aug[e].item() == brute_augmented(graph, x, y)
        assert bal[e].item() == pytest.approx(brute_balanced(graph, x, y), abs=1e-12)


# --------------------------------------------------------- GraphRicciCurvature
def grc_forman(graph, method):
    from GraphRicciCurvature.FormanRicci import FormanRicci

    frc = FormanRicci(graph, method=method)
    frc.compute_ricci_curvature()
    return frc.G


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("method", ["1d", "augmented"])
def test_matches_graphriccicurvature_on_karate(method, weighted):
    karate = nx.karate_club_graph()  # integer 'weight' attributes (1..7)
    graph = karate if weighted else unweighted(karate)
    data = data_of(graph, "weight" if weighted else None)
    ours = (forman if method == "1d" else augmented_forman)(data, dtype=F64)
    ref_graph = grc_forman(graph, method)
    ref = torch.tensor([ref_graph[x][y]["formanCurvature"] for x, y in edges_of(data)], dtype=F64)
    assert torch.allclose(ours, ref, rtol=0, atol=1e-9)
    if weighted:  # the weights matter: values differ from the unweighted ones
        plain = (forman if method == "1d" else augmented_forman)(data_of(unweighted(karate)))
        assert not torch.allclose(ours, plain.to(F64))


def test_balanced_matches_graphriccicurvature():
    # GraphRicciCurvature 0.6.1 (pinned in the dev extra) has method="balanced".
    for graph in RANDOM_GRAPHS:
        graph = unweighted(graph)
        data = data_of(graph)
        ref_graph = grc_forman(graph, "balanced")
        ref = torch.tensor(
            [ref_graph[x][y]["formanCurvature"] for x, y in edges_of(data)], dtype=F64
        )
        assert torch.allclose(balanced_forman(data, dtype=F64), ref, rtol=0, atol=1e-12)


# ------------------------------------------------------------------- theorem
@pytest.mark.parametrize(
    "graph",
    [*RANDOM_GRAPHS[:6], *(HAND[name][0] for name in HAND)],
    ids=[*RANDOM_IDS[:6], *HAND],
)
def test_balanced_forman_is_below_lin_lu_yau(graph):
    # Topping et al. 2022, Theorem 2: Ric(x, y) <= kappa_LLY(x, y) = 2 * kappa_{1/2}(x, y)
    graph = unweighted(graph)
    data = data_of(graph)
    bal = balanced_forman(data, dtype=F64)
    dist = dict(nx.all_pairs_shortest_path_length(graph))
    for e, (x, y) in enumerate(edges_of(data)):
        if x > y:
            continue
        kappa_lly = 2 * brute_kappa(graph, x, y, 0.5, dist)
        assert bal[e].item() <= kappa_lly + 1e-9, (x, y)


# --------------------------------------------------------------- input checks
@pytest.mark.parametrize("function", [forman, augmented_forman, balanced_forman])
def test_directed_input_is_rejected(function):
    one_way = Data(edge_index=torch.tensor([[0, 1, 2], [1, 2, 0]]), num_nodes=3)
    with pytest.raises(GraphcurvError, match="undirected"):
        function(one_way)
    both = data_of(nx.complete_graph(3), dtype=F64)
    both.edge_weight = torch.tensor([1.0, 2.0, 1.0, 1.0, 1.0, 1.0], dtype=F64)
    with pytest.raises(GraphcurvError, match="undirected"):  # lengths differ by direction
        function(both)


@pytest.mark.parametrize("function", [forman, augmented_forman, balanced_forman])
def test_self_loops_repeats_and_bad_lengths_are_rejected(function):
    loop = Data(edge_index=torch.tensor([[0, 1, 1], [1, 0, 1]]), num_nodes=2)
    with pytest.raises(GraphcurvError, match="self-loops"):
        function(loop)
    repeated = Data(edge_index=torch.tensor([[0, 1, 0, 1], [1, 0, 1, 0]]), num_nodes=2)
    with pytest.raises(GraphcurvError, match="repeats"):
        function(repeated)
    for bad in (0.0, -1.0, math.nan, math.inf):
        data = data_of(nx.path_graph(2))
        data.edge_weight = torch.tensor([bad, bad])
        with pytest.raises(GraphcurvError, match="finite and positive"):
            function(data)


def test_balanced_forman_rejects_weights_but_accepts_unit_lengths():
    data = data_of(nx.cycle_graph(4))
    data.edge_weight = torch.full((8,), 2.0)
    with pytest.raises(GraphcurvError, match="unweighted"):
        balanced_forman(data)
    data.edge_weight = torch.ones(8)
    assert balanced_forman(data).tolist() == [1.0] * 8


def test_dtype_and_unit_weights():
    data = data_of(nx.karate_club_graph())
    assert forman(data).dtype == torch.get_default_dtype()
    assert balanced_forman(data, dtype=F64).dtype == F64
    weighted = data_of(nx.karate_club_graph(), "weight", dtype=F64)
    assert augmented_forman(weighted).dtype == F64
    ones = data_of(nx.karate_club_graph())
    ones.edge_weight = torch.ones(ones.edge_index.size(1), dtype=F64)
    assert torch.equal(augmented_forman(ones), augmented_forman(data, dtype=F64))
    empty = Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=3)
    assert forman(empty).numel() == balanced_forman(empty).numel() == 0


@cuda_only
def test_cuda_matches_cpu():
    graph = nx.barabasi_albert_graph(300, 4, seed=16)
    data = data_of(graph)
    weighted = data.clone()
    weighted.edge_weight = torch.rand(data.edge_index.size(1) // 2, dtype=F64).repeat(2) + 0.5
    for function, graph_data in [
        (forman, data),
        (augmented_forman, data),
        (balanced_forman, data),
        (forman, weighted),
        (augmented_forman, weighted),
    ]:
        cpu = function(graph_data, dtype=F64)
        gpu = function(graph_data.to("cuda"), dtype=F64)
        assert gpu.device.type == "cuda"
        assert torch.allclose(cpu, gpu.cpu(), rtol=1e-12, atol=1e-12)


def test_forman_curvature_picks_a_method_by_name():
    from graphcurv.curvature.forman import FORMAN_CURVATURES, forman_curvature
    from graphcurv.errors import GraphcurvError

    ei = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
    data = Data(edge_index=ei, num_nodes=3)
    assert sorted(FORMAN_CURVATURES) == ["augmented", "balanced", "forman"]
    for name, function in [("forman", forman), ("augmented", augmented_forman), ("balanced_forman", balanced_forman)]:
        assert torch.equal(forman_curvature(data, name), function(data))
    assert forman_curvature(data, "augmented_forman", dtype=torch.float32).dtype == torch.float32
    with pytest.raises(GraphcurvError, match="unknown Forman curvature 'ollivier'.*augmented, balanced, forman"):
        forman_curvature(data, "ollivier")
