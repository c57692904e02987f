"""Node partitions and ground truth as plain arrays, checked against a graph.

A partition (a clustering) is one integer label per node; only equality of labels
matters, so labels may be renumbered ``0 .. k - 1`` in sorted order of their
values (:func:`compact_labels`). Ground truth is the same, except that
a negative label means "unknown" (see :mod:`graphcurv.analyses.communities.metrics`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError

__all__ = ["compact_labels", "graph_arcs", "ground_truth", "node_labels"]


def node_labels(labels: Any, num_nodes: int, what: str = "labels") -> np.ndarray:
    """``labels`` as an int64 array with one entry per node, or a clear error.

    >>> node_labels(torch.tensor([3, 3, 5]), 3).tolist()
    [3, 3, 5]
    """
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    array = np.asarray(labels)
    if array.ndim != 1 or array.shape[0] != num_nodes:
        raise GraphcurvError(
            f"{what} must hold one label per node ({num_nodes} nodes), got an array of shape {tuple(array.shape)}"
        )
    if array.dtype.kind not in "iub":
        if array.dtype.kind != "f" or not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise GraphcurvError(f"{what} must be integers, got values of type {array.dtype}")
    return array.astype(np.int64)


def compact_labels(labels: np.ndarray) -> np.ndarray:
    """Renumber labels ``0 .. k - 1`` (in sorted order of the original values).

    >>> compact_labels(np.array([7, -2, 7, 4])).tolist()
    [2, 0, 2, 1]
    """
    return np.unique(labels, return_inverse=True)[1].reshape(-1).astype(np.int64)


def graph_arcs(data: Data) -> tuple[np.ndarray, np.ndarray, int]:
    """Sources, targets (int64 numpy, CPU) and node count of a graph that has edges.

    Raises:
        GraphcurvError: no ``edge_index``, no nodes or no edges (communities and
            modularity need at least one edge).
    """
    edge_index = data.get("edge_index")
    if not isinstance(edge_index, torch.Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise GraphcurvError("the graph needs an edge_index tensor of shape (2, E)")
    num_nodes = int(data.num_nodes or 0)
    if num_nodes == 0 or edge_index.size(1) == 0:
        raise GraphcurvError(
            f"the graph is empty ({num_nodes} nodes, {edge_index.size(1)} edges): "
            "communities need a graph with at least one edge"
        )
    src, dst = edge_index.detach().cpu().numpy().astype(np.int64)
    return src, dst, num_nodes


def ground_truth(data: Data, truth: str | Any | None = None) -> np.ndarray | None:
    """The ground-truth labels of ``data`` that ``truth`` names, or ``None`` when there are none.

    Args:
        truth: ``None``: ``data.y`` when the graph has one (else no ground truth);
            a string: the node attribute of that name, where ``data.y_name`` (e.g.
            ``"club"``, ``"value"``, ``"block"``) also names ``data.y``; an array or
            tensor: the labels themselves.

    Raises:
        GraphcurvError: a named attribute that the graph does not have, or labels
            that are not one integer per node.
    """
    num_nodes = int(data.num_nodes or 0)
    if truth is None:
        y = data.get("y")
        return None if y is None else node_labels(y, num_nodes, "data.y (ground truth)")
    if isinstance(truth, str):
        if truth == data.get("y_name") and data.get("y") is not None:
            return node_labels(data.y, num_nodes, f"ground truth {truth!r}")
        value = data.get(truth)
        if value is None:
            available = [
                key
                for key in data.keys()
                if isinstance(data[key], torch.Tensor) and data[key].dim() == 1 and data[key].numel() == num_nodes
            ]
            if data.get("y_name") and data.get("y") is not None:
                available.append(str(data.y_name))
            shown = ", ".join(sorted(set(available))) or "none"
            raise GraphcurvError(f"the graph has no node attribute {truth!r} for ground truth (it has: {shown})")
        return node_labels(value, num_nodes, f"ground truth {truth!r}")
    return node_labels(truth, num_nodes, "ground truth")
