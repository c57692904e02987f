"""PyG transforms that write curvature into a graph, for ``torch_geometric.transforms.Compose``.

Each transform computes a per-edge curvature with the functional core and stores it
as ``data.edge_curvature`` (aligned with ``data.edge_index``); Ollivier-Ricci also
stores ``data.node_curvature``.

>>> import torch
>>> from torch_geometric.data import Data
>>> from torch_geometric.transforms import Compose
>>> ring = Data(edge_index=torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3]]), num_nodes=4)
>>> Compose([OllivierRicci(alpha=0.5)])(ring).edge_curvature.tolist()
[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
"""

from __future__ import annotations

import copy
from typing import Any

from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from graphcurv.curvature.ollivier import ollivier_ricci


class OllivierRicci(BaseTransform):
    """Ollivier-Ricci curvature (:func:`graphcurv.curvature.ollivier_ricci`) as a transform.

    Keyword arguments are passed on unchanged (``measure``, ``solver``, ``tol``, ...).
    """

    def __init__(self, alpha: float = 0.5, **kwargs: Any) -> None:
        self.alpha = alpha
        self.kwargs = kwargs

    def forward(self, data: Data) -> Data:
        data = copy.copy(data)
        result = ollivier_ricci(data, alpha=self.alpha, **self.kwargs)
        data.edge_curvature = result.edge_curvature
        data.node_curvature = result.node_curvature
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(alpha={self.alpha})"


class _EdgeCurvature(BaseTransform):
    _function_name = ""

    def forward(self, data: Data) -> Data:
        from graphcurv.curvature.forman import augmented_forman, balanced_forman, forman

        functions = {"forman": forman, "augmented_forman": augmented_forman, "balanced_forman": balanced_forman}
        data = copy.copy(data)
        data.edge_curvature = functions[self._function_name](data)
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class FormanRicci(_EdgeCurvature):
    """1-d Forman curvature, F = 4 - deg(x) - deg(y) on unweighted graphs."""

    _function_name = "forman"


class AugmentedFormanRicci(_EdgeCurvature):
    """Augmented Forman curvature, F = 4 - deg(x) - deg(y) + 3 triangles(x, y)."""

    _function_name = "augmented_forman"


class BalancedFormanRicci(_EdgeCurvature):
    """Balanced Forman curvature (Topping et al. 2022)."""

    _function_name = "balanced_forman"
