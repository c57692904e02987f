"""Per-kind edge generators: the edges of a connection between two row ranges.

A *row* is a channel (conv, pooling, skip) or a unit (linear). Edges are
generated either for a range of *target* rows (all incoming edges of those
nodes) or of *source* rows (all outgoing edges), from the weight tensor, the
layer shapes and the window tables of :mod:`graphcurv.neural.windows`. The edge
rules are listed in :mod:`graphcurv.neural.edges`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from graphcurv.errors import GraphcurvError
from graphcurv.neural.layout import Connection, Layer
from graphcurv.neural.windows import adaptive_table, avg_pool_divisor, index_pairs, map_size, window_table

__all__ = ["POOL_KINDS", "count", "generate", "row_cost", "rows"]

POOL_KINDS = ("max_pool", "avg_pool", "adaptive_max_pool", "adaptive_avg_pool")
Edges = tuple[Tensor, Tensor, Tensor, Tensor]  # global source, global target, weight, parameter flat index


def _in_shape(connection: Connection, source: Layer) -> tuple[int, ...]:
    return tuple(connection.window.get("in_shape", source.shape))


def _table(connection: Connection, source: Layer, target: Layer):
    in_shape, window = _in_shape(connection, source), connection.window
    if connection.kind.startswith("adaptive"):
        return adaptive_table(in_shape[1:], target.spatial)
    kernel = window["kernel"] if "kernel" in window else list(connection.weight.shape[2:])
    dilation = window.get("dilation", [1] * len(kernel))
    return window_table(in_shape[1:], target.spatial, kernel, window["stride"], window["padding"], dilation)


def _index_map(connection: Connection) -> bool:
    """A skip through slicing / padding (:mod:`graphcurv.neural.index_ops`), not the identity."""
    return connection.kind == "skip" and bool(connection.window)


def rows(connection: Connection, source: Layer, target: Layer, by: str = "target") -> int:
    """How many rows the ``by`` side of the connection has."""
    if by == "source" and connection.kind == "linear":
        return int(connection.weight.shape[1])
    if by == "source" and connection.kind == "conv":
        return _in_shape(connection, source)[0]
    if by == "source" and _index_map(connection):
        return source.shape[0] if source.shape else 1
    return target.shape[0] if target.shape else 1


def row_cost(connection: Connection, source: Layer, target: Layer, by: str = "target") -> int:
    """Most edges one row can have (sizes the chunks)."""
    kind = connection.kind
    if kind == "linear":
        return int(connection.weight.shape[1 if by == "target" else 0])
    if kind == "skip":
        side = source if by == "source" and _index_map(connection) else target
        return max(side.num_nodes // rows(connection, source, target, by), 1)
    table = int(_table(connection, source, target)[0].numel())
    if kind != "conv":
        return table
    w, groups = connection.weight, connection.window["groups"][0]
    return table * int(w.shape[1] if by == "target" else w.shape[0] // groups)


def generate(connection: Connection, source: Layer, target: Layer, start: int, stop: int, by: str = "target") -> Edges:
    """The edges of rows ``start .. stop - 1`` of the ``by`` side ("target" or "source")."""
    if by not in ("target", "source"):
        raise GraphcurvError(f"by must be 'target' or 'source', not {by!r}")
    kind = connection.kind
    if kind == "linear":
        return _linear(connection.weight, source, target, start, stop, by)
    if kind == "conv":
        return _conv(connection, source, target, start, stop, by)
    if kind in POOL_KINDS:
        return _pool(connection, source, target, start, stop)
    if _index_map(connection):
        return _indexed(connection, source, target, start, stop, by)
    if kind == "skip":
        row = target.num_nodes // rows(connection, source, target)
        local = torch.arange(start * row, stop * row)
        return local + source.start, local + target.start, torch.ones(local.numel()), torch.full_like(local, -1)
    raise GraphcurvError(f"unknown connection kind {kind!r}")


def _linear(w: Tensor, source: Layer, target: Layer, start: int, stop: int, by: str) -> Edges:
    if by == "target":
        out, inp = torch.nonzero(w[start:stop], as_tuple=True)
        out = out + start
    else:
        out, inp = torch.nonzero(w[:, start:stop], as_tuple=True)
        inp = inp + start
    pidx = out * w.shape[1] + inp
    return inp + source.start, out + target.start, w.reshape(-1)[pidx], pidx


def _conv(connection: Connection, source: Layer, target: Layer, start: int, stop: int, by: str) -> Edges:
    w = connection.weight
    cout, cin_g = int(w.shape[0]), int(w.shape[1])
    cout_g = cout // connection.window["groups"][0]
    if by == "target":  # every (output channel, input channel of its group) pair
        co = torch.arange(start, stop).repeat_interleave(cin_g)
        ci_local = torch.arange(cin_g).repeat(stop - start)
        ci = (co // cout_g) * cin_g + ci_local
    else:
        ci = torch.arange(start, stop).repeat_interleave(cout_g)
        co = (ci // cin_g) * cout_g + torch.arange(cout_g).repeat(stop - start)
        ci_local = ci % cin_g
    in_shape = _in_shape(connection, source)
    out_pos, in_pos, k = _table(connection, source, target)
    in_hw, out_hw, kernel = math.prod(in_shape[1:]), math.prod(target.spatial), math.prod(w.shape[2:])
    pidx = ((co * cin_g + ci_local)[:, None] * kernel + k).reshape(-1)
    weight = w.reshape(-1)[pidx]
    keep = weight != 0
    src = (source.start + ci[:, None] * in_hw + in_pos).reshape(-1)[keep]
    dst = (target.start + co[:, None] * out_hw + out_pos).reshape(-1)[keep]
    return src, dst, weight[keep], pidx[keep]


def _pool(connection: Connection, source: Layer, target: Layer, start: int, stop: int) -> Edges:
    in_shape = _in_shape(connection, source)
    out_pos, in_pos, _ = _table(connection, source, target)
    in_hw, out_hw = math.prod(in_shape[1:]), math.prod(target.spatial)
    channel = torch.arange(start, stop)[:, None]
    src = (source.start + channel * in_hw + in_pos).reshape(-1)
    dst = (target.start + channel * out_hw + out_pos).reshape(-1)
    if connection.kind == "avg_pool":
        window = connection.window
        divisor = avg_pool_divisor(
            in_shape[1:], target.spatial, window["kernel"], window["stride"], window["padding"],
            bool(window["count_include_pad"][0]), window["divisor_override"][0] or None,
        )  # fmt: skip
        weight = (1.0 / divisor)[out_pos].repeat(stop - start)
    elif connection.kind == "adaptive_avg_pool":
        weight = (1.0 / torch.bincount(out_pos, minlength=out_hw).double())[out_pos].repeat(stop - start)
    else:
        weight = torch.ones(src.numel())
    return src, dst, weight, torch.full_like(src, -1)


def _indexed(connection: Connection, source: Layer, target: Layer, start: int, stop: int, by: str) -> Edges:
    """Weight-1 edges of an index map whose ``by``-side node lies in rows ``start .. stop - 1``."""
    dst, src = index_pairs(connection.window)
    side, local = (source, src) if by == "source" else (target, dst)
    row = side.num_nodes // rows(connection, source, target, by)
    keep = (local >= start * row) & (local < stop * row)
    src, dst = src[keep], dst[keep]
    return src + source.start, dst + target.start, torch.ones(src.numel()), torch.full_like(src, -1)


def count(connection: Connection, source: Layer, target: Layer) -> int:
    """Number of edges of ``connection`` without generating them."""
    kind = connection.kind
    if kind == "linear":
        return int(torch.count_nonzero(connection.weight))
    if _index_map(connection):
        return map_size(connection.window)
    if kind == "skip":
        return target.num_nodes
    out_pos, _, k = _table(connection, source, target)
    if kind in POOL_KINDS:
        return int(out_pos.numel()) * rows(connection, source, target)
    w = connection.weight
    per_offset = torch.bincount(k, minlength=math.prod(w.shape[2:]))
    nonzero = (w != 0).reshape(w.shape[0], w.shape[1], -1).sum(dim=(0, 1))
    return int((nonzero * per_offset).sum())
