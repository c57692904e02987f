import numpy as np
import pytest
import torch
from image_formats import IDX_NAMES, write_mnist_root
from support import missing_optional

from graphcurv.datasets import FASHION_MNIST_ROOT, load_dataset
from graphcurv.errors import GraphcurvError


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_splits_from_idx_files(tmp_path, compress):
    arrays = write_mnist_root(tmp_path, n_train=20, n_test=10, compress=compress)
    train = load_dataset("mnist", split="train", root=tmp_path)
    val = load_dataset("mnist", split="val", root=tmp_path)
    test = load_dataset("mnist", split="test", root=tmp_path)
    assert (len(train), len(val), len(test)) == (18, 2, 10)  # val = last 10 % of the 20 training images
    images, labels = arrays["train"]
    assert val.labels.tolist() == labels[18:].tolist()
    assert val.images.shape == (2, 1, 28, 28) and val.images.dtype == torch.float32
    assert float(val.images[1, 0, 5, 7]) == pytest.approx(images[19, 5, 7] / 255.0)
    assert float(train.images[0, 0, 27, 0]) == pytest.approx(images[0, 27, 0] / 255.0)
    assert test.labels.tolist() == arrays["test"][1].tolist()
    assert test.classes == tuple("0123456789") and test.num_classes == 10 and test.name == "mnist"


def test_torchvision_layout_and_dotted_names(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist_root(raw, compress=False)
    for path in raw.iterdir():  # train-images-idx3-ubyte -> train-images.idx3-ubyte
        path.rename(path.with_name(path.name.replace("-idx", ".idx")))
    assert len(load_dataset("mnist", split="test", root=tmp_path)) == 10


def test_missing_files_and_missing_root_are_clear(tmp_path):
    with pytest.raises(GraphcurvError, match="--data-root"):
        load_dataset("mnist")
    with pytest.raises(GraphcurvError, match="does not exist"):
        load_dataset("mnist", root=tmp_path / "nowhere")
    write_mnist_root(tmp_path)
    (tmp_path / (IDX_NAMES["test", "labels"] + ".gz")).unlink()
    with pytest.raises(GraphcurvError, match=r"t10k-labels-idx1-ubyte\[.gz\].*--data-root"):
        load_dataset("mnist", root=tmp_path)


def test_label_count_must_match(tmp_path):
    write_mnist_root(tmp_path, n_test=10)
    from image_formats import write_idx

    (tmp_path / (IDX_NAMES["test", "labels"] + ".gz")).unlink()
    write_idx(tmp_path / IDX_NAMES["test", "labels"], np.zeros(7, dtype=np.uint8), compress=False)
    with pytest.raises(GraphcurvError, match="expected 10 labels"):
        load_dataset("mnist", root=tmp_path)


def test_fashion_mnist_from_debian_files():
    if not (FASHION_MNIST_ROOT / "t10k-images-idx3-ubyte.gz").exists():
        missing_optional("Debian's dataset-fashion-mnist files are not installed")
    test = load_dataset("Fashion_MNIST", split="test")
    assert test.images.shape == (10000, 1, 28, 28)
    assert torch.bincount(test.labels).tolist() == [1000] * 10  # the official test split is balanced
    assert test.classes[9] == "Ankle boot"
    assert 0.0 <= float(test.images.min()) and float(test.images.max()) == 1.0
