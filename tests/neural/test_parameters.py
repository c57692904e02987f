import math

import pytest
import torch
from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.neural import connections, export, iter_connection_edges, parameter_scores
from graphcurv.neural.parameters import scatter_parameter_scores


def test_linear_scores_land_on_their_weight_entries():
    model = nn.Sequential(nn.Linear(2, 3))
    graph = export(model, torch.randn(2, 2))
    # score of edge i -> o := 10 * o + i, so the weight tensor reads back [[0, 1], [10, 11], [20, 21]]
    src, dst = graph.edge_index
    scores = parameter_scores(graph, (10 * (dst - 2) + src).double())
    assert scores["0.weight"].tolist() == [[0, 1], [10, 11], [20, 21]]


def test_conv_scores_take_the_minimum_over_positions():
    model = nn.Sequential(nn.Conv2d(1, 1, 2))
    with torch.no_grad():
        model[0].weight[0, 0, 1, 1] = 0.0  # no edge reads it: the fill value
    graph = export(model, torch.randn(1, 1, 3, 3))
    edge_scores = graph.edge_index[1].double()  # each edge scored by its target node id (9..12)
    scores = parameter_scores(graph, edge_scores)["0.weight"][0, 0]
    # kernel cell (r, c) is used at the output positions whose window contains it; min target id:
    # (0,0) -> all 4 outputs (min 9); (0,1) -> all (9); (1,0) -> all (9); (1,1) zero weight -> nan
    assert scores[:1].tolist() == [[9.0, 9.0]] and scores[1, 0] == 9.0 and math.isnan(scores[1, 1])
    streamed = {}
    conn = connections(graph)[0]
    for chunk in iter_connection_edges(graph, conn, max_edges=1):
        scatter_parameter_scores(streamed, graph, torch.tensor(chunk.param), chunk.param_index, chunk.target.double())
    assert streamed["0.weight"][:3].tolist() == [9.0, 9.0, 9.0]
    with pytest.raises(GraphcurvError, match="one score per stored edge"):
        parameter_scores(graph, torch.zeros(3))
