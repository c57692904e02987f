"""Bad models and data, refused before any expensive step with a message that names the cause
(docs/reliability.md, "Models and data" and "Memory")."""

from __future__ import annotations

import pytest
import torch
from faults.faulting import analyze_args, one_line_error

import graphcurv.datasets
import graphcurv.neural.memory
from graphcurv.models import load_model, save_model
from graphcurv_cli.app import main

CONFIG = {"in_channels": 1, "image_size": 8, "num_classes": 10, "hidden": [24, 24]}
LENET = "datasets/models/lenet-relu-fashion-mnist.pt"


def _broken(digits_mlp, tmp_path, change) -> str:
    model = load_model(digits_mlp)
    with torch.no_grad():
        change(model)
    path = tmp_path / "broken.pt"
    save_model(model, path, arch="mlp", config=CONFIG)
    return str(path)


def _no_work(*args, **kwargs):
    raise AssertionError("the command started working")


def _nan_weights(model):
    model.classifier[2].weight[0, :3] = float("nan")


NAN_MESSAGE = (
    "error: the model's parameter 'classifier.2.weight' has 3 NaN entries (first at [0, 0]): the model's numbers "
    "are broken (a diverged training run or a damaged file); retrain it or load an earlier checkpoint"
)


@pytest.mark.parametrize(
    "command",
    [
        ["analyze", "{model}", "-d", "digits", "-k", "1", "-o", "{out}"],
        ["prune", "{model}", "--ratio", "0.5", "--method", "magnitude", "-d", "digits", "-o", "{out}.pt"],
        ["prune", "{model}", "--ratio", "0.5", "--method", "magnitude", "-o", "{out}.pt"],  # no data
        ["sweep", "{model}", "-d", "digits", "--methods", "magnitude", "-o", "{out}"],
        ["export", "{model}", "-d", "digits", "-o", "{out}.pt"],
    ],
    ids=["analyze", "prune", "prune without data", "sweep", "export"],
)
def test_nan_weights_are_named_before_any_work(command, digits_mlp, tmp_path, capsys, monkeypatch):
    model = _broken(digits_mlp, tmp_path, _nan_weights)
    monkeypatch.setattr(graphcurv.datasets, "calibration_set", _no_work)
    out = tmp_path / "out"
    assert main([a.format(model=model, out=out) for a in command]) == 1
    assert one_line_error(capsys.readouterr().err) == NAN_MESSAGE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.pt"]


def test_overflowing_activations_name_the_first_module(digits_mlp, tmp_path, capsys):
    model = _broken(digits_mlp, tmp_path, lambda m: m.classifier[0].weight.fill_(3e38))
    assert main(analyze_args(model, "-o", str(tmp_path / "r"))) == 1
    assert one_line_error(capsys.readouterr().err) == (
        "error: the model's activations are not finite on the first 64 digits val images: the output of "
        "'classifier.0' (Linear) has 1536 inf entries (first at [0, 0]) over 64 inputs, the first module that "
        "does; check its weights and the inputs' scale"
    )


@pytest.mark.parametrize("command", ["analyze", "prune"])
def test_a_dataset_of_another_shape_names_both_shapes(command, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(graphcurv.datasets, "calibration_set", _no_work)
    extra = ["-k", "1", "-o", str(tmp_path / "r")] if command == "analyze" else ["--ratio", "0.5", "-o", "p.pt"]
    assert main([command, LENET, "-d", "digits", *extra]) == 1
    assert one_line_error(capsys.readouterr().err) == (
        "error: the digits images have shape (1, 8, 8) (channels, height, width) but the model takes (1, 28, 28) "
        "(its first layer 'features.0' (Conv2d) takes 1 input channel): choose the dataset the model was trained "
        "on (--dataset)"
    )


def test_a_run_that_cannot_fit_in_memory_is_refused_with_the_estimate(digits_mlp, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(graphcurv.neural.memory, "available_memory", lambda: 1 << 20)
    state = tmp_path / "s.pt"
    assert main(analyze_args(digits_mlp, "-o", str(tmp_path / "r"), "--state", str(state), "--workers", "1")) == 1
    line = one_line_error(capsys.readouterr().err)
    assert line.startswith("error: neural curvature of this graph needs at least ")
    assert "(overhead 32 MiB, " in line and "at its peak" in line
    assert line.endswith("but only 1 MiB is available: use a smaller model or smaller input images (fewer edges), "
                         "or a machine with more memory")  # fmt: skip
    assert not state.exists()  # refused before the first input
