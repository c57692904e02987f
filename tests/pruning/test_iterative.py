import pytest
import torch

from graphcurv.datasets import calibration_set, load_dataset
from graphcurv.errors import GraphcurvError
from graphcurv.pruning import compute_curvature_scores, prune_masks, pruned_copy, removal_count, score


def test_iterative_curvature_rescores_the_pruned_model(digits_mlp):
    val = load_dataset("digits", split="val")
    dense = compute_curvature_scores(digits_mlp, val, per_class=1, workers=1)
    ratio, total = 0.75, 64 * 16 + 16 * 10
    scores = score(digits_mlp, method="curvature-iterative", data=val, ratio=ratio, rounds=2, curvature=dense,
                   per_class=1, workers=1)  # fmt: skip
    # round 1: the dense model's largest curvature, 1 - 0.25 ** 0.5 = half of the weights
    first = prune_masks(score(digits_mlp, method="curvature", curvature=dense), 0.5)
    assert removal_count(total, 0.5) == 592
    for name, mask in first.items():
        assert torch.equal(torch.isinf(scores[name]), ~mask)  # removed in round 1: -inf, removed first
    # round 2: curvature of the half-pruned model, on the dense model's calibration inputs
    calibration = calibration_set(digits_mlp, val, 1)
    again = compute_curvature_scores(pruned_copy(digits_mlp, first), None, calibration=calibration, workers=1)
    for name, mask in first.items():
        assert torch.isnan(again[name][~mask]).all()  # pruned weights have no edge any more
        assert torch.allclose(scores[name][mask], -again[name][mask].double())
    final = prune_masks(scores, ratio)
    assert sum(int((~m).sum()) for m in final.values()) == removal_count(total, ratio)
    with pytest.raises(GraphcurvError, match="ratio"):
        score(digits_mlp, method="curvature-iterative", data=val, curvature=dense)
    with pytest.raises(GraphcurvError, match="rounds"):
        score(digits_mlp, method="curvature-iterative", data=val, ratio=0.5, rounds=0, curvature=dense)
