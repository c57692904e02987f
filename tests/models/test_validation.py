"""graphcurv.models.validation: broken models and mismatched data are named before any work."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from graphcurv.datasets import load_dataset
from graphcurv.errors import GraphcurvError
from graphcurv.models import build_model
from graphcurv.models.validation import (
    check_finite_activations,
    check_finite_model,
    check_input_fits,
    check_model_and_data,
)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", split="val")


def _mlp():
    torch.manual_seed(0)
    return build_model("mlp", in_channels=1, image_size=8, num_classes=10, hidden=[16]).eval()


def test_nan_and_inf_parameters_and_buffers_are_named():
    model = _mlp()
    check_finite_model(model)
    with torch.no_grad():
        model.classifier[2].weight[3, 1:4] = float("nan")
    with pytest.raises(
        GraphcurvError, match=r"parameter 'classifier.2.weight' has 3 NaN entries \(first at \[3, 1\]\)"
    ):
        check_finite_model(model)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)).eval()
    net[1].running_var[1] = float("inf")
    with pytest.raises(GraphcurvError, match=r"buffer '1.running_var' has 1 inf entry"):
        check_finite_model(net)


def test_a_dataset_of_another_shape_names_both_shapes(digits):
    lenet = build_model("lenet", in_channels=1, image_size=28, num_classes=10).eval()
    with pytest.raises(GraphcurvError) as caught:
        check_input_fits(lenet, digits)
    message = str(caught.value)
    assert "images have shape (1, 8, 8)" in message and "the model takes (1, 28, 28)" in message
    vgg = build_model("vgg9-lite", in_channels=3, image_size=32, num_classes=10).eval()
    with pytest.raises(GraphcurvError, match=r"shape \(1, 8, 8\) .* takes \(3, 32, 32\)"):
        check_input_fits(vgg, digits)
    few = build_model("mlp", in_channels=1, image_size=8, num_classes=5, hidden=[16]).eval()
    with pytest.raises(GraphcurvError, match="5 outputs but the digits dataset has 10 classes"):
        check_input_fits(few, digits)
    check_input_fits(_mlp(), digits)


def test_non_finite_activations_name_the_first_module(digits):
    model = _mlp()
    with torch.no_grad():
        model.classifier[0].weight.fill_(3e38)  # finite weights whose sums overflow
    check_finite_model(model)
    with pytest.raises(GraphcurvError, match=r"the output of 'classifier.0' \(Linear\) has .* inf entries"):
        check_finite_activations(model, digits.images[:20])
    images = digits.images[:4].clone()
    images[0, 0, 0, 0] = float("nan")
    with pytest.raises(GraphcurvError, match="the calibration inputs have 1 NaN entry"):
        check_finite_activations(_mlp(), images)


def test_check_model_and_data_runs_all_three(digits):
    model = _mlp()
    check_model_and_data(model, digits)
    check_model_and_data(model)  # weights only
    with torch.no_grad():
        model.classifier[0].bias[0] = float("nan")
    with pytest.raises(GraphcurvError, match="classifier.0.bias"):
        check_model_and_data(model)
