"""PyG transforms that write curvature into a graph, for ``torch_geometric.transforms.Compose``.

Each transform computes curvature with the functional core (:mod:`graphcurv.curvature`)
and writes two attributes, following PyG's conventions (``BaseTransform.forward``; the
one shallow copy is ``BaseTransform.__call__``'s, so ``transform(data)`` leaves ``data``
unchanged while ``transform.forward(data)`` writes into it):

* ``data[attr_name]`` (default ``"edge_curvature"``): one value per column of
  ``data.edge_index``;
* ``data[node_attr_name]`` (default ``"node_curvature"``; ``None`` writes none): one
  value per node, the mean curvature of the node's incident edges (NaN for a node
  without edges), which is :func:`graphcurv.curvature.ollivier_ricci`'s
  ``node_curvature``. graphcurv has no separate node-level Forman curvature, so the
  Forman transforms use the same mean of incident edge curvatures.

Both are cast to ``dtype``: by default the floating dtype of ``data.x`` when there is
one, else ``torch.get_default_dtype()`` (float32), so that they go straight into PyG
layers, e.g. ``GATConv(..., edge_dim=1)(x, edge_index, edge_attr=data.edge_curvature[:, None])``.
The curvature itself is computed as the functional core computes it (float64 for
Ollivier-Ricci) and only then cast.

``repr(transform)`` names every setting (PyG compares the repr of a dataset's
``pre_transform`` with the one it processed the dataset with, so two different settings
must never print alike), and evaluating it rebuilds an equal transform.

Edge weights. In graphcurv ``data.edge_weight`` is an edge *length* (a distance: 1.0
when unweighted), read as such by every curvature here; PyG's layers (``GCNConv``,
``GraphConv``, ...) read ``edge_weight`` as an *affinity* (a coupling strength). Convert
with :func:`graphcurv.affinities_from_lengths` (``1 / length``) before passing a
graphcurv ``edge_weight`` to a PyG layer, and with :func:`graphcurv.lengths_from_affinities`
before computing curvature on a weighted PyG graph.

>>> import torch
>>> from torch_geometric.data import Data
>>> from torch_geometric.transforms import Compose
>>> ring = Data(edge_index=torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3]]), num_nodes=4)
>>> out = Compose([OllivierRicci(alpha=0.5), FormanRicci(attr_name="forman", node_attr_name=None)])(ring)
>>> out.edge_curvature.tolist(), out.edge_curvature.dtype
([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], torch.float32)
>>> out.node_curvature.tolist(), out.forman.tolist()
([0.5, 0.5, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
>>> FormanRicci(dtype=torch.float64)
FormanRicci(dtype=torch.float64, attr_name='edge_curvature', node_attr_name='node_curvature')
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from graphcurv.curvature.forman import forman_curvature
from graphcurv.curvature.ollivier import node_curvature, ollivier_ricci
from graphcurv.errors import GraphcurvError
from graphcurv.measures import Measure


def output_dtype(data: Data, dtype: torch.dtype | None = None) -> torch.dtype:
    """The dtype the transforms write: ``dtype`` if given (floating point), else the dtype of
    ``data.x`` if it is a floating tensor, else ``torch.get_default_dtype()``.

    >>> import torch
    >>> from torch_geometric.data import Data
    >>> output_dtype(Data(x=torch.zeros(2, 3, dtype=torch.float16))), output_dtype(Data(x=torch.zeros(2, dtype=torch.long)))
    (torch.float16, torch.float32)
    """
    if dtype is not None:
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise GraphcurvError(f"dtype must be a floating point torch dtype, not {dtype!r}")
        return dtype
    x = getattr(data, "x", None)
    if torch.is_tensor(x) and x.is_floating_point():
        return x.dtype
    return torch.get_default_dtype()


class _CurvatureTransform(BaseTransform):
    """Writes ``edge`` and ``node`` curvature under the configured names, in the output dtype."""

    def __init__(
        self, dtype: torch.dtype | None, attr_name: str, node_attr_name: str | None, settings: dict[str, Any]
    ) -> None:
        output_dtype(Data(), dtype)  # a bad dtype fails here, not on the first graph
        if not attr_name or attr_name == node_attr_name:
            raise GraphcurvError("attr_name must be a non-empty name different from node_attr_name")
        self.dtype, self.attr_name, self.node_attr_name = dtype, attr_name, node_attr_name
        self._settings = {**settings, "dtype": dtype, "attr_name": attr_name, "node_attr_name": node_attr_name}

    def _curvature(self, data: Data) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def forward(self, data: Data) -> Data:
        edge, node = self._curvature(data)
        dtype = output_dtype(data, self.dtype)
        data[self.attr_name] = edge.to(dtype)
        if self.node_attr_name is not None:
            data[self.node_attr_name] = node.to(dtype)
        return data

    def __repr__(self) -> str:
        arguments = ", ".join(f"{name}={value!r}" for name, value in self._settings.items())
        return f"{self.__class__.__name__}({arguments})"


class OllivierRicci(_CurvatureTransform):
    """Ollivier-Ricci curvature (:func:`graphcurv.curvature.ollivier_ricci`) as a transform.

    The curvature settings (``alpha``, ``measure``, ``base``, ``exp_power``, ``solver``,
    ``tol``, ``directed``, ``workers``, ``max_entries``) are those of
    :func:`~graphcurv.curvature.ollivier_ricci`; ``data.edge_weight``, if present, holds
    edge *lengths* (see :func:`graphcurv.affinities_from_lengths` for PyG's affinities).
    Inside a ``DataLoader(num_workers > 0)`` worker the exact solver runs in that worker
    (a daemonic process may not start solver processes of its own).

    Args:
        dtype: dtype of the written attributes (default: ``data.x``'s floating dtype, else
            ``torch.get_default_dtype()``).
        attr_name: the edge attribute written (default ``"edge_curvature"``).
        node_attr_name: the node attribute written, the mean over incident edges
            (default ``"node_curvature"``; ``None``: none).

    >>> OllivierRicci(alpha=0.3, solver="sinkhorn", measure="uniform")  # doctest: +NORMALIZE_WHITESPACE
    OllivierRicci(alpha=0.3, measure='uniform', base=2.718281828459045, exp_power=2.0, solver='sinkhorn',
        tol=0.0001, directed=None, workers=None, max_entries=None, dtype=None, attr_name='edge_curvature',
        node_attr_name='node_curvature')
    """

    def __init__(
        self,
        alpha: float = 0.5,
        *,
        measure: str | Measure = "exp",
        base: float = math.e,
        exp_power: float = 2.0,
        solver: str = "exact",
        tol: float = 1e-4,
        directed: bool | None = None,
        workers: int | None = None,
        max_entries: int | None = None,
        dtype: torch.dtype | None = None,
        attr_name: str = "edge_curvature",
        node_attr_name: str | None = "node_curvature",
    ) -> None:
        self.options = dict(
            measure=measure,
            base=base,
            exp_power=exp_power,
            solver=solver,
            tol=tol,
            directed=directed,
            workers=workers,
            max_entries=max_entries,
        )
        self.alpha = alpha
        super().__init__(dtype, attr_name, node_attr_name, {"alpha": alpha, **self.options})

    def _curvature(self, data: Data) -> tuple[Tensor, Tensor]:
        result = ollivier_ricci(data, alpha=self.alpha, **self.options)
        return result.edge_curvature, result.node_curvature


class _FormanTransform(_CurvatureTransform):
    _method = ""

    def __init__(
        self,
        *,
        dtype: torch.dtype | None = None,
        attr_name: str = "edge_curvature",
        node_attr_name: str | None = "node_curvature",
    ) -> None:
        super().__init__(dtype, attr_name, node_attr_name, {})

    def _curvature(self, data: Data) -> tuple[Tensor, Tensor]:
        edge = forman_curvature(data, self._method, dtype=torch.float64)
        return edge, node_curvature(data.edge_index, edge, data.num_nodes, directed=False)


class FormanRicci(_FormanTransform):
    """1-d Forman curvature (:func:`graphcurv.curvature.forman`), F = 4 - deg(x) - deg(y) on
    unweighted graphs; ``edge_weight`` holds lengths. ``node_curvature``: the mean over
    incident edges. Options as for :class:`OllivierRicci` (``dtype``, ``attr_name``,
    ``node_attr_name``)."""

    _method = "forman"


class AugmentedFormanRicci(_FormanTransform):
    """Augmented Forman curvature (:func:`graphcurv.curvature.augmented_forman`),
    F = 4 - deg(x) - deg(y) + 3 triangles(x, y) on unweighted graphs; ``edge_weight`` holds
    lengths. ``node_curvature``: the mean over incident edges. Options as for
    :class:`OllivierRicci` (``dtype``, ``attr_name``, ``node_attr_name``)."""

    _method = "augmented"


class BalancedFormanRicci(_FormanTransform):
    """Balanced Forman curvature (:func:`graphcurv.curvature.balanced_forman`, Topping et al.
    2022), unweighted graphs only. ``node_curvature``: the mean over incident edges. Options
    as for :class:`OllivierRicci` (``dtype``, ``attr_name``, ``node_attr_name``)."""

    _method = "balanced"
