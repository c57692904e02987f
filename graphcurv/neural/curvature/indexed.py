"""What every distance matrix that is not held dense answers: reads by index.

The engines read a distance matrix in two ways, with ``inf`` where no path exists:

* ``m[rows, cols]`` with ``rows`` and ``cols`` of one shape (or broadcastable): entry by entry;
* ``m[np.ix_(rows, cols)]`` (a column of rows and a row of columns): a dense block.

Indices may be NumPy arrays (the result is a NumPy array) or torch tensors (a tensor on
the matrix's device). A subclass provides ``_entries(r, c)`` and ``_block(r, c)`` on flat
long tensors, ``shape``, ``device`` and ``to``; rows and their finite entries follow.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch
from torch import Tensor

from graphcurv.neural.curvature.chain import ChainConnection


class IndexedMatrix(ABC):
    """Reads of a (rows x cols) float64 matrix by index (see the module docstring)."""

    shape: tuple[int, int]
    device: torch.device

    @abstractmethod
    def _entries(self, r: Tensor, c: Tensor) -> Tensor:
        """Entries (r[k], c[k]) of flat long tensors."""

    @abstractmethod
    def _block(self, r: Tensor, c: Tensor) -> Tensor:
        """The dense block rows ``r`` x columns ``c``."""

    def __getitem__(self, index) -> np.ndarray | Tensor:
        rows, cols = index
        numpy = isinstance(rows, np.ndarray) or isinstance(cols, np.ndarray)
        r = torch.as_tensor(np.asarray(rows) if numpy else rows, device=self.device).long()
        c = torch.as_tensor(np.asarray(cols) if numpy else cols, device=self.device).long()
        if r.dim() == 2 and c.dim() == 2 and r.size(1) == 1 and c.size(0) == 1:
            out = self._block(r.reshape(-1), c.reshape(-1))
        else:
            r, c = torch.broadcast_tensors(r, c)
            out = self._entries(r.reshape(-1), c.reshape(-1)).view(r.shape)
        return out.cpu().numpy() if numpy else out

    def rows(self, start: int, stop: int) -> Tensor:
        """Rows [start, stop) as a dense block."""
        return self._block(
            torch.arange(start, stop, device=self.device), torch.arange(self.shape[1], device=self.device)
        )

    def entries(self, start: int, stop: int) -> ChainConnection:
        """The finite entries of rows [start, stop) as edges (row - start -> column, length =
        value), for a min-plus product with a connection (:func:`~graphcurv.neural.curvature.distances.two_hop`)."""
        block = self.rows(start, stop)
        src, dst = torch.nonzero(torch.isfinite(block), as_tuple=True)
        none = torch.zeros(0, device=self.device)
        return ChainConnection(-1, src, dst, block[src, dst], none, -1, none.long())
