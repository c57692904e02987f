import re
from pathlib import Path

import torch
from support import requires_graph_tool
from torch_geometric.data import Data
from typer.testing import CliRunner

from graphcurv.graphs.io import save_graph
from graphcurv_cli import app as cli

FIXTURE = Path(__file__).resolve().parents[2] / "datasets" / "graphs" / "two_triangles.txt"


def run(capsys, *args):
    code = cli.main(["info", *args])
    out, err = capsys.readouterr()
    return code, out, err


def row(output, label):
    """The value column of the summary table row ``label``."""
    match = re.search(rf"│ {re.escape(label)}\s+│\s+(.+?)\s+│", output)
    assert match, f"no row {label!r} in:\n{output}"
    return match.group(1)


def test_football_acceptance(capsys):
    requires_graph_tool()
    code, out, err = run(capsys, "football")
    assert code == 0, err
    assert row(out, "nodes") == "115"
    assert row(out, "edges") == "613"
    assert row(out, "ground-truth groups") == "12 (from value)"
    assert row(out, "directed") == "no"


def test_karate(capsys):
    code, out, _ = run(capsys, "karate")
    assert code == 0
    assert (row(out, "nodes"), row(out, "edges")) == ("34", "78")
    assert row(out, "weighted") == "no"
    assert row(out, "ground-truth groups") == "2 (from club)"


def test_edge_list_file(capsys):
    code, out, _ = run(capsys, str(FIXTURE))
    assert code == 0
    assert (row(out, "nodes"), row(out, "edges"), row(out, "weighted")) == ("6", "7", "yes")
    assert row(out, "length max") == "2.5"
    assert row(out, "degree max") == "3"


def test_generator_spec_with_cli_runner():
    cli._register_commands()
    result = CliRunner().invoke(cli.app, ["info", "ws:n=30,k=4,p=0"])
    assert result.exit_code == 0, result.output
    assert row(result.output, "edges") == "60"
    assert row(result.output, "degree min") == "4"


def test_directed_file_and_undirected_flag(capsys, tmp_path):
    path = tmp_path / "g.pt"
    save_graph(Data(edge_index=torch.tensor([[0, 1, 1], [1, 0, 2]]), num_nodes=3), path)
    code, out, _ = run(capsys, str(path))
    assert code == 0 and row(out, "directed") == "yes" and row(out, "edges") == "3"
    code, out, _ = run(capsys, str(path), "--undirected")
    assert code == 0 and row(out, "directed") == "no" and row(out, "edges") == "2"


def test_directed_flag_reads_arcs(capsys, tmp_path):
    path = tmp_path / "arcs.txt"
    path.write_text("a b\nb a\nb c\n")
    code, out, _ = run(capsys, str(path), "--directed")
    assert code == 0 and row(out, "directed") == "yes" and row(out, "edges") == "3"
    code, out, _ = run(capsys, str(path))
    assert code == 0 and row(out, "directed") == "no" and row(out, "edges") == "2"


def test_normalisation_is_reported_as_notes(capsys, tmp_path):
    path = tmp_path / "loops.txt"
    path.write_text("a a\na b\na b\n")
    code, out, err = run(capsys, str(path))
    assert code == 0
    assert "note: loops.txt: dropped 1 self-loop" in err.replace("\n", " ")
    assert "merged 1 duplicate" in err
    assert row(out, "edges") == "1"


def assert_one_error_line(code, err, text):
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:")
    assert text in lines[0]
    assert "Traceback" not in err


def test_missing_file_is_one_error_line(capsys):
    code, out, err = run(capsys, "/nonexistent.txt")
    assert_one_error_line(code, err, "no such file: /nonexistent.txt")
    assert out == ""


def test_malformed_file_is_one_error_line(capsys, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("a b 1\nb c heavy\n")
    code, _, err = run(capsys, str(path))
    assert_one_error_line(code, err, "bad.txt:2: length 'heavy' is not a number")


def test_bad_spec_and_unknown_name(capsys):
    code, _, err = run(capsys, "ws:n=10,k=2,p=0.1,q=3")
    assert_one_error_line(code, err, "unknown key 'q'")
    code, _, err = run(capsys, "nonsense")
    assert_one_error_line(code, err, "unknown graph 'nonsense'")


def test_help_explains_graph(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    text = " ".join(out.split())
    for needle in ("GRAPH", ".pt", "ws:n=1000,k=10,p=0.1", "sbm:sizes=40/40/40", "football", "--undirected"):
        assert needle in text, needle
