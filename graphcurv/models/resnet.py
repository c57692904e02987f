"""ResNet-20, CIFAR-style (He et al. 2016, section 4.2), as a plain ``nn.Module``.

A 3x3 convolution to ``width`` channels, then three stages of ``blocks`` basic blocks
(``width``, ``2 width``, ``4 width`` channels; the first block of stages 2 and 3 has
stride 2), global average pooling and one linear layer: ``6 blocks + 2`` weighted
layers, 20 for ``blocks=3``. A basic block is

    y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)),

with the identity as shortcut where the shape is kept and a 1x1 strided convolution
with BatchNorm (the "option B" projection) where it changes. Like the rest of the zoo
it is ``features`` (an ``nn.Sequential``), ``nn.Flatten`` and ``classifier``; the neural
graph sees the residual additions as layers fed by two connections (a DAG,
``docs/neural-curvature.md``). With ``width=16`` it has 270,608 weights on one input
channel (convolutions and the linear layer).

>>> import torch
>>> model = ResNet20(in_channels=1, num_classes=10)
>>> tuple(model(torch.zeros(2, 1, 28, 28)).shape), sum(m.weight.numel() for m in model.modules()
...     if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)))
((2, 10), 270608)
"""

from __future__ import annotations

from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.models.zoo import _Classifier, activation_module


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm and a shortcut (identity, or 1x1 projection)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, activation: str) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.act1, self.act2 = activation_module(activation), activation_module(activation)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x):
        y = self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x)))))
        return self.act2(y + self.shortcut(x))


class ResNet20(_Classifier):
    """CIFAR-style ResNet with ``blocks`` basic blocks per stage (3: ResNet-20)."""

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 32,
        num_classes: int = 10,
        activation: str = "relu",
        width: int = 16,
        blocks: int = 3,
    ) -> None:
        if int(width) < 1 or int(blocks) < 1:
            raise GraphcurvError(f"ResNet width and blocks per stage must be positive, got {width}, {blocks}")
        if int(image_size) < 4:
            raise GraphcurvError(f"ResNet-20 needs images of at least 4 x 4 pixels, got {image_size}")
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            activation_module(activation),
        ]
        channels = width
        for stage in range(3):
            out_channels = width * 2**stage
            for block in range(blocks):
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(BasicBlock(channels, out_channels, stride, activation))
                channels = out_channels
        layers.append(nn.AdaptiveAvgPool2d(1))
        super().__init__(nn.Sequential(*layers), nn.Sequential(nn.Linear(channels, num_classes)))
