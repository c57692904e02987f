"""graphcurv.neural.memory: the peak-memory estimate of neural curvature and the up-front refusal."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch_geometric.data import Data

import graphcurv.neural.curvature.engine as engine
import graphcurv.neural.memory as memory
from graphcurv.datasets import load_dataset
from graphcurv.errors import InsufficientMemoryError
from graphcurv.models import load_model
from graphcurv.neural import export
from graphcurv.neural.curvature import neural_curvature
from graphcurv.neural.memory import MemoryWarning, check_memory, estimate_memory

LENET = "datasets/models/lenet-relu-fashion-mnist.pt"
GiB = 1 << 30


def _huge() -> Data:
    """A MobileNet-sized chain (3x32x32 -> three 32x32x32 convs -> 10) with stand-in activations:
    only the layer and connection lists, no edges."""
    sizes = [3072, 32768, 32768, 32768, 10]
    return Data(
        layer_ptr=[0, *itertools.accumulate(sizes)],
        connection_source=[0, 1, 2, 3],
        connection_target=[1, 2, 3, 4],
        connection_num_edges=[884736, 9437184, 9437184, 327680],
        activation=torch.zeros(1).expand(sum(sizes), 100),  # no memory behind it
    )


def test_a_huge_graph_is_refused_with_the_estimate_before_any_allocation(monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the engine started working")

    monkeypatch.setattr(engine, "neural_chain", no_work)
    monkeypatch.setattr(memory, "available_memory", lambda: 4 * GiB)
    with pytest.raises(InsufficientMemoryError) as caught:
        neural_curvature(_huge(), 0.9, workers=1)
    assert str(caught.value) == (  # docs/reliability.md, "Memory"
        "neural curvature of this graph needs at least 6.2 GiB (per-input arrays 3.4 GiB, one input's closed forms "
        "1.5 GiB, per-edge arrays 1.3 GiB) at its peak, at most 21.7 GiB with its open transport problems and local "
        "distances, but only 4.0 GiB is available: use a smaller model or smaller input images (fewer edges), or a "
        "machine with more memory"
    )


def test_the_distance_matrices_are_counted_exactly():
    estimate = estimate_memory(_huge())
    dense = 32768 * 10 + 32768 * 10  # D2 and D3 into the logits: dense
    local = 3072 * 32768 + 32768 * 32768 + 3072 * 32768  # the rest keep only their finite entries
    assert estimate.parts["distance matrices"] == 8 * dense
    assert estimate.parts[memory.LOCAL] == memory.LOCAL_BYTES * local
    assert estimate.certain <= estimate.total


@pytest.fixture(scope="module")
def lenet_graph():
    model = load_model(LENET)
    return export(model, load_dataset("fashion-mnist", split="val").images[:10])


def test_the_bundled_lenet_is_not_refused(lenet_graph):
    estimate = check_memory(lenet_graph, workers=2)
    # measured peak (main process plus 2 workers, 10 inputs): 288-345 MiB; docs/reliability.md
    assert 200 << 20 < estimate.total < 700 << 20
    assert estimate.largest() == "building the distances"


def test_only_the_data_dependent_part_warns(lenet_graph):
    estimate = estimate_memory(lenet_graph, workers=1)
    if estimate.total == estimate.certain:  # the open problems are not in the peak stage
        estimate = estimate_memory(lenet_graph, workers=1, mean=True)
    between = (estimate.certain + estimate.total) // 2
    with pytest.warns(MemoryWarning, match="may need about"):
        check_memory(lenet_graph, available=max(between, estimate.certain), workers=1, mean=True)
    with pytest.raises(InsufficientMemoryError, match="is available"):
        check_memory(lenet_graph, available=estimate.certain // 2, workers=1)


def test_a_dag_counts_the_layer_pairs_the_engine_builds():
    skip = Data(
        layer_ptr=[0, 4, 8, 12], connection_source=[0, 1, 0], connection_target=[1, 2, 2], connection_num_edges=[16] * 3
    )
    # by hand: only the edges 0 -> 1 and 1 -> 2 have a far side, and both need D(layer 0, layer 2),
    # whose path through layer 1 is its only connection (a two-hop product): one 4 x 4 matrix
    assert estimate_memory(skip).parts["distance matrices"] == 8 * 4 * 4
    assert check_memory(Data(), available=0).total == 0


def test_the_grouped_engine_holds_at_most_its_look_ahead_and_queue():
    """The grouped engine's open problems are bounded by its look-ahead and the solver
    pool's queue (the constants mirror theirs), the per-edge engine's are not."""
    import inspect

    from graphcurv.neural.curvature.engine import KEEP_BYTES
    from graphcurv.transport.exact import ExactSolverPool

    assert memory.LOOK_AHEAD_BYTES == KEEP_BYTES
    assert memory.QUEUED_ENTRIES == inspect.signature(ExactSolverPool).parameters["queued_entries"].default
    grouped, per_edge = estimate_memory(_huge()), estimate_memory(_huge(), engine="per-edge")
    assert grouped.parts[memory.OPEN] == memory.GROUPED_OPEN_BYTES < per_edge.parts[memory.OPEN]
    assert grouped.certain == per_edge.certain
