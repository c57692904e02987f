"""``export``: a trained PyTorch model and calibration inputs -> its neural graph (a PyG ``Data``).

The graph (spec: ``shared/spec/neural-curvature.md``; user guide: ``docs/neural-graph.md``)
has one node per neuron and one directed edge per weight use, traced generically
with ``torch.export``; per node it carries the activations of every calibration
input. Connections whose edges fit in ``max_edges`` are materialised in
``edge_index``; the rest stay implicit and are generated on demand by
:func:`graphcurv.neural.iter_connection_edges`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.export import ExportedProgram
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError
from graphcurv.neural import generators
from graphcurv.neural.activations import normalised_activations, raw_activations
from graphcurv.neural.edges import count_edges, generate_edges
from graphcurv.neural.layout import Connection, Layer, node_coordinates, store_layout
from graphcurv.neural.structure import build_structure
from graphcurv.neural.tracing import trace_model
from graphcurv.progress import ProgressCallback, report

__all__ = ["DEFAULT_MAX_EDGES", "MIN_WEIGHT", "export"]

DEFAULT_MAX_EDGES = 10_000_000  # about 0.5 GB of edge tensors
MIN_WEIGHT = 1e-30  # |w| is clamped below at this value for the length 1/|w|


def export(
    model: nn.Module | ExportedProgram,
    calibration_inputs: Tensor,
    *,
    batchnorm: str = "ignore",
    max_edges: int = DEFAULT_MAX_EDGES,
    raw_activation: bool = False,
    progress: ProgressCallback | None = None,
) -> Data:
    """The neural graph of ``model`` with the activations of ``calibration_inputs``.

    Nodes are the neurons, layer by layer (input values, conv channel x position,
    linear units, logits); edges go from a neuron to the neurons it feeds, with

        weight = w (the raw weight),   edge_weight = d(u, v) = 1 / max(|w|, 1e-30),

    and ``activation[u, s]`` is ``|value of u on sample s|`` min-max normalised
    over u's layer. Connections are materialised smallest first while the total
    stays within ``max_edges``; the others are implicit.

    Args:
        model: a ``torch.nn.Module`` (traced in eval mode) or a ``torch.export``
            program (e.g. ``torch.export.load("model.pt2")``).
        calibration_inputs: ``(num_samples, *input_shape)`` batch of inputs.
        batchnorm: ``"ignore"`` (the paper's graph: BatchNorm is not in the
            edges) or ``"fold"`` (folded into the preceding weights and biases).
        max_edges: most edges to store in ``edge_index``.
        raw_activation: also keep ``data.raw_activation``, the un-normalised values.
        progress: ``progress(done, total, description)`` callback.

    Returns:
        A ``Data`` with ``edge_index``, ``edge_weight`` (lengths), ``weight``,
        ``param``, ``param_index``, ``edge_connection`` per stored edge; ``layer``,
        ``channel``, ``position``, ``bias``, ``activation`` per node; the layer
        and connection lists of :mod:`graphcurv.neural.layout`; ``param_names``.

    Raises:
        GraphcurvError: inputs that do not fit, a model that cannot be traced, or
            an unsupported operation (named, with the layer it belongs to).

    Example:

    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2))
    >>> graph = export(model, torch.randn(4, 3))
    >>> graph.num_nodes, graph.edge_index.size(1), graph.layer_names, graph.activation.shape
    (7, 10, ['input', '0', '2'], torch.Size([7, 4]))
    """
    if batchnorm not in ("ignore", "fold"):
        raise GraphcurvError(f"batchnorm must be 'ignore' or 'fold', not {batchnorm!r}")
    if max_edges < 0:
        raise GraphcurvError(f"max_edges must be >= 0, got {max_edges}")
    inputs = _checked_inputs(model, calibration_inputs)
    report(progress, 0, None, "tracing the model")
    program = trace_model(model, inputs[:1])
    builder = build_structure(program, batchnorm)
    layers, connections = builder.layers, builder.connections
    for connection in connections:
        connection.num_edges = count_edges(connection, layers[connection.source], layers[connection.target])
    raw = raw_activations(program, inputs, layers, builder.value_nodes, progress)
    data = _materialised_graph(layers, connections, max_edges, progress)
    data.layer, data.channel, data.position = node_coordinates(layers)
    data.bias = torch.cat([
        torch.zeros(layer.num_nodes, dtype=torch.float64) if bias is None else bias
        for layer, bias in zip(layers, builder.biases)
    ]).float()  # fmt: skip
    store_layout(data, layers, connections)
    data.activation = normalised_activations(raw, data.layer_ptr)
    if raw_activation:
        data.raw_activation = raw
    data.param_names, data.param_shapes = builder.param_names, builder.param_shapes
    data.batchnorm = batchnorm
    data.name = type(model).__name__
    return data


def _checked_inputs(model, inputs) -> Tensor:
    if not isinstance(inputs, Tensor):
        raise GraphcurvError(f"calibration_inputs must be a tensor, got {type(inputs).__name__}")
    if inputs.dim() < 2 or inputs.size(0) == 0:
        raise GraphcurvError(
            f"calibration_inputs must be a non-empty batch (num_samples, *input_shape), got shape {tuple(inputs.shape)}"
        )
    if not inputs.is_floating_point():
        raise GraphcurvError(f"calibration_inputs must be floating point, got {inputs.dtype}")
    source = model.module() if isinstance(model, ExportedProgram) else model
    params = [p for p in source.parameters() if p.is_floating_point()] if isinstance(source, nn.Module) else []
    if params:
        inputs = inputs.to(device=params[0].device, dtype=params[0].dtype)
    if not torch.isfinite(inputs).all():
        raise GraphcurvError("calibration_inputs contain NaN or infinite values")
    return inputs.detach()


def _materialised_graph(
    layers: list[Layer], connections: list[Connection], max_edges: int, progress: ProgressCallback | None
) -> Data:
    """Store the connections that fit (smallest first) as sorted, validated-form edge tensors."""
    budget, chosen = max_edges, []
    for connection in sorted(connections, key=lambda c: (c.num_edges, c.index)):
        if connection.num_edges <= budget:
            connection.materialised, budget = True, budget - connection.num_edges
            chosen.append(connection)
    chosen.sort(key=lambda c: c.index)
    parts: dict[str, list[Tensor]] = {k: [] for k in ("source", "target", "weight", "param", "param_index", "conn")}
    for done, connection in enumerate(chosen):
        ends = layers[connection.source], layers[connection.target]
        chunk = generate_edges(connection, *ends, 0, generators.rows(connection, *ends))
        parts["source"].append(chunk.source)
        parts["target"].append(chunk.target)
        parts["weight"].append(chunk.weight)
        parts["param_index"].append(chunk.param_index)
        parts["param"].append(torch.full_like(chunk.source, connection.param))
        parts["conn"].append(torch.full_like(chunk.source, connection.index))
        report(progress, done + 1, len(chosen), "materialising edges")
    num_nodes = layers[-1].stop
    empty = torch.empty(0, dtype=torch.long)
    source = torch.cat(parts.pop("source")) if chosen else empty
    target = torch.cat(parts.pop("target")) if chosen else empty
    order = torch.sort(source * num_nodes + target, stable=True).indices
    data = Data(edge_index=torch.stack([source[order], target[order]]), num_nodes=num_nodes)
    del source, target

    def column(name: str, dtype) -> Tensor:
        return torch.cat(parts.pop(name))[order] if chosen else torch.empty(0, dtype=dtype)

    data.weight = column("weight", torch.float32)
    data.edge_weight = 1.0 / data.weight.double().abs().clamp_min(MIN_WEIGHT)
    data.param = column("param", torch.long)
    data.param_index = column("param_index", torch.long)
    data.edge_connection = column("conn", torch.long)
    return data
