"""``graphcurv.analyze_model``: the analyze pipeline as one library function, the same run as the CLI's."""

from __future__ import annotations

import ast
import contextlib
import json
from pathlib import Path

import pytest
import torch

import graphcurv
import graphcurv.datasets
from graphcurv.datasets import load_dataset
from graphcurv.errors import GraphcurvError
from graphcurv.models import FixedBatch, build_model, save_model, train_model
from graphcurv_cli.app import main

CONFIG = {"in_channels": 1, "image_size": 8, "num_classes": 10, "hidden": [12]}
REPORT = ["curvature_vs_weight.png", "histograms.png", "report.json", "scores.csv", "scores.pt"]


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    torch.manual_seed(0)
    model = build_model("mlp", **CONFIG)
    train_model(model, load_dataset("digits", split="train"), epochs=8, lr=1e-2, batch_size=64)
    path = tmp_path_factory.mktemp("model") / "digits-mlp.pt"
    save_model(model, path, arch="mlp", config=CONFIG)
    return path, model.eval()


def _timeless(value):
    """A report document without its timings (the only thing two runs may differ in)."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def test_analyze_model_is_the_run_of_the_cli(digits_model, tmp_path):
    path, model = digits_model
    args = ["--device", "cpu", "analyze", str(path), "--dataset", "digits", "-k", "2", "--seed", "3", "--top", "4"]
    assert main([*args, "--workers", "1", "-o", str(tmp_path / "cli")]) == 0
    stages = []

    @contextlib.contextmanager
    def bars(description):
        stages.append(description)
        yield lambda done, total, text="": None

    val = load_dataset("digits", split="val")
    analysis = graphcurv.analyze_model(
        model, val, per_class=2, seed=3, top=4, workers=1, name=path.name, output=tmp_path / "lib", progress_bars=bars
    )
    assert stages == ["calibration set", "neural graph", "neural curvature", "communities (Ricci flow)"]
    saved = torch.load(tmp_path / "cli" / "scores.pt", weights_only=True)
    assert sorted(saved["param_scores"]) == sorted(analysis.curvature.param_scores)
    for name, scores in analysis.curvature.param_scores.items():
        assert torch.allclose(saved["param_scores"][name], scores, equal_nan=True, atol=1e-12)
        for k in (1, 2):
            assert torch.allclose(
                saved["checkpoints"][k][name], analysis.curvature.checkpoints[k][name], equal_nan=True
            )
    assert sorted(analysis.written) == REPORT == sorted(p.name for p in (tmp_path / "lib").iterdir())
    cli, lib = (_timeless(json.loads((tmp_path / f / "report.json").read_text())) for f in ("cli", "lib"))
    assert cli == lib
    assert analysis.metadata["calibration"] == {"dataset": "digits", "split": "val", "per_class": 2, "seed": 3}
    assert analysis.graph.name == path.name and analysis.labels.tolist() == sorted(analysis.labels.tolist())


def test_without_an_output_nothing_is_written_and_a_state_can_be_kept_or_removed(digits_model, tmp_path):
    _, model = digits_model
    val = load_dataset("digits", split="val")
    analysis = graphcurv.analyze_model(model, val, per_class=1, communities=False, workers=1, state=tmp_path / "s.pt")
    assert analysis.communities is None and analysis.written == [] and analysis.output is None
    assert [p.name for p in tmp_path.iterdir()] == ["s.pt"]  # kept by default: the run resumes from it
    graphcurv.analyze_model(
        model, val, per_class=1, communities=False, workers=1, state=tmp_path / "s.pt", keep_state=False,
        output=tmp_path / "report",
    )  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_a_program_with_a_fixed_batch_of_several_is_refused_before_any_work(digits_model, monkeypatch):
    _, model = digits_model
    program = torch.export.export(model, (torch.zeros(3, 1, 8, 8),)).module()

    def no_calibration(*args, **kwargs):
        raise AssertionError("the calibration set must not be drawn")

    monkeypatch.setattr(graphcurv.datasets, "calibration_set", no_calibration)
    with pytest.raises(GraphcurvError, match="fixed batch of 3"):
        graphcurv.analyze_model(FixedBatch(program, 3), load_dataset("digits", split="val"))
    with pytest.raises(GraphcurvError, match=r"alpha must be in \[0, 1\)"):
        graphcurv.analyze_model(model, load_dataset("digits", split="val"), alpha=1.0)


def test_no_module_of_graphcurv_imports_the_cli():
    root = Path(graphcurv.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(root)}: {n}" for n in names if n.split(".")[0] in ("graphcurv_cli", "cli")
            ]
    assert offenders == []
