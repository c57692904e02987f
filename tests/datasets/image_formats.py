"""Writers of the raw dataset formats, for tests: IDX (gz or raw) and CIFAR python batches.

They follow the format specifications directly (struct / pickle), independently of
graphcurv's readers, so reading them back checks the readers.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

IDX_NAMES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """The IDX encoding of ``array``: magic 00 00 TT D, big-endian uint32 sizes, big-endian data."""
    big_endian = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[type_code]
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=big_endian).tobytes()


def write_idx(path: Path, array: np.ndarray, *, compress: bool, type_code: int = 0x08) -> Path:
    payload = idx_bytes(array, type_code)
    path = path.with_name(path.name + ".gz") if compress else path
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def write_mnist_root(root: Path, n_train: int = 20, n_test: int = 10, *, compress: bool = True, seed: int = 0):
    """Four IDX files of random 28 x 28 images with labels ``i % 10``; returns the arrays written."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(root / IDX_NAMES[split, "images"], images, compress=compress)
        write_idx(root / IDX_NAMES[split, "labels"], labels, compress=compress)
        arrays[split] = (images, labels)
    return arrays


def write_cifar_batch(
    path: Path, data: np.ndarray, labels: list[int], *, label_key: str = "labels", keys_as_bytes=True
):
    """A CIFAR python batch: a pickled dict with ``data`` (N, 3072) uint8 and a label list."""
    content = {"data": data, label_key: list(labels), "batch_label": "test batch"}
    if keys_as_bytes:  # as the original (Python 2) files, read with encoding="bytes"
        content = {k.encode(): v for k, v in content.items()}
    with open(path, "wb") as handle:
        pickle.dump(content, handle, protocol=2)


def cifar_rows(images: np.ndarray) -> np.ndarray:
    """(N, 32, 32, 3) RGB pixels -> CIFAR rows: 1024 red, 1024 green, 1024 blue values, row-major."""
    return np.concatenate([images[..., c].reshape(len(images), -1) for c in range(3)], axis=1)
