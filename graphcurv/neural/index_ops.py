"""Slicing and zero padding: parameter-free index maps from the nodes of one layer to another.

``x[:, :, ::2, ::2]`` and ``F.pad(x, (..., before_c, after_c))`` (the "option A"
shortcut of the CIFAR ResNets: a strided slice, then zero channels) create no weights.
They compose into one *index map*, per dimension ``d`` of the per-sample shape
(channels first):

    target index  t = offset_d + j,   source index  s = start_d + step_d * j,   j = 0 .. count_d - 1,

so target node ``t`` (flat, row-major in ``out_shape``) reads source node ``s`` (flat in
``in_shape``) through an edge of weight 1; target nodes made of padding read nothing.
The map is a :class:`~graphcurv.neural.symbolic.Pending` with one ``skip`` term whose
window holds ``in_shape``, ``out_shape``, ``start``, ``step``, ``count``, ``offset``
(plain int lists, built by :func:`graphcurv.neural.windows.sliced` and
:func:`~graphcurv.neural.windows.padded`); it joins a residual addition like any
skip, or becomes a layer of its own when something else reads it. Zero padding of the spatial dimensions right
before a convolution is still absorbed by the convolution (no extra layer).
``torch.cat`` along the channels is a sum of such maps, one per operand, each into its
own block of channels: a layer of ``concat`` nodes that read one node each.
"""

from __future__ import annotations

from typing import Any

from torch.fx import Node

from graphcurv.neural.structure import Tracer
from graphcurv.neural.symbolic import PaddedValue, Pending, Term
from graphcurv.neural.windows import identity_window, padded, sliced

__all__ = ["INDEX_OPS", "cat", "padded_index_map", "pad", "slice_"]


def _index_pending(tracer: Tracer, node: Node, source: int, window: dict[str, list[int]]) -> Pending:
    shape = tuple(window["out_shape"])
    if shape != tracer.sample_shape(node):
        raise tracer.fail(f"the index map gives per-sample shape {shape}, the model {tracer.sample_shape(node)}")
    term = Term("skip", source, window=window)
    return Pending((term,), None, shape, shape, "index", tracer.layer_name(node), node.name)


def _source_window(tracer: Tracer, arg: Node) -> tuple[int, dict[str, list[int]]]:
    """The layer an operand reads and the map from it: the operand's own map, or the identity."""
    value = tracer.additive(arg)
    if isinstance(value, Pending) and value.kind == "index" and value.shape == value.node_shape:
        (term,) = value.terms
        return term.source, term.window
    layer = tracer.layer(arg)
    return layer.layer, identity_window(layer.shape)


def padded_index_map(tracer: Tracer, value: PaddedValue) -> Pending:
    """A spatial zero padding read by something other than a convolution: its index map."""
    tracer.builder.read(value.value, tracer.where())
    spatial = len(value.value.shape) - 1
    after = value.pad_after or (0,) * spatial
    window = padded(identity_window(value.value.shape), (0, *value.pad_before), (0, *after))
    return _index_pending(tracer, value.node, value.value.layer, window)


def _constant(tracer: Tracer, value: Any, what: str) -> Any:
    if isinstance(value, Node):
        raise tracer.fail(f"a {what} computed at run time is not supported (only constant bounds)")
    return value


def slice_(tracer: Tracer, node: Node):
    """``x[..., start:end:step]`` along one dimension (the batch dimension only as a whole)."""
    args = tracer.arguments(node)
    start, end = (_constant(tracer, args.get(k), "slice bound") for k in ("start", "end"))
    step = int(_constant(tracer, args.get("step", 1), "slice step") or 1)
    shape = tracer.sample_shape(args["input"])
    dim = int(args.get("dim", 0)) % (len(shape) + 1)
    if step < 1:
        raise tracer.fail(f"a slice with step {step}")
    size = 1 if dim == 0 else shape[dim - 1]
    if len(range(*slice(start, end, step).indices(size))) == size:
        return tracer.value(args["input"])  # the whole dimension: nothing changes
    if dim == 0:
        raise tracer.fail("slicing the batch dimension is not supported")
    source, window = _source_window(tracer, args["input"])
    return _index_pending(tracer, node, source, sliced(window, dim - 1, start, end, step))


def pad(tracer: Tracer, node: Node):
    """Zero padding (``F.pad``, ``nn.ZeroPad2d``): absorbed by a convolution that follows, else an index map."""
    args = tracer.arguments(node)
    if args.get("mode", "constant") != "constant" or (args.get("value") or 0) != 0:
        raise tracer.fail("only zero padding is supported")
    amounts = [int(p) for p in args["pad"]]
    shape = tracer.sample_shape(args["input"]) if isinstance(args["input"], Node) else ()
    before, after = [0] * len(shape), [0] * len(shape)
    for i in range(len(amounts) // 2):
        if i >= len(shape):
            raise tracer.fail("padding the batch dimension is not supported")
        before[len(shape) - 1 - i], after[len(shape) - 1 - i] = amounts[2 * i], amounts[2 * i + 1]
    if min(before + after, default=0) < 0:
        raise tracer.fail("negative padding (cropping) is not supported; slice the tensor instead")
    value = tracer.additive(args["input"])
    composable = isinstance(value, Pending) and value.kind == "index" and value.shape == value.node_shape
    if not composable and before[0] == after[0] == 0 and len(shape) > 1:
        layer = tracer.layer(args["input"], read=False)
        return PaddedValue(layer, tuple(before[1:]), tuple(after[1:]), node)
    source, window = _source_window(tracer, args["input"])
    return _index_pending(tracer, node, source, padded(window, before, after))


def cat(tracer: Tracer, node: Node):
    """``torch.cat`` along the channels: every operand is an index map into its block of
    channels (the others padding), so the result reads each operand's nodes through
    skip edges of weight 1, as ``cat(a, b) = pad(a, after=C_b) + pad(b, before=C_a)``."""
    args = tracer.arguments(node)
    operands = list(args["tensors"])
    shape = tracer.sample_shape(node)
    dim = int(args.get("dim", 0)) % (len(shape) + 1)
    if dim != 1:
        raise tracer.fail(f"concatenation along dimension {dim} (only the channels, dimension 1, is supported)")
    if not all(isinstance(arg, Node) for arg in operands):
        raise tracer.fail("concatenating constants with activations is not supported")
    terms, offset = [], 0
    for arg in operands:
        channels = tracer.sample_shape(arg)[0]
        source, window = _source_window(tracer, arg)
        before = [offset] + [0] * (len(shape) - 1)
        after = [shape[0] - offset - channels] + [0] * (len(shape) - 1)
        terms.append(Term("skip", source, window=padded(window, before, after)))
        offset += channels
    sources = [t.source for t in terms]
    if len(set(sources)) != len(sources):
        name = tracer.builder.layers[max(set(sources), key=sources.count)].name
        raise tracer.fail(f"layer {name!r} is concatenated more than once; its nodes would be one neuron twice")
    return Pending(tuple(terms), None, shape, shape, "concat", tracer.layer_name(node), node.name)


INDEX_OPS = {"slice": slice_, "constant_pad_nd": pad, "pad": pad, "cat": cat, "concat": cat}
