"""SIGINT / SIGTERM delivered in the middle of every long command (at its first progress update, from
inside the library's loop): one line, exit 130 / 143, nothing half-written, no child process left."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal

import psutil
import pytest
from faults.faulting import analyze_args, one_line_error

import graphcurv_cli.ui
from graphcurv_cli.app import main

GRAPH = ["--n", "8", "--k", "4", "--iterations", "3", "--channels", "4", "--head-channels", "8"]
TRAIN = ["--train-size", "200", "--epochs", "1", "--batch-size", "64"]
COMMANDS = {
    "curvature": ["curvature", "karate", "-o", "{out}.csv"],
    "flow": ["flow", "karate", "-n", "50", "-o", "{out}.csv"],
    "communities": ["communities", "karate", "--methods", "ricci", "-o", "{out}.csv"],
    "train": ["train", "mlp", "--dataset", "digits", "--epochs", "3", "--hidden", "16", "-o", "{out}.pt"],
    "sweep": ["sweep", "{model}", "-d", "digits", "--methods", "magnitude", "--ratios", "0,0.5", "-o", "{out}"],
    "riccinets search": ["riccinets", "search", "--dataset", "digits", *GRAPH, *TRAIN, "--val-size", "100",
                         "--episodes", "2", "-o", "{out}.pt"],
    "riccinets compare": ["riccinets", "compare", "--dataset", "digits", *GRAPH, *TRAIN, "--seeds", "0",
                          "-o", "{out}.csv"],
}  # fmt: skip


@pytest.fixture
def signal_at_first_progress(monkeypatch):
    """Make the first progress update of a command deliver ``signum`` to this process."""
    sent = {}

    def arm(signum: int) -> dict:
        @contextlib.contextmanager
        def progress_bar(description: str = "working"):
            def update(done, total, desc=""):
                if not sent:
                    sent["at"] = desc or description
                    os.kill(os.getpid(), signum)

            yield update

        monkeypatch.setattr(graphcurv_cli.ui, "progress_bar", progress_bar)
        return sent

    return arm


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_long_command_stops_with_one_line(command, signum, digits_mlp, tmp_path, capsys, monkeypatch,
                                                 signal_at_first_progress):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    args = [a.format(out="out", model=digits_mlp) for a in COMMANDS[command]]
    sent = signal_at_first_progress(signum)
    code = main(args)
    assert sent, "the command reported no progress"
    assert code == 128 + signum
    name = signal.Signals(signum).name
    assert one_line_error(capsys.readouterr().err, "stopped:") == (
        f"stopped: interrupted by {name}; nothing was written (outputs are written only once complete); "
        f"run again with: graphcurv {shlex.join(args)}"
    )
    assert list(tmp_path.iterdir()) == []  # not even a temporary file
    assert psutil.Process().children() == []


def test_analyze_interrupted_before_its_first_input_keeps_nothing(digits_mlp, tmp_path, capsys, monkeypatch,
                                                                  signal_at_first_progress):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    args = analyze_args(digits_mlp, "-o", "report", "--state", "s.pt")
    signal_at_first_progress(signal.SIGINT)  # during the calibration set
    assert main(args) == 130
    assert one_line_error(capsys.readouterr().err, "stopped:") == (
        "stopped: interrupted by SIGINT; nothing was written (outputs are written only once complete); "
        f"run again with: graphcurv {shlex.join(args)}"
    )
    assert list(tmp_path.iterdir()) == []


def test_debug_shows_the_traceback_of_an_interrupt(digits_mlp, tmp_path, capsys, monkeypatch,
                                                   signal_at_first_progress):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    signal_at_first_progress(signal.SIGINT)
    assert main(["--debug", "flow", "karate", "-n", "50"]) == 130
    err = capsys.readouterr().err
    assert "Traceback" in err and "Interrupted: SIGINT" in err and "stopped: interrupted by SIGINT" in err
