import pytest
import torch
from torch import nn
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError
from graphcurv.riccinets.flops import count_flops, count_parameters, flop_breakdown
from graphcurv.riccinets.network import RandWire


def dag(edges, n):
    return Data(edge_index=torch.tensor(edges, dtype=torch.long).reshape(-1, 2).t().contiguous(), num_nodes=n)


TRIANGLE = [(0, 1), (0, 2), (1, 2)]


def tiny(edges, n):
    torch.manual_seed(0)
    return RandWire([dag(edges, n)], channels=4, in_channels=3, num_classes=10, head_channels=8)


def conv(side_out, c_out, c_in_per_group, kernel):
    return 2 * side_out * side_out * c_out * c_in_per_group * kernel * kernel


def test_conv_linear_and_batch_norm_closed_forms():
    assert count_flops(nn.Conv2d(3, 4, 3, padding=1), (1, 3, 8, 8)) == 2 * 64 * 4 * 3 * 9
    depthwise = nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4, bias=False)
    assert count_flops(depthwise, (1, 4, 8, 8)) == 2 * 16 * 4 * 1 * 9
    assert count_flops(nn.Linear(5, 7), (1, 5)) == 2 * 5 * 7
    bn = nn.BatchNorm2d(4)
    assert count_flops(bn, (1, 4, 6, 6)) == 2 * 4 * 36
    assert bn.training  # the mode is restored


def test_tiny_randwire_total_and_aggregation_flops_by_hand():
    model = tiny(TRIANGLE, 3)  # 16 x 16 input: conv1 -> 8 x 8, conv2 -> 4 x 4, stage -> 2 x 2
    stem = conv(8, 2, 3, 3) + 2 * 2 * 64 + conv(4, 2, 1, 3) + conv(4, 4, 2, 1) + 2 * 4 * 16
    node = conv(2, 4, 1, 3) + conv(2, 4, 4, 1) + 2 * 4 * 4  # depthwise + pointwise + BN on 4 x 2 x 2
    elements = 4 * 2 * 2
    aggregation = 2 * elements * 1 + 2 * elements * 2 + 2 * elements * 1  # node 1 (k=1), node 2 (k=2), mean of 1
    head = conv(2, 8, 4, 1) + 2 * 8 * 4 + 2 * 8 * 10
    breakdown = flop_breakdown(model, (1, 3, 16, 16))
    assert breakdown["aten.mm"] == aggregation == 128
    assert count_flops(model, (1, 3, 16, 16)) == stem + 3 * node + aggregation + head


def test_removing_an_edge_saves_exactly_its_aggregation_term():
    full, cut = tiny(TRIANGLE, 3), tiny([(0, 1), (1, 2)], 3)  # node 2 loses its input from node 0
    saved = count_flops(full, (1, 3, 16, 16)) - count_flops(cut, (1, 3, 16, 16))
    assert saved == 2 * 4 * 2 * 2 > 0


def test_removing_a_node_lowers_the_flops():
    four, three = tiny([(0, 1), (0, 2), (1, 3), (2, 3)], 4), tiny([(0, 1), (1, 2)], 3)
    assert count_flops(three, (1, 3, 16, 16)) < count_flops(four, (1, 3, 16, 16))


def test_default_input_is_a_32_pixel_image_with_the_models_channels():
    model = tiny(TRIANGLE, 3)
    assert count_flops(model) == count_flops(model, (1, 3, 32, 32))


def test_parameter_count_by_hand():
    model = tiny(TRIANGLE, 3)
    stem = 3 * 2 * 9 + 2 * 2 + 2 * 9 + 2 * 4 + 2 * 4
    node = 4 * 9 + 4 * 4 + 2 * 4
    head = 4 * 8 + 2 * 8 + 8 * 10 + 10
    assert count_parameters(model) == stem + 3 * node + 3 + head == 413


def test_bad_inputs_are_rejected():
    with pytest.raises(GraphcurvError, match="batch of one"):
        count_flops(nn.Linear(5, 7), (4, 5))
    with pytest.raises(GraphcurvError, match="input_shape"):
        count_flops(nn.Linear(5, 7))
    with pytest.raises(GraphcurvError, match="cannot run"):
        count_flops(nn.Linear(5, 7), (1, 6))
