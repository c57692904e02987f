"""Models from outside the zoo through `graphcurv analyze` and `graphcurv prune`: a ``torch.export``
archive exported the default way (a fixed batch of one) and a TorchScript file, scored, pruned and
written back in their own format."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

from graphcurv.datasets import load_dataset
from graphcurv.models import load_model, train_model
from graphcurv.pruning import prune_masks
from graphcurv_cli.app import main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
DIGIT = torch.zeros(1, 1, 8, 8)


class ConvNet(nn.Module):
    """A chain (neural curvature is defined on it): conv -> ReLU -> max pool -> linear."""

    def __init__(self):
        super().__init__()
        self.conv, self.pool, self.fc = nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(2), nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(x))), 1))


class ResidualNet(nn.Module):
    """A residual block: prunable by every method that needs no curvature."""

    def __init__(self):
        super().__init__()
        self.stem, self.conv = nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        h = torch.relu(self.stem(x))
        return self.fc(torch.flatten(nn.functional.max_pool2d(torch.relu(self.conv(h) + h), 2), 1))


def _trained(cls) -> nn.Module:
    torch.manual_seed(0)
    model = cls()
    train_model(model, load_dataset("digits", split="train"), epochs=4, lr=1e-2, batch_size=64)
    return model.eval()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The trained models and their files: .pt2 (batch 1, the default export) and TorchScript."""
    folder = tmp_path_factory.mktemp("outside")
    conv, residual = _trained(ConvNet), _trained(ResidualNet)
    torch.export.save(torch.export.export(conv, (DIGIT,)), folder / "conv.pt2")
    torch.export.save(torch.export.export(residual, (DIGIT,)), folder / "residual.pt2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.trace(conv, DIGIT).save(str(folder / "conv-script.pt"))
    return {"conv": conv, "residual": residual, "folder": folder}


def _analyze(path, report):
    args = ["--device", "cpu", "analyze", str(path), "--dataset", "digits", "-k", "1", "--seed", "2"]
    assert main([*args, "--no-communities", "--workers", "1", "-o", str(report)]) == 0
    return torch.load(report / "scores.pt", weights_only=True)["param_scores"]


def _expected_zeros(model, scores: dict, ratio: float) -> dict:
    """The weights the curvature method removes (largest curvature first; NaN: no edge, removed first)."""
    importance = {n: torch.where(torch.isnan(k), -torch.inf, -k.double()) for n, k in scores.items()}
    return {name: ~mask for name, mask in prune_masks(importance, ratio).items()}


def _masked_copy(model: nn.Module, zeros: dict) -> nn.Module:
    import copy

    twin = copy.deepcopy(model)
    with torch.no_grad():
        for name, removed in zeros.items():
            twin.get_parameter(name)[removed] = 0.0
    return twin


def test_an_export_archive_of_batch_one_is_analyzed_and_pruned_into_a_loadable_archive(files, tmp_path, capsys):
    model, source = files["conv"], files["folder"] / "conv.pt2"
    scores = _analyze(source, tmp_path / "report")  # calibration evaluates the fixed-batch program one input at a time
    assert sorted(scores) == ["conv.weight", "fc.weight"]
    out = tmp_path / "pruned.pt2"
    args = ["--device", "cpu", "prune", str(source), "--ratio", "0.5", "--scores", str(tmp_path / "report/scores.pt")]
    assert main([*args, "--dataset", "digits", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "dense" in printed and "conv.weight" in printed
    program = torch.export.load(out)  # a plain torch.export archive
    zeros = _expected_zeros(model, scores, 0.5)
    total = sum(m.numel() for m in zeros.values())
    for name, removed in zeros.items():
        assert torch.equal(program.state_dict[name] == 0, removed), name
    assert sum(int(m.sum()) for m in zeros.values()) == math.floor(0.5 * total + 0.5)
    images = load_dataset("digits", split="test").images[:6]
    reference = _masked_copy(model, zeros)
    pruned = load_model(out)  # loads like any .pt2, evaluated one input at a time
    assert torch.allclose(pruned(images), reference(images), atol=1e-5)
    assert torch.allclose(program.module()(images[:1]), reference(images[:1]), atol=1e-5)


def test_a_torchscript_model_is_analyzed_like_the_module_and_pruned_into_torchscript(files, tmp_path):
    model, folder = files["conv"], files["folder"]
    script = _analyze(folder / "conv-script.pt", tmp_path / "script-report")
    archive = _analyze(folder / "conv.pt2", tmp_path / "archive-report")
    for name in ("conv.weight", "fc.weight"):  # one model, one calibration set: the same scores
        assert torch.allclose(script[name], archive[name], equal_nan=True, atol=1e-12)
    out = tmp_path / "pruned-script.pt"
    args = ["--device", "cpu", "prune", str(folder / "conv-script.pt"), "--ratio", "0.7"]
    assert main([*args, "--scores", str(tmp_path / "script-report/scores.pt"), "-o", str(out)]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pruned = torch.jit.load(str(out))
    zeros = _expected_zeros(model, script, 0.7)
    parameters = dict(pruned.named_parameters())
    for name, removed in zeros.items():
        assert torch.equal(parameters[name] == 0, removed), name
    images = load_dataset("digits", split="test").images[:6]
    assert torch.allclose(pruned(images), _masked_copy(model, zeros)(images), atol=1e-5)


def test_a_residual_export_archive_is_pruned_by_magnitude_and_swept(files, tmp_path, capsys):
    model, source = files["residual"], files["folder"] / "residual.pt2"
    out = tmp_path / "pruned.pt2"
    args = ["--device", "cpu", "prune", str(source), "--ratio", "0.6", "-m", "magnitude", "--dataset", "digits"]
    assert main([*args, "-o", str(out)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    state = torch.export.load(out).state_dict
    weights = {n: p.detach() for n, p in model.named_parameters() if n.endswith("weight")}
    flat = torch.cat([w.abs().flatten() for w in weights.values()])
    kept = torch.cat([state[n].flatten() for n in weights]) != 0
    assert int((~kept).sum()) == math.floor(0.6 * flat.numel() + 0.5)
    assert float(flat[kept].min()) > float(flat[~kept].max())  # the smallest |w| went
    assert torch.equal(state["stem.bias"], model.stem.bias.detach())  # biases are never pruned
    sweep = ["--device", "cpu", "sweep", str(source), "--methods", "magnitude,random", "--ratios", "0,0.5"]
    assert main([*sweep, "--dataset", "digits", "-o", str(tmp_path / "sweep")]) == 0
    assert (tmp_path / "sweep" / "sweep.csv").exists()


def test_frozen_models_are_refused_before_any_work_when_the_request_cannot_be_met(files, tmp_path, capsys):
    source = files["folder"] / "conv.pt2"
    args = ["--device", "cpu", "prune", str(source), "--ratio", "0.5", "-m", "magnitude"]
    assert main([*args, "-o", str(tmp_path / "pruned.pt")]) == 1
    err = capsys.readouterr().err
    assert "torch.export archive" in err and ".pt2" in err and "Traceback" not in err
    assert main([*args, "--finetune", "1", "--dataset", "digits", "-o", str(tmp_path / "pruned.pt2")]) == 1
    err = capsys.readouterr().err
    assert "--finetune" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_archive_exported_with_a_fixed_batch_of_several_is_a_clear_error(files, tmp_path, capsys):
    path = tmp_path / "batch4.pt2"
    torch.export.save(torch.export.export(files["conv"], (torch.zeros(4, 1, 8, 8),)), path)
    args = ["--device", "cpu", "analyze", str(path), "--dataset", "digits", "-k", "1", "-o", str(tmp_path / "r")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "fixed batch of 4" in err and "dynamic" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()
