"""A reader for the IDX format of MNIST and Fashion-MNIST (gzip-compressed or raw).

An IDX file is a 4-byte magic number ``00 00 TT D`` (``TT`` the element type,
``D`` the number of dimensions), ``D`` big-endian uint32 sizes, then the elements
in C order, big-endian. Images are ``idx3`` (``N x 28 x 28`` uint8), labels ``idx1``
(``N`` uint8). Gzip is recognised from the file's first two bytes, not its name.

Example:

>>> import gzip, struct, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "labels-idx1-ubyte.gz"
>>> _ = path.write_bytes(gzip.compress(struct.pack(">BBBBI", 0, 0, 8, 1, 3) + bytes([7, 2, 1])))
>>> read_idx(path).tolist()
[7, 2, 1]
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from graphcurv.errors import GraphcurvError

__all__ = ["read_idx"]

_ELEMENT_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a NumPy array of its shape.

    Raises :class:`GraphcurvError` naming the file for a missing file, a bad magic
    number, an unknown element type or a size that does not match the header.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise GraphcurvError(f"{path}: not an IDX file (expected the magic number 00 00 TT D at the start)")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _ELEMENT_TYPES:
        raise GraphcurvError(f"{path}: unknown IDX element type 0x{type_code:02x}")
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise GraphcurvError(f"{path}: truncated IDX header ({ndim} dimensions)")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _ELEMENT_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise GraphcurvError(
            f"{path}: IDX header says shape {shape} ({expected:,} bytes of data) but the file has "
            f"{len(raw) - header:,}: the file is truncated or corrupt"
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise GraphcurvError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise GraphcurvError(f"{path}: is a directory, expected an IDX file") from exc
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise GraphcurvError(f"{path}: corrupt gzip data ({exc})") from exc
