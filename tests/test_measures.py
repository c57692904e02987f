import math
import warnings

import pytest
import torch

from graphcurv.errors import GraphcurvError
from graphcurv.measures import (
    edge_mass_measure,
    exp_power_measure,
    node_mass_measure,
    resolve_measure,
    uniform_measure,
)

# A star 0 -> {1, 2, 3} with lengths 1, 2, 3, plus 3 -> 0 (so node 0 has an in-neighbour).
EI = torch.tensor([[0, 0, 0, 3], [1, 2, 3, 0]])
LEN = torch.tensor([1.0, 2.0, 3.0, 1.0], dtype=torch.float64)


def test_exp_power_by_hand():
    self_mass, edge_mass = exp_power_measure(EI, LEN, 4, alpha=0.25, side="out")
    raw = [math.exp(-1), math.exp(-4), math.exp(-9)]
    expected = [0.75 * r / sum(raw) for r in raw]
    assert edge_mass[:3].tolist() == pytest.approx(expected, rel=1e-14)
    assert edge_mass[3].item() == pytest.approx(0.75)  # node 3 has one out-neighbour
    # nodes 1 and 2 have no out-neighbour: they keep all their mass
    assert self_mass.tolist() == [0.25, 1.0, 1.0, 0.25]


def test_in_side_groups_by_target():
    self_mass, edge_mass = uniform_measure(EI, None, 4, alpha=0.5, side="in")
    # node 0 has one predecessor (3); nodes 1, 2, 3 one each (0)
    assert edge_mass.tolist() == [0.5, 0.5, 0.5, 0.5]
    assert self_mass.tolist() == [0.5, 0.5, 0.5, 0.5]


def test_measures_are_probability_measures():
    for measure in (uniform_measure, exp_power_measure):
        self_mass, edge_mass = measure(EI, LEN, 4, alpha=0.3, side="out")
        totals = self_mass.clone().index_add_(0, EI[0], edge_mass)
        assert torch.allclose(totals, torch.ones(4, dtype=torch.float64))
        assert (edge_mass >= 0).all()


def test_uniform_fallback_when_kernel_underflows():
    long = torch.tensor([50.0, 60.0, 70.0, 1.0], dtype=torch.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, edge_mass = exp_power_measure(EI, long, 4, alpha=0.5, side="out")
    assert edge_mass[:3].tolist() == pytest.approx([0.5 / 3] * 3)
    assert any("uniformly" in str(w.message) for w in caught)


def test_user_masses():
    _, by_edge = edge_mass_measure(torch.tensor([1.0, 3.0, 0.0, 2.0]))(EI, None, 4, alpha=0.0, side="out")
    assert by_edge.tolist() == pytest.approx([0.25, 0.75, 0.0, 1.0])
    # node 0 spreads over 1, 2, 3 by their masses 1, 1, 2; node 3's only neighbour (0) has
    # mass 0, so the uniform fallback gives it everything (with a warning)
    with pytest.warns(RuntimeWarning, match="uniformly"):
        _, by_node = node_mass_measure(torch.tensor([0.0, 1.0, 1.0, 2.0]))(EI, None, 4, alpha=0.0, side="out")
    assert by_node.tolist() == pytest.approx([0.25, 0.25, 0.5, 1.0])
    _, incoming = node_mass_measure(torch.tensor([1.0, 0.0, 0.0, 3.0]))(EI, None, 4, alpha=0.0, side="in")
    assert incoming.tolist() == pytest.approx([1.0, 1.0, 1.0, 1.0])  # one predecessor each
    with pytest.raises(GraphcurvError, match="non-negative"):
        edge_mass_measure(torch.tensor([1.0, -1.0, 0.0, 0.0]))(EI, None, 4, alpha=0.0, side="out")


def test_bad_arguments():
    with pytest.raises(GraphcurvError, match="alpha"):
        uniform_measure(EI, None, 4, alpha=-0.1, side="out")
    with pytest.raises(GraphcurvError, match="side"):
        uniform_measure(EI, None, 4, alpha=0.1, side="sideways")
    with pytest.raises(GraphcurvError, match="unknown measure"):
        resolve_measure("gaussian")
