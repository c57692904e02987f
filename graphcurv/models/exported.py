"""``torch.export`` programs with a fixed batch, and models that are frozen inference programs.

``torch.export.export(model, (x,))`` fixes the batch dimension to ``x``'s unless
``dynamic_shapes`` says otherwise, so the default archive of a classifier accepts a
batch of exactly one input (``Guard failed: x.size()[0] == 1`` for any other).
:func:`static_batch_size` reads the fixed size off the program, and
:class:`FixedBatch` runs such a program on any batch, in chunks of the fixed size
(one input at a time for the default archive), with the parameter names of the model
(``conv.weight``, not ``module.conv.weight``): its children *are* the program's, so
pruning, ``state_dict`` and ``.to(device)`` reach the program's own tensors. The
neural graph traces one input at a time, so it needs a batch of one (or a dynamic one).

A TorchScript module and a ``torch.export`` module are *frozen*: their code is not
Python that ``torch.nn.utils.prune`` can hook into, and they cannot be trained the way
graphcurv trains models (:func:`frozen_kind`).
"""

from __future__ import annotations

import copy
import io

import torch
from torch import Tensor, nn
from torch.export import ExportedProgram
from torch.export.graph_signature import InputKind

__all__ = ["FixedBatch", "copy_model", "frozen_kind", "graph_module", "static_batch_size"]


def static_batch_size(program: ExportedProgram) -> int | None:
    """The fixed batch size of the program's (first) input, ``None`` when it is dynamic or unknown.

    >>> program = torch.export.export(nn.Linear(3, 2), (torch.zeros(1, 3),))
    >>> static_batch_size(program)
    1
    """
    users = [s.arg.name for s in program.graph_signature.input_specs if s.kind == InputKind.USER_INPUT]
    nodes = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    value = nodes[users[0]].meta.get("val") if users and users[0] in nodes else None
    if not isinstance(value, Tensor) or value.dim() == 0 or not isinstance(value.shape[0], int):
        return None
    return int(value.shape[0])


class FixedBatch(nn.Module):
    """A module exported with a fixed batch of ``batch_size``, evaluated on any batch in chunks of that size.

    ``exported_module`` is the program's module (``ExportedProgram.module()``); it is not a
    child, its children are, so parameter names are the exported model's own. A last,
    short chunk is filled up with zero inputs whose outputs are dropped (the inputs of a
    batch do not interact in an exported inference program, e.g. BatchNorm in eval mode).

    >>> program = torch.export.export(nn.Sequential(nn.Linear(3, 2)), (torch.zeros(1, 3),))
    >>> model = FixedBatch(program.module(), 1)
    >>> model(torch.ones(5, 3)).shape, list(dict(model.named_parameters()))
    (torch.Size([5, 2]), ['0.weight', '0.bias'])
    """

    def __init__(self, module: nn.Module, batch_size: int) -> None:
        super().__init__()
        object.__setattr__(self, "exported_module", module)
        self.batch_size = int(batch_size)
        for name, child in module.named_children():
            self.add_module(name, child)
        for name, parameter in module._parameters.items():
            self.register_parameter(name, parameter)
        for name, buffer in module._buffers.items():
            self.register_buffer(name, buffer, persistent=name not in module._non_persistent_buffers_set)

    def forward(self, x: Tensor) -> Tensor:
        size = self.batch_size
        if x.dim() == 0 or x.size(0) == size:
            return self.exported_module(x)
        outputs = []
        for start in range(0, x.size(0), size):
            chunk = x[start : start + size]
            short = size - chunk.size(0)
            if short:
                chunk = torch.cat([chunk, chunk.new_zeros((short, *chunk.shape[1:]))])
            outputs.append(self.exported_module(chunk)[: size - short])
        return torch.cat(outputs)

    def _apply(self, fn, recurse: bool = True):
        super()._apply(fn, recurse)
        program = self.exported_module  # its children are ours; its own tensors follow ours
        for name in program._parameters:
            program._parameters[name] = self._parameters[name]
        for name in program._buffers:
            program._buffers[name] = self._buffers[name]
        return self


def graph_module(model: nn.Module) -> torch.fx.GraphModule | None:
    """The ``torch.fx`` graph behind ``model`` (itself, or the program of a :class:`FixedBatch`)."""
    inner = getattr(model, "exported_module", model)
    return inner if isinstance(inner, torch.fx.GraphModule) else None


def frozen_kind(model: nn.Module) -> str | None:
    """``"TorchScript"`` or ``"torch.export"`` for frozen inference programs, ``None`` for a Python model.

    A ``torch.fx`` graph whose layers are ordinary ``torch.nn`` modules (``symbolic_trace``)
    is not frozen; the module of a ``torch.export`` program has plain holders instead.
    """
    if isinstance(model, torch.jit.ScriptModule):
        return "TorchScript"
    graph = graph_module(model)
    if graph is None:
        return None
    layers = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    if any(isinstance(m, layers) for m in graph.modules()):
        return None
    return "torch.export"


def copy_model(model: nn.Module) -> nn.Module:
    """A deep copy of ``model``. TorchScript is copied by a save / load round trip: ``copy.deepcopy``
    of a ``ScriptModule`` gives parameters that are not leaves of autograd."""
    if not isinstance(model, torch.jit.ScriptModule):
        return copy.deepcopy(model)
    first = next(iter(model.parameters()), None)
    buffer = io.BytesIO()
    torch.jit.save(model, buffer)
    buffer.seek(0)
    return torch.jit.load(buffer, map_location=first.device if first is not None else "cpu")
