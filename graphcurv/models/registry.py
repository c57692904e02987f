"""Zoo models by name: ``build_model("lenet", in_channels=1, image_size=28, num_classes=10)``.

Names: ``"mlp"``, ``"lenet"``, ``"vgg9-lite"``, ``"resnet20"`` (case, ``_`` and missing hyphens are
forgiven: ``VGG9_lite``, ``vgg9lite``). :func:`build_model` takes the shape of the
data (``in_channels``, ``image_size``, ``num_classes``) and the ``activation``; the
MLP also takes ``hidden`` (its hidden layer sizes), the ResNet ``width`` and ``blocks``. These keyword arguments are the
``config`` a graphcurv checkpoint stores, so ``build_model(arch, **config)``
rebuilds the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.models.zoo import MLP, LeNet, VGG9Lite

__all__ = ["MODEL_NAMES", "build_model", "model_names", "normalise_arch"]


def _mlp(in_channels: int, image_size: int, num_classes: int, activation: str, hidden: Sequence[int] = (300, 100)):
    return MLP(in_channels * image_size * image_size, tuple(hidden), num_classes, activation)


def _lenet(in_channels: int, image_size: int, num_classes: int, activation: str):
    return LeNet(in_channels, image_size, num_classes, activation)


def _vgg9_lite(in_channels: int, image_size: int, num_classes: int, activation: str):
    return VGG9Lite(in_channels, image_size, num_classes, activation)


def _resnet20(in_channels: int, image_size: int, num_classes: int, activation: str, width: int = 16, blocks: int = 3):
    from graphcurv.models.resnet import ResNet20

    return ResNet20(in_channels, image_size, num_classes, activation, width=width, blocks=blocks)


_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "mlp": _mlp,
    "lenet": _lenet,
    "vgg9-lite": _vgg9_lite,
    "resnet20": _resnet20,
}
MODEL_NAMES = tuple(_BUILDERS)


def _randwire(in_channels: int, image_size: int, num_classes: int, activation: str, **options):
    from graphcurv.riccinets.network import randwire_from_config  # lazy: the zoo does not import PyG

    settings = {"in_channels": in_channels, "image_size": image_size, "num_classes": num_classes}
    return randwire_from_config({**settings, "activation": activation, **options})


# Loadable from checkpoints, but not a zoo name (MODEL_NAMES): it needs its stage graphs in ``config``.
_BUILDERS["randwire"] = _randwire
_ALIASES = {"vgg9lite": "vgg9-lite", "vgg9": "vgg9-lite", "resnet-20": "resnet20"}


def model_names() -> list[str]:
    """The architecture names :func:`build_model` accepts."""
    return list(MODEL_NAMES)


def normalise_arch(arch: str) -> str:
    """``"VGG9_lite"`` -> ``"vgg9-lite"``; unknown names raise :class:`GraphcurvError` listing the zoo."""
    key = str(arch).strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in _BUILDERS:
        raise GraphcurvError(f"unknown architecture {arch!r}: the zoo has {', '.join(MODEL_NAMES)}")
    return key


def build_model(
    arch: str,
    *,
    in_channels: int = 1,
    image_size: int = 28,
    num_classes: int = 10,
    activation: str = "relu",
    **options,
) -> nn.Module:
    """A freshly initialised zoo model (initialisation follows torch's global RNG: seed it first).

    Args:
        arch: ``"mlp"``, ``"lenet"``, ``"vgg9-lite"`` or ``"resnet20"``.
        in_channels, image_size: the shape of the (square) input images.
        num_classes: number of logits.
        activation: ``"relu"`` or ``"tanh"``.
        options: architecture-specific settings (``hidden=(300, 100)`` for the MLP,
            ``width=16, blocks=3`` for the ResNet).

    >>> build_model("mlp", hidden=(32,)).classifier
    Sequential(
      (0): Linear(in_features=784, out_features=32, bias=True)
      (1): ReLU()
      (2): Linear(in_features=32, out_features=10, bias=True)
    )
    """
    key = normalise_arch(arch)
    for name, value in (("in_channels", in_channels), ("image_size", image_size), ("num_classes", num_classes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise GraphcurvError(f"{name} must be a positive integer, got {value!r}")
    try:
        return _BUILDERS[key](in_channels, image_size, num_classes, activation, **options)
    except TypeError as exc:
        raise GraphcurvError(f"bad options for {key}: {sorted(options)} ({exc})") from exc
