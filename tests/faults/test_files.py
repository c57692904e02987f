"""Damaged, foreign and unwritable files: state files, scores files, full disks, outputs that
cannot be written (docs/reliability.md, "Files" and "Disk")."""

from __future__ import annotations

import errno
import os
import shlex

import pytest
import torch
from faults.faulting import analyze_args, one_line_error

import graphcurv.analyses.neural_report
import graphcurv.atomic
import graphcurv.datasets
import graphcurv.graphs
import graphcurv.models
from graphcurv_cli.app import main


def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def state_file(report):
    return report.parent / "state.pt"


def test_a_truncated_state_file_is_refused_before_any_work(digits_mlp, state_file, tmp_path, capsys, monkeypatch):
    truncated = tmp_path / "s.pt"
    truncated.write_bytes(state_file.read_bytes()[: state_file.stat().st_size // 2])
    monkeypatch.setattr(graphcurv.datasets, "calibration_set", _no_work)
    assert main(analyze_args(digits_mlp, "-o", str(tmp_path / "r"), "--state", str(truncated))) == 1
    line = one_line_error(capsys.readouterr().err)
    assert line.startswith(f"error: cannot resume from {truncated}: the file is truncated or damaged (")
    assert line.endswith("); delete it to start afresh")
    assert truncated.stat().st_size == state_file.stat().st_size // 2  # left for the user to inspect


def _no_work(*args, **kwargs):
    raise AssertionError("the command started working")


@pytest.mark.parametrize("kind", ["scores file", "tensor"])
def test_a_foreign_state_file_is_refused(kind, digits_mlp, report, tmp_path, capsys):
    foreign = tmp_path / "s.pt"
    if kind == "scores file":
        foreign.write_bytes((report / "scores.pt").read_bytes())
        held = "a dict of format 'graphcurv-curvature-scores'"
    else:
        torch.save(torch.zeros(3), foreign)
        held = "a Tensor"
    assert main(analyze_args(digits_mlp, "-o", str(tmp_path / "r"), "--state", str(foreign))) == 1
    assert one_line_error(capsys.readouterr().err) == (
        f"error: cannot resume from {foreign}: it is not a graphcurv neural-curvature state file (it holds "
        f"{held}); delete it or choose another state file"
    )


def test_a_state_file_of_another_run_is_refused(digits_mlp, state_file, tmp_path, capsys):
    other = tmp_path / "s.pt"
    other.write_bytes(state_file.read_bytes())
    assert main(analyze_args(digits_mlp, "-o", str(tmp_path / "r"), "--state", str(other), "--alpha", "0.5")) == 1
    assert one_line_error(capsys.readouterr().err) == (
        f"error: {other} holds a run of another graph, calibration set or alpha; delete it or choose another state file"
    )


@pytest.mark.parametrize("damage", ["truncated", "garbage", "a state file", "empty"])
def test_a_corrupt_scores_file_given_to_prune_is_refused(damage, digits_mlp, report, state_file, tmp_path, capsys):
    bad = tmp_path / "scores.pt"
    good = (report / "scores.pt").read_bytes()
    bad.write_bytes(
        {"truncated": good[: len(good) // 3], "garbage": b"\x00not a torch file" * 50, "empty": b"",
         "a state file": state_file.read_bytes()}[damage]
    )  # fmt: skip
    out = tmp_path / "pruned.pt"
    args = ["prune", str(digits_mlp), "--ratio", "0.5", "-d", "digits", "--scores", str(bad), "-o", str(out)]
    assert main(args) == 1
    line = one_line_error(capsys.readouterr().err)
    if damage == "a state file":
        assert line == (
            f"error: {bad} is not a graphcurv curvature scores file (written by `graphcurv analyze MODEL -o report/`)"
        )
    else:
        assert line.startswith(f"error: {bad} is not a readable curvature scores file (")
    assert not out.exists()


def test_a_full_disk_while_writing_the_report_keeps_the_previous_report(digits_mlp, report, tmp_path, capsys,
                                                                        monkeypatch):  # fmt: skip
    folder = tmp_path / "report"
    folder.mkdir()
    for path in report.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    original = graphcurv.analyses.neural_report.save_scores

    def save_on_a_full_disk(path, *args, **kwargs):
        original(path, *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(graphcurv.analyses.neural_report, "save_scores", save_on_a_full_disk)
    assert main(analyze_args(digits_mlp, "-o", str(folder), "--workers", "1")) == 1
    args = analyze_args(digits_mlp, "-o", str(folder), "--workers", "1")
    (state,) = [p for p in tmp_path.iterdir() if p.name.startswith(".report.curvature-state-")]
    assert one_line_error(capsys.readouterr().err) == (
        f"error: could not write {folder}: no space left on device; the previous {folder} is intact (free some "
        f"space or choose another output); kept the curvature of 10 inputs in {state}; resume with: graphcurv "
        f"{shlex.join(args)}"
    )
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [state.name, "report"]  # no staging folder left


def test_a_full_disk_while_saving_the_state_keeps_the_previous_state(digits_mlp, tmp_path, capsys, monkeypatch):
    state = tmp_path / "s.pt"
    saves = []
    original = graphcurv.atomic.os.replace

    def replace(source, target):
        saves.append(target)
        if len(saves) == 3:  # the third input's save finds the disk full
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(source, target)

    monkeypatch.setattr(graphcurv.atomic.os, "replace", replace)
    args = analyze_args(digits_mlp, "-o", str(tmp_path / "r"), "--state", str(state), "--workers", "1")
    assert main(args) == 1
    assert one_line_error(capsys.readouterr().err) == (
        f"error: could not write {state}: no space left on device; the previous {state} is intact (free some "
        f"space or choose another output); kept the curvature of 2 inputs in {state}; resume with: graphcurv "
        f"{shlex.join(args)}"
    )
    monkeypatch.undo()
    assert torch.load(state, weights_only=True)["done"] == 2


def test_a_full_disk_on_any_output_keeps_the_previous_file(tmp_path, capsys, monkeypatch):
    out = tmp_path / "karate.csv"
    out.write_text("the previous table\n")
    monkeypatch.setattr(graphcurv.atomic.os, "replace", _full_disk)
    assert main(["curvature", "karate", "-o", str(out)]) == 1
    assert one_line_error(capsys.readouterr().err) == (
        f"error: could not write {out}: no space left on device; the previous {out} is intact (free some space "
        "or choose another output)"
    )
    assert out.read_text() == "the previous table\n" and [p.name for p in tmp_path.iterdir()] == ["karate.csv"]


@pytest.mark.parametrize(
    "command",
    [
        ["analyze", "{model}", "-d", "digits", "-o", "{bad}"],
        ["analyze", "{model}", "-d", "digits", "--state", "{bad}"],
        ["prune", "{model}", "--ratio", "0.5", "-o", "{bad}.pt"],
        ["sweep", "{model}", "-d", "digits", "-o", "{bad}"],
        ["curvature", "karate", "-o", "{bad}.csv"],
        ["train", "mlp", "--dataset", "digits", "-o", "{bad}.pt"],
    ],
    ids=lambda c: c[0] + (" --state" if "--state" in c else ""),
)
def test_an_output_that_cannot_be_written_is_refused_before_any_work(command, digits_mlp, tmp_path, capsys,
                                                                     monkeypatch):  # fmt: skip
    afile = tmp_path / "notes.txt"
    afile.write_text("a file, not a folder")
    bad = afile / "out"
    args = [a.format(model=digits_mlp, bad=bad) for a in command]
    for module, name in ((graphcurv.models, "load_model"), (graphcurv.datasets, "load_dataset"),
                         (graphcurv.graphs, "load_graph")):  # fmt: skip
        monkeypatch.setattr(module, name, _no_work)
    assert main(args) == 1
    line = one_line_error(capsys.readouterr().err)
    assert line.startswith(f"error: cannot write {bad}") and line.endswith(f"{afile} is a file, not a folder")


def _dead_pid() -> int:
    import subprocess

    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_the_next_write_removes_what_a_killed_write_left(tmp_path):
    """A write killed mid-way (SIGKILL) leaves ``.<name>.partial-<pid>-*.tmp``; the next
    successful write of the same file or report folder removes it, not a running writer's."""
    from graphcurv.atomic import atomic_path

    dead, target = _dead_pid(), tmp_path / "out.csv"
    target.write_text("old\n")
    stale_file = tmp_path / f".out.csv.partial-{dead}-abc123.tmp"
    stale_folder = tmp_path / f".report.partial-{dead}-xyz789.tmp"
    running = tmp_path / f".out.csv.partial-{os.getppid()}-live01.tmp"  # a writer still at work
    other = tmp_path / f".other.csv.partial-{dead}-abc123.tmp"  # another file's: not this write's business
    for path in (stale_file, running, other):
        path.write_text("half")
    stale_folder.mkdir()
    (stale_folder / "scores.csv").write_text("half")
    with atomic_path(target) as tmp:
        assert tmp.name.startswith(f".out.csv.partial-{os.getpid()}-")
        tmp.write_text("new\n")
    assert target.read_text() == "new\n"
    assert not stale_file.exists() and running.exists() and other.exists() and stale_folder.exists()
    (tmp_path / "report").mkdir()
    with atomic_path(tmp_path / "report" / "x.txt") as tmp:  # a file inside the folder is another name
        tmp.write_text("x")
    assert stale_folder.exists()
