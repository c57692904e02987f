"""Receptive-field tables against torch's own unfold / pooling on index and one-hot images."""

import pytest
import torch
import torch.nn.functional as F

from graphcurv.neural.windows import adaptive_table, avg_pool_divisor, window_table


def as_set(table):
    return set(zip(*(t.tolist() for t in table)))


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation"),
    [
        ((7, 6), (3, 3), (2, 2), (2, 2), (2, 2)),
        ((5, 8), (2, 3), (1, 2), (1, 0), (1, 1)),
        ((4, 4), (4, 4), (1, 1), (0, 0), (1, 1)),
    ],
)
def test_window_table_matches_unfold(size, kernel, stride, padding, dilation):
    index = torch.arange(1, size[0] * size[1] + 1, dtype=torch.float64).reshape(1, 1, *size)
    cols = F.unfold(index, kernel, dilation=dilation, padding=padding, stride=stride)[0]  # (K, out positions)
    expected = {(o, int(v) - 1, k) for k in range(cols.size(0)) for o in range(cols.size(1)) if (v := cols[k, o]) > 0}
    out_size = [
        (n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in zip(size, kernel, stride, padding, dilation)
    ]
    table = window_table(size, out_size, kernel, stride, padding, dilation)
    assert as_set(table) == expected
    assert torch.all(table[0][1:] >= table[0][:-1])  # sorted by output position


def test_window_table_hand_example():
    out, inp, k = window_table([5], [2], [3], [2], [1], [1])
    # output 0 reads inputs -1(pad), 0, 1; output 1 reads 1, 2, 3
    assert (out.tolist(), inp.tolist(), k.tolist()) == ([0, 0, 1, 1, 1], [0, 1, 1, 2, 3], [1, 2, 0, 1, 2])


@pytest.mark.parametrize(("size", "out"), [((7, 5), (3, 2)), ((4, 6), (4, 4)), ((5, 5), (1, 1))])
def test_adaptive_table_matches_adaptive_pooling(size, out):
    n = size[0] * size[1]
    one_hot = torch.eye(n, dtype=torch.float64).reshape(n, 1, *size)
    reads = F.adaptive_avg_pool2d(one_hot, out).reshape(n, -1)  # reads[i, o] > 0 iff o reads input i
    expected = {(o, i) for i in range(n) for o in range(reads.size(1)) if reads[i, o] > 0}
    table = adaptive_table(size, out)
    assert {(o, i) for o, i, _ in as_set(table)} == expected


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("ceil_mode", [True, False])
def test_avg_pool_divisor_matches_torch(count_include_pad, ceil_mode):
    size, kernel, stride, padding = (7, 6), (3, 2), (2, 2), (1, 1)
    ones = torch.ones(1, 1, *size, dtype=torch.float64)
    mean = F.avg_pool2d(ones, kernel, stride, padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    cells = F.avg_pool2d(ones, kernel, stride, padding, ceil_mode=ceil_mode, divisor_override=1)
    divisor = avg_pool_divisor(size, mean.shape[2:], kernel, stride, padding, count_include_pad, None)
    assert torch.allclose(divisor, (cells / mean).reshape(-1))
    assert torch.equal(
        avg_pool_divisor(size, mean.shape[2:], kernel, stride, padding, True, 5), torch.full_like(divisor, 5.0)
    )
