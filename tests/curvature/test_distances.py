import networkx as nx
import numpy as np
import pytest
import torch
from support import cuda_only

from graphcurv.curvature.distances import DijkstraDistances, HopDistances


def _karate():
    G = nx.karate_club_graph()
    e = np.array(G.edges())
    ei = torch.tensor(np.r_[e, e[:, ::-1]].T)
    return G, ei


def _all_pairs(n):
    return np.repeat(np.arange(n), n), np.tile(np.arange(n), n)


@pytest.mark.parametrize("max_bitmap_bytes", [1 << 30, 0])  # code table, then sorted-key search
def test_hops_match_networkx_up_to_three(max_bitmap_bytes):
    G, ei = _karate()
    hops = HopDistances(ei, 34, length=2.5, max_bitmap_bytes=max_bitmap_bytes)
    assert hops.use_bitmap == (max_bitmap_bytes > 0)
    sp = dict(nx.all_pairs_shortest_path_length(G))
    u, v = _all_pairs(34)
    expected = np.array([min(sp[a][b], 3) for a, b in zip(u, v)], dtype=float) * 2.5
    assert np.array_equal(hops(u, v), expected)
    # torch tensors give the same answer
    assert np.array_equal(hops(torch.from_numpy(u), torch.from_numpy(v)).numpy(), expected)


def test_directed_hops():
    ei = torch.tensor([[0, 1, 2], [1, 2, 3]])  # 0 -> 1 -> 2 -> 3
    hops = HopDistances(ei, 4)
    u = np.array([0, 0, 0, 1, 3])
    v = np.array([1, 2, 3, 0, 0])
    # 3 -> 0 and 1 -> 0 are unreachable; within ORC supports they never occur
    assert hops(u, v).tolist() == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_dijkstra_matches_networkx_with_bounds():
    G, ei = _karate()
    rng = np.random.default_rng(0)
    w = rng.uniform(0.1, 3.0, G.number_of_edges())
    for (a, b), x in zip(G.edges(), w):
        G[a][b]["w"] = x
    dist = DijkstraDistances(ei, torch.tensor(np.r_[w, w]), 34, max_row_bytes=8 * 34 * 5)  # groups of 5 rows
    sp = dict(nx.all_pairs_dijkstra_path_length(G, weight="w"))
    u, v = _all_pairs(34)
    expected = np.array([sp[a][b] for a, b in zip(u, v)])
    assert np.allclose(dist(u, v, expected + 1e-9), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("matrix_bytes", "dtype", "rtol"), [(8 * 34 * 34, np.float64, 0.0), (4 * 34 * 34, np.float32, 2**-24)]
)
def test_prepared_matrix_is_float64_when_it_fits_else_float32(matrix_bytes, dtype, rtol):
    G, ei = _karate()
    rng = np.random.default_rng(1)
    w = rng.uniform(0.1, 3.0, G.number_of_edges())
    for (a, b), x in zip(G.edges(), w):
        G[a][b]["w"] = x
    dist = DijkstraDistances(ei, torch.tensor(np.r_[w, w]), 34, max_matrix_bytes=matrix_bytes)
    dist.prepare(np.full(34, 100.0), map_fn=lambda f, jobs: [f(j) for j in jobs], parts=3)
    assert dist._matrix.dtype == dtype
    sp = dict(nx.all_pairs_dijkstra_path_length(G, weight="w"))
    u, v = _all_pairs(34)
    expected = np.array([sp[a][b] for a, b in zip(u, v)])
    got = dist(u, v, None)
    assert got.dtype == np.float64
    assert np.allclose(got, expected, rtol=rtol, atol=1e-12)


def test_without_room_for_the_matrix_each_query_runs_its_own_dijkstra():
    G, ei = _karate()
    w = np.linspace(0.2, 2.0, G.number_of_edges())
    for (a, b), x in zip(G.edges(), w):
        G[a][b]["w"] = x
    dist = DijkstraDistances(ei, torch.tensor(np.r_[w, w]), 34, max_matrix_bytes=100)
    dist.prepare(np.full(34, 100.0))
    assert dist._matrix is None
    sp = dict(nx.all_pairs_dijkstra_path_length(G, weight="w"))
    u, v = _all_pairs(34)
    expected = np.array([sp[a][b] for a, b in zip(u, v)])
    assert np.allclose(dist(u, v, expected + 1e-9), expected, rtol=0, atol=1e-12)


def test_dijkstra_keeps_shortest_of_parallel_edges():
    ei = torch.tensor([[0, 0, 1], [1, 1, 2]])
    dist = DijkstraDistances(ei, torch.tensor([5.0, 2.0, 1.0], dtype=torch.float64), 3)
    assert dist(np.array([0]), np.array([2]), np.array([10.0])).tolist() == [3.0]


@cuda_only
def test_hops_on_cuda():
    G, ei = _karate()
    hops = HopDistances(ei.cuda(), 34)
    u, v = (torch.from_numpy(a).cuda() for a in _all_pairs(34))
    assert torch.equal(hops(u, v).cpu(), torch.from_numpy(HopDistances(ei, 34)(*_all_pairs(34))))


@pytest.mark.parametrize("max_bitmap_bytes", [1 << 30, 0])
def test_torch_code_path_of_hops(max_bitmap_bytes):
    # the path CUDA graphs take (torch tensors throughout), forced on the CPU
    from graphcurv.arrays import torch_backend_on_cpu

    G, ei = _karate()
    u, v = _all_pairs(34)
    expected = HopDistances(ei, 34)(u, v)
    with torch_backend_on_cpu():
        hops = HopDistances(ei, 34, max_bitmap_bytes=max_bitmap_bytes)
        ut, vt = torch.from_numpy(u), torch.from_numpy(v)
        assert np.array_equal(hops(ut, vt).numpy(), expected)
        src, dst = torch.arange(34), torch.arange(34)
        ia, jb = ut.to(torch.int32), vt.to(torch.int32)
        assert np.array_equal(hops.pairs(src, dst, ia, jb).numpy(), expected)
