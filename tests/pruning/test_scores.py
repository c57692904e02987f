import pytest
import torch
from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.pruning import METHODS, load_curvature_scores, prune_masks, removal_order, score


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def _kappa(net: nn.Module) -> dict[str, torch.Tensor]:
    """Distinct curvature-like scores, one NaN (a weight no edge reads)."""
    first = torch.linspace(-2.0, 1.5, 12).reshape(4, 3)[torch.randperm(4, generator=torch.Generator().manual_seed(1))]
    second = torch.tensor([[0.3, -0.7, 2.0, 0.9], [float("nan"), 0.1, -1.1, 1.7]])
    return {"0.weight": first, "2.weight": second}


def test_magnitude_and_random():
    net = _net()
    magnitude = score(net, method="magnitude")
    assert torch.equal(magnitude["0.weight"], net[0].weight.detach().abs())
    a, b = score(net, method="random", seed=7), score(net, method="random", seed=7)
    c = score(net, method="random", seed=8)
    generator = torch.Generator().manual_seed(7)
    assert torch.equal(a["0.weight"], torch.rand(4, 3, generator=generator))
    assert torch.equal(a["2.weight"], torch.rand(2, 4, generator=generator))
    assert all(torch.equal(a[k], b[k]) for k in a) and not torch.equal(a["0.weight"], c["0.weight"])


def test_curvature_removes_the_largest_first_and_negative_first_is_the_reverse():
    net = _net()
    kappa = _kappa(net)
    positive = score(net, method="curvature", curvature=kappa)
    negative = score(net, method="curvature-negative", curvature=kappa)
    flat = torch.cat([k.reshape(-1) for k in kappa.values()])
    nan_position = int(torch.nonzero(torch.isnan(flat)))
    by_curvature = [int(i) for i in torch.argsort(torch.nan_to_num(flat, nan=-99.0), descending=True)]
    by_curvature.remove(nan_position)
    # the NaN entry (an exactly-zero weight) goes first in both orders, then largest / most negative kappa
    assert removal_order(positive).tolist() == [nan_position, *by_curvature]
    assert removal_order(negative).tolist() == [nan_position, *by_curvature[::-1]]
    masks = prune_masks(positive, 0.25)  # 5 of 20: the NaN, then kappa 2.0, 1.7, 1.5 and 1.5 - 3.5 / 11
    removed = flat[~torch.cat([m.reshape(-1) for m in masks.values()])]
    assert int(torch.isnan(removed).sum()) == 1
    assert sorted(removed[~torch.isnan(removed)].tolist()) == pytest.approx([1.5 - 3.5 / 11, 1.5, 1.7, 2.0])


def test_curvature_scores_must_fit_the_model():
    net = _net()
    with pytest.raises(GraphcurvError, match="no entry for 2.weight"):
        score(net, method="curvature", curvature={"0.weight": torch.zeros(4, 3)})
    with pytest.raises(GraphcurvError, match="shape"):
        score(net, method="curvature", curvature={"0.weight": torch.zeros(3, 4), "2.weight": torch.zeros(2, 4)})
    with pytest.raises(GraphcurvError, match="need data"):
        score(net, method="curvature")


def test_unknown_methods_and_options_are_refused():
    with pytest.raises(GraphcurvError, match="unknown pruning method 'obd'"):
        score(_net(), method="obd")
    with pytest.raises(GraphcurvError, match="unknown scoring option"):
        score(_net(), method="magnitude", temperature=3)
    assert score(_net(), method="Curvature_Negative", curvature=_kappa(_net()))
    assert {"curvature", "curvature-negative", "magnitude", "random", "snip", "synflow"} <= set(METHODS)


def test_scores_file_of_graphcurv_analyze(tmp_path):
    net = _net()
    kappa = _kappa(net)
    early = {k: v + 1 for k, v in kappa.items()}
    path = tmp_path / "scores.pt"
    payload = {"format": "graphcurv-curvature-scores", "alpha": 0.9, "samples": 20, "param_scores": kappa,
               "checkpoints": {1: early, 2: kappa}, "metadata": {}}  # fmt: skip
    torch.save(payload, path)
    loaded = load_curvature_scores(path)
    assert torch.allclose(loaded["2.weight"], kappa["2.weight"], equal_nan=True)
    assert torch.allclose(loaded["0.weight"], kappa["0.weight"])
    assert torch.allclose(load_curvature_scores(path, per_class=1)["0.weight"], early["0.weight"])
    with pytest.raises(GraphcurvError, match="after 5 inputs per class .* 1, 2"):
        load_curvature_scores(path, per_class=5)
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(GraphcurvError, match="not a graphcurv curvature scores file"):
        load_curvature_scores(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(GraphcurvError, match="not a readable curvature scores file"):
        load_curvature_scores(tmp_path / "junk.pt")
    with pytest.raises(GraphcurvError, match="no such curvature scores file"):
        load_curvature_scores(tmp_path / "missing.pt")


def test_curvature_magnitude_multiplies_the_percentile_ranks():
    net = nn.Sequential(nn.Linear(5, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[3.0, -1.0, 2.0, 0.0, -0.5]]))
    kappa = {"0.weight": torch.tensor([[2.0, -1.0, 0.5, float("nan"), 2.0]])}
    scores = score(net, method="curvature-magnitude", curvature=kappa)["0.weight"]
    # ranks of -kappa = [-2, 1, -0.5, (nan), -2]: the tie -2 shares (2 + 3) / 2; |w| = [3, 1, 2, 0, 0.5]
    curvature_rank = torch.tensor([2.5, 5.0, 4.0, 1.0, 2.5]) / 5
    magnitude_rank = torch.tensor([5.0, 3.0, 4.0, 1.0, 2.0]) / 5
    expected = curvature_rank * magnitude_rank
    expected[3] = -torch.inf  # no edge reads it: removed first
    assert torch.allclose(scores[0], expected.double())
    assert removal_order({"0.weight": scores}).tolist() == [3, 4, 0, 1, 2]
