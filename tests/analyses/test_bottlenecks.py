"""Bottleneck report: distributions, most negative edges with coordinates, concentration neurons."""

from __future__ import annotations

import math

import pytest
import torch
from neural_examples import hand_network
from torch import nn

from graphcurv.analyses.bottlenecks import bottleneck_report, curvature_distribution, neuron_at
from graphcurv.errors import GraphcurvError
from graphcurv.neural import export, layers
from graphcurv.neural.curvature import NeuralCurvature, neural_chain, neural_curvature

_hand_network = hand_network


def _result(graph, scores: list[dict[tuple[int, int], float]], means=None) -> NeuralCurvature:
    """A NeuralCurvature whose edge scores are given by (local source, local target) per connection."""
    chain = neural_chain(graph)
    edge_score = [
        torch.tensor([table[(s, d)] for s, d in zip(link.src.tolist(), link.dst.tolist())], dtype=torch.float64)
        for link, table in zip(chain.links, scores)
    ]
    edge_mean = edge_score if means is None else means
    return NeuralCurvature(0.9, graph.activation.size(1), chain, edge_score, edge_mean, {})


# Inputs x = (0, 1) and (0, 2): hidden h = relu(W1 x) = (0.25, 0, 0.75) and (0.5, 0, 1.5), so the
# normalised activations are (1/3, 0, 1) on both samples (h1 is dead); the inputs normalise to (0, 1);
# the logits are (0.4375, 0.4375) and (0.875, 0.875): constant |v| > 0, activation 1.
INPUTS = torch.tensor([[0.0, 1.0], [0.0, 2.0]])
FIRST = {(0, 0): -1.5, (0, 1): 0.25, (0, 2): 1.0, (1, 0): -0.5, (1, 1): 2.0, (1, 2): 0.0}
SECOND = {(0, 0): 0.5, (0, 1): -3.0, (1, 0): -0.25, (1, 1): 1.0, (2, 0): 2.0, (2, 1): -0.75}


def test_distributions_by_hand():
    graph = export(_hand_network(), INPUTS)
    report = bottleneck_report(graph, _result(graph, [FIRST, SECOND]), top=3)
    first = report.connections[0]
    assert (first.source, first.target, first.kind, first.edges) == ("input", "0", "linear", 6)
    # sorted: -1.5, -0.5, 0, 0.25, 1, 2; quartile positions 1.25, 2.5, 3.75 (linear interpolation)
    q = first.score
    assert (q.count, q.minimum, q.maximum) == (6, -1.5, 2.0)
    assert q.q1 == pytest.approx(-0.375) and q.median == pytest.approx(0.125) and q.q3 == pytest.approx(0.8125)
    assert q.mean == pytest.approx(1.25 / 6) and q.negative_share == pytest.approx(2 / 6)
    values = torch.tensor(sorted(FIRST.values()), dtype=torch.float64)
    expected = torch.quantile(values, torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)).tolist()
    assert [q.q1, q.median, q.q3] == pytest.approx(expected)
    second = report.connections[1].score
    assert (
        second.negative_share == pytest.approx(0.5) and second.minimum == -3.0 and second.median == pytest.approx(0.125)
    )
    assert report.connections[0].mean == q  # edge_mean given equal to edge_score here


def test_most_negative_edges_with_coordinates_weights_and_activations():
    graph = export(_hand_network(), INPUTS)
    report = bottleneck_report(graph, _result(graph, [FIRST, SECOND]), top=3)
    assert [e.score for e in report.most_negative] == [-3.0, -1.5, -0.75]
    edge = report.most_negative[0]  # hidden unit 0 -> logit 1: W2[1, 0] = -0.5
    assert (edge.connection, edge.source.layer_name, edge.source.channel, edge.target.channel) == (1, "0", 0, 1)
    assert edge.source.position == () and edge.source.label == "0[0]" and edge.target.label == "2[1]"
    assert (edge.weight, edge.parameter, edge.parameter_index) == (-0.5, "2.weight", (1, 0))
    assert edge.source_activation == pytest.approx(1 / 3) and edge.target_activation == pytest.approx(1.0)
    second = report.most_negative[1]  # input 0 -> hidden 0: W1[0, 0] = 0.5, input 0 is 0 on both samples
    assert (second.parameter, second.parameter_index, second.weight) == ("0.weight", (0, 0), 0.5)
    assert second.source.label == "input[0]" and second.source_activation == 0.0
    per_connection = report.connections[1].most_negative
    assert [(e.source.index, e.target.index, e.score) for e in per_connection] == [
        (0, 1, -3.0),
        (2, 1, -0.75),
        (1, 0, -0.25),
    ]


