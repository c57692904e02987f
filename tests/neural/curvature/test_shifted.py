"""Border-class distance tables (weights are shared): hand-worked values, every layer pair
bit for bit against the pair enumeration, and the fall back where windows are not shared."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from graphcurv.neural import export
from graphcurv.neural.curvature import distances as distances_module
from graphcurv.neural.curvature import neural_chain
from graphcurv.neural.curvature.shifted import ShiftMatrix, length_table
from tests.neural.curvature.test_dag import _case


class Conv1dChain(nn.Module):
    """Two 1-d kernels [1, 0.5] (lengths 1 and 2) on 4 inputs: 4 -> 3 -> 2."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv1d(1, 1, 2, bias=False), nn.Conv1d(1, 1, 2, bias=False)
        self.fc = nn.Linear(2, 1)
        with torch.no_grad():
            self.a.weight[:] = torch.tensor([1.0, 0.5])
            self.b.weight[:] = torch.tensor([1.0, 0.5])

    def forward(self, x):
        return self.fc(torch.relu(self.b(torch.relu(self.a(x)))).flatten(1))


class Windows(nn.Module):
    """Padding, stride, groups, dilation and max pooling: several border classes."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(2, 3, 3, padding=1)
        self.c2 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.c3 = nn.Conv2d(4, 4, 2, padding=1, groups=2)
        self.pool = nn.MaxPool2d(2, stride=1)
        self.c4 = nn.Conv2d(4, 2, 3, padding=2, dilation=2)
        self.fc = nn.Linear(2 * 4 * 4, 3)

    def forward(self, x):
        x = torch.relu(self.c2(torch.relu(self.c1(x))))
        x = self.pool(torch.tanh(self.c3(x)))
        return self.fc(torch.relu(self.c4(x)).flatten(1))


class BorderAverage(nn.Module):
    """An average pool that divides by the cells inside the image: lengths vary at the border."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 2, 3)
        self.pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.c2 = nn.Conv2d(2, 2, 2)
        self.fc = nn.Linear(2 * 3 * 3, 2)

    def forward(self, x):
        return self.fc(torch.relu(self.c2(self.pool(torch.relu(self.c1(x))))).flatten(1))


def test_a_two_layer_1d_chain_by_hand():
    chain = neural_chain(export(Conv1dChain(), torch.randn(2, 1, 4)))
    table = distances_module.LayerPairDistances(chain).shifted(0, 2)
    # i = o + k1 + k2: offset 0 is 1 + 1, offset 1 min(1 + 2, 2 + 1), offset 2 is 2 + 2
    assert table.table.flatten().tolist() == [2.0, 3.0, 4.0]
    inf = float("inf")
    assert table.rows(0, 4).tolist() == [[2.0, inf], [3.0, 2.0], [4.0, 3.0], [inf, 4.0]]


def _models():
    torch.manual_seed(0)
    return {
        "windows": (Windows(), torch.randn(2, 2, 7, 7)),
        "conv-residual": _case("conv-residual"),
        "two-branch": _case("two-branch"),
        "border-average": (BorderAverage(), torch.randn(2, 1, 6, 6)),
    }


@pytest.mark.parametrize("name", ["windows", "conv-residual", "two-branch", "border-average"])
def test_every_table_equals_the_pair_enumeration_bit_for_bit(name):
    model, inputs = _models()[name]
    chain = neural_chain(export(model, inputs))
    pairs = distances_module.LayerPairDistances(chain)
    compared = 0
    for x in range(chain.num_layers):
        for y in range(x + 1, chain.num_layers):
            table = pairs.shifted(x, y)
            if table is None or not pairs.reaches(x, y):
                continue
            assert torch.equal(table.rows(0, table.shape[0]), pairs.between(x, y))
            compared += 1
    expected = {"windows": 15, "conv-residual": 15, "two-branch": 3, "border-average": 2}
    assert compared == expected[name]  # which pairs have tables: every all-window path, nothing else


def test_several_border_classes_and_reads_entry_by_entry():
    model, inputs = _models()["windows"]
    chain = neural_chain(export(model, inputs))
    pairs = distances_module.LayerPairDistances(chain)
    table = pairs.shifted(0, 3)
    assert table.class_counts() != (1, 1)  # padding: positions at the border differ
    dense = pairs.between(0, 3)
    g = torch.Generator().manual_seed(1)
    r = torch.randint(0, dense.size(0), (200,), generator=g)
    c = torch.randint(0, dense.size(1), (200,), generator=g)
    assert torch.equal(table[r, c], dense[r, c])
    assert (table[r.numpy()[:, None], c.numpy()[None, :]] == dense.numpy()[r.numpy()][:, c.numpy()]).all()


def test_varying_lengths_are_not_a_shared_window():
    model, inputs = _models()["border-average"]
    chain = neural_chain(export(model, inputs))
    pool = next(link for link in chain.links if link.source == 1)
    assert pool.grid is not None  # it has a window, but the border cells weigh more
    assert length_table(pool, chain.shapes[1], chain.shapes[2]) is None
    conv = chain.links[0]
    assert length_table(conv, chain.shapes[0], chain.shapes[1]) is not None


def test_the_identity():
    t = ShiftMatrix.identity((2, 3))
    assert t.rows(0, 6).tolist() == torch.where(torch.eye(6, dtype=torch.bool), 0.0, float("inf")).tolist()
