"""MNIST and Fashion-MNIST from their four IDX files.

A data root holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each optionally ``.gz``
(the dotted spelling ``train-images.idx3-ubyte`` is accepted too). The files may
also sit in ``ROOT/raw`` or ``ROOT/MNIST/raw`` / ``ROOT/FashionMNIST/raw``, the
layout torchvision downloads into, so an existing torchvision copy works as is.

Fashion-MNIST defaults to ``/usr/share/datasets/fashion-mnist`` (Debian's
``dataset-fashion-mnist`` package). MNIST has no default: pass its directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from graphcurv.datasets.idx import read_idx
from graphcurv.datasets.image_dataset import ImageDataset, split_official_train, uint8_images
from graphcurv.errors import GraphcurvError

__all__ = ["FASHION_MNIST_CLASSES", "FASHION_MNIST_ROOT", "find_idx_file", "load_idx_dataset"]

FASHION_MNIST_ROOT = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_SUBDIRS = {"fashion-mnist": ("", "raw", "FashionMNIST/raw"), "mnist": ("", "raw", "MNIST/raw")}


def find_idx_file(root: Path, prefix: str, kind: str, name: str) -> Path:
    """The IDX file ``{prefix}-{kind}-idx?-ubyte[.gz]`` under ``root`` (or its torchvision subfolders)."""
    rank = 3 if kind == "images" else 1
    stems = (f"{prefix}-{kind}-idx{rank}-ubyte", f"{prefix}-{kind}.idx{rank}-ubyte")
    for sub in _SUBDIRS[name]:
        for stem in stems:
            for suffix in (".gz", ""):
                candidate = root / sub / f"{stem}{suffix}"
                if candidate.is_file():
                    return candidate
    raise GraphcurvError(
        f"{name}: no {stems[0]}[.gz] in {root} (expected the four IDX files train-images-idx3-ubyte, "
        "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, optionally .gz; "
        "pass their directory with --data-root)"
    )


def load_idx_dataset(name: str, split: str, root: str | os.PathLike[str] | None) -> ImageDataset:
    """Load split ``"train"``, ``"val"`` or ``"test"`` of ``"mnist"`` or ``"fashion-mnist"``."""
    if root is None:
        if name != "fashion-mnist":
            raise GraphcurvError(
                f"{name} cannot be downloaded here: pass the directory of its IDX files with --data-root "
                "(root=... in Python)"
            )
        root = FASHION_MNIST_ROOT
    root = Path(root).expanduser()
    if not root.is_dir():
        hint = " (install Debian's dataset-fashion-mnist package)" if root == FASHION_MNIST_ROOT else ""
        raise GraphcurvError(f"{name}: data directory {root} does not exist{hint}; pass --data-root")
    prefix = "t10k" if split == "test" else "train"
    image_path = find_idx_file(root, prefix, "images", name)
    label_path = find_idx_file(root, prefix, "labels", name)
    pixels, labels = read_idx(image_path), read_idx(label_path)
    if pixels.ndim != 3 or pixels.dtype != "uint8":
        raise GraphcurvError(
            f"{image_path}: expected uint8 images of shape (N, H, W), got {pixels.dtype} {pixels.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(pixels):
        raise GraphcurvError(f"{label_path}: expected {len(pixels)} labels (one per image), got shape {labels.shape}")
    if labels.size and labels.max() > 9:
        raise GraphcurvError(f"{label_path}: labels must be 0..9, found {int(labels.max())}")
    images, targets = uint8_images(pixels), torch.from_numpy(labels.astype("int64"))
    if split != "test":
        images, targets = split_official_train(images, targets, split)
    classes = FASHION_MNIST_CLASSES if name == "fashion-mnist" else tuple(str(d) for d in range(10))
    return ImageDataset(images, targets, 10, name, classes, split)
