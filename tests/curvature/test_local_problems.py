import numpy as np
import torch

from graphcurv.curvature.distances import HopDistances
from graphcurv.curvature.local_problems import (
    build_problems,
    edge_chunks,
    neighbourhoods,
    remove_shared_mass,
    supports,
)
from graphcurv.measures import uniform_measure

# Triangle 0-1-2 with a pendant 2-3 (undirected, both directions stored).
PAIRS = [(0, 1), (1, 2), (2, 0), (2, 3)]
EI = torch.tensor([[u for u, v in PAIRS] + [v for u, v in PAIRS], [v for u, v in PAIRS] + [u for u, v in PAIRS]])


def _nb(alpha=0.5):
    length = torch.ones(EI.size(1), dtype=torch.float64)
    self_mass, edge_mass = uniform_measure(EI, length, 4, alpha=alpha, side="out")
    return neighbourhoods(EI, length, self_mass, edge_mass, 4, "out")


def test_supports_list_centre_then_neighbours():
    s = supports(_nb(), np.array([2, 3]))
    assert s.node.tolist() == [2, 0, 1, 3, 3, 2]
    assert s.pid.tolist() == [0, 0, 0, 0, 1, 1]
    assert s.mass.tolist() == [0.5, 0.5 / 3, 0.5 / 3, 0.5 / 3, 0.5, 0.5]


def test_shared_mass_removed_by_hand():
    # Edge (0, 1): m_0 = 1/2 d0 + 1/4 d1 + 1/4 d2, m_1 = 1/2 d1 + 1/4 d0 + 1/4 d2.
    # Shared: 1/4 at 0, 1/4 at 1, 1/4 at 2. Left: 1/4 at 0 (source), 1/4 at 1 (target).
    nb = _nb()
    src, dst = remove_shared_mass(supports(nb, np.array([0])), supports(nb, np.array([1])), 4)
    assert (src.node.tolist(), src.mass.tolist()) == ([0], [0.25])
    assert (dst.node.tolist(), dst.mass.tolist()) == ([1], [0.25])


def test_cost_blocks_match_hop_distances():
    nb = _nb(alpha=0.0)
    x, y = np.array([2, 0]), np.array([3, 1])
    src, dst = supports(nb, x), supports(nb, y)
    hops = HopDistances(EI, 4)
    problems = build_problems(src, dst, 2, np.ones(2), hops)
    a, b, m = problems.dense(0)  # edge (2, 3): S_2 = [2, 0, 1, 3], S_3 = [3, 2]
    assert m.tolist() == [[1, 0], [2, 1], [2, 1], [0, 1]]
    assert problems.sizes().tolist() == [[4, 2], [3, 3]]


def test_edge_chunks_respect_the_budget():
    sizes = torch.tensor([5, 5, 20, 1, 1, 1])
    chunks = list(edge_chunks(sizes, 10))
    assert chunks == [(0, 2), (2, 3), (3, 6)]
