r"""A resumable Ollivier-Ricci run: the solved chunks of a plan, saved as they come back.

``ollivier_ricci(data, state="run.pt")`` (and ``graphcurv curvature --state``) runs the
plan's chunks as executor units and keeps, in ``run.pt``, W1 and d(x, y) of every chunk
solved so far. The file is rewritten atomically at most every :data:`SAVE_EVERY` seconds,
after the first unit and when the run ends or is interrupted (a SIGKILLed client, or a
lost scheduler, loses at most that much work). A rerun with the same state file solves
only the chunks it does not hold; each transport problem is the same whichever unit it is
in, so the values equal an uninterrupted run's bit for bit.

The file records a signature of the run: a hash of the solved edges, their lengths, both
measures (masses per node and per edge: the measure and alpha) and the chunk boundaries.
A state file of another graph or other options is refused, never silently mixed in.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from graphcurv.atomic import atomic_path
from graphcurv.errors import GraphcurvError
from graphcurv.files import load_tagged

STATE_FORMAT = "graphcurv-curvature-state-1"
SAVE_EVERY = 30.0  # seconds between rewrites of the state file


def run_signature(arrays: list[np.ndarray], chunks: list[tuple[int, int]]) -> str:
    """A hex digest of the arrays' bytes (dtype and shape included) and the chunk list."""
    digest = hashlib.blake2b(digest_size=20)
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(memoryview(array).cast("B"))
    digest.update(np.asarray(chunks, dtype=np.int64).tobytes())
    return digest.hexdigest()


@dataclass
class CurvatureState:
    """W1 and d of the solved edges; ``done[c]`` says whether chunk c is in."""

    signature: str
    w1: np.ndarray
    dist: np.ndarray
    done: np.ndarray  # bool, one per chunk
    saved_at: float = 0.0

    @classmethod
    def load_or_fresh(cls, path: Path, signature: str, num_edges: int, num_chunks: int) -> CurvatureState:
        if not path.exists():
            empty = np.full(num_edges, np.nan)
            return cls(signature, empty, empty.copy(), np.zeros(num_chunks, dtype=bool))
        saved = load_tagged(path, STATE_FORMAT, "curvature state", "delete it to start afresh")
        if saved.get("signature") != signature:
            raise GraphcurvError(
                f"{path} holds a curvature run of another graph, measure or alpha; delete it or choose another state file"
            )
        w1, dist, done = (saved[k].numpy() for k in ("w1", "dist", "done"))
        if w1.shape != (num_edges,) or dist.shape != (num_edges,) or done.shape != (num_chunks,):
            raise GraphcurvError(f"{path} is a damaged curvature state file (wrong sizes); delete it to start afresh")
        return cls(signature, w1.copy(), dist.copy(), done.copy())

    def fill(self, chunks: list[tuple[int, int]], numbers: list[int], w1: np.ndarray, dist: np.ndarray) -> None:
        """Record the results of chunks ``numbers`` (concatenated in that order)."""
        offset = 0
        for number in numbers:
            start, stop = chunks[number]
            width = stop - start
            self.w1[start:stop], self.dist[start:stop] = w1[offset : offset + width], dist[offset : offset + width]
            self.done[number] = True
            offset += width

    def save(self, path: Path) -> None:
        payload = {
            "format": STATE_FORMAT,
            "signature": self.signature,
            "w1": torch.from_numpy(self.w1),
            "dist": torch.from_numpy(self.dist),
            "done": torch.from_numpy(self.done),
        }
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)
        self.saved_at = time.monotonic()

    def save_if_due(self, path: Path) -> None:
        """Save after the first result, then at most every :data:`SAVE_EVERY` seconds."""
        if self.saved_at == 0.0 or time.monotonic() - self.saved_at >= SAVE_EVERY:
            self.save(path)


def state_progress(path: str | Path) -> tuple[int, int] | None:
    """(chunks done, chunks) of a curvature state file, or None when there is none yet."""
    source = Path(path)
    if not source.exists():
        return None
    done = load_tagged(source, STATE_FORMAT, "curvature state")["done"]
    return int(done.sum()), int(done.numel())
