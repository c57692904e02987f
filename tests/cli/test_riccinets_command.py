import contextlib
import csv
import io
import json
import re

import pytest
import torch

from graphcurv.datasets import load_dataset
from graphcurv.models import evaluate, load_model
from graphcurv.riccinets.flops import count_flops, count_parameters
from graphcurv.riccinets.network import RandWire
from graphcurv.riccinets.prune import ricci_prune
from graphcurv.riccinets.wiring import load_graphs, stage_graphs
from graphcurv_cli.app import main

PNG = b"\x89PNG\r\n\x1a\n"
HPARAMS = {"alpha": 0.5, "beta": 0.5, "gamma": 0.0, "delta": 0.5}
GRAPH = ["--n", "8", "--k", "4", "--iterations", "3", "--channels", "4", "--head-channels", "8"]
SMALL = ["--dataset", "digits", *GRAPH]
TRAIN = ["--train-size", "200", "--epochs", "1", "--batch-size", "64"]


@pytest.fixture(scope="module")
def pruned(tmp_path_factory):
    """``graphcurv --seed 1 riccinets prune`` on digits; (exit code, stdout, checkpoint path, graphs path)."""
    folder = tmp_path_factory.mktemp("prune")
    out, graphs = folder / "net.pt", folder / "graphs.pt"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # rich's console writes to the current sys.stdout
        code = main(["--device", "cpu", "--seed", "1", "riccinets", "prune", *SMALL, "-o", str(out),
                     "--save-graphs", str(graphs)])  # fmt: skip
    return code, printed.getvalue(), out, graphs


def _expected_cuts(seed: int = 1, dangling: str = "isolated"):
    graphs = stage_graphs(3, 8, "ws", k=4, p=0.75, m=2, seed=seed)
    return graphs, [ricci_prune(g, **HPARAMS, iterations=3, dangling=dangling) for g in graphs]


def test_prune_writes_the_pruned_network_and_a_drawing(pruned):
    code, printed, out, graphs_file = pruned
    assert code == 0
    graphs, cuts = _expected_cuts()
    model = load_model(out)
    assert isinstance(model, RandWire)
    assert model.settings() == {"channels": 4, "in_channels": 1, "num_classes": 10, "head_channels": 8}
    for stage, cut in zip(model.stages, cuts):
        assert stage.num_nodes == cut.pruned.graph.num_nodes
        assert torch.equal(stage.graph.edge_index, cut.pruned.graph.edge_index)
        assert stage.aggregation_weight.shape == (cut.pruned.graph.edge_index.size(1),)
    for saved, drawn in zip(load_graphs(graphs_file), graphs):
        assert torch.equal(saved.edge_index, drawn.edge_index) and saved.num_nodes == drawn.num_nodes
    assert out.with_suffix(".png").read_bytes().startswith(PNG)
    checkpoint = torch.load(out, weights_only=True)
    assert checkpoint["arch"] == "randwire" and checkpoint["config"]["image_size"] == 8
    record = checkpoint["metrics"]["riccinets"]
    assert record["hparams"] == HPARAMS and record["dataset"] == "digits" and record["dangling"] == "isolated"
    # FLOPs printed before and after pruning, against PyTorch's counter on the two networks
    before, after = (
        int(v.replace(",", "")) for v in re.search(r"FLOPs / image\D+([\d,]+)\D+([\d,]+)", printed).groups()
    )
    dense = RandWire(graphs, channels=4, in_channels=1, num_classes=10, head_channels=8)
    assert before == count_flops(dense, (1, 1, 8, 8)) and after == count_flops(model, (1, 1, 8, 8))
    assert after < before
    assert record["shares"]["flops_share"] == pytest.approx(after / before)
    assert record["shares"]["weights_share"] == pytest.approx(count_parameters(model) / count_parameters(dense))
    edges_before = sum(int(g.edge_index.size(1)) for g in graphs)
    edges_after = sum(int(c.pruned.kept_edges.numel()) for c in cuts)
    assert record["shares"]["edges_share"] == pytest.approx(edges_after / edges_before)


def test_prune_from_saved_graphs_with_an_image_shape(pruned, tmp_path):
    _, _, _, graphs_file = pruned
    out, drawing = tmp_path / "repaired.pt", tmp_path / "stages.png"
    args = ["riccinets", "prune", "--graphs", str(graphs_file), "--iterations", "3", "--channels", "4",
            "--head-channels", "8", "--in-channels", "3", "--image-size", "16", "--num-classes", "5",
            "--dangling", "repair", "--draw", str(drawing), "-o", str(out)]  # fmt: skip
    assert main(args) == 0
    model = load_model(out)
    assert model.settings() == {"channels": 4, "in_channels": 3, "num_classes": 5, "head_channels": 8}
    assert torch.load(out, weights_only=True)["config"]["image_size"] == 16
    assert [stage.num_nodes for stage in model.stages] == [8, 8, 8]  # repair removes no node
    _, cuts = _expected_cuts(dangling="repair")
    assert [len(s.edges) for s in model.stages] == [int(c.pruned.kept_edges.numel()) for c in cuts]
    assert drawing.read_bytes().startswith(PNG) and not out.with_suffix(".png").exists()


