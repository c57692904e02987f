"""``load_dataset(name, split=..., root=...)``: every image dataset graphcurv reads, by name.

* ``"fashion-mnist"``: 1 x 28 x 28, 60,000 + 10,000 images, 10 classes; IDX files,
  by default from Debian's ``/usr/share/datasets/fashion-mnist``;
* ``"mnist"``: the same format, at ``root``;
* ``"cifar10"`` / ``"cifar100"``: 3 x 32 x 32, 50,000 + 10,000 images, 10 / 100 (fine)
  classes; the python pickle batches at ``root``;
* ``"digits"``: scikit-learn's 1 x 8 x 8 digits, 1,437 + 360 images, 10 classes.

Splits: ``"test"`` is the official test split; ``"val"`` is the last 10 % of the
official training split and ``"train"`` the first 90 % (see
:mod:`graphcurv.datasets.image_dataset`). graphcurv reads the files itself, so
torchvision is not needed (a torchvision download folder is recognised too).
"""

from __future__ import annotations

import os

from graphcurv.datasets.cifar import load_cifar
from graphcurv.datasets.digits import load_digits
from graphcurv.datasets.image_dataset import ImageDataset, check_split
from graphcurv.datasets.mnist import load_idx_dataset
from graphcurv.errors import GraphcurvError

__all__ = ["DATASET_NAMES", "dataset_names", "load_dataset", "normalise_dataset_name"]

DATASET_NAMES = ("fashion-mnist", "mnist", "cifar10", "cifar100", "digits")
_ALIASES = {"fashionmnist": "fashion-mnist", "fmnist": "fashion-mnist", "cifar-10": "cifar10", "cifar-100": "cifar100"}


def dataset_names() -> list[str]:
    """The names :func:`load_dataset` accepts."""
    return list(DATASET_NAMES)


def normalise_dataset_name(name: str) -> str:
    """``"Fashion_MNIST"`` -> ``"fashion-mnist"``; unknown names raise :class:`GraphcurvError`."""
    key = str(name).strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in DATASET_NAMES:
        raise GraphcurvError(f"unknown dataset {name!r}: use one of {', '.join(DATASET_NAMES)}")
    return key


def load_dataset(name: str, *, split: str = "test", root: str | os.PathLike[str] | None = None) -> ImageDataset:
    """Load one split of a dataset as float32 images in ``[0, 1]`` and long labels.

    Args:
        name: ``"fashion-mnist"``, ``"mnist"``, ``"cifar10"``, ``"cifar100"`` or ``"digits"``.
        split: ``"train"`` (first 90 % of the official training split), ``"val"``
            (its last 10 %) or ``"test"`` (the official test split).
        root: directory of the dataset's files (needed for MNIST and CIFAR; Fashion-MNIST
            defaults to ``/usr/share/datasets/fashion-mnist``; ignored for digits).

    >>> data = load_dataset("digits", split="val")
    >>> tuple(data.images.shape), data.num_classes
    ((143, 1, 8, 8), 10)
    """
    key, split = normalise_dataset_name(name), check_split(split)
    if key in ("fashion-mnist", "mnist"):
        return load_idx_dataset(key, split, root)
    if key in ("cifar10", "cifar100"):
        return load_cifar(key, split, root)
    return load_digits(split)
