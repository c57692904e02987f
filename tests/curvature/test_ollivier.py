import math
import warnings

import networkx as nx
import pytest
import torch
from orc_reference import brute_force_curvature, data_from_networkx, grc_curvature
from support import cuda_only
from torch_geometric.data import Data

from graphcurv.curvature.ollivier import ollivier_ricci
from graphcurv.errors import GraphcurvError


def undirected(pairs, num_nodes, weights=None):
    src = [u for u, v in pairs] + [v for u, v in pairs]
    dst = [v for u, v in pairs] + [u for u, v in pairs]
    data = Data(edge_index=torch.tensor([src, dst]), num_nodes=num_nodes)
    if weights is not None:
        data.edge_weight = torch.tensor(list(weights) * 2, dtype=torch.float64)
    return data


def kappa_of(data, result, u, v):
    ei = data.edge_index
    pos = ((ei[0] == u) & (ei[1] == v)).nonzero().item()
    return result.edge_curvature[pos].item()


# --- hand-worked examples -------------------------------------------------------------


def test_path_by_hand():
    # Path 0-1-2, edge (0,1). alpha=0: m_0 = d_1, m_1 = (d_0 + d_2)/2, W1 = 1, kappa 0.
    # alpha=1/2: m_0 = (d_0 + d_1)/2, m_1 = d_1/2 + (d_0 + d_2)/4; after the shared mass
    # (1/4 at 0, 1/2 at 1) a quarter moves from 0 to 2 (distance 2): W1 = 1/2, kappa 1/2.
    data = undirected([(0, 1), (1, 2)], 3)
    assert kappa_of(data, ollivier_ricci(data, alpha=0.0), 0, 1) == pytest.approx(0.0, abs=1e-12)
    assert kappa_of(data, ollivier_ricci(data, alpha=0.5), 0, 1) == pytest.approx(0.5, abs=1e-12)


def test_cycle_by_hand():
    # C4, alpha=1/2: after removing shared mass (1/4 at each end) a quarter moves 0->1 and
    # a quarter 3->2, each at distance 1: W1 = 1/2, kappa = 1/2. alpha=0: W1 = 1, kappa 0.
    data = undirected([(0, 1), (1, 2), (2, 3), (3, 0)], 4)
    assert ollivier_ricci(data, alpha=0.5).edge_curvature.tolist() == pytest.approx([0.5] * 8, abs=1e-12)
    assert ollivier_ricci(data, alpha=0.0).edge_curvature.tolist() == pytest.approx([0.0] * 8, abs=1e-12)
    # C6, alpha=0: m_0 = (d_1 + d_5)/2, m_1 = (d_0 + d_2)/2; the plan 1->2, 5->0 costs 1,
    # and no plan is cheaper (1 and 5 share nothing with {0, 2}): kappa 0.
    c6 = undirected([(i, (i + 1) % 6) for i in range(6)], 6)
    assert ollivier_ricci(c6, alpha=0.0).edge_curvature.abs().max().item() < 1e-12


@pytest.mark.parametrize("n", [3, 4, 6])
def test_complete_graph_by_hand(n):
    # K_n, alpha=0: the n-2 common neighbours share their mass 1/(n-1); the rest, 1/(n-1),
    # moves from y to x at distance 1: kappa = (n-2)/(n-1).
    # alpha=1/2: what is left after the shared mass is 1/2 - 1/(2(n-1)) moving from x to y:
    # kappa = 1/2 + 1/(2(n-1)).
    data = undirected([(i, j) for i in range(n) for j in range(i + 1, n)], n)
    k0 = ollivier_ricci(data, alpha=0.0).edge_curvature
    k5 = ollivier_ricci(data, alpha=0.5).edge_curvature
    assert torch.allclose(k0, torch.full_like(k0, (n - 2) / (n - 1)), atol=1e-12)
    assert torch.allclose(k5, torch.full_like(k5, 0.5 + 1 / (2 * (n - 1))), atol=1e-12)


def test_karate_published_values():
    G = nx.karate_club_graph()
    data, nodes = data_from_networkx(G, weight=None)
    assert kappa_of(data, ollivier_ricci(data, alpha=0.5), 0, 1) == pytest.approx(0.1111, abs=5e-5)
    assert kappa_of(data, ollivier_ricci(data, alpha=0.0), 0, 1) == pytest.approx(0.1597, abs=5e-5)
    weighted, _ = data_from_networkx(G, weight="weight")
    assert kappa_of(weighted, ollivier_ricci(weighted, alpha=0.5), 0, 1) == pytest.approx(0.0396, abs=5e-5)


