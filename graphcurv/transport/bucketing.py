"""Group ragged transport problems into buckets of similar shape and pad within a bucket.

Batched GPU solvers need dense ``(K, N, M)`` tensors, but padding a power-law batch
(hubs next to leaves) to its largest problem would waste almost all of the memory
and work. Here each problem is padded only up to its bucket's shape.

Shape grid. Each side length ``n >= 1`` is rounded up to the smallest value of the
grid ``s_0 = 1, s_{k+1} = max(s_k + 1, floor(growth * s_k))``; with the default
``growth = 2`` this is ``1, 2, 4, 8, ...``, with ``growth = 1.5`` it is
``1, 2, 3, 4, 6, 9, 13, 19, ...``. A problem of size ``(n_a, n_b)`` goes to the bucket
``(grid(n_a), grid(n_b))``.

Orientation. ``W1(a, b, C) = W1(b, a, C^T)``, so by default a problem with
``n_a > n_b`` is stored transposed (its target masses become the bucket's rows). This
halves the number of distinct bucket shapes, hence the number of kernel launches of a
batched solver, without adding padding.

Padding waste bound. For ``s_k < n <= s_{k+1}`` either ``s_{k+1} = s_k + 1 = n`` (no
padding) or ``s_{k+1} <= growth * s_k < growth * n``, so each padded side is less than
``growth`` times the true side and

    padded elements  <  growth**2 * sum_k n_a(k) * n_b(k)   (every bucket and in total)

(< 4x for ``growth = 2``, < 2.25x for ``growth = 1.5``; see :func:`padding_waste_bound`).
Problems with an empty side (``n_a = 0`` or ``n_b = 0``) have no entries and are left
out of every bucket.

Padded masses are 0 and padded costs are ``pad_cost`` (0 by default: a solver that
works with ``log(a)`` and ``log(b)`` never lets a zero-mass row or column carry mass,
so the padded cost value never matters and must merely be finite).

Example:

>>> import torch
>>> from graphcurv.transport.problems import TransportProblems
>>> p = TransportProblems.from_dense([
...     (torch.ones(3) / 3, torch.ones(5) / 5, torch.rand(3, 5)),
...     (torch.ones(6) / 6, torch.ones(2) / 2, torch.rand(6, 2)),
... ])
>>> buckets = make_buckets(p)  # (3, 5) -> (4, 8); (6, 2) is transposed -> (2, 8)
>>> [bucket.shape for bucket in buckets]
[(2, 8), (4, 8)]
>>> a, b, cost = pad_bucket(p, buckets[0])
>>> tuple(a.shape), tuple(b.shape), tuple(cost.shape)
((1, 2), (1, 8), (1, 2, 8))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from graphcurv.errors import GraphcurvError
from graphcurv.transport.problems import TransportProblems


@dataclass(frozen=True)
class Bucket:
    """Problems of one padded shape ``(N, M)``.

    ``index`` lists the problems (positions in the ragged batch), ``transposed`` says
    which of them are stored as ``(b, a, C^T)``, and ``rows`` / ``cols`` are their true
    side lengths in the bucket's orientation (``rows <= N``, ``cols <= M``).
    """

    index: Tensor
    transposed: Tensor
    rows: Tensor
    cols: Tensor
    shape: tuple[int, int]

    @property
    def num_problems(self) -> int:
        return self.index.numel()

    @property
    def padded_elements(self) -> int:
        return self.num_problems * self.shape[0] * self.shape[1]

    def split(self, max_elements: int) -> list[Bucket]:
        """Cut the bucket into chunks of at most ``max_elements`` padded cost entries
        (at least one problem per chunk), to bound the memory of a dense solve."""
        per_chunk = max(1, max_elements // max(1, self.shape[0] * self.shape[1]))
        if per_chunk >= self.num_problems:
            return [self]
        return [
            Bucket(
                self.index[s : s + per_chunk],
                self.transposed[s : s + per_chunk],
                self.rows[s : s + per_chunk],
                self.cols[s : s + per_chunk],
                self.shape,
            )
            for s in range(0, self.num_problems, per_chunk)
        ]


def size_grid(max_length: int, growth: float = 2.0) -> Tensor:
    """The grid ``s_0 = 1, s_{k+1} = max(s_k + 1, floor(growth * s_k))`` up to the first
    value ``>= max_length`` (a 1-d long tensor)."""
    if growth <= 1.0:
        raise GraphcurvError(f"growth must be > 1, got {growth}")
    values = [1]
    while values[-1] < max_length:
        values.append(max(values[-1] + 1, int(growth * values[-1])))
    return torch.tensor(values, dtype=torch.long)


def padding_waste_bound(growth: float = 2.0) -> float:
    """Upper bound on ``padded elements / ragged elements`` for buckets built with ``growth``."""
    return growth**2


def padded_lengths(lengths: Tensor, growth: float = 2.0) -> Tensor:
    """Round each length ``>= 1`` up to the shape grid (lengths 0 stay 0)."""
    max_length = int(lengths.max()) if lengths.numel() else 1
    grid = size_grid(max(max_length, 1), growth).to(lengths.device)
    out = grid[torch.bucketize(lengths, grid)]
    return torch.where(lengths > 0, out, torch.zeros_like(out))


def make_buckets(
    problems: TransportProblems,
    *,
    growth: float = 2.0,
    orient: bool = True,
    index: Tensor | None = None,
) -> list[Bucket]:
    """Group problems (all, or those in ``index``) by padded shape.

    Args:
        problems: the ragged batch.
        growth: ratio of the shape grid; padded elements < ``growth**2`` x ragged ones.
        orient: store problems with ``n_a > n_b`` transposed, so buckets have ``N <= M``.
        index: optional subset of problem positions to bucket.

    Returns:
        Buckets in increasing shape order; problems keep their relative order inside a
        bucket. Problems with an empty side are left out.
    """
    sizes = problems.sizes()
    if index is None:
        index = torch.arange(problems.num_problems, device=sizes.device)
    else:
        index = index.to(sizes.device, torch.long)
    n_a, n_b = sizes[index, 0], sizes[index, 1]
    keep = (n_a > 0) & (n_b > 0)
    index, n_a, n_b = index[keep], n_a[keep], n_b[keep]
    if index.numel() == 0:
        return []
    transposed = (n_a > n_b) if orient else torch.zeros_like(n_a, dtype=torch.bool)
    rows = torch.where(transposed, n_b, n_a)
    cols = torch.where(transposed, n_a, n_b)
    pad_rows = padded_lengths(rows, growth)
    pad_cols = padded_lengths(cols, growth)
    key = pad_rows * (int(pad_cols.max()) + 1) + pad_cols
    _, inverse, counts = torch.unique(key, return_inverse=True, return_counts=True)
    order = torch.argsort(inverse, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    shapes = torch.stack([pad_rows, pad_cols], 1)[order[starts]].tolist()
    buckets = []
    for start, count, (n_rows, n_cols) in zip(starts.tolist(), counts.tolist(), shapes):
        sel = order[start : start + count]
        buckets.append(Bucket(index[sel], transposed[sel], rows[sel], cols[sel], (int(n_rows), int(n_cols))))
    return buckets


def _cost_positions(problems: TransportProblems, bucket: Bucket) -> tuple[Tensor, Tensor]:
    """For each padded entry ``(k, i, j)``: its position in ``problems.cost`` and whether it
    is a real entry (``valid``). Padded entries get position 0."""
    device = problems.cost_ptr.device
    n_rows, n_cols = bucket.shape
    i = torch.arange(n_rows, device=device).view(1, n_rows, 1)
    j = torch.arange(n_cols, device=device).view(1, 1, n_cols)
    t = bucket.transposed.view(-1, 1, 1)
    valid = (i < bucket.rows.view(-1, 1, 1)) & (j < bucket.cols.view(-1, 1, 1))
    n_b = (problems.b_ptr[bucket.index + 1] - problems.b_ptr[bucket.index]).view(-1, 1, 1)
    row, col = torch.where(t, j, i), torch.where(t, i, j)
    pos = problems.cost_ptr[bucket.index].view(-1, 1, 1) + row * n_b + col
    return torch.where(valid, pos, torch.zeros_like(pos)), valid


def _side_positions(
    problems: TransportProblems, bucket: Bucket, length: int, true_length: Tensor, rows: bool
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Positions of the bucket's row (``rows=True``) or column masses in ``problems.a`` and
    ``problems.b``, and the mask of real entries."""
    device = problems.a_ptr.device
    i = torch.arange(length, device=device).view(1, length)
    valid = i < true_length.view(-1, 1)
    from_a = (~bucket.transposed if rows else bucket.transposed).view(-1, 1)
    start_a = problems.a_ptr[bucket.index].view(-1, 1) + i
    start_b = problems.b_ptr[bucket.index].view(-1, 1) + i
    zero = torch.zeros_like(start_a)
    pos_a = torch.where(valid & from_a, start_a, zero)
    pos_b = torch.where(valid & ~from_a, start_b, zero)
    return pos_a, pos_b, valid & from_a, valid & ~from_a


