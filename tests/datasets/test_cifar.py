import pickle

import numpy as np
import pytest
import torch
from image_formats import cifar_rows, write_cifar_batch

from graphcurv.datasets import load_dataset, read_cifar_batch
from graphcurv.errors import GraphcurvError


def _cifar10(root, per_batch=4, seed=0, keys_as_bytes=True):
    """Five training batches and a test batch of random pixels; returns (train pixels, labels) in file order."""
    rng = np.random.default_rng(seed)
    pixels, labels = [], []
    for i in range(1, 6):
        images = rng.integers(0, 256, size=(per_batch, 32, 32, 3), dtype=np.uint8)
        y = [(i + k) % 10 for k in range(per_batch)]
        write_cifar_batch(root / f"data_batch_{i}", cifar_rows(images), y, keys_as_bytes=keys_as_bytes)
        pixels.append(images)
        labels += y
    test = rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    write_cifar_batch(root / "test_batch", cifar_rows(test), [7, 8, 9], keys_as_bytes=keys_as_bytes)
    return np.concatenate(pixels), labels, test


@pytest.mark.parametrize("keys_as_bytes", [True, False])
def test_cifar10_batches_in_order_with_channel_layout(tmp_path, keys_as_bytes):
    pixels, labels, test_pixels = _cifar10(tmp_path, keys_as_bytes=keys_as_bytes)
    train = load_dataset("cifar10", split="train", root=tmp_path)
    val = load_dataset("cifar-10", split="val", root=tmp_path)
    test = load_dataset("cifar10", split="test", root=tmp_path)
    assert (len(train), len(val), len(test)) == (18, 2, 3)
    assert train.labels.tolist() == labels[:18] and val.labels.tolist() == labels[18:]
    assert test.labels.tolist() == [7, 8, 9]
    # pixel (row 3, column 30) of channel green of image 5 (second image of batch 2)
    assert float(train.images[5, 1, 3, 30]) == pytest.approx(pixels[5, 3, 30, 1] / 255.0)
    assert float(test.images[2, 2, 31, 0]) == pytest.approx(test_pixels[2, 31, 0, 2] / 255.0)
    assert train.images.shape == (18, 3, 32, 32) and train.classes[0] == "airplane"


def test_cifar10_meta_names_and_subfolder(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    _cifar10(folder)
    names = [f"c{i}".encode() for i in range(10)]
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({b"label_names": names}, handle, protocol=2)
    assert load_dataset("cifar10", root=tmp_path).classes == tuple(f"c{i}" for i in range(10))


def test_cifar100_fine_labels(tmp_path):
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, size=(10, 32, 32, 3), dtype=np.uint8)
    write_cifar_batch(tmp_path / "train", cifar_rows(train), list(range(90, 100)), label_key="fine_labels")
    write_cifar_batch(tmp_path / "test", cifar_rows(train[:2]), [99, 0], label_key="fine_labels")
    data = load_dataset("cifar100", split="val", root=tmp_path)
    assert data.num_classes == 100 and data.labels.tolist() == [99]
    assert torch.equal(data.images[0], torch.from_numpy(train[9]).permute(2, 0, 1).float() / 255)
    assert load_dataset("cifar100", root=tmp_path).labels.tolist() == [99, 0]


class _Sneaky:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickles_with_code_are_refused(tmp_path, capsys):
    with open(tmp_path / "test_batch", "wb") as handle:
        pickle.dump({"data": _Sneaky(), "labels": [0]}, handle, protocol=2)
    with pytest.raises(GraphcurvError, match=r"refusing to load (__builtin__|builtins)\.print"):
        read_cifar_batch(tmp_path / "test_batch")
    assert "must never run" not in capsys.readouterr().out


def test_missing_and_malformed_batches(tmp_path):
    with pytest.raises(GraphcurvError, match="--data-root"):
        load_dataset("cifar10")
    with pytest.raises(GraphcurvError, match="no data_batch_1"):
        load_dataset("cifar10", split="train", root=tmp_path)
    write_cifar_batch(tmp_path / "test_batch", np.zeros((2, 100), dtype=np.uint8), [0, 1])
    with pytest.raises(GraphcurvError, match=r"test_batch: 'data' must be uint8 of shape \(N, 3072\)"):
        load_dataset("cifar10", root=tmp_path)
    (tmp_path / "test_batch").write_bytes(b"not a pickle at all")
    with pytest.raises(GraphcurvError, match="not a CIFAR python batch"):
        load_dataset("cifar10", root=tmp_path)
    write_cifar_batch(tmp_path / "test_batch", np.zeros((1, 3072), dtype=np.uint8), [10])
    with pytest.raises(GraphcurvError, match=r"labels must be 0..9"):
        load_dataset("cifar10", root=tmp_path)
