"""Real networks with ground truth, from graph-tool's collection (and networkx's karate club).

:func:`load_collection` reads any network of ``graph_tool.collection.data``
(football, polbooks, polblogs, dolphins, lesmis, email-Enron, cond-mat-2005,
power, ...; :func:`collection_names` lists them). Graphs are loaded unweighted
(every length 1.0): the collection's edge ``value`` properties are interaction
strengths, not lengths. Ground truth, where the collection has it, is the vertex
property ``value`` (football: 12 conferences; polbooks: 3 leanings ``c``/``l``/``n``
numbered 0/1/2 in sorted order; polblogs and adjnoun: 2 classes) and becomes
``data.y`` with ``data.y_name = "value"``. Vertex ``label`` (or ``name``) strings
become ``data.node_names``.

Two names come from networkx instead, because graph-tool's karate has no factions:

* ``karate``: ``networkx.karate_club_graph()`` *unweighted*, ``y`` = the two
  factions of its ``club`` attribute (``Mr. Hi`` = 0, ``Officer`` = 1);
* ``karate-weighted``: the same graph with networkx's ``weight`` (interaction
  counts) used as edge lengths.

Every graph goes through :func:`~graphcurv.graphs.validate.validate_graph`:
polblogs' self-loops are dropped and its parallel arcs merged (with warnings). A
directed network (polblogs, celegansneural, ...) stays directed unless
``undirected=True``.

Example (needs graph-tool):

>>> g = load_collection("football")  # doctest: +SKIP
>>> g.num_nodes, g.edge_index.size(1) // 2, int(g.y.max()) + 1  # doctest: +SKIP
(115, 613, 12)
"""

from __future__ import annotations

import warnings

import networkx as nx
from torch_geometric.data import Data

from graphcurv.errors import GraphInputError, MissingDependencyError
from graphcurv.graphs.convert import from_graph_tool, from_networkx
from graphcurv.graphs.validate import GraphInputWarning, validate_graph
from graphcurv.optional import import_graph_tool

__all__ = ["collection_names", "load_collection"]

# Networks of graph-tool 2.45's collection; used only to tell "needs graph-tool"
# from "unknown name" when graph-tool is missing.
_GRAPH_TOOL_NAMES = (
    "adjnoun", "as-22july06", "astro-ph", "celegansneural", "cond-mat", "cond-mat-2003",
    "cond-mat-2005", "dolphins", "email-Enron", "football", "hep-th", "karate", "lesmis",
    "netscience", "pgp-strong-2009", "polblogs", "polbooks", "power", "serengeti-foodweb",
)  # fmt: skip
_NETWORKX_NAMES = ("karate", "karate-weighted")
_TRUTH_PROPERTY = "value"
_NAME_PROPERTIES = ("label", "name")


def collection_names() -> list[str]:
    """Names :func:`load_collection` accepts (graph-tool's collection when installed, plus karate).

    >>> "karate" in collection_names()
    True
    """
    try:
        gt = import_graph_tool()
    except MissingDependencyError:
        return sorted(_NETWORKX_NAMES)
    return sorted(set(gt.collection.descriptions) | set(_NETWORKX_NAMES), key=str.lower)


def load_collection(name: str, *, undirected: bool = False) -> Data:
    """Load a named real network as a validated ``Data`` (see the module docstring).

    Args:
        name: a collection name (case-insensitive), e.g. ``"football"``, ``"karate"``.
        undirected: symmetrise a directed network (merging reciprocal arcs, min length).

    Raises:
        GraphInputError: an unknown name (the message lists available names).
        MissingDependencyError: the network is in graph-tool's collection and
            graph-tool is not installed.

    Example:

    >>> g = load_collection("karate")
    >>> g.num_nodes, g.edge_index.size(1) // 2, g.y.bincount().tolist(), g.y_name
    (34, 78, [17, 17], 'club')
    """
    key = name.strip()
    if key.lower() in _NETWORKX_NAMES:
        return _karate(weighted=key.lower() == "karate-weighted")
    try:
        gt = import_graph_tool()
    except MissingDependencyError:
        if key.lower() in {n.lower() for n in _GRAPH_TOOL_NAMES}:
            raise
        raise GraphInputError(_unknown(name, list(_NETWORKX_NAMES), "graph-tool is not installed")) from None
    available = {n.lower(): n for n in gt.collection.descriptions}
    if key.lower() not in available:
        raise GraphInputError(_unknown(name, sorted(available.values()) + list(_NETWORKX_NAMES)))
    real = available[key.lower()]
    g = gt.collection.data[real]
    truth = _TRUTH_PROPERTY if _TRUTH_PROPERTY in g.vp else None
    names = next((p for p in _NAME_PROPERTIES if p in g.vp and g.vp[p].value_type() == "string"), None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GraphInputWarning)
        data = from_graph_tool(g, truth=truth, names=names)
    for warning in caught:  # say which network was normalised, point at the caller
        warnings.warn(f"{real}: {warning.message}", warning.category, stacklevel=2)
    data.name = real
    if undirected and g.is_directed():
        data = validate_graph(data, undirected=True)
    return data


def _karate(weighted: bool) -> Data:
    G = nx.karate_club_graph()
    data = from_networkx(G, weight="weight" if weighted else None, truth="club")
    data.name = "karate-weighted" if weighted else "karate"
    return data


def _unknown(name: str, available: list[str], note: str = "") -> str:
    shown = ", ".join(available[:12]) + (", ..." if len(available) > 12 else "")
    extra = f"; {note}" if note else ""
    return f"unknown graph {name!r}: not a collection name (available: {shown}){extra}"
