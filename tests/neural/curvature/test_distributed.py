"""Neural curvature on an executor: inputs as units of work on a local pool or a Dask
cluster give the same scores, bit for bit, and the exact minima of the in-process engine."""

from __future__ import annotations

import pytest
import torch
from support import requires_module
from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.execution import DaskExecutor, LocalExecutor
from graphcurv.neural import export
from graphcurv.neural.curvature.engine import neural_curvature


def _conv_graph():
    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, stride=2),
        nn.ReLU(),
        nn.Conv2d(2, 3, 2, padding=1, dilation=2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(48, 4),
        nn.ReLU(),
        nn.Linear(4, 3),
    )
    return export(model, torch.randn(6, 1, 9, 9))


@pytest.fixture(scope="module")
def graph():
    return _conv_graph()


@pytest.fixture(scope="module")
def dask_executor():
    requires_module("distributed")  # in CI (CI=true) a missing package fails, not skips
    with DaskExecutor(workers=2) as ex:
        yield ex


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("exact", ["edges", "parameters"])
def test_a_dask_cluster_gives_the_local_pool_scores_bit_for_bit(graph, dask_executor, exact):
    labels = torch.tensor([0, 1, 0, 1, 0, 1])
    options = dict(labels=labels, checkpoints=(1, 2), exact=exact)
    with LocalExecutor(2) as ex:
        local = neural_curvature(graph, executor=ex, **options)
    remote = neural_curvature(graph, executor=dask_executor, **options)
    assert _same(local.edge_score, remote.edge_score)
    assert local.param_scores.keys() == remote.param_scores.keys()
    assert all(torch.equal(local.param_scores[n], remote.param_scores[n]) for n in local.param_scores)
    for per_class in (1, 2):
        got, want = remote.checkpoints[per_class], local.checkpoints[per_class]
        assert all(torch.equal(got[n], want[n]) for n in want)
    assert remote.samples == 6


def test_executor_scores_are_the_exact_minima_of_the_in_process_engine(graph):
    expected = neural_curvature(graph, workers=1)
    with LocalExecutor(2) as ex:
        edges = neural_curvature(graph, executor=ex)
        parameters = neural_curvature(graph, executor=ex, exact="parameters")
    for got, want in zip(edges.edge_score, expected.edge_score):
        assert torch.allclose(got, want, rtol=0, atol=1e-12)
    for name, want in expected.param_scores.items():
        assert torch.allclose(parameters.param_scores[name], want, rtol=0, atol=1e-12), name
        assert torch.allclose(edges.param_scores[name], want, rtol=0, atol=1e-12), name
    live = sum(int((score < 2.0).sum()) for score in expected.edge_score)
    assert live > 50  # the net has live edges whose minima were solved, not only dead ones


def test_the_mean_aggregate_on_an_executor_equals_the_in_process_one(graph):
    expected = neural_curvature(graph, workers=1, mean=True)
    with LocalExecutor(2) as ex:
        result = neural_curvature(graph, executor=ex, mean=True)
    for got, want in zip(result.edge_mean, expected.edge_mean):
        assert torch.allclose(got, want, rtol=0, atol=1e-12)


def test_a_run_on_an_executor_resumes_from_its_state_file(graph, tmp_path):
    state = tmp_path / "state.pt"
    labels = torch.tensor([0, 1, 0, 1, 0, 1])

    def stop_after_two(done, total, description):
        if done == 2:
            raise KeyboardInterrupt

    with LocalExecutor(2) as ex:
        full = neural_curvature(graph, executor=ex, labels=labels, checkpoints=(1, 2))
        with pytest.raises(KeyboardInterrupt):
            neural_curvature(
                graph, executor=ex, labels=labels, checkpoints=(1, 2), state=state, progress=stop_after_two
            )
        resumed = neural_curvature(graph, executor=ex, labels=labels, checkpoints=(1, 2), state=state)
    assert _same(resumed.edge_score, full.edge_score)
    assert all(torch.equal(resumed.param_scores[n], full.param_scores[n]) for n in full.param_scores)


def test_the_per_edge_engine_is_refused_on_an_executor(graph):
    with LocalExecutor(1) as ex, pytest.raises(GraphcurvError, match="grouped"):
        neural_curvature(graph, executor=ex, engine="per-edge")
