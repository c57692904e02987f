"""Small file helpers shared by every reader and writer: tagged torch payloads and CSV tables.

* :func:`load_tagged` reads a ``torch.save``'d dict with a ``"format"`` tag using
  ``torch.load(weights_only=True)`` (no code from the file runs) and turns every failure
  (missing, unreadable, wrong format) into one clear :class:`GraphcurvError`.
* :func:`write_csv` writes a header and rows atomically (:func:`graphcurv.atomic.atomic_path`).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from graphcurv.atomic import atomic_path
from graphcurv.errors import GraphcurvError


def load_tagged(path: str | os.PathLike[str], fmt: str, what: str, hint: str = "") -> dict[str, Any]:
    """The dict stored in ``path`` whose ``"format"`` is ``fmt``; ``what`` names it in errors."""
    source = Path(path)
    if not source.is_file():
        raise GraphcurvError(f"{source}: no such {what} file{f' ({hint})' if hint else ''}")
    try:
        payload = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message
        detail = " ".join(str(exc).split())[:200]
        raise GraphcurvError(f"{source} is not a readable {what} file ({type(exc).__name__}: {detail})") from exc
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        raise GraphcurvError(f"{source} is not a graphcurv {what} file{f' ({hint})' if hint else ''}")
    return payload


def write_csv(path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write ``header`` then ``rows`` as CSV to ``path``, atomically; return the path."""
    target = Path(path)
    with atomic_path(target) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(header))
        writer.writerows(rows)
    return target
