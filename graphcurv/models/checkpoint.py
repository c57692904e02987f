"""The graphcurv checkpoint: a model's architecture, configuration, weights and metrics in one file.

A checkpoint is what ``torch.save`` writes for the plain dict

    {"format": "graphcurv-model", "version": 1, "arch": "lenet",
     "config": {"in_channels": 1, "image_size": 28, "num_classes": 10, "activation": "relu"},
     "state_dict": {...tensors...}, "metrics": {"test_accuracy": 0.89, ...}}

It holds only tensors, strings, numbers, lists and dicts, so it loads with
``torch.load(path, weights_only=True)``: opening it runs no code stored in the
file. ``build_model(arch, **config)`` rebuilds the architecture.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from graphcurv.atomic import atomic_path
from graphcurv.errors import GraphcurvError
from graphcurv.models.registry import normalise_arch

__all__ = ["CHECKPOINT_FORMAT", "is_checkpoint", "plain_value", "save_model"]

CHECKPOINT_FORMAT = "graphcurv-model"
CHECKPOINT_VERSION = 1


def plain_value(value: Any, where: str = "value") -> Any:
    """``value`` as nested dicts (str keys), lists, str, int, float, bool and None, or an error.

    NumPy / torch scalars become Python numbers and tuples become lists, so the
    result survives ``torch.load(weights_only=True)``.

    >>> plain_value({"hidden": (300, 100), "acc": torch.tensor(0.5)})
    {'hidden': [300, 100], 'acc': 0.5}
    """
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise GraphcurvError(f"{where}: dictionary keys must be strings")
        return {k: plain_value(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # NumPy / torch scalars
        return value.item()
    raise GraphcurvError(
        f"{where}: {type(value).__name__} cannot be stored in a checkpoint (use plain numbers/strings)"
    )


def is_checkpoint(obj: Any) -> bool:
    """Whether ``obj`` (what ``torch.load`` returned) is a graphcurv checkpoint dict."""
    return isinstance(obj, Mapping) and obj.get("format") == CHECKPOINT_FORMAT


def save_model(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    arch: str,
    config: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model`` as a graphcurv checkpoint, atomically; return the path.

    Args:
        model: a zoo model (its ``state_dict`` is stored, on the CPU).
        path: the ``.pt`` file to write.
        arch: its zoo name (``"mlp"``, ``"lenet"``, ``"vgg9-lite"``).
        config: the keyword arguments of ``build_model`` that rebuild it.
        metrics: anything worth keeping (accuracies, training settings).
    """
    state = {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()}
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "arch": normalise_arch(arch),
        "config": plain_value(dict(config or {}), "config"),
        "state_dict": state,
        "metrics": plain_value(dict(metrics or {}), "metrics"),
    }
    target = Path(path)
    with atomic_path(target) as tmp:
        torch.save(checkpoint, tmp)
    return target
