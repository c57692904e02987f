import torch

from graphcurv.transport.problems import TransportProblems


def _three():
    return TransportProblems.from_dense(
        [
            (torch.tensor([1.0], dtype=torch.float64), torch.tensor([0.25, 0.75], dtype=torch.float64), torch.tensor([[1.0, 2.0]], dtype=torch.float64)),
            (torch.tensor([0.5, 0.5], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64), torch.tensor([[0.0], [3.0]])),
            (torch.tensor([0.2, 0.8], dtype=torch.float64), torch.tensor([0.6, 0.4], dtype=torch.float64), torch.tensor([[0.0, 1.0], [1.0, 0.0]])),
        ]
    )


def test_ragged_layout_has_no_padding():
    p = _three()
    assert p.sizes().tolist() == [[1, 2], [2, 1], [2, 2]]
    assert p.cost.numel() == 2 + 2 + 4
    a, b, m = p.dense(2)
    assert m.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert a.tolist() == [0.2, 0.8] and b.tolist() == [0.6, 0.4]


def test_select_reorders_and_subsets():
    p = _three()
    q = p.select(torch.tensor([2, 0]))
    assert q.sizes().tolist() == [[2, 2], [1, 2]]
    assert q.dense(1)[2].tolist() == [[1.0, 2.0]]
    assert q.dense(0)[0].tolist() == [0.2, 0.8]
