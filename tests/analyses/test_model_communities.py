"""Communities of a model: the unit graph (channel aggregation, strengths, sparsification) and Ricci-flow modules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from graphcurv.analyses.model_communities import model_communities, unit_graph
from graphcurv.errors import GraphcurvError
from graphcurv.neural import export


def _edges(data) -> dict[tuple[int, int], tuple[float, float]]:
    """(u, v) with u < v -> (length, strength); both directions must carry the same values."""
    out, seen = {}, {}
    for (u, v), length, strength in zip(
        data.edge_index.t().tolist(), data.edge_weight.tolist(), data.edge_strength.tolist()
    ):
        key = (min(u, v), max(u, v))
        seen.setdefault(key, []).append((length, strength))
        out[key] = (length, strength)
    assert all(len(pair) == 2 and pair[0] == pair[1] for pair in seen.values())
    return out


def test_conv_channels_are_aggregated_with_summed_kernel_weights():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    data, nodes = unit_graph(export(model, torch.rand(2, 1, 3, 3)), neighbours=None)
    # nodes: the input channel, 2 conv channels, 3 units
    assert [(n.layer_name, n.index, n.level) for n in nodes] == [
        ("input", 0, "channel"), ("0", 0, "channel"), ("0", 1, "channel"), ("3", 0, "unit"), ("3", 1, "unit"), ("3", 2, "unit"),
    ]  # fmt: skip
    edges = _edges(data)
    kernel, linear = model[0].weight.detach().double().abs(), model[3].weight.detach().double().abs()
    # no padding: every output position reads the whole kernel, so s = sum |W[b, 0]|
    for b in range(2):
        assert edges[(0, 1 + b)][1] == pytest.approx(float(kernel[b, 0].sum()))
    # the linear layer reads channel a at flat inputs 4a .. 4a + 3: s = sum of those |w|
    for a in range(2):
        for u in range(3):
            assert edges[(1 + a, 3 + u)][1] == pytest.approx(float(linear[u, 4 * a : 4 * a + 4].sum()))
    assert len(edges) == 2 + 6
    # lengths 1 / s, rescaled to mean 1 between every two layers
    for pairs in ([(0, 1), (0, 2)], [(a, u) for a in (1, 2) for u in (3, 4, 5)]):
        inverse = torch.tensor([1 / edges[p][1] for p in pairs])
        assert [edges[p][0] for p in pairs] == pytest.approx((inverse / inverse.mean()).tolist())


def test_pooling_strength_and_an_mlp_input_kept_per_value():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2, 2))
    data, nodes = unit_graph(export(model, torch.rand(2, 1, 4, 4)), neighbours=None)
    edges = _edges(data)
    # max pooling 2 x 2: weight 1 from 4 cells of the same channel -> s = 4; channels stay apart
    assert edges[(1, 3)][1] == 4.0 and edges[(2, 4)][1] == 4.0 and (1, 4) not in edges and (2, 3) not in edges
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    _, nodes = unit_graph(export(mlp, torch.rand(2, 1, 2, 2)))
    assert [n.level for n in nodes] == ["unit"] * 9  # the image feeds a linear layer: one node per value


def test_each_node_keeps_its_strongest_edges():
    model = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 1, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[3.0, 1.0], [0.5, 2.0], [1.0, 0.25]]))
        model[2].weight.copy_(torch.tensor([[0.1, 0.2, 5.0]]))
    data, _ = unit_graph(export(model, torch.rand(2, 2)), neighbours=1)
    # nodes x0, x1 = 0, 1; h0, h1, h2 = 2, 3, 4; z = 5. Strongest edge of each node:
    # x0 -> h0 (3), x1 -> h1 (2), h0 -> x0, h1 -> x1, h2 -> z (5), z -> h2
    assert sorted(_edges(data)) == [(0, 2), (1, 3), (4, 5)]
    with pytest.raises(GraphcurvError, match="neighbours"):
        unit_graph(export(model, torch.rand(2, 2)), neighbours=0)


def _two_modules() -> nn.Module:
    """6 -> 6 -> 6 -> 2 units in two modules {0, 1, 2} and {3, 4, 5} (logits 0 and 1): weights
    1 inside a module, 0.05 across."""
    group = torch.tensor([0, 0, 0, 1, 1, 1])

    def weights(out_groups: torch.Tensor) -> torch.Tensor:
        return torch.where(out_groups[:, None] == group[None, :], 1.0, 0.05)

    model = nn.Sequential(
        nn.Linear(6, 6, bias=False), nn.ReLU(), nn.Linear(6, 6, bias=False), nn.ReLU(), nn.Linear(6, 2, bias=False)
    )
    with torch.no_grad():
        model[0].weight.copy_(weights(group))
        model[2].weight.copy_(weights(group))
        model[4].weight.copy_(weights(torch.tensor([0, 1])))
    return model


def test_ricci_flow_finds_the_two_modules_and_their_bridges():
    torch.manual_seed(0)
    graph = export(_two_modules(), torch.rand(3, 6))
    found = model_communities(graph, bridges=3)
    module = [0, 0, 0, 1, 1, 1] * 3 + [0, 1]
    labels = found.labels.tolist()
    assert found.num_communities == 2 and all((labels[i] == labels[0]) == (m == 0) for i, m in enumerate(module))
    assert [layer.name for layer in found.layers] == ["input", "0", "2", "4"]
    assert found.layers[1].counts == {labels[0]: 3, labels[3]: 3} and found.layers[3].labels == [labels[0], labels[3]]
    assert len(found.bridges) == 3
    for bridge in found.bridges:  # bridges join the modules through the weak (0.05) weights
        assert bridge.source_community != bridge.target_community
        assert bridge.strength == pytest.approx(0.05)
        assert module[found.nodes.index(bridge.source)] != module[found.nodes.index(bridge.target)]
    assert found.to_dict()["num_communities"] == 2 and found.to_dict()["bridges"][0]["strength"] == pytest.approx(0.05)
    # with 3 neighbours per node the weak weights are dropped: two components, no bridges
    split = model_communities(graph, neighbours=3)
    assert split.num_communities == 2 and split.bridges == [] and split.labels.tolist() == labels


def test_bad_arguments():
    graph = export(_two_modules(), torch.rand(2, 6))
    with pytest.raises(GraphcurvError, match="bridges"):
        model_communities(graph, bridges=-1)
