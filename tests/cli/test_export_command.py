import pytest
import torch

from graphcurv.datasets import calibration_set, load_dataset
from graphcurv.graphs import load_data
from graphcurv.models import build_model, save_model, train_model
from graphcurv.neural import normalised_activations
from graphcurv_cli.app import main


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    """A small MLP trained on scikit-learn's digits (8 x 8), saved as a graphcurv checkpoint."""
    torch.manual_seed(0)
    config = {"in_channels": 1, "image_size": 8, "num_classes": 10, "hidden": [16]}
    model = build_model("mlp", **config)
    train_model(model, load_dataset("digits", split="train"), epochs=15, lr=1e-2, batch_size=64)
    path = tmp_path_factory.mktemp("model") / "digits-mlp.pt"
    save_model(model, path, arch="mlp", config=config)
    return path, model.eval()


def test_export_writes_the_graph_and_prints_the_summary(digits_model, tmp_path, capsys):
    path, model = digits_model
    out = tmp_path / "graph.pt"
    args = ["--device", "cpu", "export", str(path), "--dataset", "digits", "--per-class", "2", "--seed", "3"]
    assert main([*args, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "neural graph of digits-mlp.pt" in printed and "classifier.0" in printed and "total" in printed
    graph = load_data(out)
    assert graph.layer_ptr == [0, 64, 80, 90] and graph.activation.shape == (90, 20)
    assert graph.calibration == {"dataset": "digits", "split": "val", "per_class": 2, "seed": 3}
    weights = [model.classifier[0].weight, model.classifier[2].weight]
    assert graph.edge_index.size(1) == sum(int(torch.count_nonzero(w)) for w in weights)
    inputs, labels = calibration_set(model, load_dataset("digits", split="val"), 2, seed=3)
    assert torch.equal(graph.calibration_labels, labels) and torch.bincount(labels).tolist() == [2] * 10
    with torch.no_grad():
        assert torch.equal(model(inputs).argmax(1), labels)  # correctly classified inputs
    expected = normalised_activations(inputs.reshape(20, -1).T, [0, 64])
    assert torch.allclose(graph.activation[:64], expected)


def test_small_max_edges_keeps_the_first_layer_implicit(digits_model, capsys):
    path, _ = digits_model
    args = ["--device", "cpu", "export", str(path), "--dataset", "digits", "-k", "1", "--max-edges", "500"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    first, second = (next(line for line in lines if name in line) for name in ("classifier.0", "classifier.2"))
    cells = [[c.strip() for c in line.split("│")] for line in (first, second)]  # rich's column separator
    assert cells[0][5:7] == ["1,024", "no"] and cells[1][5:7] == ["160", "yes"]


def test_export_errors_are_one_line(digits_model, tmp_path, capsys):
    path, _ = digits_model
    assert main(["export", str(path), "--dataset", "digits", "-o", str(tmp_path / "g.csv")]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and ".pt" in err and "Traceback" not in err
    assert main(["export", str(tmp_path / "missing.pt"), "--dataset", "digits"]) == 1
    assert "missing.pt" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()
