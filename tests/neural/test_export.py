"""Acceptance tests of the export: the edges reproduce every layer's output exactly.

For every layer and sample: sum over incoming edges of weight x raw source value
(+ bias) equals the pre-activation output of the layer, computed here directly
with the model's own modules (max pooling: the maximum instead of the sum).
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.neural import connections, export, layers

torch.manual_seed(0)


def edge_sums(graph, layer_index, *, stored=True):
    """(nodes, samples): each node's value recomputed from its incoming edges (float64)."""
    raw = graph.raw_activation.double()
    target = layers(graph)[layer_index]
    total = torch.zeros(target.num_nodes, raw.size(1), dtype=torch.float64)
    for conn in connections(graph):
        if conn.target != layer_index:
            continue
        if stored:
            assert conn.materialised
            mask = graph.edge_connection == conn.index
            src, dst, w = graph.edge_index[0, mask], graph.edge_index[1, mask], graph.weight[mask]
        else:
            from graphcurv.neural import connection_edges

            chunk = connection_edges(graph, conn)
            src, dst, w = chunk.source, chunk.target, chunk.weight
        terms = w.double()[:, None] * raw[src]
        local = (dst - target.start)[:, None].expand_as(terms)
        if conn.kind.endswith("max_pool"):
            best = torch.full_like(total, float("-inf")).scatter_reduce(0, local, terms, "amax")
            total = total + best
        else:
            total = total.index_add(0, dst - target.start, terms)
    return total + graph.bias.double()[target.start : target.stop, None]


def flat(t):
    """(batch, ...) -> (values per sample, batch), the node order of a layer."""
    return t.detach().double().reshape(t.size(0), -1).T


def check_layer(graph, layer_index, expected):
    assert torch.allclose(edge_sums(graph, layer_index), flat(expected), rtol=1e-6, atol=1e-6)
    assert torch.allclose(edge_sums(graph, layer_index, stored=False), flat(expected), rtol=1e-6, atol=1e-6)


def test_linear_layers_are_reproduced():
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)).double()
    x = torch.randn(6, 5, dtype=torch.float64)
    graph = export(model, x, raw_activation=True)
    hidden = model[0](x)
    assert graph.layer_ptr == [0, 5, 9, 12] and graph.layer_activations == ["identity", "relu", "identity"]
    assert graph.edge_index.size(1) == 5 * 4 + 4 * 3
    check_layer(graph, 1, hidden)
    check_layer(graph, 2, model(x))
    assert torch.allclose(graph.raw_activation[5:9], flat(torch.relu(hidden)))


@pytest.mark.parametrize(
    "conv",
    [
        dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=2, dilation=2, groups=2),
        dict(in_channels=3, out_channels=4, kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)),
        dict(in_channels=4, out_channels=4, kernel_size=3, padding="same", groups=4),
    ],
)
def test_conv2d_with_stride_padding_dilation_groups(conv):
    layer = nn.Conv2d(**conv).double()
    model = nn.Sequential(layer, nn.Tanh(), nn.Flatten())
    x = torch.randn(3, conv["in_channels"], 7, 6, dtype=torch.float64)
    model = nn.Sequential(*model, nn.Linear(model(x).size(1), 2).double())
    graph = export(model, x, raw_activation=True)
    check_layer(graph, 1, layer(x))
    check_layer(graph, 2, model(x))
    # one edge per (input node in the receptive field, output node): count them with unfold
    ones = torch.ones(1, conv["in_channels"], 7, 6, dtype=torch.float64)
    fan_in = F.conv2d(
        ones, torch.ones_like(layer.weight), None, layer.stride, layer.padding, layer.dilation, layer.groups
    )
    assert graph.connection_num_edges[0] == int(fan_in.sum())


def test_conv1d_and_zero_padding_absorbed_by_the_convolution():
    conv = nn.Conv1d(2, 4, 3, stride=2, padding=1, groups=2).double()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = conv, nn.Linear(4 * 5, 3).double()

        def forward(self, x):
            h = torch.relu(self.conv(F.pad(x, (2, 1))))
            return self.fc(h.flatten(1))

    model = Net()
    x = torch.randn(4, 2, 7, dtype=torch.float64)
    graph = export(model, x, raw_activation=True)
    assert graph.connection_windows[0]["padding"] == [3] and graph.layer_shapes[0] == [2, 7]
    check_layer(graph, 1, conv(F.pad(x, (2, 1))))
    check_layer(graph, 2, model(x))


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pooling_output_is_the_max_over_incoming_edges(ceil_mode):
    conv, pool = nn.Conv2d(2, 3, 2).double(), nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=ceil_mode)
    model = nn.Sequential(conv, nn.ReLU(), pool, nn.Flatten())
    x = torch.randn(3, 2, 8, 9, dtype=torch.float64)
    model = nn.Sequential(*model, nn.Linear(model(x).size(1), 2).double())
    graph = export(model, x, raw_activation=True)
    assert graph.layer_kinds[2] == "max_pool2d" and set(graph.weight[graph.param == -1].tolist()) == {1.0}
    check_layer(graph, 2, pool(torch.relu(conv(x))))


