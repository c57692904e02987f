import torch
from torch import nn

from graphcurv.neural import export, normalised_activations


def test_min_max_normalisation_per_layer_and_sample_by_hand():
    raw = torch.tensor([[-2.0, 0.0], [1.0, 0.0], [4.0, 0.0], [3.0, 5.0], [3.0, -1.0]])
    # layer 0 = rows 0..2: |.| = (2, 1, 4) -> (1/3, 0, 1); sample 1 all zero -> all 0 ("dead")
    # layer 1 = rows 3..4: sample 0 constant 3 > 0 -> all 1; sample 1 |.| = (5, 1) -> (1, 0)
    expected = torch.tensor([[1 / 3, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    out = normalised_activations(raw, [0, 3, 5])
    assert out.dtype == torch.float32 and torch.allclose(out, expected)


def test_exported_activations_are_the_normalised_post_activation_values():
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = torch.randn(6, 3)
    graph = export(model, x, raw_activation=True)
    hidden = torch.relu(model[0](x)).detach().T  # post-activation values of layer 1
    assert torch.allclose(graph.raw_activation[:3], x.T) and torch.allclose(graph.raw_activation[3:7], hidden)
    assert torch.allclose(graph.raw_activation[7:], model(x).detach().T)
    low, high = hidden.amin(0), hidden.amax(0)
    assert torch.all(high > low)  # no constant sample here (that case is covered above)
    assert torch.allclose(graph.activation[3:7], (hidden - low) / (high - low))
    assert graph.activation.shape == (9, 6) and "raw_activation" not in export(model, x)
