"""Residual models from outside the zoo through `graphcurv analyze` and `graphcurv prune` with
curvature: a ``torch.export`` archive and a pickled module (``--trust-pickle``) of the same
ResNet-style net give the same scores, and pruning by them removes the weights they rank first."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from graphcurv.datasets import load_dataset
from graphcurv.models import train_model
from graphcurv.pruning import prune_masks
from graphcurv_cli.app import main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
DIGIT = torch.zeros(1, 1, 8, 8)


class TinyResNet(nn.Module):
    """stem -> one basic block (identity shortcut) -> a strided block (1x1 projection) -> linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 3, 3, padding=1)
        self.a1, self.a2 = nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 3, padding=1)
        self.b1, self.b2 = nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.Conv2d(4, 4, 3, padding=1)
        self.proj, self.fc = nn.Conv2d(3, 4, 1, stride=2), nn.Linear(64, 10)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = torch.relu(self.a2(torch.relu(self.a1(x))) + x)
        x = torch.relu(self.b2(torch.relu(self.b1(x))) + self.proj(x))
        return self.fc(torch.flatten(x, 1))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("residual")
    torch.manual_seed(0)
    model = TinyResNet()
    train_model(model, load_dataset("digits", split="train"), epochs=4, lr=1e-2, batch_size=64)
    model.eval()
    torch.export.save(torch.export.export(model, (DIGIT,)), folder / "resnet.pt2")
    torch.save(model, folder / "resnet-pickled.pt")
    return {"model": model, "folder": folder}


def _analyze(path, report, *extra):
    args = ["--device", "cpu", "analyze", str(path), *extra, "--dataset", "digits", "-k", "1", "--seed", "2"]
    assert main([*args, "--no-communities", "--workers", "1", "-o", str(report)]) == 0
    return torch.load(report / "scores.pt", weights_only=True)["param_scores"]


def test_a_residual_net_is_analyzed_from_an_archive_and_a_pickle_and_pruned_by_curvature(files, tmp_path, capsys):
    folder, model = files["folder"], files["model"]
    archive = _analyze(folder / "resnet.pt2", tmp_path / "archive")
    pickled = _analyze(folder / "resnet-pickled.pt", tmp_path / "pickle", "--trust-pickle")
    weights = {n for n, _ in model.named_parameters() if n.endswith("weight")}
    assert set(archive) == set(pickled) == weights  # every conv, the projection and the linear layer
    for name in weights:
        assert torch.allclose(archive[name], pickled[name], equal_nan=True, atol=1e-12), name
        assert bool(torch.isfinite(archive[name]).any()), name
    printed = capsys.readouterr().out
    assert "Traceback" not in printed
    out = tmp_path / "pruned.pt2"
    args = ["--device", "cpu", "prune", str(folder / "resnet.pt2"), "--ratio", "0.5", "--dataset", "digits"]
    assert main([*args, "--scores", str(tmp_path / "archive" / "scores.pt"), "-o", str(out)]) == 0
    state = torch.export.load(out).state_dict
    importance = {n: torch.where(torch.isnan(k), -torch.inf, -k.double()) for n, k in archive.items()}
    removed = {n: ~m for n, m in prune_masks(importance, 0.5).items()}
    for name, gone in removed.items():  # exactly the weights curvature ranks first are zero
        assert torch.equal(state[name] == 0, gone | (model.get_parameter(name).detach() == 0)), name
    total = sum(m.numel() for m in removed.values())
    assert sum(int(m.sum()) for m in removed.values()) == math.floor(0.5 * total + 0.5)
