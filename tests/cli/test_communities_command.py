import csv

import networkx as nx
import pytest
import torch

from graphcurv.analyses.communities import adjusted_rand_index, louvain_labels
from graphcurv.graphs import from_networkx, load_graph, save_graph
from graphcurv_cli.app import main


@pytest.fixture()
def barbell_file(tmp_path):
    data = from_networkx(nx.barbell_graph(5, 0))
    data.y, data.y_name = torch.tensor([0] * 5 + [1] * 5), "side"
    data.team = torch.tensor([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    data.node_names = [f"v{i}" for i in range(10)]
    path = tmp_path / "barbell.pt"
    save_graph(data, path)
    return path


def table_row(out: str, method: str) -> list[str]:
    line = next(line for line in out.splitlines() if line.strip("│┃ ").startswith(method + " "))
    return [cell.strip() for cell in line.strip().strip("│").split("│")]


def test_ricci_and_louvain_table_and_labels(barbell_file, tmp_path, capsys):
    labels_csv, png = tmp_path / "labels.csv", tmp_path / "drawing.png"
    args = ["communities", str(barbell_file), "--methods", "ricci,louvain", "-n", "10", "-o", str(labels_csv)]
    assert main([*args, "--draw", str(png)]) == 0
    out = capsys.readouterr().out
    for column in ("method", "communities", "modularity", "ARI", "NMI", "seconds"):
        assert column in out
    ricci = table_row(out, "ricci")
    assert ricci[1:5] == ["2", f"{2 * (10 / 21 - 0.25):.6g}", "1", "1"]  # two cliques, by hand
    assert "best cutoff" in out and "flow iterations" in out
    rows = list(csv.DictReader(labels_csv.open()))
    assert list(rows[0]) == ["node", "name", "truth", "ricci", "louvain"]
    assert [r["name"] for r in rows] == [f"v{i}" for i in range(10)]
    assert [int(r["truth"]) for r in rows] == [0] * 5 + [1] * 5
    assert adjusted_rand_index([int(r["truth"]) for r in rows], [int(r["ricci"]) for r in rows]) == 1.0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_truth_option_names_an_attribute(barbell_file, capsys):
    assert main(["communities", str(barbell_file), "--methods", "louvain", "--truth", "team"]) == 0
    louvain = table_row(capsys.readouterr().out, "louvain")
    team = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
    expected = adjusted_rand_index(team, louvain_labels(load_graph(str(barbell_file)), seed=0))
    assert louvain[3] == f"{expected:.6g}"


def test_karate_louvain_labels_follow_the_seed(tmp_path, capsys):
    out_csv = tmp_path / "karate.csv"
    assert main(["--seed", "2", "communities", "karate", "--methods", "louvain", "-o", str(out_csv)]) == 0
    rows = list(csv.DictReader(out_csv.open()))
    expected = louvain_labels(load_graph("karate"), seed=2).tolist()
    assert [int(r["louvain"]) for r in rows] == expected and len(rows) == 34


def test_no_ground_truth_leaves_blanks(capsys):
    assert main(["communities", "ws:n=30,k=4,p=0.1", "--methods", "louvain"]) == 0
    out = capsys.readouterr().out
    assert table_row(out, "louvain")[3:5] == ["", ""] and "no ground truth" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--methods", "ricci,leiden"], "unknown community method 'leiden'"),
        (["--methods", ","], "--methods is empty"),
        (["--cutoff-step", "0"], "cutoff_step must be a positive number"),
        (["--truth", "colour"], "no node attribute 'colour'"),
        (["-o", "labels.txt"], "--output must end in .csv"),
        (["--draw", "drawing.jpg"], "--draw must end in .png"),
        (["--iterations", "-2"], "iterations"),
    ],
)
def test_errors_are_one_line_and_write_nothing(barbell_file, tmp_path, capsys, extra, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["communities", str(barbell_file), "-o", "out.csv", *extra]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "labels.txt").exists()


def test_help_explains_every_option(capsys):
    assert main(["communities", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--truth", "--methods", "--iterations", "--alpha", "--cutoff-step", "--draw", "--output"):
        assert option in out
    for words in ("ground-truth", "Ricci flow", "sweep", "coloured", "labels"):
        assert words in out
