import csv

import numpy as np
import pytest
import torch

from graphcurv.datasets import load_dataset
from graphcurv.errors import GraphcurvError
from graphcurv.models import evaluate
from graphcurv.pruning import finetune_pruned, headline_ratio, prune_masks, pruning_sweep, score, write_sweep_csv
from graphcurv.pruning.per_layer import per_layer_sweep, write_per_layer_csv
from graphcurv.pruning.plots import plot_per_layer, plot_sweep


def test_headline_is_the_largest_ratio_within_one_point():
    assert headline_ratio([0.0, 0.5, 0.8, 0.9], [0.90, 0.895, 0.891, 0.70], 0.90) == 0.8
    assert headline_ratio([0.0, 0.5, 0.9], [0.90, 0.80, 0.895], 0.90) == 0.9  # not required to be monotone
    assert headline_ratio([0.5, 0.9], [0.5, 0.4], 0.9) is None
    with pytest.raises(GraphcurvError):
        headline_ratio([0.5], [0.5, 0.4], 0.9)


def _zeroed_smallest(model, ratio, layer=None):
    """The model with the smallest |w| zeroed by hand: of all weights, or of ``layer`` only."""
    state = {k: v.clone() for k, v in model.state_dict().items()}
    names = [layer] if layer else ["classifier.0.weight", "classifier.2.weight"]
    flat = np.concatenate([state[n].abs().numpy().ravel() for n in names])
    count = int(np.floor(ratio * flat.size + 0.5))
    threshold = np.sort(flat)[count - 1] if count else -1.0
    copy = type(model)(in_features=64, hidden=[16], num_classes=10)
    for n in names:
        state[n][state[n].abs() <= threshold] = 0.0  # |w| ties are (almost surely) absent
    copy.load_state_dict(state)
    return copy.eval()


def test_sweep_prunes_once_per_method_and_ratio(digits_mlp, tmp_path):
    test = load_dataset("digits", split="test")
    result = pruning_sweep(digits_mlp, test, methods=["magnitude", "random"], ratios=[0.9, 0.0, 0.5], seed=3)
    assert result.dense_accuracy == evaluate(digits_mlp, test)
    assert [(p.method, p.ratio) for p in result.points] == [
        ("magnitude", 0.0), ("magnitude", 0.5), ("magnitude", 0.9), ("random", 0.0), ("random", 0.5), ("random", 0.9)
    ]  # fmt: skip
    total = 64 * 16 + 16 * 10
    for point in result.points:
        assert point.removed == int(np.floor(point.ratio * total + 0.5)) / total
        if point.method == "magnitude":
            assert point.accuracy == evaluate(_zeroed_smallest(digits_mlp, point.ratio), test)
    assert result.curve("random")[0].accuracy == result.dense_accuracy
    assert result.headline("magnitude") == max(
        p.ratio for p in result.curve("magnitude") if p.accuracy >= result.dense_accuracy - 0.01
    )
    path = write_sweep_csv(tmp_path / "sweep.csv", result)
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 6 and float(rows[2]["accuracy"]) == result.points[2].accuracy
    assert plot_sweep(tmp_path / "sweep.png", result).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_with_finetuning_keeps_the_masks(digits_mlp):
    train, test = load_dataset("digits", split="train"), load_dataset("digits", split="test")
    masks = prune_masks(score(digits_mlp, method="magnitude"), 0.9)
    tuned = finetune_pruned(digits_mlp, masks, train, epochs=1, lr=1e-2)
    weight = tuned.classifier[0].weight
    assert torch.equal(weight == 0, ~masks["classifier.0.weight"])  # removed stay zero, the rest moved off zero
    assert not torch.equal(weight, digits_mlp.classifier[0].weight * masks["classifier.0.weight"])
    assert not any(m._forward_pre_hooks for m in tuned.modules())
    result = pruning_sweep(digits_mlp, test, methods=["magnitude"], ratios=[0.9], finetune_epochs=1, train_set=train,
                           finetune_lr=1e-2)  # fmt: skip
    assert result.points[0].finetuned_accuracy == evaluate(tuned, test)
    with pytest.raises(GraphcurvError, match="training split"):
        pruning_sweep(digits_mlp, test, methods=["magnitude"], ratios=[0.5], finetune_epochs=1)


def test_per_layer_prunes_one_layer_at_a_time(digits_mlp, tmp_path):
    test = load_dataset("digits", split="test")
    result = per_layer_sweep(digits_mlp, test, ratios=[0.0, 0.7], methods=["magnitude", "random"])
    assert result.layers == ["classifier.0.weight", "classifier.2.weight"]
    for layer in result.layers:
        curve = result.curve(layer, "magnitude")
        assert curve[0].accuracy == result.dense_accuracy
        assert curve[1].accuracy == evaluate(_zeroed_smallest(digits_mlp, 0.7, layer), test)
    rows = list(csv.DictReader(write_per_layer_csv(tmp_path / "layers.csv", result).open()))
    assert len(rows) == 2 * 2 * 2
    assert plot_per_layer(tmp_path / "layers.png", result).read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(GraphcurvError, match="synflow"):
        per_layer_sweep(digits_mlp, test, ratios=[0.5], methods=["synflow"])