def test_negative_edges_concentrate_by_hand():
    graph = export(_hand_network(), INPUTS)
    report = bottleneck_report(graph, _result(graph, [FIRST, SECOND]), top=2)
    inputs, hidden, logits = report.layers
    # negative edges: (x0, h0), (x1, h0); (h0, z1), (h1, z0), (h2, z1)
    assert [(n.neuron.index, n.negative_in, n.negative_out) for n in inputs.neurons] == [(0, 0, 1), (1, 0, 1)]
    assert [(n.neuron.index, n.negative, n.degree_in, n.degree_out) for n in hidden.neurons] == [
        (0, 3, 2, 2),
        (1, 1, 2, 2),
    ]
    assert [(n.neuron.index, n.negative_in) for n in logits.neurons] == [(1, 2), (0, 1)]
    assert hidden.neurons[0].activation == pytest.approx(1 / 3)
    assert (inputs.inactive, hidden.inactive, logits.inactive) == (1, 1, 0)  # x0 and h1 are 0 on both samples


def test_conv_coordinates_and_kernel_entries():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    graph = export(model, torch.rand(2, 1, 3, 3))
    conv = layers(graph)[1]
    node = neuron_at(conv, 5)  # (channel 1, row 0, column 1) of a 2 x 2 x 2 layer
    assert (node.channel, node.position, node.label) == (1, (0, 1), "0[c1, 0, 1]")
    chain = neural_chain(graph)
    # pixel (1, 2) feeds output channel 1 at (0, 1) through kernel offset (1, 1)
    scores = [
        {(s, d): (-1.0 if (s, d) == (5, 5) else 1.0) for s, d in zip(link.src.tolist(), link.dst.tolist())}
        for link in chain.links
    ]
    edge = bottleneck_report(graph, _result(graph, scores), top=1).most_negative[0]
    assert edge.source.position == (1, 2) and (edge.target.channel, edge.target.position) == (1, (0, 1))
    assert edge.parameter == "0.weight" and edge.parameter_index == (1, 0, 1, 1)
    assert edge.weight == pytest.approx(float(model[0].weight[1, 0, 1, 1].detach()))
    as_dict = edge.to_dict()
    assert as_dict["source"]["position"] == [1, 2] and as_dict["parameter_index"] == [1, 0, 1, 1]
    assert as_dict["target"]["label"] == "0[c1, 0, 1]"
    # a kernel weight is listed once, at its most negative edge: W[1, 0, 1, 1] also joins
    # pixel (1, 1) to channel 1 at (0, 0); W[0, 0, 0, 0] joins pixel (0, 0) to channel 0 at (0, 0)
    scores[0][(4, 4)], scores[0][(0, 0)] = -2.0, -0.5
    found = bottleneck_report(graph, _result(graph, scores), top=2).most_negative
    assert [(e.score, e.parameter_index, e.source.position) for e in found] == [
        (-2.0, (1, 0, 1, 1), (1, 1)),
        (-0.5, (0, 0, 0, 0), (0, 0)),
    ]


def test_report_of_a_real_run_agrees_with_its_scores():
    graph = export(_hand_network(), torch.tensor([[1.0, 0.0], [0.5, 0.5]]))
    result = neural_curvature(graph, alpha=0.9, mean=True)
    report = bottleneck_report(graph, result, top=4)
    lowest = min(float(score.min()) for score in result.edge_score)
    assert report.most_negative[0].score == lowest
    assert [e.score for e in report.most_negative] == sorted(e.score for e in report.most_negative)
    for row, score, mean in zip(report.connections, result.edge_score, result.edge_mean):
        assert row.score == curvature_distribution(score) and row.mean == curvature_distribution(mean)
    assert report.to_dict()["connections"][1]["score"]["negative_share"] == row.score.negative_share
    without_mean = bottleneck_report(graph, neural_curvature(graph, alpha=0.9), top=4)
    assert all(row.mean is None for row in without_mean.connections)
    assert [e.score for e in without_mean.most_negative] == [e.score for e in report.most_negative]
    assert all(e.mean is None for e in without_mean.most_negative)


def test_empty_distribution_and_errors():
    empty = curvature_distribution(torch.zeros(0))
    assert empty.count == 0 and math.isnan(empty.median)
    graph = export(_hand_network(), INPUTS)
    result = _result(graph, [FIRST, SECOND])
    with pytest.raises(GraphcurvError, match="top"):
        bottleneck_report(graph, result, top=-1)
    other = export(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)), INPUTS)
    with pytest.raises(GraphcurvError, match="another graph"):
        bottleneck_report(other, result)
    with pytest.raises(GraphcurvError, match="no node 9"):
        neuron_at(layers(graph)[1], 9)
