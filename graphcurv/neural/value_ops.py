"""Operations that create no nodes: activations, reshapes, dropout, normalisations, sums.

* An elementwise activation turns a pending function into a layer and sets the
  value its nodes carry (the post-activation value of the spec).
* Reshapes (view, flatten, squeeze, ...), dropout (eval mode) and ``clone`` only
  change how the same nodes are viewed.
* BatchNorm is left out of the edges (``batchnorm="ignore"``, the paper's
  graph: the nodes still carry the model's true values) or folded into the
  weights and bias of the linear/conv in front of it (``"fold"``):
  ``w' = w * g / sqrt(v + eps)``, ``b' = (b - m) * g / sqrt(v + eps) + beta``.
  Instance norm with running statistics (``track_running_stats=True`` in eval
  mode) is the same constant affine map and is treated the same way.
* Normalisations by the sample's own statistics (LayerNorm, instance norm without
  running statistics, GroupNorm) are not affine maps with constant weights, so
  they are always left out of the edges, like BatchNorm with ``"ignore"``: the
  nodes carry the normalised values, the edges the raw weights.
* ``a + b`` of equal shapes joins the terms of both operands; an operand that
  already is a layer enters through a skip connection (weight-1 identity edges).
* Slicing and zero padding are index maps (:mod:`graphcurv.neural.index_ops`).
* A softmax / log-softmax is allowed as the model's last operation (the
  output layer holds the logits before it).
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from torch.fx import Node

from graphcurv.neural.structure import Tracer, op_name
from graphcurv.neural.symbolic import LayerValue, Normalised, Opaque, PaddedValue, ParamValue, Pending, Term

__all__ = ["VALUE_OPS", "finish_output"]

_ELEMENTWISE = (
    "relu", "tanh", "sigmoid", "gelu", "leaky_relu", "elu", "selu", "celu", "silu", "mish",
    "softplus", "hardtanh", "relu6", "hardswish", "hardsigmoid", "softsign", "clamp", "clamp_min",
    "log_sigmoid_forward", "logsigmoid",
)  # fmt: skip
_VIEWS = (
    "view", "reshape", "_unsafe_view", "flatten", "squeeze", "unsqueeze", "contiguous", "clone",
    "alias", "detach", "lift_fresh_copy", "dropout", "feature_dropout", "alpha_dropout",
    "feature_alpha_dropout", "native_dropout",
)  # fmt: skip
_TRANSPOSES = ("t", "permute", "transpose", "numpy_T")
_ADDITIVE_KINDS = ("linear", "conv", "avg_pool", "adaptive_avg_pool", "skip")


def elementwise(tracer: Tracer, node: Node) -> LayerValue:
    args = list(node.args[1:]) + list(node.kwargs.values())
    if any(isinstance(a, Node) for a in args):
        raise tracer.fail("an activation whose parameters are tensors is not supported")
    value = tracer.layer(node.args[0], read=False)
    return tracer.builder.activate(value, op_name(node).rstrip("_"), node.name)


def view(tracer: Tracer, node: Node):
    if op_name(node) in ("dropout", "native_dropout", "feature_dropout") and tracer.arguments(node).get("train"):
        raise tracer.fail("dropout in training mode; export the model in eval mode")
    value = tracer.additive(node.args[0])
    item = 0 if op_name(node) == "native_dropout" else None
    shape = tracer.sample_shape(node, item)
    if math.prod(shape) != math.prod(value.shape):
        raise tracer.fail(f"reshape from {value.shape} to {shape} changes the number of values per sample")
    out = replace(value, shape=shape) if isinstance(value, LayerValue) else value.viewed(shape, node.name)
    return (out, Opaque("a dropout mask")) if item is not None else out


def transpose(tracer: Tracer, node: Node) -> ParamValue:
    value = tracer.value(node.args[0])
    if not isinstance(value, ParamValue) or value.tensor.dim() != 2:
        raise tracer.fail("transposing activations is not supported (only the weight of a linear layer)")
    return replace(value, transposed=not value.transposed)


def batch_norm(tracer: Tracer, node: Node):
    args = tracer.arguments(node)
    if args.get("training", False):
        raise tracer.fail("BatchNorm in training mode; export the model in eval mode")
    value = tracer.additive(args["input"])
    returns_tuple = op_name(node) != "batch_norm"
    if tracer.batchnorm == "ignore":
        out = value if isinstance(value, LayerValue) else value.viewed(value.shape, node.name)
    else:
        out = _fold(tracer, node, value, args)
    return (out, Opaque("BatchNorm statistics"), Opaque("BatchNorm statistics")) if returns_tuple else out


def instance_norm(tracer: Tracer, node: Node):
    """``aten.instance_norm``: with running statistics a BatchNorm in all but name, else a per-sample norm."""
    args = tracer.arguments(node)
    if not args.get("use_input_stats", True):
        value = tracer.additive(args["input"])
        if tracer.batchnorm == "fold":
            return _fold(tracer, node, value, args)
        return value if isinstance(value, LayerValue) else value.viewed(value.shape, node.name)
    return sample_norm(tracer, node)


def sample_norm(tracer: Tracer, node: Node):
    """LayerNorm, GroupNorm, instance norm by the sample's statistics: left out of the edges."""
    args = tracer.arguments(node)
    value = tracer.additive(args["input"])
    out = value if isinstance(value, LayerValue) else value.viewed(value.shape, node.name)
    if op_name(node).startswith("native_"):  # (output, mean, 1 / std)
        return out, Opaque("normalisation statistics"), Opaque("normalisation statistics")
    return out


