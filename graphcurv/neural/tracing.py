"""Tracing a model with ``torch.export`` and reading the values of traced nodes.

The model is exported once with a batch of one sample (``torch.export.export``),
which gives an aten-level graph and the map from graph inputs to parameter
names. The same program is then run sample by sample with a
:class:`torch.fx.Interpreter` that copies out the values of the nodes the
neural graph needs. A ``torch.export`` archive (``.pt2``, loaded with
``torch.export.load``) is accepted as is; a TorchScript module is converted with
torch's TorchScript-to-export converter (its parameter names are kept).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn
from torch.export import ExportedProgram
from torch.export.graph_signature import InputKind

from graphcurv.errors import GraphcurvError

__all__ = ["check_one_input_at_a_time", "run_capturing", "trace_model"]


def trace_model(model: nn.Module | ExportedProgram, example: Tensor) -> ExportedProgram:
    """Export ``model`` (in eval mode) on ``example``, a batch of one input; TorchScript is converted.

    Raises:
        GraphcurvError: the model cannot be traced (data-dependent control flow,
            an input that does not fit, ...), with torch's reason.
    """
    if isinstance(model, ExportedProgram):
        model = model.module()
    check_one_input_at_a_time(model)
    model = getattr(model, "exported_module", model)  # a fixed-batch archive, run on batches in chunks
    if isinstance(model, torch.jit.ScriptModule):
        return _convert_torchscript(model, example)
    if not isinstance(model, nn.Module):
        raise GraphcurvError(f"expected a torch.nn.Module or an ExportedProgram, got {type(model).__name__}")
    was_training = model.training
    _set_mode(model, False)
    try:
        return torch.export.export(model, (example,))
    except GraphcurvError:
        raise
    except Exception as exc:  # noqa: BLE001 - torch.export fails in many ways; say why in one line
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise GraphcurvError(
            f"could not trace the model with torch.export on an input of shape {tuple(example.shape)}: {reason}"
        ) from exc
    finally:
        _set_mode(model, was_training)


def check_one_input_at_a_time(model) -> None:
    """Refuse a ``torch.export`` program with a fixed batch other than one: the neural graph
    traces and evaluates one input at a time (:class:`graphcurv.models.FixedBatch`)."""
    batch = getattr(model, "batch_size", 1) if hasattr(model, "exported_module") else 1
    if isinstance(model, ExportedProgram):
        from graphcurv.models.exported import static_batch_size

        batch = static_batch_size(model) or 1
    if batch != 1:
        raise GraphcurvError(
            f"the torch.export program was exported with a fixed batch of {batch}, and the neural graph "
            "traces one input at a time: export it with a batch of one (torch.export.export(model, (x[:1],))) "
            "or a dynamic batch (dynamic_shapes={'x': {0: torch.export.Dim('batch')}})"
        )


def _convert_torchscript(model: torch.jit.ScriptModule, example: Tensor) -> ExportedProgram:
    """A TorchScript module (``torch.jit.trace`` / ``script``) as an ``ExportedProgram``, with the
    module's parameter names, by torch's TorchScript-to-export converter run on ``example``."""
    try:
        from torch._export.converter import TS2EPConverter
    except ImportError as exc:  # pragma: no cover - present in every torch graphcurv supports
        raise GraphcurvError(
            "this torch has no TorchScript converter (torch._export.converter); save the model with "
            "torch.save or as a torch.export archive (.pt2)"
        ) from exc
    chatty = logging.getLogger("torch._export.non_strict_utils")  # "dimension ... specialized" notes
    level = chatty.level
    chatty.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return TS2EPConverter(model, (example,)).convert()
    except Exception as exc:  # noqa: BLE001 - the converter fails in many ways; say why in one line
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise GraphcurvError(
            f"could not convert the TorchScript model to a traced program on an input of shape "
            f"{tuple(example.shape)}: {reason}; save the model with torch.save or as a torch.export archive (.pt2)"
        ) from exc
    finally:
        chatty.setLevel(level)


def _set_mode(model: nn.Module, training: bool) -> None:
    try:
        model.train(training)
    except (NotImplementedError, RuntimeError):
        pass  # modules unlifted from an ExportedProgram refuse train()/eval(); they are traced as they are


def _program_arguments(program: ExportedProgram, user_input: Tensor) -> list:
    arguments = []
    for spec in program.graph_signature.input_specs:
        if spec.kind == InputKind.USER_INPUT:
            arguments.append(user_input)
        elif spec.kind in (InputKind.PARAMETER, InputKind.BUFFER) and spec.target in program.state_dict:
            arguments.append(program.state_dict[spec.target])
        else:
            arguments.append(program.constants[spec.target])
    return arguments


class _Capturing(torch.fx.Interpreter):
    def __init__(self, module, wanted: set[str], sink: Callable[[str, Tensor], None]) -> None:
        super().__init__(module)
        self.wanted, self.sink = wanted, sink

    def run_node(self, n):
        result = super().run_node(n)
        if n.name in self.wanted:
            self.sink(n.name, result[0] if isinstance(result, (tuple, list)) else result)
        return result


def run_capturing(
    program: ExportedProgram,
    samples: Iterable[Tensor],
    wanted: set[str],
    sink: Callable[[int, str, Tensor], None],
) -> None:
    """Run the program on each sample (a batch of one) and pass ``sink(i, node, value)``
    the value of every wanted node, as soon as it is computed (before in-place ops change it)."""
    device = next((t.device for t in program.state_dict.values()), torch.device("cpu"))
    with torch.no_grad():
        for i, sample in enumerate(samples):
            interpreter = _Capturing(program.graph_module, wanted, lambda name, value, i=i: sink(i, name, value))
            interpreter.run(*_program_arguments(program, sample.to(device)))
