r"""Removing edges from a stage DAG without leaving dangling nodes.

In a randomly wired stage a node with no predecessor reads the stage input and a node
with no successor feeds the stage output. After edges are pruned, a node that *had*
inputs may have none left, and one that had outputs may have none. Two policies:

* ``"repair"``: no node is removed. Such nodes are fed from the stage input, or feed
  the stage output, by the rule above (every node stays on a path input -> output).
* ``"isolated"`` (default): nodes left with no edge at all are removed (they would
  only be a parallel branch from the stage input to its output, which is what the
  public code meant to drop); the others are repaired as above.
* ``"remove"``: such nodes are removed with all their edges, repeatedly (a removal can
  strand the next node), so at the end a node without predecessors was an input node
  of the original graph and one without successors an output node. If nothing is
  left, :class:`~graphcurv.errors.GraphcurvError` is raised.

Surviving nodes are relabelled in their original order, so every edge keeps
``src < dst`` and its direction (the public code's relabelling can flip edges) and the
graph stays a DAG in topological labelling.

>>> import torch
>>> from torch_geometric.data import Data
>>> g = Data(edge_index=torch.tensor([[0, 0, 1, 2], [1, 2, 3, 3]]), num_nodes=4)
>>> out = remove_edges(g, torch.tensor([True, True, False, True]), dangling="remove")
>>> out.graph.edge_index.tolist(), out.node_map.tolist()
([[0, 1], [1, 2]], [0, -1, 1, 2])
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import degree

from graphcurv.errors import GraphcurvError
from graphcurv.riccinets.wiring import check_dag

DANGLING = ("isolated", "remove", "repair")


class PrunedGraph(NamedTuple):
    """The pruned DAG, the original ids of its edges (column order) and each original node's new label or -1."""

    graph: Data
    kept_edges: Tensor
    node_map: Tensor


def remove_edges(graph: Data, keep: Tensor, dangling: str = "isolated") -> PrunedGraph:
    """Keep the edges where ``keep`` is True; handle dangling nodes by ``dangling`` (module docstring)."""
    check_dag(graph)
    if dangling not in DANGLING:
        raise GraphcurvError(f"dangling must be one of {', '.join(DANGLING)}, got {dangling!r}")
    src, dst = graph.edge_index
    n = int(graph.num_nodes)
    keep = torch.as_tensor(keep, dtype=torch.bool, device=src.device)
    if keep.shape != src.shape:
        raise GraphcurvError(f"keep must have one entry per edge ({src.numel()}), got {tuple(keep.shape)}")
    alive = torch.ones(n, dtype=torch.bool, device=src.device)
    if dangling == "isolated":
        had_edge = (degree(src, n) + degree(dst, n)) > 0
        alive = ~had_edge | ((degree(src[keep], n) + degree(dst[keep], n)) > 0)
    if dangling == "remove":
        had_input = degree(dst, n) > 0
        had_output = degree(src, n) > 0
        while True:
            keep = keep & alive[src] & alive[dst]
            starved = had_input & (degree(dst[keep], n) == 0)
            stranded = had_output & (degree(src[keep], n) == 0)
            gone = alive & (starved | stranded)
            if not bool(gone.any()):
                break
            alive &= ~gone
    if not bool(alive.any()):
        raise GraphcurvError("pruning left no path from the stage input to the stage output (every node removed)")
    node_map = torch.full((n,), -1, dtype=torch.long, device=src.device)
    node_map[alive] = torch.arange(int(alive.sum()), device=src.device)
    kept = keep.nonzero().flatten()
    pruned = Data(edge_index=node_map[graph.edge_index[:, kept]], num_nodes=int(alive.sum()))
    if getattr(graph, "wiring", None):
        pruned.wiring = dict(graph.wiring)
    return PrunedGraph(pruned, kept, node_map)


def stage_roles(graph: Data) -> tuple[Tensor, Tensor]:
    """Boolean masks of the nodes reading the stage input (no predecessor) and feeding its output (no successor)."""
    n = int(graph.num_nodes)
    return degree(graph.edge_index[1], n) == 0, degree(graph.edge_index[0], n) == 0
