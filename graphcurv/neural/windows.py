"""Receptive-field tables of convolutions and pooling: which input position feeds which output.

A convolution or pooling window is separable over the spatial dimensions, so
the tables are built one dimension at a time and combined by a Cartesian
product. Along one dimension of input size ``n``, output ``o`` reads the input
positions

    i = o * stride - pad_before + k * dilation,   k = 0 .. kernel - 1,

and only the ``i`` with ``0 <= i < n`` exist (padding positions have no node).
Adaptive pooling reads ``i in [floor(o n / m), ceil((o + 1) n / m))`` for ``m``
outputs. A table is three equally long long tensors ``(out_pos, in_pos, k)``:
flat output position, flat input position and flat kernel offset, sorted by
output position.

Example (a 1-d kernel of 3 over 4 inputs, no padding):

>>> out, inp, k = window_table([4], [2], [3], [1], [0], [1])
>>> out.tolist(), inp.tolist(), k.tolist()
([0, 0, 0, 1, 1, 1], [0, 1, 2, 1, 2, 3], [0, 1, 2, 0, 1, 2])

Slicing and zero padding are *index maps* (:mod:`graphcurv.neural.index_ops`): per
dimension ``d``, target index ``offset_d + j`` reads source index ``start_d + step_d * j``
for ``j < count_d``. Example (a crop of columns 1 and 3 of a 1 x 4 input):

>>> window = sliced(identity_window((1, 4)), 1, 1, None, 2)
>>> window["count"], window["start"], window["step"], window["out_shape"]
([1, 2], [0, 1], [1, 2], [1, 2])
>>> [t.tolist() for t in index_pairs(window)]
[[0, 1], [1, 3]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "adaptive_table", "avg_pool_divisor", "identity_window", "index_pairs", "map_size", "padded", "sliced",
    "window_table",
]  # fmt: skip


def _axis(n: int, m: int, kernel: int, stride: int, pad: int, dilation: int) -> tuple[Tensor, Tensor, Tensor]:
    out = torch.arange(m).repeat_interleave(kernel)
    k = torch.arange(kernel).repeat(m)
    inp = out * stride - pad + k * dilation
    keep = (inp >= 0) & (inp < n)
    return out[keep], inp[keep], k[keep]


def _adaptive_axis(n: int, m: int) -> tuple[Tensor, Tensor, Tensor]:
    outs, ins, ks = [], [], []
    for o in range(m):
        start, stop = (o * n) // m, -((-(o + 1) * n) // m)
        outs += [o] * (stop - start)
        ins += list(range(start, stop))
        ks += list(range(stop - start))
    return torch.tensor(outs, dtype=torch.long), torch.tensor(ins, dtype=torch.long), torch.tensor(ks, dtype=torch.long)


def _combine(axes: list[tuple[Tensor, Tensor, Tensor]], in_sizes, out_sizes, kernel_sizes):
    """Cartesian product of per-axis tables into flat (row-major) positions."""
    out = inp = k = torch.zeros(1, dtype=torch.long)
    for (o_d, i_d, k_d), n, m, kk in zip(axes, in_sizes, out_sizes, kernel_sizes):
        out = (out[:, None] * m + o_d[None, :]).reshape(-1)
        inp = (inp[:, None] * n + i_d[None, :]).reshape(-1)
        k = (k[:, None] * kk + k_d[None, :]).reshape(-1)
    order = torch.sort(out, stable=True).indices
    return out[order], inp[order], k[order]


def window_table(
    in_sizes: Sequence[int],
    out_sizes: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    pad_before: Sequence[int],
    dilation: Sequence[int],
) -> tuple[Tensor, Tensor, Tensor]:
    """``(out_pos, in_pos, k)`` of every existing (output, input) pair of a strided window."""
    axes = [
        _axis(n, m, kk, s, p, d) for n, m, kk, s, p, d in zip(in_sizes, out_sizes, kernel, stride, pad_before, dilation)
    ]
    return _combine(axes, in_sizes, out_sizes, kernel)


def adaptive_table(in_sizes: Sequence[int], out_sizes: Sequence[int]) -> tuple[Tensor, Tensor, Tensor]:
    """``(out_pos, in_pos, k)`` of adaptive pooling; ``k`` counts within the window (row-major)."""
    axes = [_adaptive_axis(n, m) for n, m in zip(in_sizes, out_sizes)]
    widths = [max(-(-n // m) + 1, 1) for n, m in zip(in_sizes, out_sizes)]  # bounds every window
    return _combine(axes, in_sizes, out_sizes, widths)


def avg_pool_divisor(
    in_sizes: Sequence[int],
    out_sizes: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    pad_before: Sequence[int],
    count_include_pad: bool,
    divisor_override: int | None,
) -> Tensor:
    """The divisor of every flat output position of ``avg_pool`` (PyTorch's rule).

    With ``count_include_pad`` a window counts the padding cells it covers (but not
    the cells beyond the padding that ``ceil_mode`` may add); without it, only the
    existing input cells. ``divisor_override`` replaces both.
    """
    total = torch.ones(1, dtype=torch.float64)
    for n, m, kk, s, p in zip(in_sizes, out_sizes, kernel, stride, pad_before):
        start = torch.arange(m) * s - p
        if count_include_pad:
            size = torch.minimum(start + kk, torch.full_like(start, n + p)) - start
        else:
            size = torch.clamp(start + kk, max=n) - torch.clamp(start, min=0)
        total = (total[:, None] * size[None, :].double()).reshape(-1)
    if divisor_override:
        total = torch.full_like(total, float(divisor_override))
    return total


_KEYS = ("in_shape", "out_shape", "start", "step", "count", "offset")


def identity_window(shape) -> dict[str, list[int]]:
    """The index map of a layer onto itself (per-sample ``shape``)."""
    n = len(shape)
    return {"in_shape": list(shape), "out_shape": list(shape), "start": [0] * n, "step": [1] * n,
            "count": list(shape), "offset": [0] * n}  # fmt: skip


def sliced(window: dict[str, list[int]], dim: int, start: int | None, end: int | None, step: int):
    """The map followed by ``[start:end:step]`` along per-sample dimension ``dim``."""
    out = {key: list(window[key]) for key in _KEYS}
    chosen = range(*slice(start, end, step).indices(window["out_shape"][dim]))
    offset, count = window["offset"][dim], window["count"][dim]
    hits = [k for k, u in enumerate(chosen) if offset <= u < offset + count]  # k: the new index
    out["out_shape"][dim] = len(chosen)
    if hits:
        first = chosen[hits[0]]
        out["start"][dim] = window["start"][dim] + window["step"][dim] * (first - offset)
        out["step"][dim] = window["step"][dim] * chosen.step
        out["count"][dim], out["offset"][dim] = len(hits), hits[0]
    else:
        out["start"][dim], out["count"][dim], out["offset"][dim] = 0, 0, 0
    return out


def padded(window: dict[str, list[int]], before, after) -> dict[str, list[int]]:
    """The map followed by zero padding (``before``/``after`` per per-sample dimension)."""
    out = {key: list(window[key]) for key in _KEYS}
    for d, (b, a) in enumerate(zip(before, after)):
        out["offset"][d] += int(b)
        out["out_shape"][d] += int(b) + int(a)
    return out


def index_pairs(window: dict[str, Any]) -> tuple[Tensor, Tensor]:
    """``(target, source)``: flat node indices of every edge of the map, sorted by target."""
    target = source = torch.zeros(1, dtype=torch.long)
    for d in range(len(window["out_shape"])):
        j = torch.arange(int(window["count"][d]))
        target = (target[:, None] * int(window["out_shape"][d]) + (int(window["offset"][d]) + j)[None, :]).reshape(-1)
        step, first = int(window["step"][d]), int(window["start"][d])
        source = (source[:, None] * int(window["in_shape"][d]) + (first + step * j)[None, :]).reshape(-1)
    return target, source


def map_size(window: dict[str, list[int]]) -> int:
    """Edges of an index map."""
    return math.prod(int(c) for c in window["count"])
