"""Pruning models that are not Python code: a ``torch.export`` archive (fixed batch of one) and TorchScript.

Their prunable weights are the model's own, every score method gives the scores of the Python model
it was made from, and a pruned copy is the Python model with the same entries zeroed."""

import warnings

import pytest
import torch
from torch import nn

from graphcurv.datasets import load_dataset
from graphcurv.errors import GraphcurvError
from graphcurv.models import FixedBatch, frozen_kind, load_model
from graphcurv.pruning import finetune_pruned, prunable_weights, prune_masks, pruned_copy, score

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
X = torch.zeros(1, 1, 8, 8)
OPTIONS = {"ratio": 0.5, "iterations": 4, "per_class": 2, "input_shape": (1, 8, 8)}


def _model() -> nn.Module:
    torch.manual_seed(4)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(72, 10)).eval()


@pytest.fixture(scope="module", params=["export", "torchscript"])
def frozen(request, tmp_path_factory):
    model, path = _model(), tmp_path_factory.mktemp("frozen") / "model"
    if request.param == "export":
        torch.export.save(torch.export.export(model, (X,)), path.with_suffix(".pt2"))
        return model, load_model(path.with_suffix(".pt2"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.trace(model, X).save(str(path.with_suffix(".pt")))
    return model, load_model(path.with_suffix(".pt"))


def test_frozen_programs_are_recognised():
    model = _model()
    assert frozen_kind(model) is None and frozen_kind(torch.fx.symbolic_trace(model)) is None
    program = FixedBatch(torch.export.export(model, (X,)).module(), 1)
    assert frozen_kind(program) == "torch.export"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert frozen_kind(torch.jit.trace(model, X)) == "TorchScript"


def test_the_prunable_weights_are_the_models_own(frozen):
    model, net = frozen
    layers = prunable_weights(net)
    assert list(layers) == ["0.weight", "3.weight"]
    assert all(torch.equal(layers[n].weight, model.get_parameter(n)) for n in layers)


@pytest.mark.parametrize("method", ["magnitude", "random", "snip", "synflow"])
def test_every_score_method_scores_the_program_like_the_model(frozen, method):
    model, net = frozen
    data = load_dataset("digits", split="val")
    expected = score(model, method=method, data=data, **OPTIONS)
    found = score(net, method=method, data=data, **OPTIONS)
    assert list(found) == list(expected)
    assert all(torch.allclose(found[n], expected[n], atol=1e-6) for n in expected)


def test_a_pruned_copy_zeroes_the_entries_and_leaves_the_original(frozen):
    model, net = frozen
    masks = prune_masks(score(net, method="magnitude"), 0.6)
    before = {n: t.clone() for n, t in net.state_dict().items()}
    pruned = pruned_copy(net, masks)
    assert all(torch.equal(before[n], t) for n, t in net.state_dict().items())
    state = pruned.state_dict()
    assert set(state) == set(before)  # no weight_orig / weight_mask
    for name, keep in masks.items():
        assert torch.equal(state[name] != 0, keep)
    assert all(p.is_leaf for p in pruned.parameters())
    twin = pruned_copy(model, masks)
    images = torch.randn(4, 1, 8, 8)
    assert torch.allclose(pruned(images), twin(images), atol=1e-6)


def test_frozen_programs_are_not_fine_tuned_and_not_linearised(frozen):
    _, net = frozen
    masks = prune_masks(score(net, method="magnitude"), 0.5)
    with pytest.raises(GraphcurvError, match="frozen inference program"):
        finetune_pruned(net, masks, load_dataset("digits", split="train"), epochs=1)
    with pytest.raises(GraphcurvError, match="synflow-linear"):
        score(net, method="synflow-linear", **OPTIONS)
