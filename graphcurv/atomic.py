"""Atomic file writes: a file is either written completely or not at all.

Every writer in graphcurv (graphs, curvature tables, reports, pruned models)
writes through :func:`atomic_path`: the caller writes to a temporary file in the
destination's directory, and only when that succeeds is the temporary file moved
over the destination with :func:`os.replace` (atomic on POSIX and Windows when
both are on the same file system, which a sibling temporary file guarantees). If
the writer raises, the temporary file is removed and the destination is left as
it was, so no reader ever sees a half-written file.

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
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# The process umask, read once (os.umask can only be read by setting it).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` when the block succeeds.

    Missing parent directories are created. The new file gets the permissions a
    plain ``open(path, "w")`` would give it (``0o666`` minus the umask), or the
    permissions of the file it replaces. On any exception inside the block the
    temporary file is deleted, ``path`` is untouched, and the exception propagates.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_UMASK
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
