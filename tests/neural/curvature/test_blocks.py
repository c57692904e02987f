"""Block matrices read in place: the same reads as the concatenated dense matrix."""

from __future__ import annotations

import numpy as np
import torch

from graphcurv.neural.curvature.blocks import BlockMatrix, stack_blocks
from graphcurv.neural.curvature.shifted import ShiftMatrix
from tests.neural.curvature.test_local import _local, _random_dense


def test_stacked_blocks_equal_the_concatenation():
    top = [_random_dense(4, 3, 3), _random_dense(4, 5, 4)]
    bottom = [_random_dense(6, 3, 5), _random_dense(6, 5, 6)]
    dense = torch.cat([torch.cat(top, 1), torch.cat(bottom, 1)], 0)
    mixed = stack_blocks([[top[0], _local(top[1])], [_local(bottom[0]), bottom[1]]])
    assert isinstance(mixed, BlockMatrix) and mixed.shape == (10, 8)
    assert torch.equal(mixed.rows(0, 10), dense) and torch.equal(mixed.rows(3, 7), dense[3:7])
    rng = np.random.default_rng(0)
    r, c = rng.integers(0, 10, size=60), rng.integers(0, 8, size=60)
    assert np.array_equal(mixed[r, c], dense.numpy()[r, c])  # entry by entry, NumPy
    assert torch.equal(mixed[torch.from_numpy(r), torch.from_numpy(c)], dense[r, c])  # and torch
    a, b = np.array([9, 0, 4, 4]), np.array([7, 2, 3, 0])
    assert np.array_equal(mixed[np.ix_(a, b)], dense.numpy()[np.ix_(a, b)])  # a block across blocks
    entries = mixed.entries(2, 6)
    assert torch.equal(entries.length, dense[2:6][torch.isfinite(dense[2:6])])
    assert torch.equal(stack_blocks([top, bottom]), dense)  # all dense: one copy
    assert isinstance(stack_blocks([top, bottom], dense_entries=10), BlockMatrix)


def test_a_table_block():
    identity = ShiftMatrix.identity((1, 2, 2))
    other = _random_dense(4, 3, 7)
    m = stack_blocks([[identity, other]])
    expected = torch.cat([identity.rows(0, 4), other], 1)
    assert torch.equal(m.rows(0, 4), expected)
