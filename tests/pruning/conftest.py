"""Shared fixtures of the pruning tests: a small MLP trained on scikit-learn's digits."""

from __future__ import annotations

import pytest
import torch

from graphcurv.datasets import load_dataset
from graphcurv.models import build_model, train_model

DIGITS_CONFIG = {"in_channels": 1, "image_size": 8, "num_classes": 10, "hidden": [16]}


@pytest.fixture(scope="package")
def digits_mlp():
    """A 64-16-10 MLP trained for a few epochs on digits (about 90 % test accuracy), in eval mode."""
    torch.manual_seed(0)
    model = build_model("mlp", **DIGITS_CONFIG)
    train_model(model, load_dataset("digits", split="train"), epochs=6, lr=1e-2, batch_size=64)
    return model.eval()