def pad_bucket(problems: TransportProblems, bucket: Bucket, *, pad_cost: float = 0.0) -> tuple[Tensor, Tensor, Tensor]:
    """Dense ``(a, b, cost)`` of shapes ``(K, N)``, ``(K, M)``, ``(K, N, M)`` for one bucket.

    Transposed problems appear as ``(b, a, C^T)``. Padded masses are 0, padded costs
    ``pad_cost``. Tensors keep the batch's dtype and device.
    """
    n_rows, n_cols = bucket.shape
    pos, valid = _cost_positions(problems, bucket)
    cost = torch.where(valid, problems.cost[pos], problems.cost.new_tensor(pad_cost))
    sides = []
    for length, true_length, rows in ((n_rows, bucket.rows, True), (n_cols, bucket.cols, False)):
        pos_a, pos_b, from_a, from_b = _side_positions(problems, bucket, length, true_length, rows)
        zero = problems.a.new_zeros(())
        mass = torch.where(from_a, problems.a[pos_a], zero)
        mass = torch.where(from_b, problems.b[pos_b], mass)
        sides.append(mass)
    return sides[0], sides[1], cost


def unpad_cost_like(problems: TransportProblems, bucket: Bucket, dense: Tensor, out: Tensor | None = None) -> Tensor:
    """Write a dense ``(K, N, M)`` tensor laid out like the bucket's costs (a transport
    plan, say) back into the ragged cost layout; padded entries are dropped.

    ``out`` (shape of ``problems.cost``) is filled in place and returned; a new zero
    tensor of ``dense``'s dtype is used when it is None.
    """
    if out is None:
        out = torch.zeros(problems.cost.shape, dtype=dense.dtype, device=dense.device)
    pos, valid = _cost_positions(problems, bucket)
    out[pos[valid]] = dense[valid].to(out.dtype)
    return out


