"""Two-hop distances: the dense min-plus product and the path-pair enumeration against brute force."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphcurv.neural.curvature.chain import ChainConnection
from graphcurv.neural.curvature.distances import three_hop, two_hop


def _link(rng, rows: int, cols: int, density: float) -> ChainConnection:
    src, dst = np.nonzero(rng.random((rows, cols)) < density)
    length = torch.from_numpy(1.0 / rng.uniform(0.01, 2.0, src.size))
    none = torch.zeros(0)
    return ChainConnection(-1, torch.from_numpy(src), torch.from_numpy(dst), length, none, -1, none.long())


def _brute(first: ChainConnection, second: ChainConnection, n: tuple[int, int, int]) -> np.ndarray:
    a = np.full(n[:2], np.inf)
    a[first.src.numpy(), first.dst.numpy()] = first.length.numpy()
    b = np.full(n[1:], np.inf)
    b[second.src.numpy(), second.dst.numpy()] = second.length.numpy()
    return (a[:, :, None] + b[None]).min(1)


@pytest.mark.parametrize("density", [1.0, 0.6, 0.3])  # dense product (enough pairs exist) and enumeration
def test_two_hop_equals_the_brute_force_minimum_over_paths(density):
    rng = np.random.default_rng(3)
    n = (7, 11, 5)
    first, second = _link(rng, n[0], n[1], density), _link(rng, n[1], n[2], density)
    out = two_hop(first, second, *n)
    assert np.array_equal(out.numpy(), _brute(first, second, n))  # same sums, exact minima


@pytest.mark.parametrize("density", [1.0, 0.1])
def test_three_hop_equals_the_brute_force_minimum(density):
    rng = np.random.default_rng(4)
    d2 = rng.uniform(0.5, 3.0, (6, 9))
    d2[rng.random(d2.shape) < 0.2] = np.inf
    third = _link(rng, 9, 4, density)
    out = three_hop(torch.from_numpy(d2), third, 4)
    b = np.full((9, 4), np.inf)
    b[third.src.numpy(), third.dst.numpy()] = third.length.numpy()
    assert np.array_equal(out.numpy(), (d2[:, :, None] + b[None]).min(1))
