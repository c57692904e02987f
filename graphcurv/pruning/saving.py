"""Where a pruned model comes from, and writing it back in the format it came in.

A pruned model is written as what it was loaded from (:func:`save_pruned`):

* a zoo model (a graphcurv checkpoint, or a zoo class recognised from its weights):
  a graphcurv checkpoint with the architecture, configuration and metrics; the dense
  model's recorded accuracies are kept as ``dense_*``;
* a ``torch.export`` archive (``.pt2``): the same archive (graph, signature, guards)
  with the pruned weights;
* a TorchScript model: TorchScript (``torch.jit.save``);
* anything else (a pickled user module): its ``state_dict``.

Archives and TorchScript have no place for metrics; a checkpoint keeps them.
:func:`recorded_checkpoint`, :func:`zoo_config` and :func:`input_shape` give the
provenance the CLI and scripts need: the checkpoint a file holds (if any), the zoo
configuration that rebuilds a model, and one input's shape.

Example:

>>> import tempfile, pathlib, torch
>>> from graphcurv.models import build_model
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> net = build_model("mlp", in_channels=1, image_size=8, num_classes=10, hidden=[16])
>>> save_pruned(net, folder / "p.pt", source=folder / "none.pt", zoo=zoo_config(net, None), checkpoint=None)
'a graphcurv checkpoint'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from graphcurv.errors import GraphcurvError

__all__ = ["input_shape", "output_suffixes", "recorded_checkpoint", "save_pruned", "source_kind", "zoo_config"]

_SUFFIXES = {"export": (".pt2",), "torchscript": (".pt", ".pth", ".ts"), "torch": (".pt", ".pth")}


def recorded_checkpoint(model: str | os.PathLike[str]) -> dict | None:
    """The graphcurv checkpoint dict of the file ``model``, or ``None`` for any other kind of model file."""
    from graphcurv.models import load_checkpoint

    try:
        return load_checkpoint(model)
    except GraphcurvError:
        return None


def zoo_config(net: nn.Module, checkpoint: dict | None) -> tuple[str, dict] | None:
    """``(arch, config)`` that rebuild ``net``: the checkpoint's, or read off a zoo model's weights; else ``None``."""
    from graphcurv.models import MLP, LeNet, VGG9Lite, infer_config

    if checkpoint is not None:
        return checkpoint["arch"], dict(checkpoint.get("config", {}))
    arch = {MLP: "mlp", LeNet: "lenet", VGG9Lite: "vgg9-lite"}.get(type(net))
    if arch is None:
        return None
    activation = "tanh" if any(isinstance(m, torch.nn.Tanh) for m in net.modules()) else "relu"
    return arch, infer_config(arch, net.state_dict(), activation=activation)


def input_shape(zoo: tuple[str, dict] | None, data) -> tuple[int, ...] | None:
    """One input's shape: the dataset's images, else the zoo configuration's; ``None`` if neither is known."""
    if data is not None:
        return tuple(data.images.shape[1:])
    config = zoo[1] if zoo else {}
    if "in_channels" in config and "image_size" in config:
        return (int(config["in_channels"]), int(config["image_size"]), int(config["image_size"]))
    return None


def source_kind(model: str | os.PathLike[str]) -> str:
    """What the model file is: ``"export"`` (``.pt2``), ``"torchscript"`` or ``"torch"`` (anything ``torch.load`` reads)."""
    from graphcurv.models.archives import model_file_kind

    path = Path(model)
    return model_file_kind(path) if path.is_file() else "torch"


def output_suffixes(model: str | os.PathLike[str]) -> tuple[str, ...]:
    """The file suffixes a pruned copy of ``model`` may be written to (it keeps the format)."""
    return _SUFFIXES[source_kind(model)]


def save_pruned(
    net: nn.Module,
    output: str | os.PathLike[str],
    *,
    source: str | os.PathLike[str],
    zoo: tuple[str, dict] | None,
    checkpoint: dict | None,
    metrics: dict[str, Any] | None = None,
) -> str:
    """Write the pruned ``net`` (loaded from the file ``source``) as the module docstring says; say what was written.

    The file is written atomically (completely or not at all).
    """
    from graphcurv.atomic import atomic_path
    from graphcurv.models import save_model

    output, metrics = Path(output), dict(metrics or {})
    net = net.cpu()
    kind = source_kind(source)
    if kind == "export":
        program = _archive_with(Path(source), net)
        with atomic_path(output) as tmp:
            torch.export.save(program, tmp)
        return "a torch.export archive (load it with torch.export.load)"
    if kind == "torchscript" or isinstance(net, torch.jit.ScriptModule):
        with atomic_path(output) as tmp:
            torch.jit.save(net, str(tmp))
        return "a TorchScript model (load it with torch.jit.load)"
    if zoo is not None:
        recorded = dict((checkpoint or {}).get("metrics", {}))
        for key in ("test_accuracy", "val_accuracy"):  # measured on the dense model: say so
            if key in recorded:
                recorded[f"dense_{key}"] = recorded.pop(key)
        save_model(net, output, arch=zoo[0], config=zoo[1], metrics={**recorded, **metrics})
        return "a graphcurv checkpoint"
    with atomic_path(output) as tmp:
        torch.save({k: v.detach().cpu() for k, v in net.state_dict().items()}, tmp)
    return "a state_dict (load it into the model's class with load_state_dict)"


def _archive_with(source: Path, net: nn.Module):
    """The program of the archive ``source`` with the parameters and buffers of ``net``."""
    program = torch.export.load(source)  # the archive ``net`` was loaded from (checked then)
    state = net.state_dict()
    missing = [name for name in program.state_dict if name not in state]
    if missing:
        raise GraphcurvError(f"the pruned model has no tensor {missing[0]!r} of the archive {source}")
    with torch.no_grad():
        for name, tensor in program.state_dict.items():
            if tuple(tensor.shape) != tuple(state[name].shape):
                raise GraphcurvError(
                    f"{name!r} has shape {tuple(state[name].shape)}, the archive {tuple(tensor.shape)}"
                )
            tensor.copy_(state[name].to(tensor.device, tensor.dtype))
    return program
