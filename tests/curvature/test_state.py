"""A resumable Ollivier-Ricci run (graphcurv.curvature.state): an interrupted run keeps its
solved chunks, a rerun with the same state file solves only the rest and gives the values of
an uninterrupted in-process run bit for bit; a state file of another run is refused."""

from __future__ import annotations

import networkx as nx
import pytest
import torch
from torch_geometric.utils import from_networkx, to_undirected

from graphcurv.curvature.ollivier import ollivier_ricci
from graphcurv.curvature.state import state_progress
from graphcurv.errors import GraphcurvError
from graphcurv.execution import LocalExecutor

FIELDS = ("edge_curvature", "node_curvature", "wasserstein", "distance")


def ba(n: int = 300, m: int = 3, seed: int = 3, weighted: bool = False):
    data = from_networkx(nx.barabasi_albert_graph(n, m, seed=seed))
    if weighted:
        weight = 0.5 + torch.rand(data.edge_index.size(1), generator=torch.Generator().manual_seed(1))
        data.edge_index, data.edge_weight = to_undirected(data.edge_index, weight.double(), reduce="min")
    return data


def stop_after(edges: int):
    """A progress callback that interrupts the run once ``edges`` edges are solved."""

    def progress(done, total, description=""):
        if edges <= done < total:
            raise KeyboardInterrupt

    return progress


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("workers", [1, 2])
def test_an_interrupted_run_resumes_to_the_uninterrupted_values(tmp_path, weighted, workers):
    data, state = ba(weighted=weighted), tmp_path / "run.pt"
    expected = ollivier_ricci(data, workers=1, max_entries=2**11)
    with pytest.raises(KeyboardInterrupt), LocalExecutor(workers) as ex:
        ollivier_ricci(data, executor=ex, max_entries=2**11, state=state, progress=stop_after(1))
    done, chunks = state_progress(state)
    assert 0 < done < chunks  # the interrupt kept what had come back, not everything
    reported = []
    result = ollivier_ricci(data, max_entries=2**11, state=state, progress=lambda d, t, s="": reported.append(d))
    for name in FIELDS:
        assert torch.equal(getattr(result, name).nan_to_num(7.0), getattr(expected, name).nan_to_num(7.0)), name
    assert 0 < reported[0] < reported[-1] == expected.wasserstein.numel() // 2  # resumed, not restarted
    assert state_progress(state) == (chunks, chunks)


def test_a_finished_state_file_gives_the_values_without_solving(tmp_path):
    data, state = ba(), tmp_path / "run.pt"
    first = ollivier_ricci(data, max_entries=2**11, state=state)
    calls = []
    again = ollivier_ricci(data, max_entries=2**11, state=state, progress=lambda d, t, s="": calls.append((d, t)))
    assert torch.equal(first.edge_curvature, again.edge_curvature)
    assert calls == [(calls[0][1], calls[0][1])]  # everything was already solved


@pytest.mark.parametrize(
    "other",
    [dict(data=ba(seed=4)), dict(alpha=0.3), dict(measure="uniform"), dict(max_entries=2**12)],
    ids=["graph", "alpha", "measure", "chunks"],
)
def test_a_state_file_of_another_run_is_refused(tmp_path, other):
    state = tmp_path / "run.pt"
    ollivier_ricci(ba(), max_entries=2**11, state=state)
    options = dict(data=ba(), max_entries=2**11) | other
    with pytest.raises(GraphcurvError, match="another graph, measure or alpha"):
        ollivier_ricci(options.pop("data"), state=state, **options)


def test_a_foreign_or_truncated_state_file_is_refused(tmp_path):
    state = tmp_path / "run.pt"
    state.write_bytes(b"not a state file")
    with pytest.raises(GraphcurvError, match="not a readable curvature state file"):
        ollivier_ricci(ba(), state=state)
    torch.save({"format": "something-else"}, state)
    with pytest.raises(GraphcurvError, match="not a graphcurv curvature state file"):
        ollivier_ricci(ba(), state=state)


def test_a_state_file_needs_the_exact_solver(tmp_path):
    with pytest.raises(GraphcurvError, match="exact"):
        ollivier_ricci(ba(), solver="sinkhorn", state=tmp_path / "run.pt")
