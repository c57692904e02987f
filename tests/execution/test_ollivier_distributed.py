"""Exact Ollivier-Ricci through the execution layer equals the in-process values bit for bit,
also when a worker is SIGKILLed mid-run."""

from __future__ import annotations

import os
import signal

import networkx as nx
import pytest
import torch
from support import requires_module
from torch_geometric.utils import from_networkx, to_undirected

from graphcurv.curvature.ollivier import ollivier_ricci
from graphcurv.execution import DaskExecutor, LocalExecutor


def data_of(graph, weighted: bool = False):
    graph = nx.convert_node_labels_to_integers(graph)
    data = from_networkx(graph)
    if weighted:
        gen = torch.Generator().manual_seed(5)
        weight = 0.5 + torch.rand(data.edge_index.size(1), generator=gen, dtype=torch.float64)
        data.edge_index, data.edge_weight = to_undirected(data.edge_index, weight, reduce="min")
    else:
        data.edge_index = to_undirected(data.edge_index)
    return data


GRAPHS = {
    "karate": lambda: data_of(nx.karate_club_graph()),
    "ba300": lambda: data_of(nx.barabasi_albert_graph(300, 3, seed=3)),
    "ba200-weighted": lambda: data_of(nx.barabasi_albert_graph(200, 3, seed=4), weighted=True),
    "directed": lambda: data_of(nx.gnp_random_graph(60, 0.08, seed=6, directed=True)),
}


def assert_identical(result, expected):
    for name in ("edge_curvature", "node_curvature", "wasserstein", "distance"):
        got, want = getattr(result, name), getattr(expected, name)
        assert torch.equal(got.nan_to_num(7.0), want.nan_to_num(7.0)), name


@pytest.fixture(scope="module")
def dask_executor():
    requires_module("distributed")  # in CI (CI=true) a missing package fails, not skips
    with DaskExecutor(workers=2) as ex:
        yield ex


@pytest.fixture(params=["broadcast", "unit graphs"])
def shipping(request, monkeypatch):
    """Both ways the inputs reach Dask workers: broadcast whole, or each unit with its own part."""
    import graphcurv.curvature.chunk_units as chunk_units

    if request.param == "unit graphs":
        monkeypatch.setattr(chunk_units, "BROADCAST_BYTES", -1)
    return request.param


@pytest.mark.parametrize("name", list(GRAPHS))
def test_dask_cluster_gives_the_in_process_values(name, dask_executor, shipping):
    data = GRAPHS[name]()
    expected = ollivier_ricci(data, workers=1, max_entries=2**12)
    result = ollivier_ricci(data, executor=dask_executor, max_entries=2**12)
    assert_identical(result, expected)
    assert result.wasserstein.abs().sum() > 0


@pytest.mark.parametrize("workers", [1, 2])
def test_local_executor_gives_the_in_process_values(workers):
    data = GRAPHS["ba300"]()
    expected = ollivier_ricci(data, max_entries=2**12)
    with LocalExecutor(workers) as ex:
        assert_identical(ollivier_ricci(data, executor=ex, max_entries=2**12), expected)


def test_killed_worker_loses_no_result(shipping):
    requires_module("distributed")
    data = data_of(nx.barabasi_albert_graph(600, 3, seed=8))
    expected = ollivier_ricci(data, workers=1, max_entries=2**11)
    killed: list[int] = []
    with DaskExecutor(workers=2) as ex:
        pids = sorted(ex.worker_pids().values())

        def kill_one_worker(done, total, description):
            if 0 < done < total and not killed:  # mid-run: units pending or held by that worker
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        result = ollivier_ricci(data, executor=ex, max_entries=2**11, progress=kill_one_worker)
        after = set(ex.worker_pids().values())
    assert killed and killed[0] not in after
    assert_identical(result, expected)


@pytest.mark.parametrize("name", ["ba300", "directed"])
def test_sparse_key_fallback_of_the_local_hop_table(name, monkeypatch):
    import graphcurv.curvature.chunk_units as chunk_units

    data = GRAPHS[name]()
    expected = ollivier_ricci(data, workers=1, max_entries=2**12)
    monkeypatch.setattr(chunk_units, "DENSE_TABLE_ENTRIES", 0)  # every chunk uses sorted keys
    with LocalExecutor(1) as ex:
        assert_identical(ollivier_ricci(data, executor=ex, max_entries=2**12), expected)


def assert_same_flow(result, expected):
    assert torch.equal(result.edge_weight, expected.edge_weight)
    assert torch.equal(result.curvature_history.nan_to_num(7.0), expected.curvature_history.nan_to_num(7.0))
    assert result.iterations == expected.iterations


def test_ricci_flow_on_a_dask_cluster_gives_the_in_process_flow(dask_executor):
    from graphcurv.flow import ricci_flow

    data = GRAPHS["karate"]()
    expected = ricci_flow(data, iterations=4, workers=1)
    assert_same_flow(ricci_flow(data, iterations=4, executor=dask_executor), expected)
    assert not torch.equal(expected.edge_weight, torch.ones_like(expected.edge_weight))  # the flow moved


def test_ricci_flow_with_surgery_on_a_local_pool_gives_the_in_process_flow():
    from graphcurv.flow import ricci_flow
    from graphcurv.flow.surgery import cut_longest

    data = GRAPHS["ba200-weighted"]()
    options = dict(iterations=4, surgery=cut_longest(0.05), surgery_every=2)
    expected = ricci_flow(data, workers=1, **options)
    with LocalExecutor(2) as ex:
        result = ricci_flow(data, executor=ex, **options)
    assert_same_flow(result, expected)
    assert bool(torch.isinf(expected.edge_weight).any())  # the surgery cut edges