def test_train_records_the_test_accuracy(pruned, tmp_path, capsys):
    _, _, net, _ = pruned
    original = net.read_bytes()
    out = tmp_path / "trained.pt"
    assert main(["--seed", "2", "riccinets", "train", str(net), *TRAIN, "--lr", "0.1", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    checkpoint = torch.load(out, weights_only=True)
    metrics = checkpoint["metrics"]
    trained = load_model(out)
    assert metrics["test_accuracy"] == evaluate(trained, load_dataset("digits", split="test"))
    assert f"test accuracy {metrics['test_accuracy']:.4f}" in printed
    assert metrics["epochs"] == 1 and metrics["train_size"] == 200 and metrics["seed"] == 2
    assert metrics["riccinets"]["hparams"] == HPARAMS  # the pruning record travels on
    assert metrics["parameters"] == count_parameters(trained)
    assert checkpoint["config"] == torch.load(net, weights_only=True)["config"]
    untrained = torch.load(net, weights_only=True)["state_dict"]
    assert not torch.equal(checkpoint["state_dict"]["classifier.weight"], untrained["classifier.weight"])
    assert net.read_bytes() == original


def test_search_logs_every_candidate_and_writes_the_best(tmp_path, capsys):
    log, out = tmp_path / "search.jsonl", tmp_path / "best.pt"
    args = ["--seed", "1", "riccinets", "search", *SMALL, *TRAIN, "--val-size", "100", "--episodes", "2",
            "--steps", "2", "--floor", "0", "--mu", "0.5", "--log", str(log), "-o", str(out)]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 4  # 2 episodes x 2 steps, none below the floor of 0
    graphs = stage_graphs(3, 8, "ws", k=4, p=0.75, m=2, seed=1)
    base = count_flops(RandWire(graphs, channels=4, in_channels=1, num_classes=10, head_channels=8), (1, 1, 8, 8))
    for line in lines:
        assert line["reward"] == pytest.approx(line["accuracy"] - 0.5 * line["flops"] / base)
        assert line["flops_share"] == pytest.approx(line["flops"] / base)
    best = max(lines, key=lambda line: line["reward"])
    assert torch.load(out, weights_only=True)["metrics"]["riccinets"]["hparams"] == best["hparams"]
    assert "controller's final choice" in printed and "top candidates by reward" in printed


def test_compare_prints_the_three_methods(tmp_path, capsys):
    out = tmp_path / "compare.csv"
    args = ["--seed", "1", "riccinets", "compare", *SMALL, *TRAIN, "--seeds", "0,1", "--finetune", "1", "-o", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert all(method in printed for method in ("unpruned", "riccinets", "magnitude"))
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["method"], r["seed"]) for r in rows] == [
        (m, s) for s in ("0", "1") for m in ("unpruned", "riccinets", "magnitude")
    ]
    _, cuts = _expected_cuts()
    kept = sum(int(c.pruned.kept_edges.numel()) for c in cuts)
    for row in rows:
        assert int(row["edges"]) == (24 * 2 if row["method"] == "unpruned" else kept)  # WS(8, 4): 16 edges per stage
        assert float(row["edges_share"]) == pytest.approx(int(row["edges"]) / 48)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["prune", *SMALL, "--alpha", "1.5", "-o", "{tmp}/a.pt"], "alpha must lie in [0, 1]"),
        (["prune", *SMALL, "-o", "{tmp}/a.onnx"], "--output must end in .pt"),
        (["prune", *SMALL, "--graphs", "{tmp}/g.pt", "-o", "{tmp}/a.pt"], "drop --n"),
        (["prune", *GRAPH, "--dataset", "digits", "--image-size", "16", "-o", "{tmp}/a.pt"], "not both"),
        (["train", "{tmp}/missing.pt", "-o", "{tmp}/t.pt"], "no such model file"),
        (["search", *SMALL, "--mu", "2", "-o", "{tmp}/a.pt"], "--mu must be in [0.0, 1.5]"),
        (["compare", *SMALL, "--seeds", "a,b"], "--seeds takes comma-separated integers"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, capsys, args, message):
    filled = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["riccinets", *filled]) == 1
    err = capsys.readouterr().err
    assert message in " ".join(err.split()) and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_train_refuses_to_overwrite_its_input(pruned, capsys):
    _, _, net, _ = pruned
    original = net.read_bytes()
    assert main(["riccinets", "train", str(net), "-o", str(net)]) == 1
    assert "is the input model" in capsys.readouterr().err
    assert net.read_bytes() == original
