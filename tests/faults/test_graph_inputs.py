"""Bad graph files given to the graph commands: one line naming the file and the rule broken."""

from __future__ import annotations

import pytest
from faults.faulting import one_line_error

from graphcurv_cli.app import main

CASES = {
    "negative length": ("g.txt", "0 1 -1\n1 2 1\n", "g.txt: edge (0, 1) has length -1.0: lengths must be finite and > 0 (1 such edge(s))"),
    "NaN length": ("g.txt", "0 1 nan\n1 2 1\n", "g.txt: edge (0, 1) has length nan: lengths must be finite and > 0 (1 such edge(s))"),
    "empty file": ("g.txt", "", "g.txt: empty graph (0 nodes, 0 edges)"),
    "corrupt .pt": ("g.pt", "\x00\x01 not a torch file", "g.pt: not a readable graph file (corrupt, truncated, or holds objects that cannot be loaded safely)"),
    "missing file": (None, None, "no such file: missing.txt"),
}  # fmt: skip


@pytest.mark.parametrize("command", ["curvature", "flow", "communities"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_graph_file_is_one_line(case, command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name, text, message = CASES[case]
    if name is not None:
        (tmp_path / name).write_text(text)
    assert main([command, name or "missing.txt", "-o", "out.csv"]) == 1
    assert one_line_error(capsys.readouterr().err).startswith(f"error: {message}")
    assert not (tmp_path / "out.csv").exists()
