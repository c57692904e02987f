r"""Modularity of a partition on a graph's topology: every edge counts 1.

``edge_weight`` in graphcurv is a *length* (a distance), not an affinity, and after
Ricci flow it is the flowed metric; neither is a strength of connection, so
modularity is scored on the topology alone, the same for every method compared.

With :math:`E` arcs (an undirected graph stores each edge as two arcs), :math:`A_c`
the number of arcs with both ends in community :math:`c`, and :math:`d^{out}_c`,
:math:`d^{in}_c` the sums of out- and in-degrees of its nodes,

.. math::

    Q = \sum_c \Big( \frac{A_c}{E} - \frac{d^{out}_c \, d^{in}_c}{E^2} \Big).

On an undirected graph (:math:`A_c = 2 L_c`, :math:`E = 2m`, :math:`d^{out} = d^{in}`)
this is Newman's :math:`\sum_c L_c / m - (D_c / 2m)^2`; on a directed graph it is the
Leicht-Newman directed modularity. Both equal ``networkx.community.modularity`` on
the same graph without weights.

>>> import torch
>>> from torch_geometric.data import Data
>>> ring = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3]])
>>> round(modularity(Data(edge_index=ring, num_nodes=4), [0, 0, 1, 1]), 6)  # 2 of 4 edges inside
0.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch_geometric.data import Data

from graphcurv.analyses.communities.labels import compact_labels, graph_arcs, node_labels

__all__ = ["modularity", "partition_modularity"]


def modularity(data: Data, labels: Any) -> float:
    """Modularity of the partition ``labels`` (one integer per node) on ``data``'s topology.

    Raises:
        GraphcurvError: an empty graph, or labels that are not one integer per node.
    """
    src, dst, num_nodes = graph_arcs(data)
    communities = compact_labels(node_labels(labels, num_nodes))
    out_degree = np.bincount(src, minlength=num_nodes)
    in_degree = np.bincount(dst, minlength=num_nodes)
    return partition_modularity(src, dst, communities, out_degree, in_degree)


def partition_modularity(
    src: np.ndarray, dst: np.ndarray, communities: np.ndarray, out_degree: np.ndarray, in_degree: np.ndarray
) -> float:
    """The formula of the module docstring, from arcs and labels ``0 .. k - 1`` (no checks).

    Degrees are passed in so that a sweep over many partitions computes them once.
    """
    num_arcs = src.size
    inside = np.count_nonzero(communities[src] == communities[dst])
    size = int(communities.max()) + 1
    out_sum = np.bincount(communities, weights=out_degree, minlength=size)
    in_sum = np.bincount(communities, weights=in_degree, minlength=size)
    return float(inside / num_arcs - np.dot(out_sum, in_sum) / num_arcs**2)
