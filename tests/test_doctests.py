"""The package's doctests are part of the test command (`make test` = `python -m pytest -q`)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pytest_configuration_collects_the_package_doctests():
    # What the plain test command (no extra options) collects: the package's doctests too.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "graphcurv/transforms.py::graphcurv.transforms.OllivierRicci" in result.stdout
    assert "graphcurv/graphs/lengths.py::graphcurv.graphs.lengths" in result.stdout
    assert not [line for line in result.stdout.splitlines() if line.startswith(("cli/", "benchmarks/"))]
