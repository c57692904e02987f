"""Converters between PyG ``Data`` graphs and networkx, graph-tool and scipy sparse.

All ``from_*`` converters build edge arrays with numpy (no per-edge PyG calls),
then go through :func:`~graphcurv.graphs.validate.validate_graph`, so their
output follows the graph convention. Direction is preserved: a directed networkx
or graph-tool graph gives a directed ``Data`` (each arc once); an undirected one
gives a symmetric ``Data`` (both directions, same length). Edge lengths come from
the named edge attribute (``weight``), 1.0 when it is ``None``.

Ground-truth labels (``truth``) are turned into ``data.y`` (long): integer-valued
labels keep their order, other labels are numbered in sorted order
(``["c", "l", "n"] -> [0, 1, 2]``); ``data.y_name`` records the attribute name.
Nodes that are not exactly ``0 .. n - 1`` are relabelled in iteration order and
their original identifiers are kept as strings in ``data.node_names``.

The ``to_*`` converters go the other way: ``edge_weight`` becomes the attribute
``"weight"`` (networkx's and graph-tool's usual name), other edge attributes keep
their names; an undirected ``Data`` gives an undirected graph with each edge once.

Example:

>>> import networkx as nx
>>> data = from_networkx(nx.path_graph(3))
>>> data.edge_index.tolist()
[[0, 1, 1, 2], [1, 0, 2, 1]]
>>> sorted(to_networkx(data).edges(data="weight"))
[(0, 1, 1.0), (1, 2, 1.0)]
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import Data
from torch_geometric.utils import is_undirected

from graphcurv.errors import GraphInputError
from graphcurv.graphs.validate import validate_graph
from graphcurv.optional import import_graph_tool

__all__ = [
    "from_graph_tool",
    "from_networkx",
    "from_scipy",
    "label_codes",
    "to_graph_tool",
    "to_networkx",
    "to_scipy",
]


def from_networkx(G: nx.Graph, *, weight: str | None = "weight", truth: str | None = None) -> Data:
    """Convert a networkx graph (Graph, DiGraph, MultiGraph, MultiDiGraph) to ``Data``.

    Args:
        G: the graph; multi-edges are merged keeping the smallest length (with a warning).
        weight: edge attribute holding lengths (edges without it get 1.0);
            ``None`` makes the graph unweighted.
        truth: node attribute holding ground-truth groups, stored as ``data.y``.

    Example:

    >>> import networkx as nx
    >>> G = nx.DiGraph([("a", "b", {"weight": 2.0})])
    >>> d = from_networkx(G)
    >>> d.edge_index.tolist(), d.edge_weight.tolist(), d.node_names
    ([[0], [1]], [2.0], ['a', 'b'])
    """
    if not isinstance(G, nx.Graph):
        raise GraphInputError(f"expected a networkx graph, got {type(G).__name__}")
    nodes = list(G)
    num_nodes = len(nodes)
    relabel = nodes != list(range(num_nodes))
    index = {node: i for i, node in enumerate(nodes)} if relabel else None
    if G.is_multigraph():
        edge_index, lengths = _multigraph_arrays(G, weight, index)
    else:
        edge_index, lengths = _adjacency_arrays(G, weight, index)
    data = Data(edge_index=torch.from_numpy(edge_index), num_nodes=num_nodes)
    if lengths is not None:
        data.edge_weight = torch.from_numpy(lengths)
    if relabel:
        data.node_names = [str(node) for node in nodes]
    if truth is not None:
        values = []
        for node in nodes:
            if truth not in G.nodes[node]:
                raise GraphInputError(f"node {node!r} has no attribute {truth!r}")
            values.append(G.nodes[node][truth])
        data.y, data.y_name = label_codes(values), truth
    if G.graph.get("name"):
        data.name = str(G.graph["name"])
    data = validate_graph(data, undirected=not G.is_directed())
    if "name" not in data:
        data.name = "networkx"
    return data


def to_networkx(data: Data, *, edge_attrs: Sequence[str] = ("edge_weight",)) -> nx.Graph:
    """Convert ``data`` to ``nx.Graph`` (undirected data) or ``nx.DiGraph`` (directed).

    Nodes are ``0 .. n - 1`` (all of them, isolated ones too), with node attributes
    ``name`` (from ``node_names``) and ``y`` when the data has them. ``edge_weight``
    is stored as ``"weight"``; other names in ``edge_attrs`` keep their names.

    Example:

    >>> import torch
    >>> from torch_geometric.data import Data
    >>> G = to_networkx(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=3))
    >>> type(G).__name__, G.number_of_nodes(), list(G.edges(data="weight"))
    ('DiGraph', 3, [(0, 1, 1.0)])
    """
    edge_index, columns, directed = _edges_once(data, edge_attrs)
    G = nx.DiGraph() if directed else nx.Graph()
    G.add_nodes_from(range(data.num_nodes))
    names = data.get("node_names")
    if names is not None:
        nx.set_node_attributes(G, dict(enumerate(map(str, names))), "name")
    y = data.get("y")
    if isinstance(y, torch.Tensor) and y.dim() == 1 and y.numel() == data.num_nodes:
        nx.set_node_attributes(G, dict(enumerate(y.tolist())), "y")
    u, v = edge_index.tolist()
    keys = [_attr_name(name) for name in edge_attrs]
    if keys == ["weight"]:
        G.add_weighted_edges_from(zip(u, v, columns[0].tolist()))
    else:
        values = [c.tolist() for c in columns]
        G.add_edges_from((a, b, dict(zip(keys, vals))) for a, b, *vals in zip(u, v, *values))
    if "name" in data:
        G.graph["name"] = data.name
    return G


def from_graph_tool(
    g: Any,
    *,
    weight: str | Any | None = None,
    truth: str | None = None,
    names: str | None = None,
) -> Data:
    """Convert a graph-tool ``Graph`` (or ``GraphView``) to ``Data``.

    Args:
        g: the graph; a view is copied with its filters applied first.
        weight: edge property (name or property map) holding lengths; ``None``: unweighted.
        truth: vertex property holding ground-truth groups (``data.y``).
        names: vertex property holding node names (``data.node_names``).

    Raises:
        MissingDependencyError: graph-tool is not installed.
        GraphInputError: a property that does not exist, or an invalid graph.

    Example (needs graph-tool):

    >>> import graph_tool as gt  # doctest: +SKIP
    >>> g = gt.Graph(directed=False); g.add_edge_list([(0, 1), (1, 2)])  # doctest: +SKIP
    >>> from_graph_tool(g).edge_index.size(1)  # doctest: +SKIP
    4
    """
    gt = import_graph_tool()
    if isinstance(g, gt.GraphView):
        g = gt.Graph(g, prune=True)
    if not isinstance(g, gt.Graph):
        raise GraphInputError(f"expected a graph_tool.Graph, got {type(g).__name__}")
    if weight is None:
        edges = g.get_edges()
        lengths = None
    else:
        prop = _property(g.ep, weight, "edge")
        table = g.get_edges([prop])
        edges, lengths = table[:, :2], np.ascontiguousarray(table[:, 2], dtype=np.float64)
    edge_index = torch.from_numpy(np.ascontiguousarray(edges.T, dtype=np.int64))
    data = Data(edge_index=edge_index, num_nodes=g.num_vertices())
    if lengths is not None:
        data.edge_weight = torch.from_numpy(lengths)
    if truth is not None:
        data.y = label_codes(_vertex_values(g, _property(g.vp, truth, "vertex")))
        data.y_name = truth
    if names is not None:
        data.node_names = [str(x) for x in _vertex_values(g, _property(g.vp, names, "vertex"))]
    name = g.gp.get("name")
    if isinstance(name, str) and name:
        data.name = name
    data = validate_graph(data, undirected=not g.is_directed())
    if "name" not in data:
        data.name = "graph-tool"
    return data


def to_graph_tool(data: Data, *, edge_attrs: Sequence[str] = ("edge_weight",)) -> Any:
    """Convert ``data`` to a graph-tool ``Graph`` (directed iff the data is directed).

    ``edge_weight`` becomes the edge property ``"weight"``, other ``edge_attrs``
    (1-d numeric tensors) keep their names as ``double`` properties; ``y`` becomes
    the vertex property ``"y"`` and ``node_names`` the vertex property ``"label"``.
    Read it back with ``from_graph_tool(g, weight="weight", truth="y", names="label")``.
    """
    gt = import_graph_tool()
    edge_index, columns, directed = _edges_once(data, edge_attrs)
    g = gt.Graph(directed=directed)
    g.add_vertex(data.num_nodes)
    props = [g.new_edge_property("double") for _ in columns]
    table = np.column_stack([edge_index.numpy().T.astype(np.float64), *(c.numpy().astype(np.float64) for c in columns)])
    g.add_edge_list(table, eprops=props)
    for name, prop in zip(edge_attrs, props):
        g.ep[_attr_name(name)] = prop
    y = data.get("y")
    if isinstance(y, torch.Tensor) and y.dim() == 1 and y.numel() == data.num_nodes:
        prop = g.new_vertex_property("int64_t")
        prop.a[:] = y.cpu().numpy()
        g.vp["y"] = prop
    names = data.get("node_names")
    if names is not None:
        prop = g.new_vertex_property("string")
        for vertex, name in zip(g.vertices(), names):
            prop[vertex] = str(name)
        g.vp["label"] = prop
    name = data.get("name")
    if isinstance(name, str):
        g.gp["name"] = g.new_graph_property("string", name)
    return g


def from_scipy(matrix: Any, *, directed: bool | None = None) -> Data:
    """Convert a square scipy sparse matrix (or dense array) of edge lengths to ``Data``.

    Every stored entry ``(i, j)`` of a sparse matrix is an arc ``i -> j`` whose
    length is the entry (repeated COO entries are summed, as scipy does; an
    explicit zero is a zero length and is rejected). In a dense array zeros mean
    "no edge". ``directed=None`` makes the graph undirected iff the matrix is
    symmetric; ``directed=False`` symmetrises (unequal ``(i, j)`` / ``(j, i)``
    entries are duplicates, merged to the smaller with a warning).

    Example:

    >>> import numpy as np
    >>> d = from_scipy(np.array([[0, 2.0], [2.0, 0]]))
    >>> d.edge_index.tolist(), d.edge_weight.tolist()
    ([[0, 1], [1, 0]], [2.0, 2.0])
    """
    try:
        coo = sp.coo_array(matrix if sp.issparse(matrix) else np.asarray(matrix))
    except (TypeError, ValueError) as exc:
        raise GraphInputError(f"cannot read a matrix from {type(matrix).__name__}: {exc}") from None
    if coo.ndim != 2 or coo.shape[0] != coo.shape[1]:
        raise GraphInputError(f"adjacency matrix must be square, got shape {coo.shape}")
    coo = coo.tocsr().tocoo()  # sums repeated entries, keeps explicit zeros
    edge_index = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    try:
        lengths = torch.from_numpy(np.asarray(coo.data, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise GraphInputError(f"matrix entries are not numbers: {exc}") from None
    num_nodes = int(coo.shape[0])
    if directed is None:
        directed = not is_undirected(edge_index, lengths, num_nodes)
    data = Data(edge_index=edge_index, edge_weight=lengths, num_nodes=num_nodes, name="scipy")
    return validate_graph(data, undirected=not directed)


def to_scipy(data: Data) -> sp.csr_array:
    """The ``(n, n)`` CSR matrix of edge lengths (both directions for an undirected graph).

    Example:

    >>> import torch
    >>> from torch_geometric.data import Data
    >>> to_scipy(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2)).toarray().tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    n = data.num_nodes
    row, col = data.edge_index.cpu().numpy()
    weight = _lengths(data).numpy()
    return sp.csr_array((weight, (row, col)), shape=(n, n))


