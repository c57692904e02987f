"""Ctrl-C, SIGTERM and SIGKILL on real ``graphcurv`` processes: one line, the exit code, the state kept,
no worker left, and a resumed run equal to an uninterrupted one (docs/reliability.md, "Signals")."""

from __future__ import annotations

import os
import shlex
import signal
import time

import psutil
import pytest
import torch
from faults.faulting import alive, analyze_args, has_workers, one_line_error, run_until

import graphcurv.neural.curvature.engine as engine
from graphcurv.analyses.model_analysis import check_state_file
from graphcurv_cli.app import main

PER_CLASS = 5  # 50 inputs: a few seconds of curvature, so a signal lands mid-run


def _equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k].nan_to_num(9.0), b[k].nan_to_num(9.0)) for k in a)


def test_sigint_mid_analyze_then_resume_gives_the_scores_of_an_uninterrupted_run(digits_mlp, tmp_path, monkeypatch):
    args = analyze_args(digits_mlp, "-o", "report", "--state", "s.pt", "--workers", "2", per_class=PER_CLASS)
    state = tmp_path / "s.pt"
    done = run_until(args, tmp_path, lambda p: state.exists(), lambda p: p.send_signal(signal.SIGINT))
    kept = check_state_file(state)
    assert done.code == 130 and 1 <= kept < 10 * PER_CLASS
    assert one_line_error(done.err, "stopped:") == (
        f"stopped: interrupted by SIGINT; kept the curvature of {kept} input{'s' * (kept != 1)} in s.pt; "
        f"resume with: graphcurv {shlex.join(args)}"
    )
    assert len(done.workers) == 2 and not alive(done.workers)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.pt"]  # no report, no temporary file

    monkeypatch.chdir(tmp_path)
    added = []
    original = engine._RunState.add
    monkeypatch.setattr(engine._RunState, "add", lambda self, *a: (added.append(1), original(self, *a))[1])
    assert main(args) == 0  # the resume command, as printed
    assert len(added) == 10 * PER_CLASS - kept  # it went on from the state, not from the start
    whole = analyze_args(digits_mlp, "-o", "whole", "--state", "w.pt", "--workers", "1", per_class=PER_CLASS)
    assert main(whole) == 0
    resumed = torch.load(tmp_path / "report" / "scores.pt", weights_only=True)
    uninterrupted = torch.load(tmp_path / "whole" / "scores.pt", weights_only=True)
    assert resumed["samples"] == uninterrupted["samples"] == 10 * PER_CLASS
    assert _equal(resumed["param_scores"], uninterrupted["param_scores"])
    for k in uninterrupted["checkpoints"]:
        assert _equal(resumed["checkpoints"][k], uninterrupted["checkpoints"][k])


@pytest.mark.parametrize(
    ("signum", "group", "code"),
    [(signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)],
    ids=["ctrl-c to the process group", "sigterm"],
)
def test_a_signal_mid_analyze_stops_every_worker_without_a_traceback(digits_mlp, tmp_path, signum, group, code):
    args = analyze_args(digits_mlp, "-o", "report", "--workers", "2", per_class=PER_CLASS)  # automatic state file

    def ready(process) -> bool:
        return any(p.name.startswith(".report.curvature-state-") for p in tmp_path.iterdir()) and has_workers(2)(
            process
        )

    def send(process) -> None:
        if group:  # what a terminal's Ctrl-C does: the workers get SIGINT too
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)

    done = run_until(args, tmp_path, ready, send)
    assert done.code == code, done.err
    line = one_line_error(done.err, "stopped:")
    name = signal.Signals(signum).name
    assert line.startswith(f"stopped: interrupted by {name}; kept the curvature of ")
    assert line.endswith(f"resume with: graphcurv {shlex.join(args)}")
    assert len(done.workers) == 2 and not alive(done.workers)
    assert "KeyboardInterrupt" not in done.err


def test_a_killed_solver_worker_is_one_clear_line_and_the_state_is_kept(digits_mlp, tmp_path):
    args = analyze_args(digits_mlp, "-o", "report", "--state", "s.pt", "--workers", "2", per_class=PER_CLASS)
    state = tmp_path / "s.pt"

    def kill_one(process) -> None:
        os.kill(psutil.Process(process.pid).children()[0].pid, signal.SIGKILL)

    done = run_until(args, tmp_path, lambda p: state.exists() and has_workers(2)(p), kill_one)
    assert done.code == 1
    kept = check_state_file(state)
    assert one_line_error(done.err) == (
        "error: a solver worker process died during neural curvature (killed by a signal: the out-of-memory "
        f"killer, or kill); the other workers were stopped; kept the curvature of {kept} input{'s' * (kept != 1)} "
        f"in s.pt; resume with: graphcurv {shlex.join(args)}"
    )
    assert not alive(done.workers)


