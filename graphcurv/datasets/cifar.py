"""CIFAR-10 and CIFAR-100 from their "python version" pickle batches, read safely.

Layouts (the extracted ``cifar-10-python.tar.gz`` / ``cifar-100-python.tar.gz``):

* CIFAR-10: ``data_batch_1`` .. ``data_batch_5`` (training, in that order),
  ``test_batch``, optional ``batches.meta`` (``label_names``);
* CIFAR-100: ``train``, ``test``, optional ``meta`` (``fine_label_names``); the
  100 *fine* labels are used.

Each batch is a pickled dict with ``data``, a uint8 array ``(N, 3072)`` whose rows
are the 1024 red, then green, then blue values of a 32 x 32 image in row-major
order, and ``labels`` (``fine_labels``), a list of ints. Keys may be ``str`` or
``bytes`` (the original files were written by Python 2). The files may sit in the
data root itself or in ``ROOT/cifar-10-batches-py`` / ``ROOT/cifar-100-python``.

Pickle files can run code when loaded, so batches are read with an unpickler that
only rebuilds NumPy arrays, lists, dicts and strings; anything else is refused.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graphcurv.datasets.image_dataset import ImageDataset, split_official_train, uint8_images
from graphcurv.errors import GraphcurvError

__all__ = ["CIFAR10_CLASSES", "load_cifar", "read_cifar_batch"]

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
_LAYOUT = {
    "cifar10": {
        "folder": "cifar-10-batches-py",
        "train": [f"data_batch_{i}" for i in range(1, 6)],
        "test": ["test_batch"],
        "meta": ("batches.meta", "label_names"),
        "labels": "labels",
        "classes": 10,
    },
    "cifar100": {
        "folder": "cifar-100-python",
        "train": ["train"],
        "test": ["test"],
        "meta": ("meta", "fine_label_names"),
        "labels": "fine_labels",
        "classes": 100,
    },
}
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds NumPy arrays and builtin containers, and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} (a CIFAR batch holds only arrays and lists)")


def read_cifar_batch(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Unpickle one CIFAR batch safely; keys are returned as ``str``."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            content = _ArrayUnpickler(handle, encoding="bytes").load()
    except FileNotFoundError as exc:
        raise GraphcurvError(f"{path}: no such file") from exc
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise GraphcurvError(f"{path}: not a CIFAR python batch (a pickled dict with data and labels): {exc}") from exc
    if not isinstance(content, dict):
        raise GraphcurvError(f"{path}: expected a pickled dict, got {type(content).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in content.items()}


def _batch_arrays(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    batch = read_cifar_batch(path)
    if "data" not in batch or label_key not in batch:
        raise GraphcurvError(f"{path}: a CIFAR batch needs the keys 'data' and {label_key!r}, found {sorted(batch)}")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch[label_key], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise GraphcurvError(f"{path}: 'data' must be uint8 of shape (N, 3072), got {data.dtype} {data.shape}")
    if labels.shape != (len(data),):
        raise GraphcurvError(f"{path}: expected {len(data)} labels, got shape {labels.shape}")
    return data.reshape(-1, 3, 32, 32), labels


def _find_root(root: Path, name: str, first_file: str) -> Path:
    for candidate in (root, root / _LAYOUT[name]["folder"]):
        if (candidate / first_file).is_file():
            return candidate
    expected = ", ".join(_LAYOUT[name]["train"] + _LAYOUT[name]["test"])
    raise GraphcurvError(
        f"{name}: no {first_file} in {root} or {root / _LAYOUT[name]['folder']} (expected the python "
        f"batches {expected}); pass their directory with --data-root"
    )


def _class_names(directory: Path, name: str) -> tuple[str, ...] | None:
    meta_file, key = _LAYOUT[name]["meta"]
    if (directory / meta_file).is_file():
        names = read_cifar_batch(directory / meta_file).get(key)
        if names is not None and len(names) == _LAYOUT[name]["classes"]:
            return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    return CIFAR10_CLASSES if name == "cifar10" else None


def load_cifar(name: str, split: str, root: str | os.PathLike[str] | None) -> ImageDataset:
    """Load split ``"train"``, ``"val"`` or ``"test"`` of ``"cifar10"`` or ``"cifar100"``."""
    if root is None:
        raise GraphcurvError(
            f"{name} cannot be downloaded here: pass the directory of its python batches with --data-root "
            "(root=... in Python)"
        )
    layout = _LAYOUT[name]
    files = layout["test"] if split == "test" else layout["train"]
    directory = _find_root(Path(root).expanduser(), name, files[0])
    parts = [_batch_arrays(directory / f, layout["labels"]) for f in files]
    pixels = np.concatenate([p for p, _ in parts])
    labels = np.concatenate([y for _, y in parts])
    if labels.size and (labels.min() < 0 or labels.max() >= layout["classes"]):
        raise GraphcurvError(f"{name}: labels must be 0..{layout['classes'] - 1}, found {labels.min()}..{labels.max()}")
    images, targets = uint8_images(pixels), torch.from_numpy(labels)
    if split != "test":
        images, targets = split_official_train(images, targets, split)
    return ImageDataset(images, targets, layout["classes"], name, _class_names(directory, name), split)
