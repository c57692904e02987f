r"""Shortest directed distances between layers two and three apart (min-plus products).

Edges run only from layer l to layer l+1, so a path from layer l to layer l+2 has
exactly two edges and one from l to l+3 exactly three:

.. math::
    D^{(2)}_l[p, j] = \min_{i} d(p, i) + d(i, j), \qquad
    D^{(3)}_l[p, s] = \min_{j} D^{(2)}_l[p, j] + d(j, s),

with ``inf`` where no path exists. Lengths do not depend on the input, so these
matrices are computed once and shared by every calibration sample. Small ones are
dense (n_l x n_{l+2} and n_l x n_{l+3}), built in chunks so the temporary pairs stay
bounded; one of more than :data:`DENSE_ENTRIES` entries is built a block of rows at a
time and keeps only its finite entries (:class:`~graphcurv.neural.curvature.local.LocalMatrix`:
a conv node reaches only its receptive field), unless every path between the two layers
runs through shared windows (convolutions, pooling, identity skips): then it is one
table per border class (:class:`~graphcurv.neural.curvature.shifted.ShiftMatrix`), built
without enumerating paths. A minimum is exact whatever the order, so every form holds
the same values bit for bit.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor

from graphcurv.neural.curvature.chain import ChainConnection
from graphcurv.neural.curvature.indexed import IndexedMatrix
from graphcurv.neural.curvature.local import LocalMatrix
from graphcurv.neural.curvature.shifted import ShiftMatrix, WindowTerm, compose, diagonal_lengths, length_table
from graphcurv.neural.memory import DENSE_ENTRIES, ROW_ENTRIES

CHUNK = 1 << 22  # path pairs or matrix entries handled at once
DENSER = 5  # a dense min-plus product beats enumerating path pairs above 1/DENSER of its work


def two_hop(first: ChainConnection, second: ChainConnection, n_source: int, n_middle: int, n_target: int) -> Tensor:
    """D2[p, j] over paths p -> i -> j (first: layer l -> l+1, second: l+1 -> l+2)."""
    device = first.length.device
    out = torch.full((n_source * n_target,), float("inf"), dtype=torch.float64, device=device)
    in_order, out_order = torch.argsort(first.dst, stable=True), torch.argsort(second.src, stable=True)
    in_count = torch.bincount(first.dst, minlength=n_middle)
    out_count = torch.bincount(second.src, minlength=n_middle)
    in_ptr, out_ptr = _offsets(in_count), _offsets(out_count)
    pairs = (in_count * out_count).cumsum(0)
    total = int(pairs[-1]) if n_middle else 0
    dense = n_source * n_middle * n_target
    if DENSER * total >= dense and max(n_source * n_middle, n_middle * n_target) <= DENSE_ENTRIES:
        # enough path pairs exist (dense layers): a dense min-plus product, same sums and minima
        return _min_plus(_dense(first, n_source, n_middle), _dense(second, n_middle, n_target))
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


def _dense(link: ChainConnection, rows: int, cols: int) -> Tensor:
    """The connection's lengths as a dense (rows, cols) matrix, inf where no edge."""
    out = torch.full((rows * cols,), float("inf"), dtype=torch.float64, device=link.length.device)
    out.scatter_reduce_(0, link.src * cols + link.dst, link.length.double(), reduce="amin")
    return out.view(rows, cols)


def _min_plus(a: Tensor, b: Tensor) -> Tensor:
    r"""(a (x) b)[p, j] = min_i a[p, i] + b[i, j], in row chunks of about ``CHUNK`` entries.

    >>> inf = float("inf")
    >>> _min_plus(torch.tensor([[1.0, 2.0]]), torch.tensor([[5.0, inf], [1.0, 4.0]])).tolist()
    [[3.0, 6.0]]
    """
    out = torch.empty((a.size(0), b.size(1)), dtype=torch.float64, device=a.device)
    step = max(1, CHUNK // max(a.size(1) * b.size(1), 1))
    for start in range(0, a.size(0), step):
        out[start : start + step] = (a[start : start + step, :, None] + b[None]).amin(1)
    return out


def three_hop(d2: Tensor, third: ChainConnection, n_target: int) -> Tensor:
    """D3[p, s] = min_j D2[p, j] + d(j, s) over the edges (j -> s) of ``third``."""
    rows, middle = d2.shape
    if DENSER * third.num_edges >= middle * n_target and middle * n_target <= DENSE_ENTRIES:
        return _min_plus(d2, _dense(third, middle, n_target))  # same sums and minima, vectorised
    out = torch.full((rows, n_target), float("inf"), dtype=torch.float64, device=d2.device)
    step = max(1, CHUNK // max(rows, 1))
    for start in range(0, third.num_edges, step):
        src, dst = third.src[start : start + step], third.dst[start : start + step]
        values = d2[:, src] + third.length[start : start + step]
        out.scatter_reduce_(1, dst.expand(rows, -1), values, reduce="amin")
    return out


def _offsets(counts: Tensor) -> Tensor:
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)])