STUCK_WRITING = """
import pathlib, sys, time
import graphcurv.analyses.neural_report as report

def stuck(path, graph, result):
    with open(path, "w") as handle:
        handle.write("parameter,flat_index,coordinates,score\\n")
        handle.flush()
    pathlib.Path("writing").touch()
    time.sleep(120)

report.write_scores_csv = stuck
from graphcurv_cli.app import run
run()
"""


def test_sigkill_of_the_main_process_mid_write_leaves_the_old_report_byte_identical(digits_mlp, report, tmp_path):
    folder = tmp_path / "report"
    folder.mkdir()
    for path in report.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    args = analyze_args(digits_mlp, "-o", "report", "--workers", "1")
    done = run_until(
        args,
        tmp_path,
        lambda p: (tmp_path / "writing").exists(),
        lambda p: p.send_signal(signal.SIGKILL),
        python=STUCK_WRITING,
    )
    assert done.code == -signal.SIGKILL
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # what is left beside it: the hidden staging folder of the write (and the automatic state file)
    left = sorted(p.name for p in tmp_path.iterdir() if p.name not in ("report", "writing"))
    assert [name.split(".")[1] for name in left] == ["report", "report"], left


def test_sigkill_of_the_main_process_mid_curvature_leaves_no_worker(digits_mlp, tmp_path):
    args = analyze_args(digits_mlp, "-o", "report", "--state", "s.pt", "--workers", "2", per_class=PER_CLASS)
    done = run_until(args, tmp_path, has_workers(2), lambda p: p.send_signal(signal.SIGKILL))
    assert done.code == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while alive(done.workers) and time.monotonic() < deadline:  # orphans notice the closed pipe and exit
        time.sleep(0.1)
    assert len(done.workers) == 2 and not alive(done.workers)


def test_a_lost_client_and_scheduler_mid_distributed_curvature_resume_from_the_state(tmp_path):
    """SIGKILL of the whole `curvature --distributed --state` process group (client, in-process
    scheduler and workers) once a chunk is saved: the rerun solves the rest and writes the
    table of an uninterrupted in-process run, byte for byte."""
    from support import requires_module

    from graphcurv.curvature.state import state_progress

    requires_module("distributed")
    state, out = tmp_path / "s.pt", tmp_path / "out.csv"
    args = ["--device", "cpu", "curvature", "ba:n=3000,m=4,seed=1", "--distributed", "--workers", "2",
            "--state", str(state), "-o", str(out)]  # fmt: skip
    done = run_until(args, tmp_path, lambda p: state.exists(), lambda p: os.killpg(p.pid, signal.SIGKILL), timeout=120)
    assert done.code == -signal.SIGKILL and not out.exists()
    kept, chunks = state_progress(state)
    assert 0 < kept < chunks
    deadline = time.monotonic() + 10
    while alive(done.workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(done.workers)
    assert main(args) == 0  # the same command resumes
    assert state_progress(state) == (chunks, chunks)
    assert main(["--device", "cpu", "curvature", "ba:n=3000,m=4,seed=1", "-o", str(tmp_path / "ref.csv")]) == 0
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()


def test_a_lost_client_and_scheduler_mid_distributed_analyze_resume_from_the_state(digits_mlp, tmp_path,
                                                                                   monkeypatch):  # fmt: skip
    """SIGKILL of the whole `analyze --distributed --state` process group once an input is saved:
    the same command resumes from the state and gives the scores of an uninterrupted run."""
    from support import requires_module

    requires_module("distributed")
    args = analyze_args(digits_mlp, "-o", "report", "--state", "s.pt", "--distributed", "--workers", "2",
                        per_class=PER_CLASS)  # fmt: skip
    state = tmp_path / "s.pt"
    done = run_until(args, tmp_path, lambda p: state.exists(), lambda p: os.killpg(p.pid, signal.SIGKILL),
                     timeout=120)  # fmt: skip
    kept = check_state_file(state)
    assert done.code == -signal.SIGKILL and 1 <= kept < 10 * PER_CLASS
    deadline = time.monotonic() + 10
    while alive(done.workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(done.workers)
    monkeypatch.chdir(tmp_path)
    added = []
    original = engine._RunState.add
    monkeypatch.setattr(engine._RunState, "add", lambda self, *a: (added.append(1), original(self, *a))[1])
    assert main(args) == 0
    assert len(added) == 10 * PER_CLASS - kept
    whole = analyze_args(digits_mlp, "-o", "whole", "--state", "w.pt", "--workers", "1", per_class=PER_CLASS)
    assert main(whole) == 0
    resumed = torch.load(tmp_path / "report" / "scores.pt", weights_only=True)
    uninterrupted = torch.load(tmp_path / "whole" / "scores.pt", weights_only=True)
    assert _equal(resumed["param_scores"], uninterrupted["param_scores"])
