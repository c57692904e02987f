r"""Edges that share their transport structure: the groups of the grouped engine.

The measure of a source centre i spreads over pred(i), that of a target centre j over
succ(j), with masses that depend only on the activations of those neighbours. So
centres with the *same neighbour set* have the same measure for every input: in a dense
layer every unit has the same predecessors (one class for the whole layer); in a conv
layer (groups = 1) every channel at one spatial position has the same receptive field
(one class per position); grouped convs, pruned weights and DAGs give more classes. The
classes are found from the graph itself (hashing the sorted neighbour lists, then
checking every member against its class representative), so nothing here assumes a
layer type.

An edge (i -> j) belongs to the group (class of i, class of j). All edges of a group
share both spread measures and the whole P x S block of ground costs (D3); they
differ only in d(i, j), the row D2[i, S] and the column D2[P, j]
(:mod:`~graphcurv.neural.curvature.certificates`). Everything here is input-independent
and computed once per run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from graphcurv.neural.curvature.measures import SideLayout

_HASH_SEED = 20261205


@dataclass(frozen=True)
class SideClasses:
    """Centres with identical neighbour sets: ``of[c]`` the class of centre c,
    ``representative[k]`` one centre of class k."""

    of: np.ndarray
    representative: np.ndarray

    @property
    def count(self) -> int:
        return int(self.representative.size)


@dataclass(frozen=True)
class ConnectionGroups:
    """The edges of one connection ordered by group: group g holds the edges
    ``order[ptr[g]:ptr[g+1]]``, whose sources are in class ``source_class[g]`` and
    targets in class ``target_class[g]``."""

    sources: SideClasses
    targets: SideClasses
    order: np.ndarray
    ptr: np.ndarray
    source_class: np.ndarray
    target_class: np.ndarray

    @property
    def num_groups(self) -> int:
        return int(self.source_class.size)


def side_classes(layout: SideLayout) -> SideClasses:
    """Classes of the centres of ``layout`` by neighbour set (order-insensitive).

    >>> import torch
    >>> from graphcurv.neural.curvature.measures import SideLayout
    >>> layout = SideLayout(torch.tensor([0, 2, 4, 5]), torch.tensor([1, 0, 0, 1, 2]), torch.ones(5))
    >>> side_classes(layout).of.tolist()
    [0, 0, 1]
    """
    ptr = layout.ptr.cpu().numpy().astype(np.int64)
    node = layout.node.cpu().numpy().astype(np.int64)
    centres = ptr.size - 1
    degree = np.diff(ptr)
    owner = np.repeat(np.arange(centres), degree)
    node = _sorted_within(owner, node)  # each centre's neighbours sorted
    keys = np.random.default_rng(_HASH_SEED).integers(0, 2**63 - 1, size=int(node.max(initial=0)) + 1, dtype=np.int64)
    with np.errstate(over="ignore"):
        signature = np.zeros(centres, dtype=np.int64)
        np.add.at(signature, owner, keys[node] * 3 + 1)
    _, first, of = np.unique(np.stack([signature, degree], 1), axis=0, return_index=True, return_inverse=True)
    of = of.reshape(-1)
    # Check every member against its representative (a hash collision would split off).
    rep = first[of]
    position = np.arange(node.size) - ptr[owner]
    same = (degree[rep][owner] == degree[owner]) & (node == node[np.minimum(ptr[rep][owner] + position, node.size - 1)])
    bad = np.unique(owner[~same])
    if bad.size:  # pragma: no cover - needs a 64-bit hash collision
        of = of.copy()
        of[bad] = of.max() + 1 + np.arange(bad.size)
        _, first, of = np.unique(of, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # classes numbered by first appearance
    relabel = np.empty_like(order)
    relabel[order] = np.arange(order.size)
    return SideClasses(relabel[of], first[order])


def _sorted_within(owner: np.ndarray, node: np.ndarray) -> np.ndarray:
    """``node`` sorted within each run of equal ``owner`` (``owner`` ascending), by one
    sort of the keys owner * width + node; none when they are sorted already (layouts
    built in window order are).

    >>> _sorted_within(np.array([0, 0, 1, 1, 1]), np.array([3, 1, 2, 0, 2])).tolist()
    [1, 3, 0, 2, 2]
    """
    width = int(node.max(initial=0)) + 1
    key = owner * width + node
    if key.size > 1 and not bool((key[1:] >= key[:-1]).all()):
        key = np.sort(key)
    return key % width


def connection_groups(src: Tensor, dst: Tensor, sources: SideClasses, targets: SideClasses) -> ConnectionGroups:
    """Order the edges (src[e] -> dst[e]) by (class of source, class of target)."""
    s, d = src.cpu().numpy(), dst.cpu().numpy()
    key = sources.of[s].astype(np.int64) * targets.count + targets.of[d]
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if ordered.size else np.zeros(0, np.int64)
    ptr = np.r_[starts, ordered.size].astype(np.int64)
    group_key = ordered[starts]
    return ConnectionGroups(sources, targets, order, ptr, group_key // targets.count, group_key % targets.count)


def layout_neighbours(layout: SideLayout, centre: int) -> tuple[Tensor, Tensor]:
    """Neighbour ids and edge lengths of one centre."""
    a, b = int(layout.ptr[centre]), int(layout.ptr[centre + 1])
    return layout.node[a:b], layout.length[a:b]


def as_long(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.int64))
