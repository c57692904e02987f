"""Walk a ``torch.export`` program and build the layers and connections of its neural graph.

The walk is generic: every aten operation of the traced program is dispatched
on its name (tables in :mod:`graphcurv.neural.layer_ops` and
:mod:`graphcurv.neural.value_ops`), never on the model's class. What each traced
tensor stands for is described in :mod:`graphcurv.neural.symbolic`. An
operation that is not in the tables raises a :class:`GraphcurvError` naming the
operation and the module (layer) it comes from, and what is supported; layers
that cannot be neurons and weights (attention, recurrent cells, embeddings) are
refused by name before any of their operations is read.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.export import ExportedProgram
from torch.export.graph_signature import InputKind
from torch.fx import Node
from torch.fx.operator_schemas import normalize_function

from graphcurv.errors import GraphcurvError
from graphcurv.neural.symbolic import GraphBuilder, LayerValue, Normalised, Opaque, PaddedValue, ParamValue, Pending

__all__ = ["SUPPORTED", "UNSUPPORTED_LAYERS", "Tracer", "build_structure", "op_name", "unsupported_layer"]

_IGNORED = ("_assert", "sym_", "_check")
SUPPORTED = (
    "the neural graph supports Linear, Conv1d/2d/3d, elementwise activations, Flatten/reshape, BatchNorm, "
    "LayerNorm, InstanceNorm, GroupNorm, Dropout, Avg/MaxPool (also adaptive), a mean over the spatial "
    "dimensions, slicing, zero padding, residual additions and a softmax at the end"
)
UNSUPPORTED_LAYERS = {
    **dict.fromkeys(("MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerDecoder",
                     "TransformerEncoderLayer", "TransformerDecoderLayer"), "attention mixes inputs by their values"),
    **dict.fromkeys(("LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell"), "a recurrent layer reuses its weights over time"),
    **dict.fromkeys(("Embedding", "EmbeddingBag"), "an embedding is a table lookup, not weighted edges"),
}  # fmt: skip


def op_name(node: Node) -> str:
    """``relu`` for ``aten.relu.default``; ``getitem`` for ``operator.getitem``."""
    target = node.target
    return getattr(target, "_opname", getattr(target, "__name__", str(target)))


def _module_stack(node: Node) -> list[tuple[str, str]]:
    """(path, class name) of every module around ``node``, outermost first."""
    out = []
    for path, kind in (node.meta.get("nn_module_stack") or {}).values():
        kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
        out.append((str(path), kind.rsplit(".", 1)[-1]))
    return out


def unsupported_layer(node: Node) -> str | None:
    """The refusal of the outermost module around ``node`` that has no neural graph, or ``None``."""
    for path, kind in _module_stack(node):
        if kind in UNSUPPORTED_LAYERS:
            return f"layer {path!r} ({kind}) cannot be mapped to neurons and weights: {UNSUPPORTED_LAYERS[kind]}; "
    return None


def module_of(node: Node) -> tuple[str, str]:
    """(path, class name) of the innermost module that issued ``node`` ('' at top level)."""
    stack = _module_stack(node)
    return stack[-1] if stack else ("", "")


class Tracer:
    """State of one walk: the symbolic value of every traced node, and the graph being built."""

    def __init__(self, program: ExportedProgram, batchnorm: str) -> None:
        self.program = program
        self.batchnorm = batchnorm
        self.builder = GraphBuilder()
        self.env: dict[str, Any] = {}
        self.node: Node | None = None

    # --- messages -------------------------------------------------------------------
    def where(self, node: Node | None = None) -> str:
        node = node or self.node
        path, kind = module_of(node)
        op = f"aten.{op_name(node)}"
        if path:
            return f"{op} in layer {path!r} ({kind})"
        return f"{op} in the model's forward" + (f" ({kind})" if kind else "")

    def fail(self, message: str) -> GraphcurvError:
        return GraphcurvError(f"{self.where()}: {message}")

    def layer_name(self, node: Node) -> str:
        return self.builder.unique_name(module_of(node)[0], node.name)

    # --- argument access ------------------------------------------------------------
    def arguments(self, node: Node) -> dict[str, Any]:
        """The operation's arguments by schema name, with defaults filled in."""
        pair = normalize_function(node.target, node.args, node.kwargs, normalize_to_only_use_kwargs=True)
        return dict(pair.kwargs) if pair is not None else {f"arg{i}": a for i, a in enumerate(node.args)}

    def value(self, arg: Any) -> Any:
        return self.env[arg.name] if isinstance(arg, Node) else arg

    def sample_shape(self, node: Node, item: int | None = None) -> tuple[int, ...]:
        """Per-sample shape of a traced tensor (the batch dimension, of size 1, dropped);
        ``item`` picks one tensor of an operation that returns several."""
        val = node.meta.get("val")
        if item is not None and isinstance(val, (tuple, list)):
            val = val[item]
        if not isinstance(val, torch.Tensor) or val.dim() == 0 or int(val.shape[0]) != 1:
            raise self.fail("expected a batched tensor (batch dimension first); the batch dimension was reshaped away")
        return tuple(int(s) for s in val.shape[1:])

    def param(self, arg: Any, what: str) -> ParamValue | None:
        value = self.value(arg)
        if value is None:
            return None
        if not isinstance(value, ParamValue):
            raise self.fail(f"the {what} must be a parameter of the model, not computed from the input")
        return value

    def _check_usable(self, value: Any) -> None:
        if isinstance(value, Opaque):
            raise self.fail(f"uses {value.reason}, which has no place in the neural graph")
        if isinstance(value, Normalised):
            raise self.fail(
                "uses a softmax of the logits inside the model; softmax is allowed only as the last operation"
            )
        if isinstance(value, PaddedValue):
            raise self.fail("zero padding (F.pad) used where no tensor of the neural graph is expected")
        if isinstance(value, ParamValue):
            raise self.fail(f"uses the parameter {value.name!r} as data")
        if not isinstance(value, (LayerValue, Pending)):
            raise self.fail(f"expected a tensor computed from the input, got {value!r}")

    def additive(self, arg: Node) -> LayerValue | Pending:
        """An operand of an additive operation (BatchNorm, view, sum): pending stays pending
        unless the traced value has other users, in which case it becomes a layer first."""
        value = self.value(arg)
        if isinstance(value, PaddedValue):  # not read by a convolution: an index map
            from graphcurv.neural.index_ops import padded_index_map

            value = self.env[arg.name] = padded_index_map(self, value)
        self._check_usable(value)
        if isinstance(value, Pending) and len(arg.users) > 1:
            value = self.builder.materialise(value)
            self.env[arg.name] = value
        return value

    def layer(self, arg: Node, *, read: bool = True) -> LayerValue:
        """An operand that must be a layer of nodes (a pending function is materialised)."""
        value = self.additive(arg)
        if isinstance(value, Pending):
            value = self.builder.materialise(value)
            self.env[arg.name] = value
        if read:
            self.builder.read(value, self.where())
        return value

    def flat_bias(self, bias: ParamValue | None, shape: tuple[int, ...]) -> torch.Tensor | None:
        """A per-channel bias repeated over the spatial positions (one value per node)."""
        if bias is None:
            return None
        return bias.tensor.detach().double().cpu().repeat_interleave(math.prod(shape[1:]))