# --- GraphRicciCurvature and POT as references ----------------------------------------


def _unit(G):
    G = G.copy()
    for u, v in G.edges():
        G[u][v]["weight"] = 1.0
    return G


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9])
def test_matches_graphriccicurvature_karate_unweighted(alpha):
    G = _unit(nx.karate_club_graph())
    data, nodes = data_from_networkx(G)
    ours = ollivier_ricci(data, alpha=alpha).edge_curvature
    assert (ours - grc_curvature(G, data, nodes, alpha)).abs().max().item() <= 1e-9


def test_matches_graphriccicurvature_karate_weighted():
    G = nx.karate_club_graph()
    for u, v in G.edges():
        G[u][v]["weight"] = float(G[u][v]["weight"])
    data, nodes = data_from_networkx(G)
    ours = ollivier_ricci(data, alpha=0.5).edge_curvature
    assert (ours - grc_curvature(G, data, nodes)).abs().max().item() <= 1e-9


def test_matches_graphriccicurvature_directed():
    G = nx.gnp_random_graph(40, 0.12, seed=3, directed=True)
    for u, v in G.edges():
        G[u][v]["weight"] = 1.0
    data, nodes = data_from_networkx(G)
    ours = ollivier_ricci(data, alpha=0.5).edge_curvature
    assert (ours - grc_curvature(G, data, nodes)).abs().max().item() <= 1e-9


def test_matches_graphriccicurvature_directed_weighted():
    G = nx.gnp_random_graph(30, 0.15, seed=5, directed=True)
    rng = torch.Generator().manual_seed(0)
    for u, v in G.edges():
        G[u][v]["weight"] = 0.2 + torch.rand(1, generator=rng, dtype=torch.float64).item()
    data, nodes = data_from_networkx(G)
    ours = ollivier_ricci(data, alpha=0.5).edge_curvature
    assert (ours - grc_curvature(G, data, nodes)).abs().max().item() <= 1e-9


def test_isolated_nodes_and_components():
    G = nx.disjoint_union(nx.cycle_graph(5), nx.complete_graph(4))
    G = nx.disjoint_union(G, nx.path_graph(3))
    G.add_node(99)  # isolated
    G = _unit(G)
    data, nodes = data_from_networkx(G)
    result = ollivier_ricci(data, alpha=0.5)
    assert (result.edge_curvature - grc_curvature(G, data, nodes)).abs().max().item() <= 1e-9
    iso = nodes.index(99)
    assert math.isnan(result.node_curvature[iso].item())
    # node curvature = mean of incident edges, e.g. the middle of the path
    mid = nodes.index(10)  # the path 0-1-2 becomes 9-10-11 in the union
    incident = result.edge_curvature[data.edge_index[0] == mid]
    assert result.node_curvature[mid].item() == pytest.approx(incident.mean().item())


def test_matches_pot_on_random_weighted_graphs():
    for seed in range(3):
        G = nx.connected_watts_strogatz_graph(25, 4, 0.3, seed=seed)
        rng = torch.Generator().manual_seed(seed)
        for u, v in G.edges():
            G[u][v]["weight"] = 0.5 + 2 * torch.rand(1, generator=rng, dtype=torch.float64).item()
        data, nodes = data_from_networkx(G)
        ref = brute_force_curvature(G, alpha=0.3)
        ours = ollivier_ricci(data, alpha=0.3)
        for (x, y), value in ref.items():
            assert kappa_of(data, ours, nodes.index(x), nodes.index(y)) == pytest.approx(value, abs=1e-9)


def _star_with_groups(leaves, size):
    """A hub joined to every leaf, the leaves in cliques of ``size`` (2: a matching 1-2,
    3-4, ...). Each hub edge's problem is about leaves x size after the shared mass."""
    G = nx.star_graph(leaves)
    for first in range(1, leaves + 1, size):
        G.add_edges_from((u, v) for u in range(first, first + size) for v in range(u + 1, first + size))
    return G


