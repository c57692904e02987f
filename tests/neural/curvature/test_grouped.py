"""The grouped engine: identical values to POT's per-edge ``ot.emd2`` reference, dense and conv,
ReLU (dead neurons) and Tanh (full supports), and its certificates really settle edges."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from graphcurv.neural import export
from graphcurv.neural.curvature import neural_chain, reference_curvature
from graphcurv.neural.curvature.grouped import EngineStats, grouped_geometry, grouped_sample_curvature
from graphcurv.neural.curvature.groups import side_classes
from graphcurv.neural.curvature.sample import chain_geometry
from graphcurv.transport.exact import ExactSolverPool


def _nets():
    torch.manual_seed(0)
    dense = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 6), nn.ReLU(), nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3))
    tanh = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2))
    conv = nn.Sequential(
        nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(2, 4, 2, groups=2, dilation=1), nn.ReLU(),
        nn.Conv2d(4, 3, 2), nn.ReLU(), nn.Flatten(), nn.Linear(12, 3),
    )
    return [(dense, torch.randn(3, 5)), (tanh, torch.randn(2, 4)), (conv, torch.randn(2, 1, 7, 7))]


@pytest.mark.parametrize("case", range(3))
def test_grouped_equals_per_edge_reference(case):
    model, inputs = _nets()[case]
    graph = export(model, inputs)
    chain = neural_chain(graph)
    grouped = grouped_geometry(chain_geometry(chain))
    stats = EngineStats()
    position = {}
    for k, link in enumerate(chain.links):
        for e, (s, d) in enumerate(zip(link.src.tolist(), link.dst.tolist())):
            position[(s + chain.starts[k], d + chain.starts[k + 1])] = (k, e)
    pairs = graph.edge_index.t().tolist()
    with ExactSolverPool(1) as pool:
        for sample in range(inputs.size(0)):
            kappa, _, _ = grouped_sample_curvature(grouped, graph.activation[:, sample], 0.9, pool.submit, stats=stats)
            expected = reference_curvature(graph, sample, alpha=0.9)
            for e, value in expected.items():
                k, local = position[tuple(pairs[e])]
                assert float(kappa[k][local]) == pytest.approx(value, abs=1e-9)
    assert stats.certified > 0  # the shared-problem certificates settle some edges without an LP


def test_classes_by_neighbour_set():
    model, inputs = _nets()[2]
    geometry = chain_geometry(neural_chain(export(model, inputs)))
    # conv 2->4 with groups=2 on a 4x4 map -> 3x3: a target's predecessors are its group's 2 x 2 x 1
    # window, so classes = positions x groups = 9 x 2.
    assert side_classes(geometry.before[2]).count == 18