@pytest.mark.parametrize(
    "pool",
    [
        nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=True, ceil_mode=True),
        nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        nn.AvgPool2d(2, divisor_override=3),
        nn.AdaptiveAvgPool2d((2, 3)),
    ],
)
def test_average_pooling_edges_carry_one_over_the_divisor(pool):
    conv = nn.Conv2d(2, 3, 2).double()
    model = nn.Sequential(conv, nn.Sigmoid(), pool, nn.Flatten())
    x = torch.randn(3, 2, 8, 9, dtype=torch.float64)
    model = nn.Sequential(*model, nn.Linear(model(x).size(1), 2).double())
    graph = export(model, x, raw_activation=True)
    check_layer(graph, 2, pool(torch.sigmoid(conv(x))))
    check_layer(graph, 3, model(x))


class ResidualBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 3, 3, padding=1)
        self.conv1, self.conv2 = nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 3, padding=1)
        self.head = nn.Linear(3 * 5 * 5, 4)

    def forward(self, x):
        h = torch.relu(self.stem(x))
        y = torch.relu(self.conv2(torch.relu(self.conv1(h))) + h)
        return self.head(torch.flatten(y, 1))


def test_residual_addition_adds_skip_edges():
    model = ResidualBlock().double()
    x = torch.randn(4, 1, 5, 5, dtype=torch.float64)
    graph = export(model, x, raw_activation=True)
    assert graph.connection_kinds == ["conv", "conv", "conv", "skip", "linear"]
    assert graph.connection_source[3] == 1 and graph.connection_target[3] == 3
    skip = graph.edge_connection == 3
    assert torch.equal(graph.edge_index[1, skip] - graph.edge_index[0, skip], torch.full((75,), 75 + 75))
    h = torch.relu(model.stem(x))
    check_layer(graph, 3, model.conv2(torch.relu(model.conv1(h))) + h)
    check_layer(graph, 4, model(x))


def test_batchnorm_fold_matches_the_model_and_ignore_keeps_raw_weights():
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(27, 4), nn.BatchNorm1d(4), nn.Tanh(),
        nn.Dropout(0.5), nn.Linear(4, 2),
    ).double()  # fmt: skip
    for bn in (model[1], model[5]):
        bn.running_mean.uniform_(-1, 1), bn.running_var.uniform_(0.5, 2)
        bn.weight.data.uniform_(0.5, 1.5), bn.bias.data.uniform_(-1, 1)
    model.eval()
    x = torch.randn(5, 2, 5, 5, dtype=torch.float64)
    folded = export(model, x, batchnorm="fold", raw_activation=True)
    check_layer(folded, 1, model[:2](x))
    check_layer(folded, 2, model[:6](x))
    check_layer(folded, 3, model(x))
    ignored = export(model, x, raw_activation=True)
    assert torch.equal(ignored.edge_index, folded.edge_index)
    conv = ignored.edge_connection == 0
    assert torch.equal(ignored.weight[conv], model[0].weight.float().reshape(-1)[ignored.param_index[conv]])
    assert not torch.allclose(folded.weight[conv], ignored.weight[conv])
    assert torch.allclose(ignored.raw_activation, folded.raw_activation)  # nodes hold the model's true values
    assert model.training is False


def edge_set(graph):
    return set(map(tuple, graph.edge_index.T.tolist()))


def test_zeroing_a_parameter_entry_removes_exactly_its_edges():
    model = nn.Sequential(nn.Conv2d(2, 3, 2, stride=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
    x = torch.randn(3, 2, 5, 5)
    before = export(model, x)
    zeroed = {"0.weight": [(1, 0, 1, 0), (2, 1, 0, 1)], "3.weight": [(0, 7), (4, 40)]}
    removed = torch.zeros(before.edge_index.size(1), dtype=torch.bool)
    with torch.no_grad():
        for name, entries in zeroed.items():
            param = dict(model.named_parameters())[name]
            p = before.param_names.index(name)
            for entry in entries:
                param[entry] = 0.0
                flat_index = torch.tensor(entry) @ torch.tensor(param.stride())
                removed |= (before.param == p) & (before.param_index == flat_index)
    after = export(model, x)
    assert int(removed.sum()) == 2 * 16 + 2  # a kernel entry is used at all 4 x 4 output positions
    assert edge_set(after) == edge_set(before) - set(map(tuple, before.edge_index[:, removed].T.tolist()))


class Upsampler(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.up = nn.Upsample(scale_factor=2)

    def forward(self, x):
        return self.up(self.conv(x)).flatten(1)


@pytest.mark.parametrize(
    ("model", "words"),
    [
        (Upsampler(), ["'up'", "Upsample", "upsample_nearest2d"]),
        (nn.Sequential(nn.Linear(4, 4), nn.PReLU(), nn.Linear(4, 2)), ["'1'", "PReLU", "prelu"]),
    ],
)
def test_unsupported_layers_are_named(model, words):
    x = torch.randn(2, 1, 6, 6) if isinstance(model, Upsampler) else torch.randn(2, 4)
    with pytest.raises(GraphcurvError) as info:
        export(model, x)
    assert all(word in str(info.value) for word in words), str(info.value)


def test_bad_arguments_are_clear_errors():
    model = nn.Sequential(nn.Linear(3, 2))
    for inputs, words in [
        (torch.randn(0, 3), "non-empty"),
        (torch.ones(4, 3, dtype=torch.long), "floating point"),
        (torch.full((2, 3), float("nan")), "NaN"),
        (torch.randn(2, 5), "could not trace"),
    ]:
        with pytest.raises(GraphcurvError, match=words):
            export(model, inputs)
    with pytest.raises(GraphcurvError, match="batchnorm"):
        export(model, torch.randn(2, 3), batchnorm="merge")
