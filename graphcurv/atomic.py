"""Atomic file writes: a file is either written completely or not at all.

Every writer in graphcurv (graphs, curvature tables, reports, pruned models)
writes through :func:`atomic_path`: the caller writes to a temporary file in the
destination's directory, and only when that succeeds is the temporary file moved
over the destination with :func:`os.replace` (atomic on POSIX and Windows when
both are on the same file system, which a sibling temporary file guarantees). If
the writer raises, the temporary file is removed and the destination is left as
it was, so no reader ever sees a half-written file.

A process killed mid-write (SIGKILL, power loss) cannot remove its temporary file. Such
files are named ``.<name>.partial-<pid>-<random>.tmp`` beside ``<name>`` (a partial
write of ``<name>`` by process ``<pid>``, safe to delete), and the next successful write
of the same ``<name>`` removes those whose process is no longer running on this machine
(:func:`remove_stale_partials`); a concurrent writer's are left alone.

A write that fails for want of room or a working disk (no space left, quota, read-only
file system, I/O error; or torch's stream writer reporting a failed write) raises
:class:`WriteError`, which names the destination and says that its previous content
is intact. :func:`check_writable` refuses, before any work, an output that cannot be
written at all (a parent that is a file, a folder without write permission, a full disk).

Example:

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "hello.txt"
>>> with atomic_path(target) as tmp:
...     _ = tmp.write_text("hello")
>>> target.read_text()
'hello'
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from graphcurv.errors import GraphcurvError

__all__ = [
    "WriteError",
    "atomic_path",
    "check_writable",
    "partial_prefix",
    "remove_stale_partials",
    "write_failure_reason",
]

# errno values that mean "the disk cannot take this file", not "the caller's code is wrong"
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})
# torch.save reports a failed write as a RuntimeError from its C++ stream writer
_TORCH_WRITE_FAILURES = ("PytorchStreamWriter failed", "file write failed")
MIN_FREE_BYTES = 1 << 20  # check_writable refuses a disk with less room than this

# The process umask, read once (os.umask can only be read by setting it).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class WriteError(GraphcurvError, OSError):
    """Writing ``path`` failed (disk full, read-only, I/O error); ``path`` keeps its previous content."""

    def __init__(self, path: str | os.PathLike[str], reason: str, *, existed: bool) -> None:
        self.path, self.reason, self.existed = Path(path), reason, existed
        kept = f"the previous {self.path} is intact" if existed else "nothing was written there"
        super().__init__(f"could not write {self.path}: {reason}; {kept} (free some space or choose another output)")


def write_failure_reason(exc: BaseException) -> str | None:
    """Why ``exc`` is a failed write (``"no space left on device"``, ...), or ``None`` if it is another error.

    >>> write_failure_reason(OSError(errno.ENOSPC, "No space left on device"))
    'no space left on device'
    >>> write_failure_reason(ValueError("bad")) is None
    True
    """
    if isinstance(exc, WriteError):
        return exc.reason
    if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
        text = os.strerror(exc.errno)
        return text[:1].lower() + text[1:]
    if isinstance(exc, RuntimeError) and any(marker in str(exc) for marker in _TORCH_WRITE_FAILURES):
        return "the file could not be written (disk full or failing)"
    return None


def check_writable(path: str | os.PathLike[str]) -> None:
    """Refuse, with a :class:`GraphcurvError`, an output ``path`` that cannot be written.

    Checked without creating anything that stays: the nearest existing ancestor must
    be a folder in which a file can be created (a probe file, removed at once) on a
    disk with at least ``MIN_FREE_BYTES`` free. Missing folders below it are fine
    (writers create them).

    >>> import tempfile, pathlib
    >>> check_writable(pathlib.Path(tempfile.mkdtemp()) / "new" / "out.csv")
    >>> afile = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = afile.write_text("x")
    >>> check_writable(afile / "out.csv")
    Traceback (most recent call last):
    ...
    graphcurv.errors.GraphcurvError: cannot write ... is a file, not a folder
    """
    target = Path(path).expanduser()
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise GraphcurvError(f"cannot write {target}: {folder} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".graphcurv-probe.", dir=folder)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise GraphcurvError(f"cannot write {target}: cannot create files in {folder} ({reason})") from exc
    os.close(fd)
    os.unlink(probe)
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        raise GraphcurvError(f"cannot write {target}: the disk holding {folder} is full ({free:,} bytes free)")


def partial_prefix(target: str | os.PathLike[str]) -> str:
    """Name prefix of this process's temporary files for ``target``: ``.<name>.partial-<pid>-``."""
    return f".{Path(target).name}.partial-{os.getpid()}-"


_PARTIAL_TAIL = re.compile(r"(\d+)-[A-Za-z0-9_]+\.tmp")


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_partials(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files and folders (``.<name>.partial-<pid>-*.tmp``) that writes
    of ``target`` by processes no longer running left beside it; returns what was removed."""
    target = Path(target)
    prefix = f".{target.name}.partial-"
    removed = []
    try:
        entries = [e for e in target.parent.iterdir() if e.name.startswith(prefix)]
    except OSError:
        return removed
    for entry in entries:
        match = _PARTIAL_TAIL.fullmatch(entry.name[len(prefix) :])
        if match is None or _running(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` when the block succeeds.

    Missing parent directories are created. The new file gets the permissions a
    plain ``open(path, "w")`` would give it (``0o666`` minus the umask), or the
    permissions of the file it replaces. On any exception inside the block the
    temporary file is deleted, ``path`` is untouched, and the exception propagates;
    a failed write (:func:`write_failure_reason`) propagates as a :class:`WriteError`.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=partial_prefix(target), suffix=".tmp", dir=target.parent)
    except OSError as exc:
        reason = write_failure_reason(exc)
        if reason is None:
            raise
        raise WriteError(target, reason, existed=target.exists()) from exc
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_UMASK
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        remove_stale_partials(target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        reason = write_failure_reason(exc)
        if reason is None or isinstance(exc, WriteError):
            raise
        raise WriteError(target, reason, existed=target.exists()) from exc
