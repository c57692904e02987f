import pytest
import torch
from torch_geometric.data import Data

from graphcurv.curvature.summary import curvature_summary


def test_summary_counts_undirected_edges_once():
    # path 0-1-2-3 with curvatures (per undirected edge) -1, 0.5, 2
    ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    kappa = torch.tensor([-1.0, -1.0, 0.5, 0.5, 2.0, 2.0], dtype=torch.float64)
    s = curvature_summary(Data(edge_index=ei, num_nodes=4), kappa, top=2)
    assert s.edges == 3
    assert (s.minimum, s.median, s.maximum) == (-1.0, 0.5, 2.0)
    assert s.mean == pytest.approx(0.5)
    assert s.negative_share == pytest.approx(1 / 3)
    assert s.most_negative == [(0, 1, -1.0), (1, 2, 0.5)]
