"""graphcurv.atomic: a failed write leaves the previous file and says so; unwritable outputs are refused early."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile

import pytest
import torch

import graphcurv.atomic
from graphcurv.atomic import WriteError, atomic_path, check_writable
from graphcurv.errors import GraphcurvError


def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_on_replace_keeps_the_previous_file_and_says_so(tmp_path, monkeypatch):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    monkeypatch.setattr(graphcurv.atomic.os, "replace", _full_disk)
    with pytest.raises(WriteError, match=r"could not write .*table.csv: no space left on device; the previous"):
        with atomic_path(target) as tmp:
            tmp.write_text("new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]  # no temporary file left


def test_torch_save_failing_mid_write_is_a_write_error(tmp_path, monkeypatch):
    target = tmp_path / "model.pt"
    torch.save({"a": 1}, target)
    before = target.read_bytes()

    def half_written(obj, path):
        with open(path, "wb") as handle:
            handle.write(b"PK\x03\x04 half")
        raise RuntimeError("[enforce fail at inline_container.cc:664] . PytorchStreamWriter failed writing file")

    with pytest.raises(WriteError, match="the previous .*model.pt is intact") as caught:
        with atomic_path(target) as tmp:
            half_written({"a": 2}, tmp)
    assert isinstance(caught.value, OSError) and isinstance(caught.value, GraphcurvError)
    assert target.read_bytes() == before


def test_a_new_file_that_cannot_be_written_says_nothing_was_written(tmp_path, monkeypatch):
    monkeypatch.setattr(graphcurv.atomic.tempfile, "mkstemp", _full_disk)
    with pytest.raises(WriteError, match="nothing was written there"):
        with atomic_path(tmp_path / "new.csv") as tmp:
            tmp.write_text("x")
    assert not (tmp_path / "new.csv").exists()


def test_other_errors_in_the_writer_propagate_unchanged(tmp_path):
    with pytest.raises(KeyError):
        with atomic_path(tmp_path / "x.txt"):
            raise KeyError("a bug, not a disk problem")


def test_check_writable(tmp_path, monkeypatch):
    check_writable(tmp_path / "missing" / "deeper" / "out.csv")  # folders are created by the writer
    assert not (tmp_path / "missing").exists() and list(tmp_path.iterdir()) == []
    afile = tmp_path / "a.txt"
    afile.write_text("x")
    with pytest.raises(GraphcurvError, match=r"a.txt is a file, not a folder"):
        check_writable(afile / "report")

    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(graphcurv.atomic.tempfile, "mkstemp", refused)
    with pytest.raises(GraphcurvError, match=r"cannot create files in .* \(permission denied\)"):
        check_writable(tmp_path / "out.csv")
    monkeypatch.undo()
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(graphcurv.atomic.shutil, "disk_usage", lambda _: usage._replace(free=4096))
    with pytest.raises(GraphcurvError, match=r"is full \(4,096 bytes free\)"):
        check_writable(tmp_path / "out.csv")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_check_writable_read_only_folder():
    folder = tempfile.mkdtemp()
    os.chmod(folder, 0o500)
    try:
        with pytest.raises(GraphcurvError, match="cannot create files in"):
            check_writable(os.path.join(folder, "out.csv"))
    finally:
        os.chmod(folder, 0o700)
