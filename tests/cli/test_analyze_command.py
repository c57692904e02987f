"""`graphcurv analyze`: end to end on a small digits model, the scores file, resuming, atomic reports."""

from __future__ import annotations

import csv
import json

import pytest
import torch

import graphcurv.analyses.neural_report
import graphcurv.neural.curvature.engine
from graphcurv.datasets import calibration_set, load_dataset
from graphcurv.models import build_model, save_model, train_model
from graphcurv.neural import export
from graphcurv.neural.curvature import neural_curvature
from graphcurv_cli.app import main

REPORT = ["curvature_vs_weight.png", "histograms.png", "report.json", "scores.csv", "scores.pt"]


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    """A small MLP trained on scikit-learn's digits (8 x 8), saved as a graphcurv checkpoint."""
    torch.manual_seed(0)
    config = {"in_channels": 1, "image_size": 8, "num_classes": 10, "hidden": [16]}
    model = build_model("mlp", **config)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batches: one thread is several times faster on a shared machine
    try:
        train_model(model, load_dataset("digits", split="train"), epochs=15, lr=1e-2, batch_size=64)
    finally:
        torch.set_num_threads(threads)
    path = tmp_path_factory.mktemp("model") / "digits-mlp.pt"
    save_model(model, path, arch="mlp", config=config)
    return path, model.eval()


def _args(path, *extra):
    return ["--device", "cpu", "analyze", str(path), "--dataset", "digits", "--per-class", "2", "--seed", "3", *extra]


def test_analyze_writes_the_report_and_the_scores_pruning_reads(digits_model, tmp_path, capsys):
    path, model = digits_model
    out = tmp_path / "report"
    assert main(_args(path, "--top", "3", "-o", str(out))) == 0
    printed = capsys.readouterr().out
    for title in ("neural curvature of digits-mlp.pt", "3 most negative edges", "where negative edges concentrate"):
        assert title in printed
    assert "Ricci-flow communities" in printed and "bridges between communities" in printed
    assert sorted(p.name for p in out.iterdir()) == REPORT
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # the automatic state file is gone
    # the scores are those of the library run on the same calibration set
    inputs, labels = calibration_set(model, load_dataset("digits", split="val"), 2, seed=3)
    expected = neural_curvature(export(model, inputs), 0.9, labels=labels, checkpoints=(1, 2))
    saved = torch.load(out / "scores.pt", weights_only=True)
    assert (saved["format"], saved["alpha"], saved["samples"]) == ("graphcurv-curvature-scores", 0.9, 20)
    assert sorted(saved["checkpoints"]) == [1, 2]
    for name, scores in expected.param_scores.items():
        assert torch.allclose(saved["param_scores"][name], scores, equal_nan=True, atol=1e-12)
        assert torch.allclose(saved["checkpoints"][1][name], expected.checkpoints[1][name], equal_nan=True, atol=1e-12)
    report = json.loads((out / "report.json").read_text())
    assert report["calibration"] == {"dataset": "digits", "split": "val", "per_class": 2, "seed": 3}
    assert report["model"] == "digits-mlp.pt" and report["curvature"]["samples"] == 20
    with open(out / "scores.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 64 * 16 + 16 * 10
    lowest = min(float(r["score"]) for r in rows if r["score"])  # linear: one edge per weight
    assert report["bottlenecks"]["most_negative"][0]["score"] == pytest.approx(lowest, abs=1e-12)
    assert len(report["bottlenecks"]["most_negative"]) == 3 and report["communities"]["nodes"] == 64 + 16 + 10


def test_an_interrupted_run_resumes_and_leaves_no_partial_report(digits_model, tmp_path, monkeypatch, capsys):
    path, _ = digits_model
    out = tmp_path / "report"

    def broken_write(*args, **kwargs):
        raise RuntimeError("interrupted while writing")

    monkeypatch.setattr(graphcurv.analyses.neural_report, "write_report", broken_write)
    assert main(_args(path, "-o", str(out), "--no-communities")) == 1
    assert "interrupted while writing" in capsys.readouterr().err
    assert not out.exists()  # no partial report folder
    (state,) = tmp_path.iterdir()  # the run was saved next to it
    assert state.name.startswith(".report.curvature-state-")
    assert torch.load(state, weights_only=True)["done"] == 20

    def no_more_samples(*args, **kwargs):
        raise AssertionError("a resumed run must not recompute finished samples")

    monkeypatch.undo()
    monkeypatch.setattr(graphcurv.neural.curvature.engine, "sample_curvature", no_more_samples)
    assert main(_args(path, "-o", str(out), "--no-communities")) == 0
    assert "Ricci-flow communities" not in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == REPORT and not state.exists()
    assert json.loads((out / "report.json").read_text())["communities"] is None


def test_exact_parameters_gives_the_librarys_parameter_scores(digits_model, tmp_path, capsys):
    path, model = digits_model
    out = tmp_path / "report"
    assert main(_args(path, "--exact", "parameters", "--no-communities", "-o", str(out))) == 0
    inputs, labels = calibration_set(model, load_dataset("digits", split="val"), 2, seed=3)
    expected = neural_curvature(export(model, inputs), 0.9, labels=labels, checkpoints=(1, 2), exact="parameters")
    saved = torch.load(out / "scores.pt", weights_only=True)
    for name, scores in expected.param_scores.items():
        assert torch.equal(saved["param_scores"][name].nan_to_num(9.0), scores.nan_to_num(9.0))
    assert json.loads((out / "report.json").read_text())["exact"] == "parameters"
    assert main(_args(path, "--exact", "some", "-o", str(tmp_path / "other"))) == 1
    assert "--exact" in capsys.readouterr().err and not (tmp_path / "other").exists()


def test_help_explains_every_option(capsys):
    assert main(["analyze", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--dataset", "--per-class", "--alpha", "--output", "--top", "--state", "--no-communities"):
        assert option in text
    for option in ("--workers", "--seed", "--arch", "--trust-pickle", "--data-root", "--exact"):
        assert option in text


def test_errors_are_one_line_and_write_nothing(digits_model, tmp_path, capsys):
    path, _ = digits_model
    assert main(_args(path, "--alpha", "1.0", "-o", str(tmp_path / "out"))) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "--alpha" in err and "Traceback" not in err
    (tmp_path / "taken").write_text("a file")
    assert main(_args(path, "-o", str(tmp_path / "taken"))) == 1
    assert "not a folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
