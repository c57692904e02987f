"""The generic tracer: archives, decomposed programs, and the shapes of models it refuses."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.neural import export

torch.manual_seed(1)


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(2 * 2 * 2, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.bn(self.conv(x)))), 1))


def same_graph(a, b):
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.weight, b.weight)
    assert torch.equal(a.param_index, b.param_index) and a.param_names == b.param_names
    assert a.layer_ptr == b.layer_ptr and a.connection_kinds == b.connection_kinds
    assert torch.allclose(a.activation, b.activation, atol=1e-6)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch's own pytree deprecation inside run_decompositions
def test_pt2_archive_and_decomposed_program_give_the_same_graph(tmp_path):
    model = SmallNet().eval()
    x = torch.randn(4, 1, 6, 6)
    reference = export(model, x)
    program = torch.export.export(model, (x[:1],))
    torch.export.save(program, tmp_path / "model.pt2")
    same_graph(export(torch.export.load(tmp_path / "model.pt2"), x), reference)
    same_graph(export(program.run_decompositions(), x), reference)  # addmm, convolution, *_with_indices


def test_softmax_at_the_end_leaves_the_logits_as_output_layer():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.LogSoftmax(dim=1))
    x = torch.randn(5, 3)
    graph = export(model, x, raw_activation=True)
    assert graph.layer_names == ["input", "0", "2"]
    assert torch.allclose(graph.raw_activation[-2:], model[:3](x).T)


def test_global_average_pooling_by_mean():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(1, 3, 2), nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))

    graph = export(Net(), torch.randn(2, 1, 4, 5))
    pool = graph.edge_connection == 1
    assert graph.connection_kinds[1] == "adaptive_avg_pool" and graph.layer_shapes[2] == [3, 1, 1]
    assert torch.allclose(graph.weight[pool], torch.full((36,), 1 / 12))


class PreActivationReuse(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(3, 3), nn.Linear(3, 3), nn.Linear(3, 2)

    def forward(self, x):
        h = self.a(x)
        return self.c(torch.relu(self.b(torch.relu(h))) + h)


class SharedInputBranches(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 2), nn.Linear(3, 2)

    def forward(self, x):
        return self.a(x) + self.b(x)


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 2)

    def forward(self, x):
        return self.a(x), self.a(x) * 0


@pytest.mark.parametrize(
    ("model", "kwargs", "words"),
    [
        (PreActivationReuse(), {}, "before its activation"),
        (SharedInputBranches(), {}, "both read layer 'input'"),
        (TwoOutputs(), {}, "mul"),
        (nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.Linear(3, 2)), {"batchnorm": "fold"},
         "cannot be folded"),
    ],
)  # fmt: skip
def test_unsupported_structures_are_refused_clearly(model, kwargs, words):
    with pytest.raises(GraphcurvError, match=words):
        export(model, torch.randn(2, 3), **kwargs)


def test_batchnorm_after_activation_is_ignored_by_default():
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.Linear(3, 2)).eval()
    x = torch.randn(4, 3)
    graph = export(model, x, raw_activation=True)
    assert graph.layer_activations == ["identity", "relu", "identity"]
    assert torch.allclose(graph.raw_activation[3:6], model[:2](x).T)  # the BatchNorm is not a layer


def test_training_mode_is_restored_and_padding_before_a_linear_layer_is_an_index_map():
    model = nn.Sequential(nn.Linear(3, 2))
    model.train()
    export(model, torch.randn(2, 3))
    assert model.training

    class PadThenLinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 2)

        def forward(self, x):
            return self.fc(F.pad(x, (1, 1)).flatten(1))

    model, x = PadThenLinear(), torch.randn(2, 1, 3)
    graph = export(model, x, raw_activation=True)  # no convolution absorbs it: a layer of its own
    assert graph.connection_kinds == ["skip", "linear"] and graph.layer_shapes[1] == [1, 5]
    assert torch.allclose(graph.raw_activation[3:8], F.pad(x, (1, 1)).flatten(1).T)
    assert int(graph.connection_num_edges[0]) == 3  # the padding cells read nothing
