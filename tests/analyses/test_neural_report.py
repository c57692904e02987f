"""The report folder: scores file, CSV, plots, JSON, and that a failed write leaves nothing behind."""

from __future__ import annotations

import csv
import json

import pytest
import torch
from torch import nn

from graphcurv.analyses import neural_report
from graphcurv.analyses.bottlenecks import bottleneck_report
from graphcurv.analyses.neural_plots import plot_curvature_histograms, plot_curvature_vs_weight
from graphcurv.analyses.neural_report import load_scores, save_scores, write_report, write_scores_csv
from graphcurv.errors import GraphcurvError
from graphcurv.neural import export
from graphcurv.neural.curvature import neural_curvature

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def analysed():
    """A small MLP with one zero weight, its graph over 4 inputs (2 classes) and its curvature."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with torch.no_grad():
        model[0].weight[1, 2] = 0.0  # no edge reads it: no score
    graph = export(model, torch.randn(4, 3))
    result = neural_curvature(graph, alpha=0.9, labels=torch.tensor([0, 1, 0, 1]), checkpoints=(1, 2))
    return model, graph, result, bottleneck_report(graph, result, top=3)


def test_scores_file_round_trip(analysed, tmp_path):
    _, _, result, _ = analysed
    path = save_scores(tmp_path / "scores.pt", result, metadata={"model": "mlp"})
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "graphcurv-curvature-scores" and (raw["alpha"], raw["samples"]) == (0.9, 4)
    assert sorted(raw["checkpoints"]) == [1, 2] and raw["metadata"] == {"model": "mlp"}
    for name, scores in result.param_scores.items():
        assert torch.allclose(raw["param_scores"][name], scores.cpu(), equal_nan=True)
    assert torch.allclose(raw["checkpoints"][2]["0.weight"], result.param_scores["0.weight"], equal_nan=True)
    assert load_scores(path)["samples"] == 4
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(GraphcurvError, match="not a graphcurv curvature scores file"):
        load_scores(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_text("not a torch file")
    with pytest.raises(GraphcurvError, match="not a readable curvature scores file"):
        load_scores(tmp_path / "junk.pt")


def test_scores_csv_has_one_row_per_parameter_entry(analysed, tmp_path):
    model, graph, result, _ = analysed
    path = write_scores_csv(tmp_path / "scores.csv", graph, result)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["parameter", "flat_index", "coordinates", "score", "weight", "score_k1", "score_k2"]
    assert len(rows) == 3 * 4 + 4 * 2  # the two weight matrices, no biases (they are not edges)
    by_entry = {(r["parameter"], r["coordinates"]): r for r in rows}
    row = by_entry[("2.weight", "1,3")]
    assert row["flat_index"] == "7"
    assert float(row["score"]) == float(result.param_scores["2.weight"][1, 3])
    weight = torch.tensor(float(row["weight"]), dtype=torch.float32)  # the float32 text reads back exactly
    assert torch.equal(weight, model[2].weight[1, 3].detach())
    assert float(row["score_k1"]) == float(result.checkpoints[1]["2.weight"][1, 3]) >= float(row["score"])
    zero = by_entry[("0.weight", "1,2")]
    assert (zero["score"], zero["weight"], zero["score_k1"]) == ("", "0.0", "")


def test_plots_are_png_files(analysed, tmp_path):
    _, graph, result, _ = analysed
    for path in (
        plot_curvature_histograms(tmp_path / "histograms.png", result),
        plot_curvature_vs_weight(tmp_path / "scatter.png", graph, result, max_points=10),
    ):
        assert path.read_bytes()[:8] == PNG_SIGNATURE and path.stat().st_size > 1000
    with pytest.raises(GraphcurvError, match=r"\.png"):
        plot_curvature_histograms(tmp_path / "histograms.jpg", result)


def test_report_folder_and_strict_json(analysed, tmp_path):
    _, graph, result, bottlenecks = analysed
    result = neural_curvature(graph, alpha=0.9)  # a fresh object: changed below
    result.truncation_bound = float("inf")  # not JSON: must become null
    files = write_report(tmp_path / "out", graph, result, bottlenecks, metadata={"model": "tiny.pt"})
    assert sorted(files) == sorted(neural_report.REPORT_FILES)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(neural_report.REPORT_FILES)

    def refuse(constant):
        raise AssertionError(f"{constant} in strict JSON")

    document = json.loads((tmp_path / "out" / "report.json").read_text(), parse_constant=refuse)
    assert document["format"] == "graphcurv-analysis-report-1" and document["model"] == "tiny.pt"
    assert document["curvature"]["truncation_bound"] is None and document["curvature"]["samples"] == 4
    assert document["bottlenecks"]["most_negative"][0]["score"] == bottlenecks.most_negative[0].score
    assert document["files"][-1] == "report.json" and document["communities"] is None
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left


def test_a_failed_write_leaves_the_old_report_and_creates_nothing(analysed, tmp_path, monkeypatch):
    _, graph, result, bottlenecks = analysed
    folder = tmp_path / "report"
    write_report(folder, graph, result, bottlenecks, metadata={"run": 1}, plots=False)
    (folder / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(neural_report, "write_scores_csv", broken)  # after scores.pt is staged
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(folder, graph, result, bottlenecks, metadata={"run": 2}, plots=False)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert json.loads((folder / "report.json").read_text())["run"] == 1
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(tmp_path / "new", graph, result, bottlenecks, plots=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no new folder, no staging folder
    (tmp_path / "file").write_text("x")
    with pytest.raises(GraphcurvError, match="not a folder"):
        write_report(tmp_path / "file", graph, result, bottlenecks)
