"""Node activations over a calibration set: raw values and the spec's normalised ``a``.

For node ``u`` of layer ``L`` and sample ``x`` the spec's activation is

    a_u(x) = (|v_u(x)| - min_L) / (max_L - min_L),   min_L, max_L over |v_w(x)|, w in L,

with ``v`` the post-activation value (input layer: the input; output layer: the
logits). A layer whose ``|v|`` is constant for a sample gets ``a = 1`` on every
node when that constant is positive and ``a = 0`` when it is 0 (min-max is
undefined there; the layer is then all "active" or all "dead").

Example:

>>> import torch
>>> raw = torch.tensor([[1.0], [-3.0], [2.0], [0.0], [0.0]])
>>> normalised_activations(raw, [0, 3, 5]).squeeze(1).tolist()
[0.0, 1.0, 0.5, 0.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.export import ExportedProgram

from graphcurv.neural.layout import Layer
from graphcurv.neural.tracing import run_capturing
from graphcurv.progress import ProgressCallback, report

__all__ = ["normalised_activations", "raw_activations"]


def raw_activations(
    program: ExportedProgram,
    inputs: Tensor,
    layers: Sequence[Layer],
    value_nodes: Sequence[str],
    progress: ProgressCallback | None = None,
) -> Tensor:
    """``(num_nodes, num_samples)`` post-activation values, in the model's dtype, on the CPU."""
    num_nodes, num_samples = layers[-1].stop, inputs.size(0)
    raw = torch.zeros(num_nodes, num_samples, dtype=inputs.dtype)
    slots: dict[str, list[Layer]] = {}
    for layer, node in zip(layers, value_nodes):
        slots.setdefault(node, []).append(layer)

    def sink(sample: int, node: str, value: Tensor) -> None:
        flat = value.detach().reshape(-1).to("cpu", raw.dtype)
        for layer in slots[node]:
            raw[layer.start : layer.stop, sample] = flat
        if node == value_nodes[-1]:
            report(progress, sample + 1, num_samples, "activations")

    run_capturing(program, (inputs[i : i + 1] for i in range(num_samples)), set(slots), sink)
    return raw


def normalised_activations(raw: Tensor, layer_ptr: Sequence[int]) -> Tensor:
    """Per sample and layer, ``|raw|`` min-max normalised to [0, 1] (float32)."""
    magnitude = raw.abs().double()
    out = torch.empty_like(magnitude)
    for start, stop in zip(layer_ptr[:-1], layer_ptr[1:]):
        block = magnitude[start:stop]
        low, high = block.amin(dim=0), block.amax(dim=0)
        span = high - low
        constant = span <= 0
        scaled = (block - low) / torch.where(constant, torch.ones_like(span), span)
        out[start:stop] = torch.where(constant, (high > 0).double().expand_as(block), scaled)
    return out.float()
