import math

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from graphcurv.analyses.communities import (
    adjusted_rand_index,
    clustering_agreement,
    ground_truth,
    normalized_mutual_information,
)
from graphcurv.errors import GraphcurvError


def test_hand_worked_values():
    # truth {0,1} {2,3}; labels split the second group: {0,1} {2} {3}.
    # ARI: index = C(2,2) = 1, row pairs 1 + 1 = 2, column pairs 1, expected 2 * 1 / C(4,2) = 1/3,
    # max (2 + 1) / 2 = 3/2: (1 - 1/3) / (3/2 - 1/3) = 4/7.
    # NMI: the labels refine the truth, so I = H(truth) = ln 2; H(labels) = 1.5 ln 2;
    # arithmetic normalisation: ln 2 / ((ln 2 + 1.5 ln 2) / 2) = 0.8.
    truth, labels = [0, 0, 1, 1], [0, 0, 1, 2]
    assert adjusted_rand_index(truth, labels) == pytest.approx(4 / 7)
    assert normalized_mutual_information(truth, labels) == pytest.approx(0.8)
    assert clustering_agreement(torch.tensor(truth), np.array(labels)) == pytest.approx((4 / 7, 0.8))


def test_renaming_labels_changes_nothing():
    truth = [0, 0, 0, 1, 1, 2, 2, 2]
    labels = [5, 5, 9, 9, 9, 1, 1, 1]
    renamed = [{5: 40, 9: -3, 1: 7}[x] for x in labels]
    assert adjusted_rand_index(truth, labels) == pytest.approx(adjusted_rand_index(truth, renamed))
    assert normalized_mutual_information(truth, labels) == pytest.approx(normalized_mutual_information(truth, renamed))
    assert adjusted_rand_index(truth, [3, 3, 3, 0, 0, 1, 1, 1]) == 1.0


def test_unknown_truth_is_left_out():
    truth = [0, 0, 1, 1, -1, -1]
    labels = [0, 0, 1, 2, 5, 5]
    assert adjusted_rand_index(truth, labels) == pytest.approx(4 / 7)
    assert normalized_mutual_information(truth, labels) == pytest.approx(0.8)


def test_bad_inputs():
    with pytest.raises(GraphcurvError, match=r"one label per node \(4 nodes\)"):
        adjusted_rand_index([0, 0, 1, 1], [0, 1, 1])
    with pytest.raises(GraphcurvError, match="no labelled node"):
        normalized_mutual_information([-1, -1], [0, 1])
    with pytest.raises(GraphcurvError, match="integers"):
        adjusted_rand_index([0, 1], [0.5, 1])
    with pytest.raises(GraphcurvError, match="one label per node"):
        adjusted_rand_index([[0, 1]], [0, 1])
    with pytest.raises(GraphcurvError, match="integers"):
        adjusted_rand_index([0, math.nan], [0, 1])


def test_ground_truth_lookup():
    data = Data(edge_index=torch.tensor([[0], [1]]), num_nodes=3, y=torch.tensor([0, 1, 1]), y_name="club")
    data.team = torch.tensor([2, 2, 0])
    assert ground_truth(data).tolist() == [0, 1, 1]
    assert ground_truth(data, "club").tolist() == [0, 1, 1]
    assert ground_truth(data, "team").tolist() == [2, 2, 0]
    assert ground_truth(data, [1, 0, 0]).tolist() == [1, 0, 0]
    assert ground_truth(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2)) is None
    with pytest.raises(GraphcurvError, match=r"no node attribute 'colour'.*club.*team"):
        ground_truth(data, "colour")
    with pytest.raises(GraphcurvError, match="one label per node"):
        ground_truth(data, [0, 1])
