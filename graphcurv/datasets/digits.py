"""scikit-learn's 8 x 8 handwritten digits (1,797 images, 10 classes), with a fixed split.

scikit-learn ships the data, so it always works offline. It has no official
test split: a stratified 80 / 20 split with ``random_state=0`` (1,437 / 360
images) plays that role, and ``"val"`` is the last 10 % of the 1,437 as for every
dataset. Pixel values 0..16 are scaled to ``[0, 1]``.
"""

from __future__ import annotations

import numpy as np
import torch

from graphcurv.datasets.image_dataset import ImageDataset, split_official_train

__all__ = ["load_digits"]

TEST_FRACTION = 0.2


def load_digits(split: str) -> ImageDataset:
    """Split ``"train"``, ``"val"`` or ``"test"`` of the digits as ``(N, 1, 8, 8)`` images."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    indices = np.arange(len(bunch.target))
    train_idx, test_idx = train_test_split(indices, test_size=TEST_FRACTION, random_state=0, stratify=bunch.target)
    chosen = test_idx if split == "test" else train_idx
    images = torch.from_numpy((bunch.images[chosen] / 16.0).astype(np.float32)).unsqueeze(1)
    labels = torch.from_numpy(bunch.target[chosen].astype(np.int64))
    if split != "test":
        images, labels = split_official_train(images, labels, split)
    return ImageDataset(images, labels, 10, "digits", tuple(str(d) for d in range(10)), split)
