import pytest
import torch
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError
from graphcurv.models import load_model, model_names, normalise_arch, save_model
from graphcurv.models.loading import load_checkpoint
from graphcurv.riccinets.network import (
    RandWire,
    edge_weights,
    graphs_from_config,
    randwire_config,
    randwire_from_config,
)
from graphcurv.riccinets.wiring import stage_graphs


def dag(edges, n):
    return Data(edge_index=torch.tensor(edges, dtype=torch.long).reshape(-1, 2).t().contiguous(), num_nodes=n)


DIAMOND = [(0, 1), (0, 2), (1, 3), (2, 3)]


def small(graphs, **kw):
    torch.manual_seed(0)
    settings = {"channels": 4, "in_channels": 3, "num_classes": 5, "head_channels": 8} | kw
    return RandWire(graphs, **settings)


def randomise_batch_norm(model):
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)


@pytest.mark.parametrize("shape", [(2, 3, 32, 32), (2, 3, 8, 8), (2, 1, 28, 28)])
def test_output_shape_for_cifar_fashion_mnist_and_tiny_images(shape):
    model = small([dag(DIAMOND, 4)] * 3, in_channels=shape[1])
    assert tuple(model(torch.randn(shape)).shape) == (shape[0], 5)


def test_stage_widths_strides_and_layout_follow_the_small_regime():
    model = small([dag(DIAMOND, 4), dag([(0, 1)], 2), dag([], 1)], channels=6)
    assert model.conv1[0].out_channels == 3 and model.conv1[0].stride == (2, 2)
    assert model.conv2[1].pointwise.out_channels == 6 and model.conv2[1].depthwise.stride == (2, 2)
    assert [(s.in_channels, s.out_channels) for s in model.stages] == [(6, 6), (6, 12), (12, 24)]
    stage = model.stages[1]  # 0 -> 1: node 0 reads the stage input, node 1 reads node 0
    assert stage.nodes[0][1].depthwise.in_channels == 6 and stage.nodes[0][1].depthwise.stride == (2, 2)
    assert stage.nodes[1][1].depthwise.in_channels == 12 and stage.nodes[1][1].depthwise.stride == (1, 1)
    assert model.head[1].in_channels == 24 and model.head[1].out_channels == 8
    assert [tuple(w.shape) for w in edge_weights(model)] == [(4,), (1,), (0,)]
    assert all(bool((w == 0).all()) for w in edge_weights(model))


def test_aggregation_is_the_sigmoid_weighted_sum_aligned_with_edge_columns():
    # columns: edge 0 is 1 -> 2, edge 1 is 0 -> 2 (not sorted, to test the alignment)
    model = small([dag([(1, 2), (0, 2)], 3)]).eval()
    randomise_batch_norm(model)
    stage = model.stages[0]
    with torch.no_grad():
        edge_weights(model)[0].copy_(torch.tensor([1.5, -0.7]))
        x = torch.randn(2, 4, 8, 8)
        y0, y1 = stage.nodes[0](x), stage.nodes[1](x)
        mix = torch.sigmoid(torch.tensor(1.5)) * y1 + torch.sigmoid(torch.tensor(-0.7)) * y0
        torch.testing.assert_close(stage(x), stage.nodes[2](mix))


def test_stage_output_is_the_mean_of_the_nodes_without_successor():
    model = small([dag([(0, 1), (0, 2)], 3)]).eval()
    randomise_batch_norm(model)
    stage = model.stages[0]
    with torch.no_grad():
        x = torch.randn(1, 4, 8, 8)
        y0 = stage.nodes[0](x)
        half = torch.sigmoid(torch.tensor(0.0))
        expected = (stage.nodes[1](half * y0) + stage.nodes[2](half * y0)) / 2
        torch.testing.assert_close(stage(x), expected)


