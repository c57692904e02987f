r"""The activation-softmax measures of neural curvature, per node and calibration sample.

For node i with neighbours N(i) on one side (its predecessors for the source end of an
edge, its successors for the target end) and activations a in [0, 1]:

.. math::
    \mu_i = \alpha\,\delta_i + (1 - \alpha) \sum_{p \in N(i),\, a_p > 0} q_p\, \delta_p, \qquad
    q_p = \frac{e^{-1/a_p^2}}{\sum_{p'} e^{-1/a_{p'}^2}}

(float64; if every term underflows the active neighbours share 1 - alpha uniformly; with
no active neighbour the measure is delta_i). Input nodes (source side) and output nodes
(target side) have no side at all: delta_i.

Truncation: neighbour masses below ``threshold`` are moved onto the centre i. Moving
mass m from p to i changes W1 by at most m * max_c |C[i, c] - C[p, c]|, and along
p -> i -> ... and i -> j -> ... that is at most m * (d(i, j) + max d(p, i) + max d(j, s));
:func:`side_measures` returns the moved mass and the longest neighbour edge per centre
so the caller can bound the curvature error of every edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from graphcurv.neural.curvature.chain import ChainConnection


@dataclass(frozen=True)
class SideLayout:
    """CSR of one side: centre c's neighbours are ``node[ptr[c]:ptr[c+1]]`` (local ids)."""

    ptr: Tensor
    node: Tensor
    length: Tensor

    @property
    def degree(self) -> Tensor:
        return self.ptr[1:] - self.ptr[:-1]


@dataclass(frozen=True)
class SideMeasures:
    """One sample's measures of every centre of a layer, truncated, as CSR.

    ``centre_mass[c]``; kept neighbour entries ``node``/``mass`` in ``ptr`` order;
    ``moved[c]`` the mass moved onto the centre, ``longest[c]`` the longest edge to a
    neighbour with positive mass (0 if none).
    """

    centre_mass: Tensor
    ptr: Tensor
    node: Tensor
    mass: Tensor
    moved: Tensor
    longest: Tensor


def side_layout(link: ChainConnection, num_centres: int, side: str) -> SideLayout:
    """Predecessors (``side="in"``: centres are the link's targets) or successors
    (``side="out"``: centres are its sources)."""
    centre, other = (link.dst, link.src) if side == "in" else (link.src, link.dst)
    order = torch.argsort(centre, stable=True)
    ptr = torch.cat([centre.new_zeros(1), torch.bincount(centre, minlength=num_centres).cumsum(0)])
    return SideLayout(ptr, other[order], link.length[order])


def side_measures(layout: SideLayout, activation: Tensor, alpha: float, threshold: float) -> SideMeasures:
    """Measures of every centre for one sample; ``activation`` of the neighbour layer."""
    centres = layout.ptr.numel() - 1
    owner = torch.repeat_interleave(torch.arange(centres, device=activation.device), layout.degree)
    a = activation[layout.node].double()
    active = a > 0
    raw = torch.where(active, torch.exp(-1.0 / torch.where(active, a, 1.0) ** 2), 0.0)
    total = _segment_sum(raw, owner, centres)
    count = _segment_sum(active.double(), owner, centres)
    uniform = (total[owner] == 0) & active  # every term underflowed: share uniformly
    share = torch.where(uniform, 1.0 / count[owner].clamp(min=1), raw / total[owner].clamp(min=1e-300))
    mass = (1.0 - alpha) * share
    has_side = count > 0
    keep = mass >= threshold
    moved = _segment_sum(torch.where(keep, 0.0, mass), owner, centres)
    longest = torch.zeros(centres, dtype=torch.float64, device=a.device).scatter_reduce(
        0, owner, torch.where(mass > 0, layout.length, 0.0), reduce="amax"
    )
    centre_mass = torch.where(has_side, alpha + moved, 1.0)
    kept_count = _segment_sum(keep.double(), owner, centres).long()
    ptr = torch.cat([kept_count.new_zeros(1), kept_count.cumsum(0)])
    return SideMeasures(centre_mass, ptr, layout.node[keep], mass[keep], moved, longest)


def point_masses(num_centres: int, device: torch.device) -> SideMeasures:
    """delta at every centre (input nodes as sources, output nodes as targets)."""
    zeros = torch.zeros(num_centres, dtype=torch.float64, device=device)
    empty = torch.zeros(0, dtype=torch.long, device=device)
    return SideMeasures(
        zeros + 1.0, torch.zeros(num_centres + 1, dtype=torch.long, device=device), empty, zeros[:0], zeros, zeros
    )


def _segment_sum(values: Tensor, owner: Tensor, size: int) -> Tensor:
    return torch.zeros(size, dtype=torch.float64, device=values.device).index_add_(0, owner, values.double())
