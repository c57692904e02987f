"""The model zoo of the paper: an MLP, the LeNet variant and VGG9-lite, as plain ``nn.Module``s.

Every model is ``features`` (an ``nn.Sequential``, empty for the MLP), ``nn.Flatten``
and ``classifier`` (an ``nn.Sequential``), with no data-dependent Python control
flow, so ``torch.fx.symbolic_trace`` and ``torch.export.export`` trace them.
"Weights" below count the weight tensors of convolutions and linear layers (the
edges of the neural graph), not biases or BatchNorm parameters.

* :class:`MLP`: ``in -> 300 -> 100 -> classes`` by default (hidden sizes configurable);
  784-300-100-10 has 266,200 weights.
* :class:`LeNet` (the paper's MNIST variant): conv 1->6 (k6, s2, 28->12),
  conv 6->16 (k6, s2, 12->4), linear 256->120->84->10, no BatchNorm; 45,312 weights
  on 1 x 28 x 28 input.
* :class:`VGG9Lite` (the paper's CIFAR model): conv 3->64 (k2, s2, 32->16),
  64->128 (k3, 16->14), 128->128 (k3, 14->12), 128->128 (k3, s2, 12->5),
  128->256 (k3, 5->3), 256->256 (k3, 3->1), linear 256->512->128->classes;
  BatchNorm after every conv, no pooling; 1,452,032 weights for CIFAR-10.
  Smaller square images (28 x 28 Fashion-MNIST) are zero-padded to 32 x 32 by
  the *first convolution's own padding* (``padding = (32 - size) // 2``, 2 for 28):
  the same as padding the image, but the padded positions are not input
  neurons, so the neural graph has exactly the image's pixels as inputs. With
  ``in_channels=1`` the first conv has 256 weights instead of 768.

``activation`` is ``"relu"`` or ``"tanh"`` and follows every hidden layer (after
BatchNorm in VGG9-lite); the output layer gives logits.

>>> import torch
>>> model = LeNet()
>>> tuple(model(torch.zeros(2, 1, 28, 28)).shape), count_weights(model)
((2, 10), 45312)
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from graphcurv.errors import GraphcurvError

__all__ = ["ACTIVATIONS", "MLP", "LeNet", "VGG9Lite", "activation_module", "count_weights"]

ACTIVATIONS = ("relu", "tanh")


def activation_module(name: str) -> nn.Module:
    """``nn.ReLU()`` for ``"relu"``, ``nn.Tanh()`` for ``"tanh"``."""
    key = str(name).strip().lower()
    if key == "relu":
        return nn.ReLU()
    if key == "tanh":
        return nn.Tanh()
    raise GraphcurvError(f"unknown activation {name!r}: use one of {', '.join(ACTIVATIONS)}")


def count_weights(model: nn.Module) -> int:
    """Number of entries of the weight tensors of every ``Linear`` and ``Conv1d/2d`` of ``model``."""
    layers = (nn.Linear, nn.Conv1d, nn.Conv2d)
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, layers))


def _conv_output(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    return (size + 2 * padding - kernel) // stride + 1


class _Classifier(nn.Module):
    """``classifier(flatten(features(x)))``: the shape every zoo model has."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential) -> None:
        super().__init__()
        self.features = features
        self.flatten = nn.Flatten()
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(self.flatten(self.features(x)))


def _dense_stack(sizes: Sequence[int], activation: str) -> list[nn.Module]:
    """Linear layers ``sizes[0] -> sizes[1] -> ...``, an activation between consecutive ones."""
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(activation_module(activation))
    return layers


class MLP(_Classifier):
    """A fully connected classifier ``in_features -> hidden... -> num_classes`` (input flattened)."""

    def __init__(
        self,
        in_features: int = 784,
        hidden: Sequence[int] = (300, 100),
        num_classes: int = 10,
        activation: str = "relu",
    ) -> None:
        sizes = [int(in_features), *(int(h) for h in hidden), int(num_classes)]
        if min(sizes) < 1:
            raise GraphcurvError(f"MLP layer sizes must be positive, got {sizes}")
        super().__init__(nn.Sequential(), nn.Sequential(*_dense_stack(sizes, activation)))


class LeNet(_Classifier):
    """The paper's LeNet variant: two stride-2 6x6 convolutions and three linear layers, no BatchNorm."""

    def __init__(
        self, in_channels: int = 1, image_size: int = 28, num_classes: int = 10, activation: str = "relu"
    ) -> None:
        side = _conv_output(_conv_output(image_size, 6, 2), 6, 2)
        if side < 1:
            raise GraphcurvError(f"LeNet needs images of at least 16 x 16 pixels, got {image_size}")
        features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=6, stride=2),
            activation_module(activation),
            nn.Conv2d(6, 16, kernel_size=6, stride=2),
            activation_module(activation),
        )
        super().__init__(features, nn.Sequential(*_dense_stack([16 * side * side, 120, 84, num_classes], activation)))


# (out_channels, kernel, stride) of VGG9-lite's six convolutions.
VGG9_LITE_CONVS = ((64, 2, 2), (128, 3, 1), (128, 3, 1), (128, 3, 2), (256, 3, 1), (256, 3, 1))


class VGG9Lite(_Classifier):
    """The paper's VGG9-lite: six convolutions with BatchNorm, no padding or pooling, three linear layers.

    Built for 32 x 32 images; a smaller even-margin size (28 x 28) is padded inside
    the first convolution (see the module docstring).
    """

    def __init__(
        self, in_channels: int = 3, image_size: int = 32, num_classes: int = 10, activation: str = "relu"
    ) -> None:
        margin = 32 - int(image_size)
        if margin < 0 or margin % 2:
            raise GraphcurvError(
                f"VGG9-lite takes 32 x 32 images, or smaller ones with an even margin (28 x 28), got {image_size}"
            )
        layers: list[nn.Module] = []
        channels = in_channels
        for i, (out_channels, kernel, stride) in enumerate(VGG9_LITE_CONVS):
            padding = margin // 2 if i == 0 else 0
            layers.append(nn.Conv2d(channels, out_channels, kernel_size=kernel, stride=stride, padding=padding))
            layers += [nn.BatchNorm2d(out_channels), activation_module(activation)]
            channels = out_channels
        super().__init__(nn.Sequential(*layers), nn.Sequential(*_dense_stack([256, 512, 128, num_classes], activation)))
