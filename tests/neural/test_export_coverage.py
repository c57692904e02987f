"""Export coverage beyond Linear/Conv/BatchNorm: LayerNorm, instance and group norm, means,
the "option A" ResNet shortcut (strided slice + zero channel padding), TorchScript, and the
clear error every unsupported layer gets.

Every supported model is checked the way ``test_export.py`` checks layers: the stored edges
(weight x raw source value, summed, + bias) reproduce each layer's value computed directly.
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.neural import connection_edges, connections, export, layers

torch.manual_seed(3)


def edge_sums(graph, layer_index):
    """(nodes, samples): each node of a layer recomputed from its incoming edges, materialised and generated."""
    raw = graph.raw_activation.double()
    target = layers(graph)[layer_index]
    stored = torch.zeros(target.num_nodes, raw.size(1), dtype=torch.float64)
    generated = torch.zeros_like(stored)
    for conn in connections(graph):
        if conn.target != layer_index:
            continue
        mask = graph.edge_connection == conn.index
        src, dst, w = graph.edge_index[0, mask], graph.edge_index[1, mask], graph.weight[mask]
        stored = stored.index_add(0, dst - target.start, w.double()[:, None] * raw[src])
        chunk = connection_edges(graph, conn)
        generated = generated.index_add(
            0, chunk.target - target.start, chunk.weight.double()[:, None] * raw[chunk.source]
        )
    bias = graph.bias.double()[target.start : target.stop, None]
    assert torch.allclose(stored, generated, atol=1e-12)
    return stored + bias


def flat(t):
    return t.detach().double().reshape(t.size(0), -1).T


def check_layer(graph, layer_index, expected):
    assert torch.allclose(edge_sums(graph, layer_index), flat(expected), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("decomposed", [False, True])
def test_layer_norm_is_left_out_of_the_edges_like_batchnorm(decomposed):
    model = nn.Sequential(nn.Linear(5, 4), nn.LayerNorm(4), nn.ReLU(), nn.Linear(4, 3)).double().eval()
    with torch.no_grad():
        model[1].weight.uniform_(0.5, 1.5), model[1].bias.uniform_(-1, 1)
    x = torch.randn(6, 5, dtype=torch.float64)
    source = torch.export.export(model, (x[:1],)).run_decompositions() if decomposed else model  # native_layer_norm
    graph = export(source, x, raw_activation=True)
    assert graph.layer_names == ["input", "0", "3"] and graph.connection_kinds == ["linear", "linear"]
    assert graph.layer_activations[1] == "relu"
    assert torch.allclose(graph.raw_activation[5:9], model[:3](x).T)  # the nodes hold the model's true values
    check_layer(graph, 1, model[0](x))
    check_layer(graph, 2, model(x))  # the next layer reads the normalised values through its raw weights
    first = graph.edge_connection == 0
    assert torch.equal(graph.weight[first], model[0].weight.float().reshape(-1)[graph.param_index[first]])


def test_layer_norm_over_conv_features_and_functional_layer_norm():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.norm, self.fc = nn.Conv2d(1, 2, 3), nn.LayerNorm([2, 3, 3]), nn.Linear(18, 2)

        def forward(self, x):
            h = torch.tanh(self.norm(self.conv(x)))
            return self.fc(F.layer_norm(h, (3, 3)).flatten(1))

    model = Net().double().eval()
    x = torch.randn(3, 1, 5, 5, dtype=torch.float64)
    graph = export(model, x, raw_activation=True)
    assert graph.connection_kinds == ["conv", "linear"]
    check_layer(graph, 1, model.conv(x))  # the edges: the conv's raw weights
    hidden = torch.tanh(model.norm(model.conv(x)))
    assert torch.allclose(graph.raw_activation[25:43], flat(hidden))  # the nodes: after the first norm
    # a norm after the activation is left out the way BatchNorm is: the nodes keep the activation's values
    expected = model.fc(hidden.flatten(1))
    check_layer(graph, 2, expected)


@pytest.mark.parametrize(
    "norm",
    [
        nn.InstanceNorm2d(3),
        nn.InstanceNorm2d(3, affine=True),
        nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
        nn.GroupNorm(1, 3),
    ],
    ids=["plain", "affine", "running-stats", "group-norm"],
)
def test_instance_and_group_norm_are_left_out_of_the_edges(norm):
    model = nn.Sequential(nn.Conv2d(2, 3, 3), norm, nn.ReLU(), nn.Flatten(), nn.Linear(27, 4)).double().eval()
    if getattr(norm, "running_mean", None) is not None:
        norm.running_mean.uniform_(-1, 1), norm.running_var.uniform_(0.5, 2)
    x = torch.randn(4, 2, 5, 5, dtype=torch.float64)
    graph = export(model, x, raw_activation=True)
    assert graph.connection_kinds == ["conv", "linear"] and graph.layer_activations[1] == "relu"
    assert torch.allclose(graph.raw_activation[50:77], flat(model[:3](x)))
    check_layer(graph, 2, model(x))


def test_instance_norm_with_running_statistics_folds_exactly():
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3), nn.InstanceNorm2d(3, affine=True, track_running_stats=True), nn.ReLU(), nn.Flatten(),
        nn.Linear(27, 2),
    ).double()  # fmt: skip
    norm = model[1]
    norm.running_mean.uniform_(-1, 1), norm.running_var.uniform_(0.5, 2)
    norm.weight.data.uniform_(0.5, 1.5), norm.bias.data.uniform_(-1, 1)
    model.eval()
    x = torch.randn(3, 2, 5, 5, dtype=torch.float64)
    graph = export(model, x, batchnorm="fold", raw_activation=True)
    check_layer(graph, 1, model[:2](x))  # folded into the conv: exact, the statistics are constants


def test_a_mean_over_every_dimension_is_a_clear_error():
    class Centred(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            y = self.fc(x)
            return y - y.mean()

    with pytest.raises(GraphcurvError) as info:
        export(Centred(), torch.randn(2, 3))
    message = str(info.value)
    assert "aten.mean" in message and "every dimension" in message and "spatial" in message, message


@pytest.mark.parametrize("dim", [(1, 2, 3), 1, -1])
def test_a_mean_over_channels_is_a_clear_error(dim):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(1, 2, 2), nn.Linear(3 if dim in (1,) else 1, 2)

        def forward(self, x):
            h = torch.relu(self.conv(x)).mean(dim=dim)
            return self.fc(h.reshape(h.size(0), -1)[:, : self.fc.in_features])

    with pytest.raises(GraphcurvError, match=r"aten\.mean.*spatial dimensions"):
        export(Net(), torch.randn(2, 1, 4, 4))


class OptionABlock(nn.Module):
    """The CIFAR ResNet block of He et al. with the parameter-free "option A" shortcut."""

    def __init__(self, planes=2):
        super().__init__()
        self.stem = nn.Conv2d(1, planes, 3, padding=1)
        self.conv1 = nn.Conv2d(planes, 2 * planes, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(2 * planes, 2 * planes, 3, padding=1)
        self.head = nn.Linear(2 * planes * 9, 3)
        self.pad = planes // 2

    def forward(self, x):
        h = torch.relu(self.stem(x))
        shortcut = F.pad(h[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad), "constant", 0)
        y = torch.relu(self.conv2(torch.relu(self.conv1(h))) + shortcut)
        return self.head(y.flatten(1))


@pytest.mark.parametrize("decomposed", [False, True])
def test_option_a_shortcut_is_a_parameter_free_index_map(decomposed):
    model = OptionABlock().double().eval()
    x = torch.randn(4, 1, 6, 6, dtype=torch.float64)
    source = torch.export.export(model, (x[:1],)).run_decompositions() if decomposed else model  # constant_pad_nd
    graph = export(source, x, raw_activation=True)
    assert graph.connection_kinds == ["conv", "conv", "conv", "skip", "linear"]
    skip = graph.edge_connection == 3
    assert int(skip.sum()) == 2 * 3 * 3  # one edge per kept input value; the padded channels have none
    assert torch.all(graph.weight[skip] == 1) and torch.all(graph.param[skip] == -1)
    h = torch.relu(model.stem(x))
    stem, block = layers(graph)[1], layers(graph)[3]
    src, dst = graph.edge_index[0, skip] - stem.start, graph.edge_index[1, skip] - block.start
    # stem node (c, 2i, 2j) feeds block node (c + 1, i, j)
    c, i, j = src // 36, (src % 36) // 6, src % 6
    assert torch.equal(dst, (c + 1) * 9 + (i // 2) * 3 + j // 2) and bool((i % 2 == 0).all() and (j % 2 == 0).all())
    shortcut = F.pad(h[:, :, ::2, ::2], (0, 0, 0, 0, 1, 1))
    check_layer(graph, 3, model.conv2(torch.relu(model.conv1(h))) + shortcut)
    check_layer(graph, 4, model(x))


def test_slices_and_padding_compose_before_any_layer():
    class Crop(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2 * 4 * 4, 2)

        def forward(self, x):
            window = x[:, 1:, 1:5, ::2][:, :, :, 1:]  # channels 1.., rows 1..4, columns 2, 4, 6
            return self.fc(F.pad(window, (0, 1)).flatten(1))  # zero column on the right

    model = Crop().double()
    x = torch.randn(3, 3, 6, 7, dtype=torch.float64)
    graph = export(model, x, raw_activation=True)
    assert graph.connection_kinds == ["skip", "linear"] and graph.layer_shapes[1] == [2, 4, 4]
    assert int(graph.connection_num_edges[0]) == 2 * 4 * 3
    window = F.pad(x[:, 1:, 1:5, ::2][:, :, :, 1:], (0, 1))
    check_layer(graph, 1, window)
    check_layer(graph, 2, model(x))


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn, self.fc = nn.MultiheadAttention(4, 1, batch_first=True), nn.Linear(12, 2)

    def forward(self, x):
        return self.fc(self.attn(x, x, x)[0].flatten(1))


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm, self.fc = nn.LSTM(4, 4, batch_first=True), nn.Linear(12, 2)

    def forward(self, x):
        return self.fc(self.lstm(x)[0].flatten(1))


@pytest.mark.parametrize(("model", "name"), [(Attention(), "MultiheadAttention"), (Recurrent(), "LSTM")])
def test_unsupported_layers_are_refused_by_name_with_what_is_supported(model, name):
    with pytest.raises(GraphcurvError) as info:
        export(model.eval(), torch.randn(2, 3, 4))
    message = str(info.value)
    assert name in message and "'" + ("attn" if name != "LSTM" else "lstm") + "'" in message, message
    assert "supports" in message and "LayerNorm" in message, message


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("compile_", [torch.jit.trace, torch.jit.script], ids=["trace", "script"])
def test_torchscript_models_give_the_graph_of_the_module(compile_):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3)).eval()
    x = torch.randn(3, 1, 6, 6)
    scripted = compile_(model, x[:1]) if compile_ is torch.jit.trace else compile_(model)
    reference, graph = export(model, x), export(scripted, x)
    assert graph.param_names == reference.param_names == ["0.weight", "4.weight"]
    assert torch.equal(graph.edge_index, reference.edge_index) and torch.equal(graph.weight, reference.weight)
    assert torch.equal(graph.param_index, reference.param_index) and graph.layer_ptr == reference.layer_ptr
    assert torch.allclose(graph.activation, reference.activation, atol=1e-6)
