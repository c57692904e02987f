"""The one place where graph input is checked and normalised.

Every loader and converter in :mod:`graphcurv.graphs` ends with
:func:`validate_graph`, so a graph that reaches curvature code always satisfies
the graph convention: ``edge_index`` is a ``(2, E)`` long tensor, sorted by
(source, target) with no repeated arc, ``edge_weight`` is an ``(E,)`` float64
tensor of edge *lengths*, ``num_nodes`` is set explicitly, and an undirected
graph stores both directions of every edge with the same length.

Rules, in the order they are applied:

1. Structure. ``edge_index`` must be an integer tensor of shape ``(2, E)`` whose
   entries lie in ``0 .. num_nodes - 1``; ``edge_weight``, when present, must
   have shape ``(E,)``. Anything else raises :class:`GraphInputError`. A missing
   ``edge_weight`` means an unweighted graph (all lengths 1.0). ``num_nodes`` is
   taken from the data, or inferred as ``max(edge_index) + 1``.
2. Empty graphs. No nodes or no edges (also: nothing left after dropping
   self-loops) raises ``GraphInputError("empty graph ...")``.
3. Self-loops. ``self_loops="drop"`` (default) removes them and warns how many
   were dropped; ``self_loops="error"`` raises.
4. Lengths. Every remaining length must be finite and strictly positive: NaN,
   infinite, negative or zero lengths raise :class:`GraphInputError` naming the
   first offending edge ``(u, v)``, its value and how many edges are affected.
5. Duplicates. With ``undirected=False`` (keep the direction as stored), an arc
   ``(u, v)`` that occurs more than once is a duplicate. With
   ``undirected=True`` the graph is symmetrised, and an undirected edge
   ``{u, v}`` is a duplicate when it occurs more than once in one direction, or
   when its two directions carry different lengths; listing it once, or once in
   each direction with the same length, is normal. ``duplicates="min"``
   (default) merges duplicates into one edge with the smallest length and
   warns; ``duplicates="error"`` raises.
6. Isolated nodes are allowed and kept.

Other per-edge attributes (``edge_attr``, ``edge_curvature``, any tensor whose
first dimension is the number of edges) follow their edges: a merged edge keeps
the attributes of its shortest copy. Node attributes (``y``, ``x``,
``node_names``) and graph attributes (``name``, ``y_name``) are kept unchanged.
Warnings are :class:`GraphInputWarning` (a ``UserWarning``).

Example:

>>> import torch
>>> from torch_geometric.data import Data
>>> data = Data(edge_index=torch.tensor([[1, 0], [2, 1]]), num_nodes=4)
>>> clean = validate_graph(data, undirected=True)
>>> clean.edge_index.tolist(), clean.edge_weight.tolist(), clean.num_nodes
([[0, 1, 1, 2], [1, 0, 2, 1]], [1.0, 1.0, 1.0, 1.0], 4)
"""

from __future__ import annotations

import warnings
from typing import Literal

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphcurv.errors import GraphInputError

__all__ = ["GraphInputWarning", "validate_graph"]


class GraphInputWarning(UserWarning):
    """Input was normalised (self-loops dropped, duplicate edges merged)."""


def _fail_or_warn(fail: bool, error: str, warning: str) -> None:
    """Raise ``error`` when the caller asked for errors, else warn (at the caller of validate_graph)."""
    if fail:
        raise GraphInputError(error)
    warnings.warn(warning, GraphInputWarning, stacklevel=3)