def label_codes(values: Sequence[Any]) -> torch.Tensor:
    """Number ground-truth labels ``0 .. k - 1`` as a long tensor.

    Integer-valued labels (ints, or floats such as ``0.0`` / ``1.0``) are numbered in
    numeric order, any other labels in sorted string order.

    >>> label_codes(["n", "c", "l", "c"]).tolist()
    [2, 0, 1, 0]
    >>> label_codes([3, 7, 3]).tolist()
    [0, 1, 0]
    """
    values = list(values)
    try:
        numeric = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(numeric)) or not np.all(numeric == np.round(numeric)):
            raise ValueError
        keys: list = numeric.astype(np.int64).tolist()
    except (TypeError, ValueError):
        keys = [str(v) for v in values]
    order = {key: i for i, key in enumerate(sorted(set(keys)))}
    return torch.tensor([order[key] for key in keys], dtype=torch.long)


def _adjacency_arrays(G: nx.Graph, weight: str | None, index: dict | None):
    """Arcs of a simple graph from its adjacency dicts (both directions when undirected)."""
    adjacency = dict(G.adjacency())
    degrees = np.fromiter((len(adjacency[u]) for u in G), dtype=np.int64, count=len(adjacency))
    total = int(degrees.sum())
    rows = np.repeat(np.arange(len(degrees), dtype=np.int64), degrees)
    targets = chain.from_iterable(adjacency[u] for u in G)
    if index is not None:
        targets = map(index.__getitem__, targets)
    cols = np.fromiter(targets, dtype=np.int64, count=total)
    lengths = None
    if weight is not None:
        values = [d.get(weight, 1.0) for u in G for d in adjacency[u].values()]
        lengths = _float_array(values, total, weight)
    if not G.is_directed():  # both directions share one attribute dict: keep one
        once = rows <= cols
        rows, cols = rows[once], cols[once]
        lengths = lengths[once] if lengths is not None else None
    return np.ascontiguousarray(np.vstack([rows, cols])), lengths


