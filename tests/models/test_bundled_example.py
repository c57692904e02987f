from pathlib import Path

import pytest
import torch
from support import missing_optional

from graphcurv.datasets import FASHION_MNIST_ROOT, calibration_set, load_dataset
from graphcurv.models import LeNet, count_weights, evaluate, load_model

EXAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "models" / "lenet-relu-fashion-mnist.pt"


def test_bundled_lenet_is_a_safe_checkpoint_of_the_papers_lenet():
    raw = torch.load(EXAMPLE, weights_only=True)
    assert raw["arch"] == "lenet" and raw["config"]["activation"] == "relu"
    assert raw["metrics"]["dataset"] == "fashion-mnist" and raw["metrics"]["test_accuracy"] >= 0.88
    model = load_model(EXAMPLE)
    assert isinstance(model, LeNet) and count_weights(model) == 45312
    assert EXAMPLE.stat().st_size < 300 * 1024


def test_bundled_lenet_accuracy_and_calibration_set():
    if not (FASHION_MNIST_ROOT / "t10k-images-idx3-ubyte.gz").exists():
        missing_optional("Debian's dataset-fashion-mnist files are not installed")
    model = load_model(EXAMPLE)
    stored = torch.load(EXAMPLE, weights_only=True)["metrics"]
    assert evaluate(model, load_dataset("fashion-mnist", split="test")) == pytest.approx(
        stored["test_accuracy"], abs=1e-3
    )
    inputs, labels = calibration_set(model, load_dataset("fashion-mnist", split="val"), 10, seed=0)
    assert inputs.shape == (100, 1, 28, 28) and torch.bincount(labels).tolist() == [10] * 10
    with torch.no_grad():
        assert torch.equal(model(inputs).argmax(1), labels)


RESNET = EXAMPLE.parent / "resnet20-relu-fashion-mnist.pt"


def test_bundled_resnet20_is_a_safe_checkpoint_whose_neural_graph_is_a_dag():
    from graphcurv.models.resnet import ResNet20
    from graphcurv.neural import export
    from graphcurv.neural.layout import connections

    raw = torch.load(RESNET, weights_only=True)
    assert raw["arch"] == "resnet20" and raw["metrics"]["test_accuracy"] >= 0.9
    model = load_model(RESNET)
    assert isinstance(model, ResNet20) and count_weights(model) == 270608
    assert RESNET.stat().st_size < 2 * 1024 * 1024
    links = connections(export(model, torch.rand(1, 1, 28, 28), max_edges=0))  # edges stay implicit
    assert sum(c.num_edges for c in links) == 27961728
    skips = [c for c in links if c.kind == "skip"]
    assert len(skips) == 7 and all(c.target > c.source + 1 for c in skips)  # 7 identity shortcuts: a DAG
