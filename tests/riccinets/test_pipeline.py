import pytest
import torch

from graphcurv.datasets import load_dataset
from graphcurv.riccinets.compare import compare_pruning, summarise
from graphcurv.riccinets.pipeline import (
    NetworkStats,
    TrainSettings,
    build_network,
    candidate_evaluator,
    network_stats,
    prune_stages,
)
from graphcurv.riccinets.wiring import stage_graphs

HPARAMS = {"alpha": 0.5, "beta": 0.5, "gamma": 0.0, "delta": 0.5}
SETTINGS = TrainSettings(epochs=1, lr=0.05, batch_size=64, train_size=256)


@pytest.fixture(scope="module")
def digits():
    torch.set_num_threads(1)
    return load_dataset("digits", split="train"), load_dataset("digits", split="val")


def test_shares_by_hand():
    base, small = NetworkStats(10, 20, 1000, 5000), NetworkStats(8, 5, 600, 4000)
    assert small.shares(base) == {"edges_share": 0.25, "weights_share": 0.6, "flops_share": 0.8}


def test_alpha_one_keeps_every_edge(digits):
    """alpha = 1: every measure is a point mass, kappa = 0, the flow leaves all weights at 1: nothing is cut."""
    train, val = digits
    graphs = stage_graphs(2, 8, "ws", k=4, p=0.5, seed=0)
    base = network_stats(build_network(graphs, val, channels=4, head_channels=8, seed=0), val)
    evaluate = candidate_evaluator(graphs, train, val, channels=4, head_channels=8, settings=SETTINGS, base=base,
                                   iterations=3)  # fmt: skip
    candidate = evaluate({**HPARAMS, "alpha": 1.0})
    assert (candidate.edges_share, candidate.weights_share, candidate.flops_share) == (1.0, 1.0, 1.0)
    assert candidate.flops == base.flops and 0.0 <= candidate.accuracy <= 1.0


def test_candidate_shares_follow_the_cut(digits):
    train, val = digits
    graphs = stage_graphs(2, 8, "ws", k=4, p=0.5, seed=1)
    base = network_stats(build_network(graphs, val, channels=4, head_channels=8, seed=0), val)
    cuts = prune_stages(graphs, HPARAMS, iterations=3)
    evaluate = candidate_evaluator(graphs, train, val, channels=4, head_channels=8, settings=SETTINGS, base=base,
                                   iterations=3)  # fmt: skip
    candidate = evaluate(HPARAMS)
    kept = sum(c.pruned.kept_edges.numel() for c in cuts)
    assert candidate.edges_share == pytest.approx(kept / base.edges)
    assert candidate.edges_share < 1.0 and candidate.flops_share < 1.0


def test_comparison_matches_edge_counts_and_summarises(digits):
    train, val = digits
    graphs = stage_graphs(2, 8, "ws", k=4, p=0.5, seed=2)
    rows = compare_pruning(graphs, HPARAMS, train, val, channels=4, head_channels=8, settings=SETTINGS, seeds=(0, 1),
                           iterations=3, finetune_epochs=0)  # fmt: skip
    assert [r.method for r in rows] == ["unpruned", "riccinets", "magnitude"] * 2
    kept = sum(c.pruned.kept_edges.numel() for c in prune_stages(graphs, HPARAMS, iterations=3))
    for row in rows:
        if row.method == "unpruned":
            assert (row.edges_share, row.weights_share, row.flops_share) == (1.0, 1.0, 1.0)
        else:
            assert row.edges == kept  # magnitude keeps RicciNets' per-stage counts ("isolated" drops no kept edge)
        if row.method == "magnitude":
            assert row.one_shot_accuracy == row.accuracy  # no fine-tuning epochs
    summary = summarise(rows)
    riccinets = [r.accuracy for r in rows if r.method == "riccinets"]
    assert summary["riccinets"]["accuracy"] == pytest.approx(sum(riccinets) / 2)
    assert summary["riccinets"]["runs"] == 2
