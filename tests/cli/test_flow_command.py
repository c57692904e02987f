import csv

import torch

from graphcurv.flow import ricci_flow
from graphcurv.graphs import load_graph
from graphcurv_cli.app import main


def test_flow_writes_the_flowed_graph(tmp_path, capsys):
    out = tmp_path / "flowed.pt"
    assert main(["flow", "karate", "-n", "5", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "curvature spread at end" in printed and "wrote" in printed
    data = torch.load(out, weights_only=False)
    expected = ricci_flow(load_graph("karate"), iterations=5)
    assert torch.allclose(data.edge_weight, expected.edge_weight, atol=1e-12)
    assert torch.allclose(data.edge_curvature, expected.edge_curvature, atol=1e-12)
    assert abs(float(data.edge_weight.sum()) - 156.0) < 1e-9  # 78 edges, both directions, mean length 1


def test_flow_csv_and_surgery(tmp_path, capsys):
    out = tmp_path / "flowed.csv"
    assert (
        main(
            [
                "flow",
                "sbm:sizes=15/15,p_in=0.6,p_out=0.02,seed=1",
                "-n",
                "6",
                "--surgery-every",
                "3",
                "--surgery-cut",
                "0.05",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(out.open()))
    lengths = [float(r["edge_weight"]) for r in rows]
    assert any(length == float("inf") for length in lengths)
    assert "edges cut by surgery" in capsys.readouterr().out


def test_flow_rejects_a_bad_output_suffix_and_parameters(tmp_path, capsys):
    assert main(["flow", "karate", "-o", str(tmp_path / "x.txt")]) == 1
    assert "--output must end in .csv or .pt" in capsys.readouterr().err
    assert main(["flow", "karate", "--step", "0"]) == 1
    assert "step must be positive" in capsys.readouterr().err
    assert not (tmp_path / "x.txt").exists()
