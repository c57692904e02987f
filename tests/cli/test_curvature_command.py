import csv

import pytest
import torch

from graphcurv_cli.app import main


def test_curvature_csv_matches_library(tmp_path, capsys):
    out = tmp_path / "karate.csv"
    assert main(["curvature", "karate", "-o", str(out), "--top", "3"]) == 0
    printed = capsys.readouterr().out
    assert "most negative edges" in printed
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 78
    by_edge = {(int(r["source"]), int(r["target"])): float(r["edge_curvature"]) for r in rows}
    assert by_edge[(0, 1)] == pytest.approx(0.1111, abs=5e-5)  # GraphRicciCurvature's value
    assert by_edge[(0, 31)] == pytest.approx(min(by_edge.values()))


def test_node_ids_print_without_thousands_separators(tmp_path, capsys):
    # A star around node 1500 in a graph of 2000 nodes (no node names): ids are printed as is.
    from torch_geometric.data import Data

    leaves = torch.tensor([1501, 1502, 1503])
    centre = torch.full_like(leaves, 1500)
    ei = torch.stack([torch.cat([centre, leaves]), torch.cat([leaves, centre])])
    path = tmp_path / "star.pt"
    torch.save(Data(edge_index=ei, edge_weight=torch.ones(6, dtype=torch.float64), num_nodes=2000), path)
    assert main(["curvature", str(path), "--method", "forman", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "1500" in out and "1,500" not in out


def test_curvature_pt_output_and_forman(tmp_path):
    out = tmp_path / "g.pt"
    assert main(["curvature", "ws:n=50,k=4,p=0.0", "--method", "forman", "-o", str(out)]) == 0
    data = torch.load(out, weights_only=False)
    # a ring lattice: every degree is 4, so 1-d Forman is 4 - 4 - 4 = -4 everywhere
    assert torch.all(data.edge_curvature == -4)


def test_curvature_errors_are_one_line(tmp_path, capsys):
    assert main(["curvature", "karate", "-o", str(tmp_path / "x.json")]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and ".csv or .pt" in err and "Traceback" not in err
    assert main(["curvature", "karate", "--alpha", "2"]) == 1
    assert "alpha" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_forman_methods_dispatch_through_the_librarys_one_table(monkeypatch, capsys):
    from graphcurv.curvature import FORMAN_CURVATURES

    def marked(data, *, dtype=None):
        return torch.full((data.edge_index.size(1),), 7.25, dtype=torch.float64)

    monkeypatch.setitem(FORMAN_CURVATURES, "balanced", marked)
    assert main(["--device", "cpu", "curvature", "ws:n=12,k=4,p=0.0", "--method", "balanced", "--top", "1"]) == 0
    assert "7.25" in capsys.readouterr().out
