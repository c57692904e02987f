"""Surgeries for :func:`graphcurv.flow.ricci_flow`: which edges to cut during the flow.

A surgery is any function ``surgery(lengths, curvature) -> keep`` over the edges still
in the graph. Ni et al. (2019) cut the edges the flow has stretched most: after a
few iterations, inter-community bridges are far longer than intra-community edges.

>>> import torch
>>> cut_longest(0.25)(torch.tensor([1.0, 2.0, 3.0, 10.0]), torch.zeros(4)).tolist()
[True, True, True, False]
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from graphcurv.errors import GraphcurvError


def cut_longest(fraction: float = 0.02):
    """A surgery that cuts the longest ``fraction`` of the edges (at least one when
    ``fraction > 0``; ties at the threshold are cut together)."""
    if not 0 <= fraction < 1:
        raise GraphcurvError(f"the fraction of edges to cut must be in [0, 1), got {fraction!r}")

    def surgery(lengths: Tensor, curvature: Tensor) -> Tensor:
        count = math.ceil(fraction * lengths.numel()) if fraction > 0 else 0
        if count == 0:
            return torch.ones_like(lengths, dtype=torch.bool)
        threshold = torch.topk(lengths, count).values[-1]
        return lengths < threshold

    return surgery


def cut_above(length: float):
    """A surgery that cuts every edge longer than ``length`` (mean length is 1 during the flow)."""
    if not length > 0:
        raise GraphcurvError(f"the cut-off length must be positive, got {length!r}")

    def surgery(lengths: Tensor, curvature: Tensor) -> Tensor:
        return lengths <= length

    return surgery
