"""Fixtures of the fault-injection suite: a small trained model and a finished report of it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from faults.faulting import analyze_args

from graphcurv.datasets import load_dataset
from graphcurv.models import build_model, save_model, train_model
from graphcurv_cli.app import main

CONFIG = {"in_channels": 1, "image_size": 8, "num_classes": 10, "hidden": [24, 24]}


@pytest.fixture(scope="session")
def digits_mlp(tmp_path_factory) -> Path:
    """A 64-24-24-10 MLP trained on scikit-learn's digits: a middle connection, so the solver pool works."""
    torch.manual_seed(0)
    model = build_model("mlp", **CONFIG)
    train_model(model, load_dataset("digits", split="train"), epochs=15, lr=1e-2, batch_size=64)
    path = tmp_path_factory.mktemp("faults-model") / "mlp.pt"
    save_model(model, path, arch="mlp", config=CONFIG)
    return path


@pytest.fixture(scope="session")
def report(digits_mlp, tmp_path_factory) -> Path:
    """A finished report of the MLP (-k 1) and, next to it, the state file the run kept."""
    folder = tmp_path_factory.mktemp("faults-report")
    out, state = folder / "report", folder / "state.pt"
    assert main(analyze_args(digits_mlp, "-o", str(out), "--state", str(state), "--workers", "1")) == 0
    return out
