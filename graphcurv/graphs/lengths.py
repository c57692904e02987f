r"""Edge lengths (graphcurv) and edge affinities (PyG layers): converting between them.

In graphcurv ``data.edge_weight`` is an edge *length* :math:`\ell_e`: a distance, larger
means farther apart (Ollivier-Ricci transports mass along it, Ricci flow stretches and
shrinks it). PyG's message-passing layers (``GCNConv``, ``GraphConv``, ``SAGEConv``'s
``edge_weight``...) read ``edge_weight`` as an *affinity* :math:`a_e`: a coupling
strength, larger means more of the neighbour's message. The two are converted by the
reciprocal,

.. math::
    a_e = \frac{1}{\ell_e}, \qquad \ell_e = \frac{1}{a_e},

so an unweighted graph (all lengths 1) has all affinities 1, and a length that doubles
(e.g. a bottleneck edge stretched by Ricci flow) halves the edge's weight in a GCN.
Both directions are the same formula; they are two names so that code says which way it
converts. Values must be finite and strictly positive (graphcurv's own graphs always
are: see :func:`graphcurv.graphs.validate_graph`).

>>> import torch
>>> affinities_from_lengths(torch.tensor([1.0, 2.0, 0.5]))
tensor([1.0000, 0.5000, 2.0000])
>>> lengths_from_affinities(affinities_from_lengths(torch.tensor([4.0]))).item()
4.0
"""

from __future__ import annotations

import torch
from torch import Tensor

from graphcurv.errors import GraphcurvError


def affinities_from_lengths(length: Tensor) -> Tensor:
    r"""Affinities :math:`a_e = 1 / \ell_e` of edge lengths (``graphcurv``'s ``edge_weight``).

    The result, on the input's device and dtype, is what PyG layers expect as
    ``edge_weight``, e.g. ``GCNConv()(x, edge_index, affinities_from_lengths(data.edge_weight).float())``.
    Raises :class:`~graphcurv.errors.GraphcurvError` for a length that is not finite and
    strictly positive.
    """
    return _reciprocal(length, "length")


def lengths_from_affinities(affinity: Tensor) -> Tensor:
    r"""Edge lengths :math:`\ell_e = 1 / a_e` of affinities (the ``edge_weight`` PyG layers read).

    Use it to bring a weighted PyG graph into graphcurv: ``data.edge_weight =
    lengths_from_affinities(data.edge_weight)`` before computing curvature. Raises
    :class:`~graphcurv.errors.GraphcurvError` for an affinity that is not finite and
    strictly positive.
    """
    return _reciprocal(affinity, "affinity")


def _reciprocal(values: Tensor, name: str) -> Tensor:
    if not torch.is_tensor(values) or not values.is_floating_point():
        raise GraphcurvError(f"edge {name}s must be a floating point tensor")
    bad = ~(torch.isfinite(values) & (values > 0))
    if bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        raise GraphcurvError(
            f"edge {name} {float(values[first])} at position {first}: {name}s must be finite and strictly positive"
        )
    return values.reciprocal()