@pytest.mark.parametrize("size", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_star_with_matching_matches_references(weighted, size, monkeypatch):
    """Issue 18 item 7: the hub edges' tall problems (300 x 2 with a matching, solved in
    closed form; 300 x 3 with triangles, solved transposed) give the references' curvature."""
    from graphcurv.transport import exact as exact_module

    real, shapes = exact_module._emd_c, []

    def recording(a, b, cost, *args):
        shapes.append((a.size, b.size))
        return real(a, b, cost, *args)

    monkeypatch.setattr(exact_module, "_emd_c", recording)
    G = _star_with_groups(300, size)
    rng = torch.Generator().manual_seed(11)
    for u, v in G.edges():
        G[u][v]["weight"] = 0.5 + torch.rand(1, generator=rng, dtype=torch.float64).item() if weighted else 1.0
    data, nodes = data_from_networkx(G)
    ours = ollivier_ricci(data, alpha=0.5, workers=1).edge_curvature
    if weighted:
        ref = brute_force_curvature(G, alpha=0.5)
        expected = torch.tensor(
            [ref.get((nodes[u], nodes[v]), ref.get((nodes[v], nodes[u]))) for u, v in data.edge_index.t().tolist()],
            dtype=torch.float64,
        )
    else:
        expected = grc_curvature(G, data, nodes)
    assert (ours - expected).abs().max().item() <= 1e-9
    assert all(rows <= cols for rows, cols in shapes)  # POT saw wide problems only
    hub_problems = [shape for shape in shapes if max(shape) > 250]
    assert len(hub_problems) == (0 if size == 2 else 300)


def test_shorter_detour_divides_by_graph_distance():
    # Triangle with a long edge (0,2) of length 5 and a detour 0-1-2 of length 2: the
    # curvature of (0,2) divides W1 by d(0,2) = 2, not by 5.
    G = nx.Graph()
    G.add_weighted_edges_from([(0, 1, 1.0), (1, 2, 1.0), (0, 2, 5.0), (2, 3, 1.0)])
    data, nodes = data_from_networkx(G)
    ref = brute_force_curvature(G, alpha=0.5)
    ours = ollivier_ricci(data, alpha=0.5)
    assert ours.distance[((data.edge_index[0] == 0) & (data.edge_index[1] == 2))].item() == 2.0
    assert kappa_of(data, ours, 0, 2) == pytest.approx(ref[(0, 2)], abs=1e-12)


# --- engine behaviour -----------------------------------------------------------------


def test_chunking_and_workers_do_not_change_results():
    G = nx.barabasi_albert_graph(300, 3, seed=1)
    data, _ = data_from_networkx(G, weight=None)
    whole = ollivier_ricci(data, workers=1).edge_curvature
    chunked = ollivier_ricci(data, workers=2, max_entries=500).edge_curvature
    assert torch.equal(whole, chunked) or (whole - chunked).abs().max().item() < 1e-14


def test_undirected_result_is_symmetric_and_aligned():
    G = nx.les_miserables_graph()
    data, nodes = data_from_networkx(G)
    result = ollivier_ricci(data)
    ei = data.edge_index
    reverse = {(u, v): i for i, (u, v) in enumerate(ei.t().tolist())}
    for i, (u, v) in enumerate(ei.t().tolist()):
        assert result.edge_curvature[i].item() == result.edge_curvature[reverse[(v, u)]].item()


def test_uniform_measure_equals_exp_on_unweighted():
    data = undirected([(0, 1), (1, 2), (2, 0), (2, 3)], 4)
    a = ollivier_ricci(data, measure="uniform").edge_curvature
    b = ollivier_ricci(data, measure="exp").edge_curvature
    assert torch.allclose(a, b, atol=1e-15)


@pytest.mark.parametrize(
    "data, message",
    [
        (Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=3), "no edges"),
        (Data(edge_index=torch.tensor([[0, 1], [0, 0]]), num_nodes=2), "self-loops"),
        (Data(edge_index=torch.tensor([[0, 1], [1, 0]]), edge_weight=torch.tensor([1.0, float("nan")]), num_nodes=2), "finite"),
        (Data(edge_index=torch.tensor([[0, 1], [1, 0]]), edge_weight=torch.tensor([-1.0, -1.0]), num_nodes=2), "positive"),
        (Data(edge_index=torch.tensor([[0, 5], [5, 0]]), num_nodes=2), "outside"),
    ],
)
def test_bad_graphs_rejected(data, message):
    with pytest.raises(GraphcurvError, match=message):
        ollivier_ricci(data)


