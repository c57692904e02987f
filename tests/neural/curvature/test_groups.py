import numpy as np
import torch

from graphcurv.neural.curvature.groups import side_classes
from graphcurv.neural.curvature.measures import SideLayout


def _layout(neighbours: list[list[int]]) -> SideLayout:
    ptr = torch.tensor(np.r_[0, np.cumsum([len(n) for n in neighbours])], dtype=torch.long)
    node = torch.tensor([x for n in neighbours for x in n], dtype=torch.long)
    return SideLayout(ptr, node, torch.ones(node.numel(), dtype=torch.float64))


def test_classes_are_the_neighbour_sets_in_any_order():
    rng = np.random.default_rng(0)
    sets = [sorted(rng.choice(12, size=rng.integers(1, 6), replace=False).tolist()) for _ in range(8)]
    centres = [sets[k] for k in rng.integers(0, len(sets), size=60)]
    shuffled = [rng.permutation(n).tolist() for n in centres]  # not in window order
    classes = side_classes(_layout(shuffled))
    # independently: centres with the same set of neighbours, numbered by first appearance
    first: dict[frozenset, int] = {}
    want = [first.setdefault(frozenset(n), len(first)) for n in centres]
    assert classes.of.tolist() == want
    assert classes.count == len(first)
    assert [frozenset(centres[r]) for r in classes.representative] == list(first)
