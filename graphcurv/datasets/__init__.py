"""Image datasets (Fashion-MNIST, MNIST, CIFAR-10/100, scikit-learn digits) and calibration sets.

>>> from graphcurv.datasets import load_dataset
>>> test = load_dataset("digits", split="test")
>>> len(test), test.images.dtype, float(test.images.max()) <= 1.0
(360, torch.float32, True)
"""

from graphcurv.datasets.calibration import calibration_set, predict_labels
from graphcurv.datasets.cifar import read_cifar_batch
from graphcurv.datasets.idx import read_idx
from graphcurv.datasets.image_dataset import SPLITS, ImageDataset
from graphcurv.datasets.mnist import FASHION_MNIST_ROOT
from graphcurv.datasets.registry import DATASET_NAMES, dataset_names, load_dataset, normalise_dataset_name

__all__ = [
    "DATASET_NAMES",
    "FASHION_MNIST_ROOT",
    "SPLITS",
    "ImageDataset",
    "calibration_set",
    "dataset_names",
    "load_dataset",
    "normalise_dataset_name",
    "predict_labels",
    "read_cifar_batch",
    "read_idx",
]