def validate_graph(
    data: Data,
    *,
    undirected: bool = False,
    self_loops: Literal["drop", "error"] = "drop",
    duplicates: Literal["min", "error"] = "min",
) -> Data:
    """Check ``data`` against the graph convention and return a normalised copy.

    Args:
        data: the graph; it is not modified.
        undirected: symmetrise the graph (each edge stored in both directions with
            one length). ``False`` keeps the arcs as given: a graph that already
            stores both directions with equal lengths stays undirected, anything
            else is directed.
        self_loops: ``"drop"`` (warn) or ``"error"``.
        duplicates: ``"min"`` (merge, keep the smallest length, warn) or ``"error"``.

    Returns:
        A new :class:`~torch_geometric.data.Data` with coalesced ``edge_index``,
        float64 ``edge_weight`` and explicit ``num_nodes``.

    Raises:
        GraphInputError: for every rule in the module docstring.

    Example:

    >>> import torch
    >>> from torch_geometric.data import Data
    >>> g = validate_graph(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2), undirected=True)
    >>> g.edge_index.tolist(), g.edge_weight.tolist()
    ([[0, 1], [1, 0]], [1.0, 1.0])
    """
    if not isinstance(data, Data):
        raise GraphInputError(f"expected a torch_geometric.data.Data graph, got {type(data).__name__}")
    if self_loops not in ("drop", "error"):
        raise GraphInputError(f"self_loops must be 'drop' or 'error', not {self_loops!r}")
    if duplicates not in ("min", "error"):
        raise GraphInputError(f"duplicates must be 'min' or 'error', not {duplicates!r}")

    edge_index = _checked_edge_index(data)
    num_nodes = _num_nodes(data)
    num_edges = edge_index.size(1)
    names = _node_names(data, num_nodes)
    if num_nodes == 0 or num_edges == 0:
        raise GraphInputError(f"empty graph ({num_nodes} nodes, {num_edges} edges)")
    _check_range(edge_index, num_nodes, names)
    lengths = _checked_weight(data, num_edges, edge_index.device)

    row, col = edge_index
    weight = lengths
    graph = f"{data.name}: " if isinstance(data.get("name"), str) else ""  # warning prefix
    index = torch.arange(num_edges, device=edge_index.device)
    loops = row == col
    num_loops = int(loops.sum())
    if num_loops:
        node = _name(names, int(row[loops][0]))
        _fail_or_warn(
            self_loops == "error",
            f"{num_loops} self-loop(s), the first at node {node}",
            f"{graph}dropped {num_loops} self-loop(s) (the first at node {node})",
        )
        keep = ~loops
        row, col, weight, index = row[keep], col[keep], weight[keep], index[keep]
        if row.numel() == 0:
            raise GraphInputError(f"empty graph ({num_nodes} nodes, no edges other than self-loops)")
    _check_lengths(row, col, weight, names)

    if undirected:
        row, col, source, dup_u, dup_v, num_dups = _symmetrise(row, col, weight, index, num_nodes)
    else:
        row, col, source, dup_u, dup_v, num_dups = _merge_arcs(row, col, weight, index, num_nodes)
    if num_dups:
        where = f"({_name(names, dup_u)}, {_name(names, dup_v)})"
        _fail_or_warn(
            duplicates == "error",
            f"{num_dups} duplicate edge(s), the first {where}",
            f"{graph}merged {num_dups} duplicate edge(s) keeping the smallest length (the first {where})",
        )

    out = Data()
    edge_keys = _edge_attribute_keys(data, num_edges)
    for key, value in data:
        if key in ("edge_index", "edge_weight", "num_nodes"):
            continue
        out[key] = value[source.to(value.device)] if key in edge_keys else value
    out.edge_index = torch.stack([row, col])
    out.edge_weight = lengths[source]
    out.num_nodes = num_nodes
    return out