def test_a_ricci_pruned_network_has_one_used_aggregation_weight_per_remaining_edge():
    from graphcurv.riccinets.prune import ricci_prune

    graphs = [ricci_prune(g, alpha=0.5, beta=0.5, gamma=0.0, delta=0.5, iterations=5).pruned.graph
              for g in stage_graphs(3, 12, "ws", k=4, p=0.75, seed=3)]  # fmt: skip
    model = small(graphs, in_channels=1, channels=8).double().train()
    weights = edge_weights(model)
    assert [w.numel() for w in weights] == [g.edge_index.size(1) for g in graphs]
    assert 0 < sum(w.numel() for w in weights) < 3 * 24  # pruned: WS(12, 4) has 24 edges per stage
    named = [name for name, _ in model.named_parameters() if "aggregation" in name]
    assert len(named) == len(graphs)  # one vector per stage, nothing else aggregates
    # every remaining edge's weight reaches the output (training-mode BatchNorm centres each node's
    # output, so no node's ReLU is off on a whole batch)
    torch.manual_seed(1)
    (model(torch.randn(4, 1, 28, 28, dtype=torch.float64)) * torch.randn(4, 5, dtype=torch.float64)).sum().backward()
    for w in weights:
        assert bool((w.grad.abs() > 1e-12).all())


def test_graphs_are_kept_on_the_model_and_in_the_config():
    graphs = stage_graphs(3, 6, "ws", k=2, p=0.5, seed=4)
    model = small(graphs)
    assert [g.edge_index.tolist() for g in model.graphs] == [g.edge_index.tolist() for g in graphs]
    config = randwire_config(model, image_size=32)
    assert config["nodes"] == [6, 6, 6] and config["image_size"] == 32
    assert config["edges"][0] == graphs[0].edge_index.t().tolist()
    assert {k: config[k] for k in ("channels", "in_channels", "num_classes", "head_channels")} == model.settings()
    rebuilt = graphs_from_config(config)
    assert [g.edge_index.tolist() for g in rebuilt] == [g.edge_index.tolist() for g in graphs]
    assert [g.num_nodes for g in rebuilt] == [6, 6, 6]


def test_checkpoint_round_trip_gives_the_same_network(tmp_path):
    model = small([dag(DIAMOND, 4), dag([(0, 2), (1, 2)], 3)], in_channels=1)
    randomise_batch_norm(model)
    with torch.no_grad():
        for w in edge_weights(model):
            w.uniform_(-2, 2)
    path = save_model(model, tmp_path / "randwire.pt", arch="randwire", config=randwire_config(model, image_size=28))
    assert load_checkpoint(path)["config"]["edges"] == [[list(e) for e in DIAMOND], [[0, 2], [1, 2]]]
    loaded = load_model(path)
    assert isinstance(loaded, RandWire) and loaded.settings() == model.settings()
    state, other = model.state_dict(), loaded.state_dict()
    assert state.keys() == other.keys() and all(torch.equal(state[k], other[k]) for k in state)
    x = torch.randn(2, 1, 28, 28)
    torch.testing.assert_close(loaded(x), model.eval()(x))


def test_randwire_is_a_checkpoint_arch_but_not_a_zoo_name():
    assert normalise_arch("RandWire") == "randwire" and "randwire" not in model_names()


@pytest.mark.parametrize(
    ("graphs", "message"),
    [
        ([dag([(1, 0)], 2)], "lower to a higher"),
        ([dag([(0, 1), (0, 1)], 2)], "duplicate"),
        ([dag([(0, 3)], 2)], "outside"),
        ([Data(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=0)], "no node"),
        ([Data(edge_index=torch.tensor([[0.0], [1.0]]), num_nodes=2)], "integer"),
        ([Data(num_nodes=2)], "edge_index"),
        ([], "non-empty"),
    ],
)
def test_bad_graphs_are_rejected(graphs, message):
    with pytest.raises(GraphcurvError, match=message):
        RandWire(graphs, channels=4)


def test_bad_settings_and_configs_are_rejected():
    with pytest.raises(GraphcurvError, match="channels"):
        RandWire([dag([], 1)], channels=1)
    config = randwire_config([dag([(0, 1)], 2)], channels=4, head_channels=8)
    with pytest.raises(GraphcurvError, match="ReLU"):
        randwire_from_config(config | {"activation": "tanh"})
    with pytest.raises(GraphcurvError, match="unknown"):
        randwire_from_config(config | {"depth": 3})
    with pytest.raises(GraphcurvError, match="image_size"):
        randwire_from_config(config | {"image_size": 4})
    with pytest.raises(GraphcurvError, match="lower to a higher"):
        graphs_from_config(config | {"edges": [[[1, 0]]]})
    with pytest.raises(GraphcurvError, match="one node count"):
        graphs_from_config({"nodes": [2, 2], "edges": [[[0, 1]]]})
    with pytest.raises(GraphcurvError, match="unknown RandWire settings"):
        randwire_config([dag([(0, 1)], 2)], width=3)
