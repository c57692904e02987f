"""Operations that create a new layer of nodes: linear, convolution, pooling.

Each handler reads its input layer, checks the operation's arguments and returns
a :class:`~graphcurv.neural.symbolic.Pending` with one term (the edges it will
make once its layer exists). Both the high-level aten ops that ``torch.export``
emits (``linear``, ``conv2d``, ``max_pool2d``) and their decomposed forms
(``addmm`` with a transposed weight, ``convolution``, ``max_pool2d_with_indices``)
are understood, so ``.pt2`` archives in either form work.
"""

from __future__ import annotations

import re

from torch.fx import Node

from graphcurv.neural.structure import Tracer, op_name
from graphcurv.neural.symbolic import Opaque, PaddedValue, ParamValue, Pending, Term

__all__ = ["LAYER_OPS"]


def _expand(value, nd: int) -> list[int]:
    values = [int(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    return values * nd if len(values) == 1 else values


def _pending(tracer: Tracer, node: Node, term: Term, kind: str, bias=None, item: int | None = None) -> Pending:
    shape = tracer.sample_shape(node, item)
    return Pending((term,), bias, shape, shape, kind, tracer.layer_name(node), node.name)


def _linear_term(tracer: Tracer, node: Node, x_arg: Node, weight: ParamValue, bias: ParamValue | None) -> Pending:
    if weight.transposed or weight.tensor.dim() != 2:
        raise tracer.fail("the weight must be a 2-d parameter (out_features x in_features)")
    x = tracer.layer(x_arg)
    if len(x.shape) != 1:
        raise tracer.fail(
            f"a linear layer applied to per-sample shape {x.shape}; flatten the input first "
            "(only one non-batch dimension is supported)"
        )
    if int(weight.tensor.shape[1]) != x.shape[0]:
        raise tracer.fail(f"weight of shape {tuple(weight.tensor.shape)} does not match {x.shape[0]} inputs")
    term = Term("linear", x.layer, weight.name, weight.tensor.detach().cpu().clone())
    return _pending(tracer, node, term, "linear", tracer.flat_bias(bias, (weight.tensor.shape[0],)))


def linear(tracer: Tracer, node: Node) -> Pending:
    args = tracer.arguments(node)
    weight = tracer.param(args["weight"], "weight")
    return _linear_term(tracer, node, args["input"], weight, tracer.param(args.get("bias"), "bias"))


def addmm(tracer: Tracer, node: Node) -> Pending:
    """``addmm(bias, x, w.t())`` and ``mm(x, w.t())``: the decomposed form of a linear layer."""
    args = tracer.arguments(node)
    if args.get("beta", 1) != 1 or args.get("alpha", 1) != 1:
        raise tracer.fail("addmm with alpha or beta other than 1")
    mat2 = tracer.param(args["mat2"], "weight")
    if not mat2.transposed:
        raise tracer.fail("expected the transposed weight of a linear layer as the second matrix")
    weight = ParamValue(mat2.name, mat2.tensor, False)
    if op_name(node) == "addmm":
        return _linear_term(tracer, node, args["mat1"], weight, tracer.param(args["input"], "bias"))
    return _linear_term(tracer, node, args["input"], weight, None)


def convolution(tracer: Tracer, node: Node) -> Pending:
    args = tracer.arguments(node)
    if args.get("transposed", False):
        raise tracer.fail("transposed convolutions are not supported")
    weight = tracer.param(args["weight"], "weight")
    nd = weight.tensor.dim() - 2
    value = tracer.value(args["input"])
    extra = [0] * nd
    if isinstance(value, PaddedValue):
        x, extra = value.value, list(value.pad_before)
        tracer.builder.read(x, tracer.where())
    else:
        x = tracer.layer(args["input"])
    groups = int(args.get("groups", 1))
    if len(x.shape) != nd + 1 or x.shape[0] != int(weight.tensor.shape[1]) * groups:
        raise tracer.fail(f"input of per-sample shape {x.shape} does not fit weight {tuple(weight.tensor.shape)}")
    kernel = [int(k) for k in weight.tensor.shape[2:]]
    dilation = _expand(args.get("dilation", 1), nd)
    padding = args.get("padding", 0)
    if padding == "same":
        padding = [d * (k - 1) // 2 for d, k in zip(dilation, kernel)]
    elif padding == "valid":
        padding = [0] * nd
    window = {
        "kernel": kernel,
        "stride": _expand(args.get("stride", 1), nd),
        "padding": [p + e for p, e in zip(_expand(padding, nd), extra)],
        "dilation": dilation,
        "groups": [groups],
        "in_shape": list(x.shape),
    }
    term = Term("conv", x.layer, weight.name, weight.tensor.detach().cpu().clone(), window)
    bias = tracer.flat_bias(tracer.param(args.get("bias"), "bias"), tracer.sample_shape(node))
    return _pending(tracer, node, term, f"conv{nd}d", bias)


def pooling(tracer: Tracer, node: Node):
    name = op_name(node)
    args = tracer.arguments(node)
    x = tracer.layer(args["input"])
    nd = int(re.search(r"(\d)d", name).group(1))
    if len(x.shape) != nd + 1:
        raise tracer.fail(f"{nd}-d pooling of per-sample shape {x.shape} (expected channels x {nd} spatial dims)")
    window: dict[str, list[int]] = {"in_shape": list(x.shape)}
    if name.startswith(("adaptive", "_adaptive")):
        kind = "adaptive_max_pool" if "max" in name else "adaptive_avg_pool"
    else:
        kind = "max_pool" if "max" in name else "avg_pool"
        kernel = _expand(args["kernel_size"], nd)
        window.update(
            kernel=kernel,
            stride=_expand(args.get("stride") or kernel, nd),
            padding=_expand(args.get("padding", 0), nd),
        )
        if kind == "max_pool":
            window["dilation"] = _expand(args.get("dilation", 1), nd)
        else:
            window["count_include_pad"] = [int(bool(args.get("count_include_pad", True)))]
            window["divisor_override"] = [int(args.get("divisor_override") or 0)]
    with_indices = isinstance(node.meta.get("val"), (tuple, list))
    pending = _pending(
        tracer, node, Term(kind, x.layer, window=window), f"{kind}{nd}d", item=0 if with_indices else None
    )
    return (pending, Opaque("the indices of a max pooling")) if with_indices else pending


def spatial_mean(tracer: Tracer, node: Node) -> Pending:
    """``x.mean(dim=spatial dims)``: global average pooling."""
    args = tracer.arguments(node)
    if not args.get("dim"):  # aten.mean.default, or dim=None / []: every dimension, the batch too
        raise tracer.fail(
            "a mean over every dimension (the batch included) has no place in the neural graph; a mean is "
            "supported only over the spatial dimensions of conv features (global average pooling, "
            "x.mean(dim=(2, 3)))"
        )
    x = tracer.layer(args["input"])
    dims = sorted(int(d) % (len(x.shape) + 1) for d in _expand(args["dim"], 1))
    if len(x.shape) < 2 or dims != list(range(2, len(x.shape) + 1)):
        raise tracer.fail(
            f"a mean over dimensions {dims} of per-sample shape {x.shape}; a mean is supported only over all "
            "spatial dimensions (global average pooling, x.mean(dim=(2, 3)))"
        )
    out = tracer.sample_shape(node)
    node_shape = (x.shape[0],) + (1,) * (len(x.shape) - 1)
    term = Term("adaptive_avg_pool", x.layer, window={"in_shape": list(x.shape)})
    name = tracer.layer_name(node)
    return Pending((term,), None, node_shape, out, f"adaptive_avg_pool{len(x.shape) - 1}d", name, node.name)


_POOLS = [f"{p}{d}d" for p in ("max_pool", "avg_pool", "adaptive_avg_pool", "adaptive_max_pool") for d in (1, 2, 3)]
LAYER_OPS = {
    "linear": linear,
    "addmm": addmm,
    "mm": addmm,
    **{name: convolution for name in ("conv1d", "conv2d", "conv3d", "convolution", "_convolution")},
    **{name: pooling for name in _POOLS},
    **{name: pooling for name in ("max_pool2d_with_indices", "max_pool3d_with_indices", "_adaptive_avg_pool2d")},
    **{name: pooling for name in ("_adaptive_avg_pool3d",)},
    "mean": spatial_mean,
}
