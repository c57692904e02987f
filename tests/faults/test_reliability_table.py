"""docs/reliability.md: every row names a test, and every test it names exists."""

from __future__ import annotations

import re

from faults.faulting import ROOT

DOC = ROOT / "docs" / "reliability.md"
REFERENCE = re.compile(r"`((?:tests/)?[\w/]+\.py)::(\w+)")


def _rows() -> list[str]:
    """The rows of the fault tables (the calibration table after them holds measurements)."""
    text = DOC.read_text().split("### How the estimate was calibrated")[0]
    return [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| ---")]


def test_every_row_names_a_test_that_exists():
    rows = [row for row in _rows() if not row.startswith(("| fault |", "| bad input"))]
    assert len(rows) >= 30
    for row in rows:
        last = row.rstrip(" |").rsplit("|", 1)[1]
        found = REFERENCE.findall(last)
        if not found:
            assert "the same test" in last or "in the same test" in last or "`...[" in last, row
        for path, name in found:
            file = ROOT / path if path.startswith("tests/") else ROOT / "tests" / "faults" / path
            assert file.is_file(), (row, path)
            assert re.search(rf"^def {name}\(", file.read_text(), re.M), (row, name)
