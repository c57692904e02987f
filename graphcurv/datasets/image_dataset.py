"""The one in-memory image dataset type, and the train / val / test split rule.

Every reader returns an :class:`ImageDataset`: ``images`` float32 ``(N, C, H, W)``
scaled to ``[0, 1]`` and ``labels`` long ``(N,)``. The held-out ``"val"`` split is
the *last 10 %* (``N // 10`` images, in file order) of a dataset's official training
split and ``"train"`` is the rest, so a calibration set drawn from ``"val"`` never
contains an image the model was trained on, and the official ``"test"`` split stays
untouched for the final accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from graphcurv.errors import GraphcurvError

__all__ = ["SPLITS", "VAL_FRACTION", "ImageDataset", "check_split", "split_official_train", "uint8_images"]

SPLITS = ("train", "val", "test")
VAL_FRACTION = 0.1


@dataclass(frozen=True)
class ImageDataset:
    """Images and labels of one split of a dataset, ready for a model.

    Attributes:
        images: float32 ``(N, C, H, W)`` in ``[0, 1]``.
        labels: long ``(N,)`` in ``0 .. num_classes - 1``.
        num_classes: how many classes the dataset has (not only those present).
        name: the dataset's name (``"fashion-mnist"``, ...).
        classes: class names in label order, when known.
        split: ``"train"``, ``"val"`` or ``"test"``.
    """

    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int
    name: str
    classes: tuple[str, ...] | None = None
    split: str = "test"

    def __len__(self) -> int:
        return int(self.labels.numel())

    @property
    def in_channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def image_size(self) -> int:
        """Side length of the (square) images."""
        return int(self.images.shape[-1])

    def subset(self, indices: torch.Tensor | np.ndarray | slice) -> ImageDataset:
        """The same dataset restricted to ``indices`` (a slice, index tensor or boolean mask)."""
        return ImageDataset(
            self.images[indices], self.labels[indices], self.num_classes, self.name, self.classes, self.split
        )


def uint8_images(pixels: np.ndarray) -> torch.Tensor:
    """``(N, H, W)`` or ``(N, C, H, W)`` uint8 pixels -> float32 ``(N, C, H, W)`` in ``[0, 1]``."""
    array = np.asarray(pixels)
    if array.ndim == 3:
        array = array[:, None]
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32) / np.float32(255.0))


def split_official_train(images: torch.Tensor, labels: torch.Tensor, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut an official training split into ``"train"`` (first 90 %) or ``"val"`` (last ``N // 10``).

    >>> x, y = torch.zeros(20, 1, 2, 2), torch.arange(20)
    >>> split_official_train(x, y, "val")[1].tolist()
    [18, 19]
    """
    n_val = len(labels) // 10
    if split == "val":
        if n_val == 0:
            raise GraphcurvError(f"a training split of {len(labels)} images is too small for a val split (10 %)")
        return images[-n_val:], labels[-n_val:]
    if split == "train":
        return images[: len(labels) - n_val], labels[: len(labels) - n_val]
    raise GraphcurvError(f"split {split!r} is not a part of the official training split")


def check_split(split: str) -> str:
    """Normalise and check a split name."""
    name = str(split).strip().lower()
    if name not in SPLITS:
        raise GraphcurvError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    return name
