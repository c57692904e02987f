"""Small networks shared by the neural-curvature and analysis tests."""

from __future__ import annotations

import torch
from torch import nn


def hand_network() -> nn.Module:
    """input (2) -> Linear -> ReLU (3) -> Linear (2 logits), no biases; weights exact in float32.

    With input x = (1, 0): hidden h = relu(0.5, 1.0, -0.25) = (0.5, 1, 0), logits (1.0, 1.75).
    """
    model = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 2, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.5, 0.25], [1.0, -0.75], [-0.25, 0.75]]))
        model[2].weight.copy_(torch.tensor([[1.0, 0.5, 0.25], [-0.5, 2.0, 0.75]]))
    return model
