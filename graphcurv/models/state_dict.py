"""Zoo models from bare ``state_dict``\\ s: unwrap, infer the configuration from shapes, check, load.

A ``state_dict`` holds weights but not the architecture: the caller names it
(``arch``), and :func:`infer_config` reads the rest from the tensor shapes:

* ``mlp``: input size, hidden sizes and classes from the linear weights; the image
  shape from the input size (1 channel if it is a square, else 3);
* ``lenet``: ``in_channels`` from the first conv, classes from the last linear, and
  the smallest ``image_size`` whose feature map matches the first linear layer
  (28 for 256 inputs, 32 for 400);
* ``vgg9-lite``: ``in_channels`` and classes likewise; ``image_size`` 28 for one
  channel (Fashion-MNIST, padded in the first conv) and 32 otherwise.

The activation cannot be seen in weights: it is ``"relu"`` unless the caller
passes ``activation="tanh"``. Explicit keyword arguments override every inferred
value. :func:`load_checked` names every missing, unexpected or wrongly shaped tensor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.models.registry import normalise_arch

__all__ = ["infer_config", "load_checked", "unwrap_state_dict"]

_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net")


def _is_tensor_mapping(obj: Any) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and all(isinstance(v, torch.Tensor) for v in obj.values())


def unwrap_state_dict(obj: Any) -> dict[str, torch.Tensor] | None:
    """The ``state_dict`` in ``obj`` (itself, or under ``"state_dict"``/``"model_state_dict"``/...), else None.

    A ``module.`` prefix on every key (``nn.DataParallel``) is removed.
    """
    if not _is_tensor_mapping(obj) and isinstance(obj, Mapping):
        obj = next((obj[k] for k in _WRAPPER_KEYS if _is_tensor_mapping(obj.get(k))), None)
    if not _is_tensor_mapping(obj):
        return None
    state = dict(obj)
    if all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def _layer_weights(state: Mapping[str, torch.Tensor], ndim: int) -> list[torch.Tensor]:
    return [t for name, t in state.items() if name.endswith("weight") and t.ndim == ndim]


def _image_from_features(in_features: int, config: Mapping[str, Any]) -> tuple[int, int]:
    options = [config["in_channels"]] if "in_channels" in config else [1, 3]
    for channels in options:
        side = math.isqrt(in_features // channels)
        if channels * side * side == in_features:
            return channels, side
    raise GraphcurvError(
        f"cannot tell the image shape from the MLP's {in_features} inputs: pass in_channels and image_size"
    )


def infer_config(arch: str, state: Mapping[str, torch.Tensor], **config: Any) -> dict[str, Any]:
    """``build_model`` keyword arguments for ``arch`` that fit the shapes in ``state`` (``config`` wins)."""
    key = normalise_arch(arch)
    linears, convs = _layer_weights(state, 2), _layer_weights(state, 4)
    if not linears or (key != "mlp" and not convs):
        raise GraphcurvError(f"the state_dict has no {'linear' if not linears else 'conv'} weights: it is not a {key}")
    inferred: dict[str, Any] = {"num_classes": int(linears[-1].shape[0]), "activation": "relu"}
    if key == "mlp":
        in_channels, side = _image_from_features(int(linears[0].shape[1]), config)
        inferred |= {"in_channels": in_channels, "image_size": side}
        inferred["hidden"] = [int(t.shape[0]) for t in linears[:-1]]
    else:
        inferred["in_channels"] = int(convs[0].shape[1])
    if key == "lenet":
        side = math.isqrt(int(linears[0].shape[1]) // 16)
        sizes = [s for s in range(16, 1025) if _lenet_side(s) == side]
        if not sizes or 16 * side * side != linears[0].shape[1]:
            raise GraphcurvError(f"a LeNet's first linear layer takes 16 x s x s inputs, got {linears[0].shape[1]}")
        inferred["image_size"] = sizes[0]
    if key == "vgg9-lite":
        inferred["image_size"] = 28 if inferred["in_channels"] == 1 else 32
    return inferred | dict(config)


def _lenet_side(image_size: int) -> int:
    """Side of LeNet's last feature map (two 6 x 6 convolutions of stride 2) for ``image_size`` inputs."""
    side = image_size
    for _ in range(2):
        side = (side - 6) // 2 + 1
    return side


def load_checked(model: nn.Module, state: Mapping[str, torch.Tensor], description: str) -> nn.Module:
    """``model.load_state_dict(state)`` with errors that name the tensors that do not fit.

    BatchNorm's ``num_batches_tracked`` counters may be missing (older files).
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k} has shape {tuple(state[k].shape)}, expected {tuple(expected[k].shape)}"
        for k in expected
        if k in state and state[k].shape != expected[k].shape
    ]
    problems = []
    if wrong:
        problems.append("; ".join(wrong))
    if missing:
        problems.append(f"missing tensors {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors {', '.join(unexpected)}")
    if problems:
        raise GraphcurvError(f"the weights do not fit {description}: {' | '.join(problems)}")
    model.load_state_dict(dict(state), strict=False)
    return model
