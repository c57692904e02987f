import pytest
import torch

import graphcurv
from graphcurv.errors import GraphcurvError
from graphcurv.graphs import load_graph
from graphcurv.graphs.lengths import affinities_from_lengths, lengths_from_affinities


def test_affinity_is_the_reciprocal_length_and_back():
    length = torch.tensor([1.0, 2.0, 0.25, 3.0], dtype=torch.float64)
    affinity = affinities_from_lengths(length)
    assert affinity.tolist() == [1.0, 0.5, 4.0, 1.0 / 3.0]
    assert affinity.dtype == torch.float64
    assert torch.allclose(lengths_from_affinities(affinity), length, rtol=0, atol=1e-15)
    assert lengths_from_affinities(torch.tensor([0.5], dtype=torch.float32)).dtype == torch.float32


def test_unweighted_graph_has_unit_affinities():
    data = load_graph("karate")
    assert torch.equal(affinities_from_lengths(data.edge_weight), torch.ones_like(data.edge_weight))


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), float("nan")])
@pytest.mark.parametrize("function", [affinities_from_lengths, lengths_from_affinities])
def test_non_positive_or_non_finite_values_are_refused(function, bad):
    with pytest.raises(GraphcurvError, match="position 1"):
        function(torch.tensor([1.0, bad]))


def test_integer_tensors_are_refused():
    with pytest.raises(GraphcurvError, match="floating point"):
        affinities_from_lengths(torch.tensor([1, 2]))


def test_exported_at_top_level():
    for name in ("affinities_from_lengths", "lengths_from_affinities"):
        assert name in graphcurv.__all__
        assert getattr(graphcurv, name).__module__ == "graphcurv.graphs.lengths"
    assert graphcurv.affinities_from_lengths(torch.tensor([4.0])).item() == 0.25
