r"""Distances between conv layers as one table per border class: weights are shared.

A convolution applies the same kernel at every position, so away from the image
border the distances from a node to the layers below are those of its neighbour,
shifted. Along one spatial dimension, target position ``o`` of a connection reads the
source positions ``q = o s - p + k \delta`` that exist (``0 <= q < n``), for kernel
offsets ``k``. Let ``S_Z`` be the product of the strides from layer X to layer Z. Then
every path X -> Y enters position ``o`` of Y from source positions ``i = S_Y o + r``,
where the offset ``r`` depends only on the kernel offsets along the path. Two target
positions whose backward cones have the same pattern of existing positions are
*equivalent*: a *border class*. This is checked exactly, one dimension at a time (the
windows are separable). Equivalent positions have the same distances, shifted:

.. math::
    D\bigl((c, i), (c', o)\bigr) = T_{\mathrm{class}(o)}[c,\; i - S_Y o - r_0,\; c'],

where ``r_0`` is the lowest offset and ``inf`` is used outside the table's box. The
tables follow the recursion

.. math::
    T^{Y}_a[c, r, c'] = \min_{Z \to Y,\ k} \min_{c_z}
        T^{Z}_{\mathrm{class}(q)}[c, r - S_Z (k \delta - p), c_z] + L[c', c_z, k]

over the connections into Y, starting from ``T^X[c, 0, c] = 0`` (the identity). It is
evaluated at one representative position per class, so the work is classes x kernel
x channels^2, and no longer nodes x paths. Every entry is a minimum of the same path
sums, added in the same order (along the path) as the pair enumeration of
:mod:`~graphcurv.neural.curvature.distances`, so the values are bit for bit the same.

A connection qualifies when its edges are those of a shared window. Its lengths
``L[c', c_z, k]`` are read from its edges, and the check is exact: each
(channel pair, offset) must have one length at every position, and the number of
edges must be what the window predicts. This holds for convolutions (with any stride,
padding, dilation or groups), max pooling, average pooling with a constant divisor,
and identity skips. Anything else (linear layers, adaptive pooling, index maps) falls
back to the pair enumeration.

>>> import torch
>>> t = ShiftMatrix.identity((1, 3))
>>> t[torch.tensor([0, 1]), torch.tensor([0, 0])].tolist()
[0.0, inf]
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from graphcurv.neural.curvature.chain import ChainConnection
from graphcurv.neural.curvature.indexed import IndexedMatrix


@dataclass(frozen=True)
class ShiftMatrix(IndexedMatrix):
    """D(X, Y) between layers of shapes ``source`` and ``target`` (channel first).

    ``classes[d][o]``: the border class of target position ``o`` along dimension ``d``;
    ``table``: (classes, C_X, *box, C_Y), where class ids are mixed radix over the
    dimensions; ``low[d]``: the offset of the box's first cell; ``stride[d]``: S_Y.
    """

    source: tuple[int, ...]
    target: tuple[int, ...]
    stride: tuple[int, ...]
    low: tuple[int, ...]
    classes: tuple[Tensor, ...]
    table: Tensor

    @classmethod
    def identity(cls, shape: tuple[int, ...], device: torch.device | str = "cpu") -> ShiftMatrix:
        """D(X, X): 0 from each node to itself, inf elsewhere."""
        channels, dims = shape[0], len(shape) - 1
        table = torch.full((1, channels, *(1,) * dims, channels), float("inf"), dtype=torch.float64, device=device)
        table.view(channels, channels).fill_diagonal_(0.0)
        zeros = tuple(torch.zeros(n, dtype=torch.long, device=device) for n in shape[1:])
        return cls(tuple(shape), tuple(shape), (1,) * dims, (0,) * dims, zeros, table)

    @property
    def shape(self) -> tuple[int, int]:
        return math.prod(self.source), math.prod(self.target)

    @property
    def device(self) -> torch.device:
        return self.table.device

    @property
    def box(self) -> tuple[int, ...]:
        return tuple(self.table.shape[2:-1])

    @property
    def nbytes(self) -> int:
        return self.table.numel() * self.table.element_size()

    def class_counts(self) -> tuple[int, ...]:
        return tuple(int(c.max()) + 1 if c.numel() else 1 for c in self.classes)

    def to(self, device: torch.device | str) -> ShiftMatrix:
        classes = tuple(c.to(device) for c in self.classes)
        return ShiftMatrix(self.source, self.target, self.stride, self.low, classes, self.table.to(device))

    def _block(self, r: Tensor, c: Tensor) -> Tensor:
        """A dense block (rows ``r`` x columns ``c``): the class and cell of every pair of
        distinct positions first (few: a receptive field's), then one gather."""
        (_, *source), (cy, *target) = self.source, self.target
        if r.numel() == 0 or c.numel() == 0:
            return torch.full((r.numel(), c.numel()), float("inf"), dtype=torch.float64, device=self.device)
        rows_at, cols_at = math.prod(source), math.prod(target)
        row_pos, row_pos_of = torch.unique(r % rows_at, return_inverse=True)
        col_pos, col_pos_of = torch.unique(c % cols_at, return_inverse=True)
        base = self._cells(row_pos[:, None], col_pos[None, :])  # (row positions, column positions), -1 outside
        cells = math.prod(self.box)
        pair = base[row_pos_of[:, None], col_pos_of[None, :]]
        flat = pair + ((r // rows_at) * cells * cy)[:, None] + (c // cols_at)[None, :]
        return self._gather(flat, pair >= 0)

    def _cells(self, position: Tensor, position_out: Tensor) -> Tensor:
        """Flat table offset of (class, channel 0, cell, channel 0) for source positions
        ``position`` and target positions ``position_out`` (broadcast), -1 outside the box."""
        (cx, *source), (cy, *target) = self.source, self.target
        flat_class = torch.zeros_like(position_out)
        flat_cell = torch.zeros(torch.broadcast_shapes(position.shape, position_out.shape), dtype=torch.long)
        flat_cell = flat_cell.to(self.device)
        inside = torch.ones_like(flat_cell, dtype=torch.bool)
        counts, box = self.class_counts(), self.box
        for d in range(len(source)):
            i = (position // math.prod(source[d + 1 :])) % source[d]
            o = (position_out // math.prod(target[d + 1 :])) % target[d]
            rel = i - self.stride[d] * o - self.low[d]
            inside &= (rel >= 0) & (rel < box[d])
            flat_class = flat_class * counts[d] + self.classes[d][o]
            flat_cell = flat_cell * box[d] + rel.clamp(0, box[d] - 1)
        cells = math.prod(box)
        base = (flat_class * cx * cells + flat_cell) * cy
        return torch.where(inside, base, -1)

    def _entries(self, r: Tensor, c: Tensor) -> Tensor:
        if r.numel() == 0:
            return torch.full(r.shape, float("inf"), dtype=torch.float64, device=self.device)
        rows_at, cols_at = math.prod(self.source[1:]), math.prod(self.target[1:])
        base = self._cells(r % rows_at, c % cols_at)
        flat = base + (r // rows_at) * math.prod(self.box) * self.target[0] + c // cols_at
        return self._gather(flat, base >= 0)

    def _gather(self, flat: Tensor, inside: Tensor) -> Tensor:
        """Table entries at flat offsets ``flat``, inf where not ``inside`` (one gather, no
        boolean indexing: offsets outside are clamped into the table, then masked)."""
        values = self.table.reshape(-1).take(flat.clamp(0, self.table.numel() - 1))
        return values.masked_fill_(~inside, float("inf"))


def length_table(link: ChainConnection, source: tuple[int, ...], target: tuple[int, ...]) -> Tensor | None:
    """L[c', c_z, k] (k: flat kernel offset), inf where no edge, read from the edges of a
    connection with a ``grid``; None unless they are exactly a shared window's."""
    if link.grid is None:
        return None
    kernel, stride, pad, dilation = link.grid
    (cz, *src_sp), (cy, *dst_sp) = source, target
    device = link.src.device
    cells = math.prod(kernel)
    channel_in, channel_out = link.src // math.prod(src_sp), link.dst // math.prod(dst_sp)
    flat_k = torch.zeros_like(link.src)
    ok = torch.ones_like(link.src, dtype=torch.bool)
    for d in range(len(kernel)):
        q = (link.src // math.prod(src_sp[d + 1 :])) % src_sp[d]
        o = (link.dst // math.prod(dst_sp[d + 1 :])) % dst_sp[d]
        step = q - o * stride[d] + pad[d]
        k = torch.div(step, dilation[d], rounding_mode="floor")
        ok &= (step % dilation[d] == 0) & (k >= 0) & (k < kernel[d])
        flat_k = flat_k * kernel[d] + k.clamp(0, kernel[d] - 1)
    if not bool(ok.all()):
        return None
    key = (channel_out * cz + channel_in) * cells + flat_k
    low = torch.full((cy * cz * cells,), float("inf"), dtype=torch.float64, device=device)
    high = torch.full_like(low, -float("inf"))
    low.scatter_reduce_(0, key, link.length, reduce="amin")
    high.scatter_reduce_(0, key, link.length, reduce="amax")
    present = torch.isfinite(low)
    if not bool((low[present] == high[present]).all()):
        return None  # lengths vary with the position (e.g. an average pool's border divisor)
    valid = torch.ones(1, dtype=torch.long)
    for d in range(len(kernel)):
        per_k = torch.tensor(
            [_valid(dst_sp[d], src_sp[d], stride[d], pad[d], dilation[d], k) for k in range(kernel[d])]
        )
        valid = (valid.view(-1, 1) * per_k.view(1, -1)).reshape(-1)
    expected = int((present.view(cy * cz, cells).cpu().long() * valid).sum())
    if expected != link.num_edges:
        return None
    return low.view(cy, cz, cells)


def _valid(n_out: int, n_in: int, stride: int, pad: int, dilation: int, k: int) -> int:
    """How many target positions read an existing source position at offset k."""
    return sum(0 <= o * stride - pad + k * dilation < n_in for o in range(n_out))


@dataclass(frozen=True)
class WindowTerm:
    """A connection Z -> Y taking part in D(X, Y): its window, lengths and D(X, Z)."""

    grid: tuple[tuple[int, ...], ...]
    lengths: Tensor  # (C_Y, C_Z, kernel cells)
    before: ShiftMatrix
    diagonal: Tensor | None  # per channel, when only c' = c_z has edges (pooling, skips)


def compose(terms: list[WindowTerm], target: tuple[int, ...]) -> ShiftMatrix | None:
    """D(X, Y) from the connections into Y (the recursion above); None if their strides
    disagree (no single shift relates the positions)."""
    dims = len(target) - 1
    strides = {tuple(t.before.stride[d] * t.grid[1][d] for d in range(dims)) for t in terms}
    if len(strides) != 1:
        return None
    stride = strides.pop()
    first = terms[0].before
    classes, reps = zip(*(_classes(terms, target, d) for d in range(dims)))
    low, high = [], []
    for d in range(dims):
        shifts = [(_shift(t, d, k), t.before.box[d]) for t in terms for k in range(t.grid[0][d])]
        low.append(min(start for start, _ in shifts))
        high.append(max(start + size - 1 for start, size in shifts))
    box = tuple(h - lo + 1 for lo, h in zip(low, high))
    cx, cy = first.source[0], target[0]
    counts = tuple(len(r) for r in reps)
    table = torch.full((math.prod(counts), cx, *box, cy), float("inf"), dtype=torch.float64, device=first.device)
    for flat, combo in enumerate(itertools.product(*(range(n) for n in counts))):
        rep = tuple(reps[d][a] for d, a in enumerate(combo))
        for t in terms:
            _accumulate(table[flat], t, rep, low)
    return ShiftMatrix(first.source, tuple(target), stride, tuple(low), tuple(classes), table)


def _classes(terms: list[WindowTerm], target: tuple[int, ...], d: int) -> tuple[Tensor, list[int]]:
    """Border classes along dimension d: positions whose cones (existing source positions
    at each offset, and their classes) match. Returns the class of each position and a
    representative of each class."""
    n = target[d + 1]
    seen: dict[tuple, int] = {}
    ids, reps = [], []
    for o in range(n):
        signature = []
        for t in terms:
            kernel, stride, pad, dilation = (part[d] for part in t.grid)
            below = t.before.classes[d]
            cone = []
            for k in range(kernel):
                q = o * stride - pad + k * dilation
                if 0 <= q < below.numel():
                    cone.append((k, int(below[q])))
            signature.append(tuple(cone))
        key = tuple(signature)
        if key not in seen:
            seen[key] = len(reps)
            reps.append(o)
        ids.append(seen[key])
    return torch.tensor(ids, dtype=torch.long, device=terms[0].before.device), reps


def _accumulate(out: Tensor, term: WindowTerm, rep: tuple[int, ...], low: list[int]) -> None:
    """Fold the paths through one connection into ``out`` (C_X, *box, C_Y), the table of
    the class whose representative target position is ``rep``."""
    kernel, stride, pad, dilation = term.grid
    before = term.before
    counts = before.class_counts()
    box = before.box
    cx, cz = before.source[0], before.target[0]
    for k in itertools.product(*(range(n) for n in kernel)):
        q = [rep[d] * stride[d] - pad[d] + k[d] * dilation[d] for d in range(len(kernel))]
        if not all(0 <= q[d] < before.target[d + 1] for d in range(len(kernel))):
            continue
        flat_class = 0
        for d in range(len(kernel)):
            flat_class = flat_class * counts[d] + int(before.classes[d][q[d]])
        flat_k = 0
        for d in range(len(kernel)):
            flat_k = flat_k * kernel[d] + k[d]
        block = before.table[flat_class].reshape(-1, cz)  # (C_X * box cells, C_Z)
        if term.diagonal is not None:
            reached = block + term.diagonal[:, flat_k]
        else:
            reached = _min_plus(block, term.lengths[:, :, flat_k].T)
        where = tuple(
            slice(_shift(term, d, k[d]) - low[d], _shift(term, d, k[d]) - low[d] + box[d]) for d in range(len(k))
        )
        view = out[(slice(None), *where, slice(None))]
        torch.minimum(view, reached.view(cx, *box, -1), out=view)


def _shift(term: WindowTerm, d: int, k: int) -> int:
    """Along dimension d, the offset (from ``S_Y o``) of the first cell of D(X, Z)'s box
    reached through kernel offset k: ``S_Z (k dilation - padding) + r_0(Z)``."""
    _, _, pad, dilation = term.grid
    return term.before.stride[d] * (k * dilation[d] - pad[d]) + term.before.low[d]


def _min_plus(a: Tensor, b: Tensor) -> Tensor:
    """out[r, c] = min_z a[r, z] + b[z, c], one inner index at a time (no 3-d temporary)."""
    out = a[:, :1] + b[:1]
    term = torch.empty_like(out)
    for z in range(1, a.size(1)):
        torch.add(a[:, z : z + 1], b[z : z + 1], out=term)
        torch.minimum(out, term, out=out)
    return out


def diagonal_lengths(lengths: Tensor) -> Tensor | None:
    """(C, cells) lengths when only c' = c_z has edges, else None."""
    cy, cz, cells = lengths.shape
    if cy != cz:
        return None
    eye = torch.eye(cy, dtype=torch.bool, device=lengths.device)
    if bool(torch.isfinite(lengths[~eye]).any()):
        return None
    return lengths[eye].view(cy, cells)