def _multigraph_arrays(G: nx.Graph, weight: str | None, index: dict | None):
    """Edges of a multigraph, each parallel edge once (validation merges them)."""
    edges = [(u, v, d) for u, v, d in G.edges(data=True)]
    flat = (x for u, v, _ in edges for x in (u, v))
    if index is not None:
        flat = (index[x] for x in flat)
    pairs = np.fromiter(flat, dtype=np.int64, count=2 * len(edges)).reshape(-1, 2)
    lengths = None
    if weight is not None:
        lengths = _float_array((d.get(weight, 1.0) for _, _, d in edges), len(edges), weight)
    return np.ascontiguousarray(pairs.T), lengths


def _float_array(values, count: int, weight: str) -> np.ndarray:
    try:
        return np.fromiter(values, dtype=np.float64, count=count)
    except (TypeError, ValueError) as exc:
        raise GraphInputError(f"edge attribute {weight!r} is not a number: {exc}") from None


def _lengths(data: Data) -> torch.Tensor:
    weight = data.get("edge_weight")
    if weight is None:
        return torch.ones(data.edge_index.size(1), dtype=torch.float64)
    return weight.detach().cpu().to(torch.float64)


def _attr_name(name: str) -> str:
    return "weight" if name == "edge_weight" else name


def _edges_once(data: Data, edge_attrs: Sequence[str]):
    """Edge index and attribute columns with each undirected edge once (CPU)."""
    edge_index = data.edge_index.cpu()
    weight = _lengths(data)
    directed = not is_undirected(edge_index, weight, data.num_nodes)
    columns = []
    for name in edge_attrs:
        value = weight if name == "edge_weight" else (data.get(name))
        if not isinstance(value, torch.Tensor) or value.dim() != 1 or value.numel() != edge_index.size(1):
            raise GraphInputError(f"edge attribute {name!r} is not a 1-d tensor with one value per edge")
        columns.append(value.detach().cpu())
    if not directed:
        keep = edge_index[0] < edge_index[1]
        edge_index, columns = edge_index[:, keep], [c[keep] for c in columns]
    return edge_index, columns, directed


def _property(props: Any, key: Any, kind: str) -> Any:
    if not isinstance(key, str):
        return key
    if key not in props:
        available = ", ".join(sorted(props.keys())) or "none"
        raise GraphInputError(f"the graph has no {kind} property {key!r} (it has: {available})")
    return props[key]


def _vertex_values(g: Any, prop: Any) -> list:
    array = prop.get_array()
    if array is not None and array.ndim == 1:
        return array.tolist()
    return [prop[v] for v in g.vertices()]