def _fold(tracer: Tracer, node: Node, value, args) -> Pending:
    if not isinstance(value, Pending) or any(t.kind not in ("linear", "conv") for t in value.terms):
        raise tracer.fail(
            "this BatchNorm does not directly follow a linear or convolution layer, so it cannot be "
            "folded into their weights; use batchnorm='ignore'"
        )
    if value.shape != value.node_shape:
        raise tracer.fail("BatchNorm over a reshaped output cannot be folded; use batchnorm='ignore'")
    channels = value.node_shape[0]
    mean = tracer.param(args["running_mean"], "running mean")
    var = tracer.param(args["running_var"], "running variance")
    gamma, beta = tracer.param(args.get("weight"), "weight"), tracer.param(args.get("bias"), "bias")
    scale = (gamma.tensor.double() if gamma else torch.ones(channels, dtype=torch.float64)).cpu()
    scale = scale / torch.sqrt(var.tensor.double().cpu() + float(args["eps"]))
    shift = beta.tensor.double().cpu() if beta else torch.zeros(channels, dtype=torch.float64)
    spatial = math.prod(value.node_shape[1:])
    bias = value.bias if value.bias is not None else torch.zeros(channels * spatial, dtype=torch.float64)
    per_node = lambda t: t.repeat_interleave(spatial)  # noqa: E731
    bias = (bias - per_node(mean.tensor.double().cpu())) * per_node(scale) + per_node(shift)
    terms = []
    for term in value.terms:
        factor = scale.view(-1, *([1] * (term.weight.dim() - 1))).to(term.weight.device)
        terms.append(replace(term, weight=(term.weight.double() * factor).to(term.weight.dtype)))
    return replace(value, terms=tuple(terms), bias=bias, value=node.name)


def add(tracer: Tracer, node: Node) -> Pending:
    args = tracer.arguments(node)
    if args.get("alpha", 1) != 1:
        raise tracer.fail("an addition with alpha other than 1")
    shape = tracer.sample_shape(node)
    operands = []
    for arg in (args["input"], args["other"]):
        if not isinstance(arg, Node):
            raise tracer.fail("adding a constant to activations is not supported")
        value = tracer.additive(arg)
        if isinstance(value, Pending) and any(t.kind not in _ADDITIVE_KINDS for t in value.terms):
            value = tracer.builder.materialise(value)
            tracer.env[arg.name] = value
        if value.shape != shape:
            raise tracer.fail(f"an addition that broadcasts {value.shape} to {shape} is not supported")
        operands.append(value)
    terms, biases = [], []
    for value in operands:
        if isinstance(value, LayerValue):
            tracer.builder.read(value, tracer.where())
            terms.append(Term("skip", value.layer))
        else:
            terms.extend(value.terms)
            biases.append(value.bias)
    pending = [v for v in operands if isinstance(v, Pending)]
    node_shape = pending[0].node_shape if pending else tracer.builder.layers[operands[0].layer].shape
    sources = [t.source for t in terms]
    if len(set(sources)) != len(sources):
        name = tracer.builder.layers[max(set(sources), key=sources.count)].name
        raise tracer.fail(f"two added branches both read layer {name!r} directly; their edges would coincide")
    present = [b for b in biases if b is not None]
    bias = torch.stack(present).sum(0) if present else None
    return Pending(tuple(terms), bias, tuple(node_shape), shape, "add", tracer.layer_name(node), node.name)


def softmax(tracer: Tracer, node: Node) -> Normalised:
    return Normalised(tracer.additive(node.args[0]))


def getitem(tracer: Tracer, node: Node):
    container, index = tracer.value(node.args[0]), node.args[1]
    if not isinstance(container, tuple):
        raise tracer.fail("indexing into activations is not supported")
    return container[index]


def finish_output(tracer: Tracer, node: Node) -> None:
    """The model's single output becomes the last layer (the logits)."""
    outputs = [o for o in torch.utils._pytree.tree_leaves(node.args[0]) if isinstance(o, Node)]
    if len(outputs) != 1:
        raise tracer.fail(f"the model must return one tensor, it returns {len(outputs)}")
    value = tracer.value(outputs[0])
    if isinstance(value, Normalised):
        value = value.base
    if isinstance(value, PaddedValue):
        value = tracer.additive(outputs[0])
    if isinstance(value, Pending):
        value = tracer.builder.materialise(value)
    if not isinstance(value, LayerValue):
        tracer._check_usable(value)
    builder = tracer.builder
    if value.layer != len(builder.layers) - 1 or value.layer == 0:
        raise tracer.fail("the model's output must be its last layer, computed from the input")
    builder.read(value, "the model's output")


VALUE_OPS = {
    **{name: elementwise for name in _ELEMENTWISE},
    **{name: view for name in _VIEWS},
    **{name: transpose for name in _TRANSPOSES},
    **{name: batch_norm for name in ("batch_norm", "_native_batch_norm_legit_no_training", "native_batch_norm")},
    **{name: sample_norm for name in ("layer_norm", "native_layer_norm", "group_norm", "native_group_norm")},
    "instance_norm": instance_norm,
    "add": add,
    **{name: softmax for name in ("softmax", "_softmax", "log_softmax", "_log_softmax")},
    "getitem": getitem,
}
