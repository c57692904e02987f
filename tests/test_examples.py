"""examples/pyg_curvature.py: curvature as a PyG transform, in DataLoader workers, used by a GCN."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import torch
from torch_geometric.loader import DataLoader

from graphcurv.curvature.ollivier import ollivier_ricci

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pyg_curvature.py"


def _example():
    spec = importlib.util.spec_from_file_location("pyg_curvature", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_curvature_computed_in_loader_workers_is_the_main_process_curvature():
    example = _example()
    dataset = example.curvature_dataset(count=6, seed=1)
    loader = DataLoader(dataset, batch_size=3, num_workers=2)
    seen = 0
    for batch in loader:
        assert batch.edge_curvature.dtype == torch.float32 and batch.node_curvature.dtype == torch.float32
        for graph in batch.to_data_list():
            expected = ollivier_ricci(graph, alpha=0.5, workers=1)
            assert torch.allclose(graph.edge_curvature.double(), expected.edge_curvature, atol=1e-6, rtol=0)
            assert bool((graph.edge_curvature < 0).any() or (graph.edge_curvature > 0).any())
            seen += 1
    assert seen == 7  # the karate club and six generated graphs
    weighted = [g for g in dataset.graphs if not bool((g.edge_weight == 1).all())]
    assert weighted  # some graphs carry lengths, read as lengths by the curvature


def test_the_example_trains_its_curvature_gcn_with_loader_workers():
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), "--epochs", "20", "--loader-workers", "2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    losses = [float(line.split()[-1]) for line in run.stdout.splitlines() if line.startswith("epoch")]
    assert len(losses) == 20
    assert losses[-1] < 0.6 * losses[0]
    accuracy = float(run.stdout.split("training accuracy")[1].split()[0])
    assert accuracy >= 0.8  # chance is 0.5: curvature tells community graphs from random ones
    assert "Traceback" not in run.stderr
