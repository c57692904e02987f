import csv

import numpy as np
import pytest
import torch

from graphcurv.datasets import load_dataset
from graphcurv.models import build_model, evaluate, save_model, train_model
from graphcurv.pruning import prune_masks, pruned_copy
from graphcurv_cli.app import main

CONFIG = {"in_channels": 1, "image_size": 8, "num_classes": 10, "hidden": [16]}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def digits_checkpoint(tmp_path_factory):
    torch.manual_seed(1)
    model = build_model("mlp", **CONFIG)
    train_model(model, load_dataset("digits", split="train"), epochs=6, lr=1e-2, batch_size=64)
    path = tmp_path_factory.mktemp("model") / "digits-mlp.pt"
    save_model(model, path, arch="mlp", config=CONFIG, metrics={"dataset": "digits"})
    return path, model.eval()


def _scores_file(model, path) -> dict:
    generator = torch.Generator().manual_seed(2)
    kappa = {
        name: torch.randn(p.shape, generator=generator) for name, p in model.named_parameters() if "weight" in name
    }
    payload = {"format": "graphcurv-curvature-scores", "alpha": 0.9, "samples": 10, "param_scores": kappa,
               "checkpoints": {}, "metadata": {}}  # fmt: skip
    torch.save(payload, path)
    return kappa


def test_sweep_writes_csv_plot_and_headline(digits_checkpoint, tmp_path, capsys):
    path, model = digits_checkpoint
    kappa = _scores_file(model, tmp_path / "scores.pt")
    out = tmp_path / "sweep"
    args = ["--device", "cpu", "sweep", str(path), "--methods", "curvature,magnitude,random,synflow",
            "--ratios", "0.9,0,0.5", "--scores", str(tmp_path / "scores.pt"), "--per-layer", "-o", str(out)]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [(r["method"], float(r["ratio"])) for r in rows] == [
        (m, r) for m in ("curvature", "magnitude", "random", "synflow") for r in (0.0, 0.5, 0.9)
    ]
    test = load_dataset("digits", split="test")
    dense = evaluate(model, test)
    assert all(float(r["dense_accuracy"]) == dense for r in rows)
    assert all(float(r["accuracy"]) == dense for r in rows if float(r["ratio"]) == 0.0)
    by_hand = evaluate(pruned_copy(model, prune_masks({k: -v for k, v in kappa.items()}, 0.5)), test)
    assert float(rows[1]["accuracy"]) == by_hand  # curvature at 0.5: the largest saved scores removed
    for method in ("curvature", "magnitude", "random", "synflow"):
        within = [float(r["ratio"]) for r in rows if r["method"] == method and float(r["accuracy"]) >= dense - 0.01]
        assert f"{max(within):g}" in printed.split(method, 1)[1].splitlines()[0]
    assert (out / "sweep.png").read_bytes()[:8] == PNG and (out / "per_layer.png").read_bytes()[:8] == PNG
    layers = list(csv.DictReader((out / "per_layer.csv").open()))
    assert len(layers) == 2 * 2 * 3 and {r["method"] for r in layers} == {"curvature", "magnitude"}
    assert np.isclose(float(layers[0]["accuracy"]), dense)


def test_sweep_refuses_bad_lists(digits_checkpoint, tmp_path, capsys):
    path, _ = digits_checkpoint
    out = tmp_path / "s"
    assert main(["sweep", str(path), "--ratios", "0,1.2", "-o", str(out)]) == 1
    assert "must be in [0, 1)" in capsys.readouterr().err
    assert main(["sweep", str(path), "--ratios", "0,half", "-o", str(out)]) == 1
    assert "comma-separated numbers" in capsys.readouterr().err
    assert main(["sweep", str(path), "--methods", "magnitude,obd", "-o", str(out)]) == 1
    assert "unknown pruning method 'obd'" in capsys.readouterr().err
    assert not out.exists()