def _checked_edge_index(data: Data) -> Tensor:
    edge_index = data.get("edge_index")
    if edge_index is None:
        raise GraphInputError("graph has no edge_index")
    if not isinstance(edge_index, Tensor):
        raise GraphInputError(f"edge_index must be a tensor, got {type(edge_index).__name__}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise GraphInputError(f"edge_index must have shape (2, num_edges), got {tuple(edge_index.shape)}")
    if edge_index.dtype == torch.bool or edge_index.is_floating_point() or edge_index.is_complex():
        raise GraphInputError(f"edge_index must hold integers, got dtype {edge_index.dtype}")
    return edge_index.long()


def _num_nodes(data: Data) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyG warns when it has to infer num_nodes
        num_nodes = data.num_nodes
    if num_nodes is None:
        return 0
    if int(num_nodes) < 0:
        raise GraphInputError(f"num_nodes must be >= 0, got {num_nodes}")
    return int(num_nodes)


def _node_names(data: Data, num_nodes: int) -> list | None:
    names = data.get("node_names")
    if names is not None and len(names) != num_nodes:
        raise GraphInputError(f"node_names has {len(names)} entries for {num_nodes} nodes")
    return names


def _name(names: list | None, node: int) -> str:
    return str(names[node]) if names is not None else str(node)


def _check_range(edge_index: Tensor, num_nodes: int, names: list | None) -> None:
    bad = ((edge_index < 0) | (edge_index >= num_nodes)).any(dim=0)
    if bool(bad.any()):
        first = int(bad.nonzero()[0])
        u, v = edge_index[:, first].tolist()
        raise GraphInputError(
            f"edge ({u}, {v}) refers to a node outside 0..{num_nodes - 1} ({int(bad.sum())} such edge(s))"
        )


def _checked_weight(data: Data, num_edges: int, device: torch.device) -> Tensor:
    weight = data.get("edge_weight")
    if weight is None:
        return torch.ones(num_edges, dtype=torch.float64, device=device)
    if not isinstance(weight, Tensor):
        raise GraphInputError(f"edge_weight must be a tensor, got {type(weight).__name__}")
    if weight.dim() != 1 or weight.numel() != num_edges:
        raise GraphInputError(f"edge_weight must have shape ({num_edges},), got {tuple(weight.shape)}")
    if weight.dtype == torch.bool or weight.is_complex():
        raise GraphInputError(f"edge_weight must hold real numbers, got dtype {weight.dtype}")
    return weight.to(device=device, dtype=torch.float64)


def _check_lengths(row: Tensor, col: Tensor, weight: Tensor, names: list | None) -> None:
    bad = ~torch.isfinite(weight) | (weight <= 0)
    if bool(bad.any()):
        first = int(bad.nonzero()[0])
        u, v = _name(names, int(row[first])), _name(names, int(col[first]))
        raise GraphInputError(
            f"edge ({u}, {v}) has length {float(weight[first])}: lengths must be finite "
            f"and > 0 ({int(bad.sum())} such edge(s))"
        )


def _shortest_per_group(weight: Tensor, group: Tensor, num_groups: int) -> Tensor:
    """Position of the shortest entry of each group (the first listed one on ties)."""
    fill = torch.full((num_groups,), float("inf"), dtype=weight.dtype, device=weight.device)
    shortest = fill.scatter_reduce(0, group, weight, reduce="amin")
    position = torch.arange(weight.numel(), device=weight.device)
    candidate = torch.where(weight == shortest[group], position, weight.numel())
    first = torch.full((num_groups,), weight.numel(), dtype=torch.long, device=weight.device)
    return first.scatter_reduce(0, group, candidate, reduce="amin")


def _merge_arcs(row, col, weight, index, num_nodes):
    """Keep each arc once (its shortest copy); arcs come out sorted by (row, col)."""
    key = row * num_nodes + col
    if key.numel() < 2 or bool((key[1:] > key[:-1]).all()):
        return row, col, index, -1, -1, 0  # already coalesced: nothing to do
    keys, group, counts = torch.unique(key, return_inverse=True, return_counts=True)
    chosen = _shortest_per_group(weight, group, keys.numel())
    repeated = counts > 1
    num_dups = int(repeated.sum())
    dup_u, dup_v = divmod(int(keys[repeated][0]), num_nodes) if num_dups else (-1, -1)
    return row[chosen], col[chosen], index[chosen], dup_u, dup_v, num_dups


def _symmetrise(row, col, weight, index, num_nodes):
    """One edge per unordered pair (its shortest copy), stored in both directions, sorted."""
    pair = torch.minimum(row, col) * num_nodes + torch.maximum(row, col)
    pairs, group = torch.unique(pair, return_inverse=True)
    num_pairs = pairs.numel()
    low = torch.full((num_pairs,), float("inf"), dtype=weight.dtype, device=weight.device)
    high = torch.full_like(low, float("-inf"))
    disagree = low.scatter_reduce(0, group, weight, "amin") != high.scatter_reduce(0, group, weight, "amax")
    # A pair listed more than once in the same direction is a duplicate too.
    backward = (row > col).long()
    zeros = torch.zeros(num_pairs, dtype=torch.long, device=row.device)
    repeated = (zeros.scatter_add(0, group, backward) > 1) | (zeros.scatter_add(0, group, 1 - backward) > 1)
    duplicated = disagree | repeated
    num_dups = int(duplicated.sum())
    dup_u, dup_v = divmod(int(pairs[duplicated][0]), num_nodes) if num_dups else (-1, -1)
    source = index[_shortest_per_group(weight, group, num_pairs)]
    u, v = pairs // num_nodes, pairs % num_nodes
    both_row, both_col = torch.cat([u, v]), torch.cat([v, u])
    final = torch.sort(both_row * num_nodes + both_col).indices
    return both_row[final], both_col[final], torch.cat([source, source])[final], dup_u, dup_v, num_dups


def _edge_attribute_keys(data: Data, num_edges: int) -> set[str]:
    """Keys of per-edge tensors other than edge_index / edge_weight (they follow their edges)."""
    keys = set()
    for key, value in data:
        if key in ("edge_index", "edge_weight") or not isinstance(value, Tensor):
            continue
        if value.dim() == 0 or value.size(0) != num_edges:
            continue
        if key.startswith("edge_") or (data.is_edge_attr(key) and not data.is_node_attr(key)):
            keys.add(key)
    return keys
