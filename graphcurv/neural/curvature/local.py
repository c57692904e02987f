r"""Distance matrices that keep only their finite entries (receptive fields are local).

In a conv net a node reaches only the nodes of its receptive field two or three layers
on, so most entries of a dense D2 / D3 are ``inf`` (a ResNet-20 at 28 x 28 would need
95 GiB of them). A :class:`LocalMatrix` stores the finite entries row by row (CSR, columns
sorted within a row) and answers the two reads the engines make, with ``inf`` where no
path exists, exactly as the dense matrix would:

* ``m[rows, cols]`` with ``rows`` and ``cols`` of one shape: entry by entry;
* ``m[np.ix_(rows, cols)]`` (a column of rows and a row of columns): a dense block.

Indices may be NumPy arrays (the result is a NumPy array) or torch tensors (a tensor on
their device).

>>> import torch
>>> dense = torch.tensor([[0.5, float("inf"), 2.0], [float("inf"), 1.0, float("inf")]], dtype=torch.float64)
>>> m = LocalMatrix.from_dense_rows([dense[:1], dense[1:]], 3)
>>> m.nnz, m[torch.tensor([0, 1, 1]), torch.tensor([2, 1, 0])].tolist()
(3, [2.0, 1.0, inf])
>>> import numpy as np
>>> m[np.ix_(np.array([1, 0]), np.array([0, 2]))].tolist()
[[inf, inf], [0.5, 2.0]]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import Tensor

from graphcurv.errors import InsufficientMemoryError
from graphcurv.neural.curvature.chain import ChainConnection
from graphcurv.neural.curvature.indexed import IndexedMatrix


@dataclass(frozen=True)
class LocalMatrix(IndexedMatrix):
    """The finite entries of a (rows x cols) float64 matrix, CSR: row r holds the columns
    ``col[ptr[r]:ptr[r+1]]`` (sorted) with values ``value[...]``; every other entry is inf."""

    ptr: Tensor
    col: Tensor
    value: Tensor
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        return int(self.col.numel())

    @property
    def device(self) -> torch.device:
        return self.value.device

    @classmethod
    def from_dense_rows(cls, blocks: Iterable[Tensor], cols: int, limit: int | None = None) -> LocalMatrix:
        """Stack dense row blocks (inf where no path), keeping their finite entries.
        ``limit``: raise :class:`InsufficientMemoryError` once the entries kept exceed it (bytes)."""
        counts, columns, values, kept, device = [], [], [], 0, None
        for block in blocks:
            device = block.device
            finite = torch.isfinite(block)
            counts.append(finite.sum(1))
            where = torch.nonzero(finite)  # row-major: columns sorted within each row
            columns.append(where[:, 1].to(torch.int32 if cols < 2**31 else torch.int64))
            values.append(block[finite])
            kept += values[-1].numel() * (8 + columns[-1].element_size())
            if limit is not None and kept > limit:
                raise InsufficientMemoryError(
                    f"the local distance matrices outgrow the memory available ({kept / 2**30:.1f} GiB kept "
                    f"so far): use smaller input images or a narrower model"
                )
        device = device or torch.device("cpu")
        count = torch.cat(counts) if counts else torch.zeros(0, dtype=torch.long, device=device)
        ptr = torch.cat([count.new_zeros(1), count.cumsum(0)])
        col = torch.cat(columns) if columns else torch.zeros(0, dtype=torch.int32, device=device)
        value = torch.cat(values) if values else torch.zeros(0, dtype=torch.float64, device=device)
        return cls(ptr, col, value, (int(count.numel()), int(cols)))

    def rows(self, start: int, stop: int) -> Tensor:
        """Rows [start, stop) as a dense block."""
        out = torch.full((stop - start, self.shape[1]), float("inf"), dtype=torch.float64, device=self.device)
        a, b = int(self.ptr[start]), int(self.ptr[stop])
        row = torch.repeat_interleave(
            torch.arange(stop - start, device=self.device), self.ptr[start + 1 : stop + 1] - self.ptr[start:stop]
        )
        out[row, self.col[a:b].long()] = self.value[a:b]
        return out

    def entries(self, start: int, stop: int) -> ChainConnection:
        """The finite entries of rows [start, stop) as edges (row - start -> column, length =
        value), for a min-plus product with a connection (:func:`~graphcurv.neural.curvature.distances.two_hop`)."""
        a, b = int(self.ptr[start]), int(self.ptr[stop])
        count = self.ptr[start + 1 : stop + 1] - self.ptr[start:stop]
        src = torch.repeat_interleave(torch.arange(stop - start, device=self.device), count)
        none = torch.zeros(0, device=self.device)
        return ChainConnection(-1, src, self.col[a:b].long(), self.value[a:b], none, -1, none.long())

    def to(self, device: torch.device | str) -> LocalMatrix:
        return LocalMatrix(self.ptr.to(device), self.col.to(device), self.value.to(device), self.shape)

    def _entries(self, r: Tensor, c: Tensor) -> Tensor:
        """Entry by entry: binary search of each column within its row."""
        out = torch.full(r.shape, float("inf"), dtype=torch.float64, device=self.device)
        if r.numel() == 0 or self.nnz == 0:
            return out
        key = self._keys()
        query = r * self.shape[1] + c
        at = torch.searchsorted(key, query).clamp(max=key.numel() - 1)
        found = key[at] == query
        out[found] = self.value[at[found]]
        return out

    def _keys(self) -> Tensor:
        """Row-major keys ``row * cols + col`` of the entries (sorted), built once."""
        key = self.__dict__.get("_key")
        if key is None:
            owner = torch.repeat_interleave(
                torch.arange(self.shape[0], device=self.device), self.ptr[1:] - self.ptr[:-1]
            )
            key = owner * self.shape[1] + self.col.long()
            object.__setattr__(self, "_key", key)
        return key

    def _block(self, r: Tensor, c: Tensor) -> Tensor:
        """A dense block: the entries of the chosen rows, their columns mapped through a
        lookup of the distinct columns (repeated ones are copied after)."""
        if r.numel() == 0 or c.numel() == 0:
            return torch.full((r.numel(), c.numel()), float("inf"), dtype=torch.float64, device=self.device)
        distinct, inverse = torch.unique(c, return_inverse=True)
        if distinct.numel() < c.numel():
            return self._block(r, distinct)[:, inverse]
        out = torch.full((r.numel(), c.numel()), float("inf"), dtype=torch.float64, device=self.device)
        lookup = torch.full((self.shape[1],), -1, dtype=torch.long, device=self.device)
        lookup[c] = torch.arange(c.numel(), device=self.device)
        start, count = self.ptr[r], self.ptr[r + 1] - self.ptr[r]
        owner = torch.repeat_interleave(torch.arange(r.numel(), device=self.device), count)
        first = torch.cat([count.new_zeros(1), count.cumsum(0)[:-1]])
        entry = start[owner] + torch.arange(owner.numel(), device=self.device) - first[owner]
        where = lookup[self.col[entry].long()]
        hit = where >= 0
        out[owner[hit], where[hit]] = self.value[entry[hit]]
        return out

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_key"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