class LayerPairDistances:
    r"""Shortest directed distances between the nodes of two layers of a DAG, dense, memoised.

    .. math::
        D(X, Y) = \min_{c\,:\,Z \to Y} \begin{cases}
            d_c & Z = X \text{ (the edges of } c\text{)} \\
            D(X, Z) \oplus d_c & \text{otherwise}
        \end{cases}

    over the connections c into Y (``\oplus``: a min-plus product with c's edges), inf
    where no path exists. When Z's only path from X is a single connection X -> Z, the
    product is :func:`two_hop` of the two connections, and a longer path is
    :func:`three_hop` of the distances so far with c, so on a chain ``D(l, l+2)`` and
    ``D(l, l+3)`` are exactly the D2 and D3 above, value for value. ``between(X, Y)``
    keeps every matrix it computes, so matrices shared by several connections (a chain's
    D2 is read by two) are built once.
    """

    def __init__(self, chain, limit: int | None = None) -> None:
        self.chain, self.limit = chain, limit  # limit: bytes the local matrices may keep
        self._memo: dict[tuple[int, int], Tensor] = {}
        self._shifted: dict[tuple[int, int], ShiftMatrix | None] = {}
        self._lengths: dict[int, Tensor | None] = {}
        self._reach = _reachable(chain)

    def reaches(self, x: int, y: int) -> bool:
        return y in self._reach[x]

    def only_direct(self, x: int, y: int) -> int | None:
        """The connection X -> Y when it is the only path from X to Y, else None."""
        into = self.chain.into(y)
        direct = [k for k in into if self.chain.links[k].source == x]
        others = [k for k in into if self.chain.links[k].source != x and self.reaches(x, self.chain.links[k].source)]
        return direct[0] if len(direct) == 1 and not others else None

    def between(self, x: int, y: int) -> Tensor | LocalMatrix | ShiftMatrix:
        """D(X, Y), an (n_X, n_Y) float64 matrix; above :data:`DENSE_ENTRIES` entries a
        :class:`ShiftMatrix` where the paths allow it, else a :class:`LocalMatrix`."""
        key = (x, y)
        if key not in self._memo:
            sizes, shifted = self.chain.sizes, self.shifted(x, y)
            if sizes[x] * sizes[y] <= DENSE_ENTRIES:
                self._memo[key] = self._rows(x, y, 0, sizes[x]) if shifted is None else shifted.rows(0, sizes[x])
            elif shifted is not None:
                self._memo[key] = shifted
            else:
                step = max(1, ROW_ENTRIES // max(sizes[y], 1))
                blocks = (self._rows(x, y, a, min(a + step, sizes[x])) for a in range(0, sizes[x], step))
                self._memo[key] = LocalMatrix.from_dense_rows(blocks, sizes[y], limit=self.limit)
        return self._memo[key]

    def shifted(self, x: int, y: int) -> ShiftMatrix | None:
        """D(X, Y) as border-class tables, or None unless every connection on a path X -> Y
        is a shared window (memoised, like the tables of the layers in between)."""
        key = (x, y)
        if key in self._shifted:
            return self._shifted[key]
        shapes, result = self.chain.shapes, None
        if shapes and len(shapes[x]) >= 2 and len(shapes[y]) == len(shapes[x]):
            if x == y:
                result = ShiftMatrix.identity(shapes[x], self.chain.links[0].length.device)
            else:
                terms: list[WindowTerm] | None = []
                for k in self.chain.into(y):
                    z = self.chain.links[k].source
                    if z != x and not self.reaches(x, z):
                        continue
                    lengths, before = self._window_lengths(k), self.shifted(x, z)
                    if lengths is None or before is None:
                        terms = None
                        break
                    terms.append(WindowTerm(self.chain.links[k].grid, lengths, before, diagonal_lengths(lengths)))
                result = compose(terms, shapes[y]) if terms else None
        self._shifted[key] = result
        return result

    def _window_lengths(self, k: int) -> Tensor | None:
        if k not in self._lengths:
            link, shapes = self.chain.links[k], self.chain.shapes
            self._lengths[k] = length_table(link, shapes[link.source], shapes[link.target])
        return self._lengths[k]

    def _rows(self, x: int, y: int, start: int, stop: int) -> Tensor:
        """Rows [start, stop) of D(X, Y), dense."""
        chain, sizes = self.chain, self.chain.sizes
        device = chain.links[0].length.device
        rows, out = stop - start, None
        for k in chain.into(y):
            link = chain.links[k]
            z = link.source
            if z == x:
                part = _source_rows(link, start, stop)
                term = torch.full((rows, sizes[y]), float("inf"), dtype=torch.float64, device=device)
                term.view(-1).scatter_reduce_(0, part.src * sizes[y] + part.dst, part.length, reduce="amin")
            elif self.reaches(x, z):
                first = self.only_direct(x, z)
                if first is not None:
                    term = two_hop(_source_rows(chain.links[first], start, stop), link, rows, sizes[z], sizes[y])
                else:
                    before = self.between(x, z)
                    if isinstance(before, IndexedMatrix):  # join its finite entries with the edges z -> y
                        term = two_hop(before.entries(start, stop), link, rows, sizes[z], sizes[y])
                    else:
                        term = three_hop(before[start:stop], link, sizes[y])
            else:
                continue
            out = term if out is None else torch.minimum(out, term)
        if out is None:
            out = torch.full((rows, sizes[y]), float("inf"), dtype=torch.float64, device=device)
        return out


def _source_rows(link: ChainConnection, start: int, stop: int) -> ChainConnection:
    """The edges of ``link`` whose source is in [start, stop), sources counted from ``start``."""
    if start == 0 and (link.num_edges == 0 or int(link.src.max()) < stop):
        return link
    keep = (link.src >= start) & (link.src < stop)
    return replace(link, src=link.src[keep] - start, dst=link.dst[keep], length=link.length[keep])


def _reachable(chain) -> list[set[int]]:
    """Per layer: the layers reachable from it by one or more connections."""
    reach: list[set[int]] = [set() for _ in range(chain.num_layers)]
    for layer in reversed(range(chain.num_layers)):
        for k in chain.out_of(layer):
            target = chain.links[k].target
            reach[layer] |= {target} | reach[target]
    return reach