def unpad_masses(
    problems: TransportProblems,
    bucket: Bucket,
    rows: Tensor,
    cols: Tensor,
    out: tuple[Tensor, Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """Write dense row ``(K, N)`` and column ``(K, M)`` vectors back into the ragged
    layouts of ``problems.a`` and ``problems.b`` (undoing the orientation)."""
    if out is None:
        out = (
            torch.zeros(problems.a.shape, dtype=rows.dtype, device=rows.device),
            torch.zeros(problems.b.shape, dtype=cols.dtype, device=cols.device),
        )
    out_a, out_b = out
    for dense, length, true_length, is_rows in (
        (rows, bucket.shape[0], bucket.rows, True),
        (cols, bucket.shape[1], bucket.cols, False),
    ):
        pos_a, pos_b, from_a, from_b = _side_positions(problems, bucket, length, true_length, is_rows)
        out_a[pos_a[from_a]] = dense[from_a].to(out_a.dtype)
        out_b[pos_b[from_b]] = dense[from_b].to(out_b.dtype)
    return out_a, out_b


def padding_counts(problems: TransportProblems, buckets: list[Bucket]) -> tuple[int, int]:
    """``(padded, ragged)`` numbers of cost entries covered by ``buckets``."""
    padded = sum(bucket.padded_elements for bucket in buckets)
    ragged = sum(int((bucket.rows * bucket.cols).sum()) for bucket in buckets)
    return padded, ragged