def test_bad_parameters_rejected():
    data = undirected([(0, 1)], 2)
    with pytest.raises(GraphcurvError, match="alpha"):
        ollivier_ricci(data, alpha=1.5)
    with pytest.raises(GraphcurvError, match="solver"):
        ollivier_ricci(data, solver="magic")
    with pytest.raises(GraphcurvError, match="measure"):
        ollivier_ricci(data, measure="magic")


@cuda_only
def test_cuda_matches_cpu():
    G = nx.karate_club_graph()
    data, _ = data_from_networkx(G)
    cpu = ollivier_ricci(data).edge_curvature
    gpu = ollivier_ricci(data.to("cuda")).edge_curvature
    assert gpu.device.type == "cuda"
    assert torch.allclose(cpu, gpu.cpu(), atol=1e-12)


@pytest.mark.parametrize("solver", ["sinkhorn", "pot-batch"])
def test_batched_solvers_within_tolerance(solver):
    # W1 error <= tol, and kappa = 1 - W1/d with d = 1 on an unweighted graph.
    data, _ = data_from_networkx(nx.karate_club_graph(), weight=None)
    exact = ollivier_ricci(data).edge_curvature
    approx = ollivier_ricci(data, solver=solver, tol=1e-4).edge_curvature
    bound = 1e-4 if solver == "sinkhorn" else 2e-3  # ot.batch has no certificate (see benchmarks)
    assert (approx - exact).abs().max().item() <= bound
    if solver == "sinkhorn":  # rounded plans are feasible: W1 over-estimated, kappa under
        assert (approx - exact).max().item() <= 1e-12


@pytest.mark.parametrize(
    "directed, alpha, base, exp_power", [(False, 0.3, 2.0, 1.0), (True, 0.7, math.e, 0.0), (True, 0.5, 5.0, 3.0)]
)
def test_matches_graphriccicurvature_kernel_parameters(directed, alpha, base, exp_power):
    # weighted, with an isolated node; base/exp_power change the measure's kernel (and with
    # base 5, power 3 some nodes fall back to the uniform measure, as in GraphRicciCurvature)
    from GraphRicciCurvature.OllivierRicci import OllivierRicci

    G = nx.gnp_random_graph(35, 0.12, seed=7, directed=directed)
    G.add_node(100)
    rng = torch.Generator().manual_seed(7)
    for u, v in G.edges():
        G[u][v]["weight"] = 0.3 + 2.2 * torch.rand(1, generator=rng, dtype=torch.float64).item()
    data, nodes = data_from_networkx(G)
    orc = OllivierRicci(G, alpha=alpha, method="OTD", proc=1, verbose="ERROR", base=base, exp_power=exp_power)
    orc.compute_ricci_curvature()
    ref = torch.tensor([orc.G[nodes[u]][nodes[v]]["ricciCurvature"] for u, v in data.edge_index.t().tolist()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the uniform-fallback notice
        ours = ollivier_ricci(data, alpha=alpha, base=base, exp_power=exp_power).edge_curvature
    assert (ours - ref.to(torch.float64)).abs().max().item() <= 1e-9


@pytest.mark.parametrize("weighted", [False, True])
def test_torch_code_path_matches_numpy_path(weighted):
    # CUDA graphs run the index-heavy steps on torch tensors; force that path on the CPU.
    from graphcurv.arrays import torch_backend_on_cpu

    G = nx.gnp_random_graph(40, 0.15, seed=11, directed=weighted)
    if weighted:
        for u, v in G.edges():
            G[u][v]["weight"] = 0.5 + (u * 7 + v * 3) % 5 / 2
    data, _ = data_from_networkx(G, weight="weight" if weighted else None)
    numpy_path = ollivier_ricci(data, workers=1)
    with torch_backend_on_cpu():
        torch_path = ollivier_ricci(data, workers=1)
    assert torch.allclose(numpy_path.edge_curvature, torch_path.edge_curvature, atol=1e-12, rtol=0)
    assert torch.allclose(numpy_path.node_curvature, torch_path.node_curvature, atol=1e-12, rtol=0, equal_nan=True)
