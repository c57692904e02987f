r"""A distance matrix made of blocks, read in place (the blocks are not copied).

On a DAG a connection's sides spread over several layers (every connection into its
source layer, every one out of its target layer), so the matrices the engines read are
block matrices ``[D(X_a, Y_b)]_{a, b}``. Each block is what
:class:`~graphcurv.neural.curvature.distances.LayerPairDistances` keeps (a dense tensor,
a :class:`~graphcurv.neural.curvature.local.LocalMatrix` or a
:class:`~graphcurv.neural.curvature.shifted.ShiftMatrix`). A read is split by block, and
each block answers its own part.

>>> import torch
>>> m = BlockMatrix.of([[torch.zeros(1, 2), torch.ones(1, 1)], [torch.full((2, 2), 2.0), torch.full((2, 1), 3.0)]])
>>> m.shape, m[torch.tensor([0, 2, 1]), torch.tensor([2, 0, 2])].tolist()
((3, 3), [1.0, 2.0, 3.0])
>>> m.rows(0, 3).tolist()
[[0.0, 0.0, 1.0], [2.0, 2.0, 3.0], [2.0, 2.0, 3.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from graphcurv.neural.curvature.indexed import IndexedMatrix


@dataclass(frozen=True)
class BlockMatrix(IndexedMatrix):
    """Blocks ``parts[a][b]`` at rows ``row_starts[a]:row_starts[a+1]``, columns likewise."""

    parts: tuple[tuple[object, ...], ...]
    row_starts: tuple[int, ...]
    col_starts: tuple[int, ...]

    @classmethod
    def of(cls, parts: list[list[object]]) -> BlockMatrix:
        rows = [0, *np.cumsum([row[0].shape[0] for row in parts]).tolist()]
        cols = [0, *np.cumsum([m.shape[1] for m in parts[0]]).tolist()]
        return cls(tuple(tuple(row) for row in parts), tuple(rows), tuple(cols))

    @property
    def shape(self) -> tuple[int, int]:
        return self.row_starts[-1], self.col_starts[-1]

    @property
    def device(self) -> torch.device:
        first = self.parts[0][0]
        return first.device

    def to(self, device: torch.device | str) -> BlockMatrix:
        parts = tuple(tuple(m.to(device) for m in row) for row in self.parts)
        return BlockMatrix(parts, self.row_starts, self.col_starts)

    def _which(self, index: Tensor, starts: tuple[int, ...]) -> Tensor:
        return torch.searchsorted(torch.tensor(starts, device=index.device), index, right=True) - 1

    def _entries(self, r: Tensor, c: Tensor) -> Tensor:
        out = torch.full(r.shape, float("inf"), dtype=torch.float64, device=self.device)
        a_of, b_of = self._which(r, self.row_starts), self._which(c, self.col_starts)
        for a, row in enumerate(self.parts):
            for b, part in enumerate(row):
                mask = (a_of == a) & (b_of == b)
                if bool(mask.any()):
                    out[mask] = _read(part, r[mask] - self.row_starts[a], c[mask] - self.col_starts[b])
        return out

    def _block(self, r: Tensor, c: Tensor) -> Tensor:
        out = torch.full((r.numel(), c.numel()), float("inf"), dtype=torch.float64, device=self.device)
        a_of, b_of = self._which(r, self.row_starts), self._which(c, self.col_starts)
        for a, row in enumerate(self.parts):
            ra = torch.nonzero(a_of == a).flatten()
            if ra.numel() == 0:
                continue
            for b, part in enumerate(row):
                cb = torch.nonzero(b_of == b).flatten()
                if cb.numel() == 0:
                    continue
                local_r = (r[ra] - self.row_starts[a])[:, None]
                local_c = (c[cb] - self.col_starts[b])[None, :]
                out[ra[:, None], cb[None, :]] = _read(part, local_r, local_c)
        return out


def _read(part, r: Tensor, c: Tensor) -> Tensor:
    """``part[r, c]`` as a float64 tensor on ``r``'s device, whatever the part's kind."""
    if isinstance(part, Tensor):
        return part[r, c].double()
    if isinstance(part, np.ndarray):
        return torch.from_numpy(np.asarray(part[r.cpu().numpy(), c.cpu().numpy()], dtype=np.float64))
    return part[r, c]


def stack_blocks(parts: list[list[object]], dense_entries: int | None = None) -> Tensor | BlockMatrix:
    """A block matrix of dense and indexed blocks: dense (one copy) if every block is and it
    has at most ``dense_entries`` entries (None: no limit), else a :class:`BlockMatrix` that
    reads the blocks in place."""
    cols = sum(m.shape[1] for m in parts[0])
    rows = sum(row[0].shape[0] for row in parts)
    if all(isinstance(m, Tensor) for row in parts for m in row) and (
        dense_entries is None or rows * cols <= dense_entries
    ):
        return torch.cat([torch.cat(row, 1) for row in parts], 0)
    return BlockMatrix.of(parts)
