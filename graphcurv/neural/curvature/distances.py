r"""Shortest directed distances between layers two and three apart (min-plus products).

Edges run only from layer l to layer l+1, so a path from layer l to layer l+2 has
exactly two edges and one from l to l+3 exactly three:

.. math::
    D^{(2)}_l[p, j] = \min_{i} d(p, i) + d(i, j), \qquad
    D^{(3)}_l[p, s] = \min_{j} D^{(2)}_l[p, j] + d(j, s),

with ``inf`` where no path exists. Lengths do not depend on the input, so these
matrices are computed once and shared by every calibration sample. Both are dense
(n_l x n_{l+2} and n_l x n_{l+3}), built in chunks so the temporary pairs stay bounded.
"""

from __future__ import annotations

import torch
from torch import Tensor

from graphcurv.neural.curvature.chain import ChainConnection

CHUNK = 1 << 22  # path pairs or matrix entries handled at once


def two_hop(first: ChainConnection, second: ChainConnection, n_source: int, n_middle: int, n_target: int) -> Tensor:
    """D2[p, j] over paths p -> i -> j (first: layer l -> l+1, second: l+1 -> l+2)."""
    device = first.length.device
    out = torch.full((n_source * n_target,), float("inf"), dtype=torch.float64, device=device)
    in_order, out_order = torch.argsort(first.dst, stable=True), torch.argsort(second.src, stable=True)
    in_count = torch.bincount(first.dst, minlength=n_middle)
    out_count = torch.bincount(second.src, minlength=n_middle)
    in_ptr, out_ptr = _offsets(in_count), _offsets(out_count)
    pairs = (in_count * out_count).cumsum(0)
    start = 0
    while start < n_middle:  # middle nodes [start, stop) have at most CHUNK pairs (or one node)
        base = int(pairs[start - 1]) if start else 0
        stop = max(int(torch.searchsorted(pairs, torch.tensor(base + CHUNK, device=device), right=True)), start + 1)
        stop = min(stop, n_middle)
        e1 = in_order[int(in_ptr[start]) : int(in_ptr[stop])]  # edges into the chunk's middle nodes
        middle = first.dst[e1]
        repeat = out_count[middle]
        e1r = torch.repeat_interleave(e1, repeat)
        local = torch.arange(e1r.numel(), device=device) - torch.repeat_interleave(_offsets(repeat)[:-1], repeat)
        e2 = out_order[out_ptr[first.dst[e1r]] + local]
        flat = first.src[e1r] * n_target + second.dst[e2]
        out.scatter_reduce_(0, flat, first.length[e1r] + second.length[e2], reduce="amin")
        start = stop
    return out.view(n_source, n_target)


def three_hop(d2: Tensor, third: ChainConnection, n_target: int) -> Tensor:
    """D3[p, s] = min_j D2[p, j] + d(j, s) over the edges (j -> s) of ``third``."""
    rows = d2.size(0)
    out = torch.full((rows, n_target), float("inf"), dtype=torch.float64, device=d2.device)
    step = max(1, CHUNK // max(rows, 1))
    for start in range(0, third.num_edges, step):
        src, dst = third.src[start : start + step], third.dst[start : start + step]
        values = d2[:, src] + third.length[start : start + step]
        out.scatter_reduce_(1, dst.expand(rows, -1), values, reduce="amin")
    return out


def _offsets(counts: Tensor) -> Tensor:
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)])