def _input_values(tracer: Tracer) -> list[Node]:
    program, user_inputs = tracer.program, []
    placeholders = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    for spec in program.graph_signature.input_specs:
        node = placeholders[spec.arg.name]
        if spec.kind == InputKind.USER_INPUT:
            user_inputs.append(node)
            continue
        if spec.kind in (InputKind.PARAMETER, InputKind.BUFFER) and spec.target in program.state_dict:
            tensor = program.state_dict[spec.target]
        else:
            tensor = program.constants.get(spec.target)
        tracer.env[node.name] = ParamValue(str(spec.target), tensor)
    return user_inputs


def build_structure(program: ExportedProgram, batchnorm: str = "ignore") -> GraphBuilder:
    """Layers, connections, biases and parameter names of an exported model.

    ``batchnorm="ignore"`` leaves BatchNorm out of the edges (the paper's graph);
    ``"fold"`` folds it into the weights and biases of the preceding linear/conv.
    """
    from graphcurv.neural.index_ops import INDEX_OPS
    from graphcurv.neural.layer_ops import LAYER_OPS
    from graphcurv.neural.value_ops import VALUE_OPS, finish_output

    tracer = Tracer(program, batchnorm)
    inputs = _input_values(tracer)
    if len(inputs) != 1:
        raise GraphcurvError(f"the model must take exactly one input tensor, it takes {len(inputs)}")
    tracer.node = inputs[0]
    shape = tracer.sample_shape(inputs[0])
    tracer.builder.add_layer("input", "input", shape, inputs[0].name)
    tracer.env[inputs[0].name] = LayerValue(0, shape, inputs[0].name)
    handlers = {**LAYER_OPS, **VALUE_OPS, **INDEX_OPS}
    for node in program.graph.nodes:
        tracer.node = node
        if node.op == "placeholder":
            continue
        if node.op == "output":
            finish_output(tracer, node)
            break
        name = op_name(node)
        if node.op != "call_function":
            raise tracer.fail(f"unexpected traced node kind {node.op!r}")
        if name.startswith(_IGNORED):
            continue
        refusal = unsupported_layer(node)
        if refusal is not None:
            raise GraphcurvError(refusal + SUPPORTED)
        handler = handlers.get(name) or handlers.get(name.rstrip("_"))
        if handler is None:
            raise tracer.fail(f"unsupported operation; {SUPPORTED}")
        try:
            tracer.env[node.name] = handler(tracer, node)
        except GraphcurvError:
            raise
        except Exception as exc:  # noqa: BLE001 - an operation in a form the handler does not expect
            detail = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise tracer.fail(
                f"this form of the operation is not supported ({type(exc).__name__}: {detail}); {SUPPORTED}"
            ) from exc
    tracer.builder.check_reads()
    return tracer.builder
