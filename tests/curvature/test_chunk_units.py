"""Executor units of exact Ollivier-Ricci (graphcurv.curvature.chunk_units): a unit graph holds
only what its chunks read, relabelled, and solves to the values of the whole-graph inputs bit for
bit; the values are POT's exact W1 on the same supports."""

from __future__ import annotations

import networkx as nx
import numpy as np
import ot
import pytest
import torch
from torch_geometric.utils import from_networkx

from graphcurv.curvature.chunk_units import ChunkInputs, chunk_units, solve_chunks, solve_unit, unit_graph
from graphcurv.curvature.plan import CurvaturePlan
from graphcurv.measures import resolve_measure


def full_inputs(plan: CurvaturePlan) -> ChunkInputs:
    arc_length = plan.edge_length[plan.arc_edge]
    src_nb, dst_nb = plan._sides(arc_length)
    distance = plan._unit_distances(arc_length)
    return ChunkInputs(plan.x, plan.y, plan.edge_length, src_nb, dst_nb, plan.num_nodes, distance)


def plan_of(graph, directed: bool) -> CurvaturePlan:
    data = from_networkx(graph)
    length = torch.ones(data.edge_index.size(1), dtype=torch.float64)
    return CurvaturePlan(
        data.edge_index, length, data.num_nodes, measure=resolve_measure("exp"), alpha=0.5,
        directed=directed, workers=1, max_entries=2**9,
    )  # fmt: skip


GRAPHS = {
    "undirected": lambda: plan_of(nx.barabasi_albert_graph(400, 3, seed=2), directed=False),
    "directed": lambda: plan_of(nx.gnp_random_graph(150, 0.04, seed=3, directed=True), directed=True),
    "grid": lambda: plan_of(nx.convert_node_labels_to_integers(nx.grid_2d_graph(20, 20)), directed=False),
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_a_unit_graph_solves_to_the_whole_graph_values_bit_for_bit(name):
    plan = GRAPHS[name]()
    full = full_inputs(plan)
    units = chunk_units(plan.chunks, 12)
    assert len(units) == 12
    for unit in units:
        small = unit_graph(full, unit)
        want_w1, want_d = solve_chunks(unit, full)
        got_w1, got_d = solve_unit(small)
        assert np.array_equal(got_w1, want_w1) and np.array_equal(got_d, want_d)
        if name == "grid":  # a unit of 1/12 of the rows reaches a few rows around them
            assert small.inputs.num_nodes < plan.num_nodes / 3
        assert small.inputs.x.size == unit[-1][1] - unit[0][0]


def test_a_unit_graph_holds_only_its_supports_and_their_neighbours():
    graph = nx.path_graph(40)  # node i's 2-ball is i-3..i+3 around the unit's supports
    plan = plan_of(graph, directed=False)
    full = full_inputs(plan)
    unit = [(5, 7)]  # edges (5, 6) and (6, 7)
    small = unit_graph(full, unit)
    # supports {4..8}; their adjacency rows reach 3..9: seven nodes, relabelled 0..6
    assert small.inputs.num_nodes == 7
    assert small.inputs.x.tolist() == [2, 3] and small.inputs.y.tolist() == [3, 4]
    w1, dist = solve_unit(small)
    # independent: POT's exact W1 between the lazy measures of an edge of a path (d = hops)
    for (x, y), value in zip([(5, 6), (6, 7)], w1):
        nodes = [x - 1, x, x + 1, y + 1]
        mx = np.array([0.25, 0.5, 0.25, 0.0])
        my = np.array([0.0, 0.25, 0.5, 0.25])
        cost = np.abs(np.subtract.outer(nodes, nodes)).astype(float)
        assert value == pytest.approx(ot.emd2(mx, my, cost), abs=1e-12)
    assert dist.tolist() == [1.0, 1.0]
