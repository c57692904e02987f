import pytest
import torch
import torch.nn.functional as F
from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.models import MLP, LeNet, VGG9Lite, build_model, count_weights, model_names


def test_lenet_has_the_papers_45312_weights_and_shapes():
    model = LeNet()
    # conv 1->6 k6: 216, conv 6->16 k6: 3456, linear 256*120 + 120*84 + 84*10
    assert count_weights(model) == 6 * 36 + 16 * 6 * 36 + 256 * 120 + 120 * 84 + 84 * 10 == 45312
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    x = torch.rand(2, 1, 28, 28)
    first = model.features[:2](x)
    assert first.shape == (2, 6, 12, 12) and model.features(x).shape == (2, 16, 4, 4)
    assert model(x).shape == (2, 10)


def test_vgg9_lite_has_the_papers_1452032_weights():
    model = build_model("vgg9-lite", in_channels=3, image_size=32, num_classes=10)
    assert count_weights(model) == 1452032
    sides, x = [], torch.rand(2, 3, 32, 32)
    for layer in model.features:
        x = layer(x)
        if isinstance(layer, nn.Conv2d):
            sides.append(x.shape[-1])
    assert sides == [16, 14, 12, 5, 3, 1]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 6
    assert count_weights(build_model("vgg9-lite", in_channels=3, image_size=32, num_classes=100)) == 1452032 + 128 * 90


def test_vgg9_lite_on_28x28_is_zero_padding_to_32():
    torch.manual_seed(0)
    small = VGG9Lite(in_channels=1, image_size=28).eval()
    full = VGG9Lite(in_channels=1, image_size=32).eval()
    full.load_state_dict(small.state_dict())  # same parameters: the padding has none
    x = torch.rand(3, 1, 28, 28)
    assert torch.allclose(small(x), full(F.pad(x, (2, 2, 2, 2))), atol=1e-6)
    assert count_weights(small) == 1452032 - 2 * 64 * 4  # first conv 1->64 instead of 3->64
    with pytest.raises(GraphcurvError, match="28 x 28"):
        VGG9Lite(in_channels=1, image_size=27)


def test_mlp_sizes_and_activation():
    model = build_model("mlp", in_channels=1, image_size=28, activation="tanh")
    assert count_weights(model) == 784 * 300 + 300 * 100 + 100 * 10
    assert [type(m) for m in model.classifier] == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert MLP(12, hidden=(), num_classes=3)(torch.rand(4, 12)).shape == (4, 3)  # a linear classifier


@pytest.mark.parametrize("arch", ["mlp", "lenet", "vgg9-lite", "resnet20"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_models_trace_with_fx_and_export(arch, activation):
    model = build_model(arch, in_channels=1, image_size=28, activation=activation).eval()
    x = torch.rand(2, 1, 28, 28)
    expected = model(x)
    kinds = {nn.ReLU: "relu", nn.Tanh: "tanh"}
    assert {kinds[type(m)] for m in model.modules() if type(m) in kinds} == {activation}
    assert torch.allclose(torch.fx.symbolic_trace(model)(x), expected)
    exported = torch.export.export(model, (x,)).module()
    assert torch.allclose(exported(x), expected, atol=1e-6)


def test_registry_names_and_errors():
    assert model_names() == ["mlp", "lenet", "vgg9-lite", "resnet20"]
    assert isinstance(build_model("VGG9_lite", in_channels=3, image_size=32), VGG9Lite)
    with pytest.raises(GraphcurvError, match="unknown architecture 'resnet'.*mlp, lenet, vgg9-lite, resnet20"):
        build_model("resnet")
    with pytest.raises(GraphcurvError, match="unknown activation 'gelu'"):
        build_model("lenet", activation="gelu")
    with pytest.raises(GraphcurvError, match="in_channels must be a positive integer"):
        build_model("lenet", in_channels=0)
    with pytest.raises(GraphcurvError, match="bad options for lenet"):
        build_model("lenet", hidden=(10,))
    with pytest.raises(GraphcurvError, match="at least 16 x 16"):
        build_model("lenet", image_size=8)


def test_resnet20_has_20_weighted_layers_and_projection_shortcuts_where_the_shape_changes():
    model = build_model("resnet-20", in_channels=1, image_size=28)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    projections = [c for c in convs if c.kernel_size == (1, 1)]
    # 1 stem + 9 blocks x 2 convs + the linear layer = 20; two 1x1 projections (into stages 2, 3)
    assert len(convs) - len(projections) + 1 == 20 and len(projections) == 2
    assert [p.stride for p in projections] == [(2, 2), (2, 2)]
    assert count_weights(model) == 144 + 6 * 2304 + 4608 + 5 * 9216 + 18432 + 5 * 36864 + 512 + 2048 + 640
    assert tuple(model(torch.rand(3, 1, 28, 28)).shape) == (3, 10)
    with pytest.raises(GraphcurvError, match="width and blocks"):
        build_model("resnet20", width=0)
