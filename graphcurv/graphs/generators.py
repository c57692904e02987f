"""Seeded random graphs (networkx generators), returned as undirected, unweighted ``Data``.

Each function calls one networkx generator with the same arguments and seed and
converts the result with :func:`~graphcurv.graphs.convert.from_networkx`, so
``to_networkx(watts_strogatz(n, k, p, seed))`` has exactly the edges of
``networkx.watts_strogatz_graph(n, k, p, seed=seed)``; benchmarks that run other
libraries (GraphRicciCurvature) on "the same graph" rely on this. Nodes are
``0 .. n - 1``, every edge length is 1.0, and ``data.name`` is the generator
spec that :func:`~graphcurv.graphs.source.load_graph` reads back
(``"ws:n=20,k=4,p=0.0,seed=0"``). Invalid parameters raise
:class:`~graphcurv.errors.GraphInputError`; a generated graph without edges
raises it too (see :func:`~graphcurv.graphs.validate.validate_graph`).

Example:

>>> g = watts_strogatz(20, 4, 0.0)
>>> g.num_nodes, g.edge_index.size(1) // 2
(20, 40)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import networkx as nx
from torch_geometric.data import Data

from graphcurv.errors import GraphInputError
from graphcurv.graphs.convert import from_networkx

__all__ = ["barabasi_albert", "erdos_renyi", "stochastic_block_model", "watts_strogatz"]


def watts_strogatz(n: int, k: int, p: float, seed: int = 0) -> Data:
    """Watts-Strogatz small world: a ring where each node links to its ``k`` nearest
    neighbours (``k // 2`` on each side), each edge rewired with probability ``p``
    (``networkx.watts_strogatz_graph``).

    >>> watts_strogatz(10, 2, 0.0).edge_index.size(1)
    20
    """
    _check_int("n", n, 1)
    _check_int("k", k, 0)
    _check_probability("p", p)
    if k > n:
        raise GraphInputError(f"k={k} must be at most n={n}")
    graph = _call(nx.watts_strogatz_graph, n, k, p, seed=seed)
    return _finish(graph, f"ws:n={n},k={k},p={p},seed={seed}")


def erdos_renyi(n: int, *, p: float | None = None, mean_degree: float | None = None, seed: int = 0) -> Data:
    """Erdos-Renyi G(n, p): each of the ``n (n - 1) / 2`` edges independently with
    probability ``p``, or ``p = mean_degree / (n - 1)``; give exactly one of the two.

    Always ``networkx.fast_gnp_random_graph(n, p, seed=seed)`` (linear time in the
    number of edges for sparse graphs, the same distribution as ``gnp_random_graph``).

    >>> g = erdos_renyi(100, mean_degree=99)
    >>> g.edge_index.size(1) // 2
    4950
    """
    _check_int("n", n, 2)
    if (p is None) == (mean_degree is None):
        raise GraphInputError("give exactly one of p and mean_degree")
    if mean_degree is not None:
        if not isinstance(mean_degree, (int, float)) or not 0 <= mean_degree <= n - 1:
            raise GraphInputError(f"mean_degree must be between 0 and n-1={n - 1}, got {mean_degree}")
        p = mean_degree / (n - 1)
    _check_probability("p", p)
    graph = _call(nx.fast_gnp_random_graph, n, p, seed=seed)
    label = f"mean_degree={mean_degree}" if mean_degree is not None else f"p={p}"
    return _finish(graph, f"er:n={n},{label},seed={seed}")


def barabasi_albert(n: int, m: int, seed: int = 0) -> Data:
    """Barabasi-Albert preferential attachment: each new node links to ``m`` existing
    nodes chosen with probability proportional to degree (``networkx.barabasi_albert_graph``).

    >>> barabasi_albert(10, 2).edge_index.size(1) // 2
    16
    """
    _check_int("n", n, 2)
    _check_int("m", m, 1)
    if m >= n:
        raise GraphInputError(f"m={m} must be smaller than n={n}")
    graph = _call(nx.barabasi_albert_graph, n, m, seed=seed)
    return _finish(graph, f"ba:n={n},m={m},seed={seed}")


def stochastic_block_model(sizes: Sequence[int], p_in: float, p_out: float, seed: int = 0) -> Data:
    """Planted partition: blocks of the given ``sizes``, an edge inside a block with
    probability ``p_in`` and between blocks with ``p_out``
    (``networkx.stochastic_block_model``). ``data.y`` is the block of each node
    (``data.y_name = "block"``).

    >>> g = stochastic_block_model([3, 3], 1.0, 0.0)
    >>> g.y.tolist(), g.edge_index.size(1) // 2
    ([0, 0, 0, 1, 1, 1], 6)
    """
    sizes = list(sizes)
    if not sizes:
        raise GraphInputError("sizes must list at least one block size")
    for size in sizes:
        _check_int("sizes", size, 1)
    _check_probability("p_in", p_in)
    _check_probability("p_out", p_out)
    probs = [[p_in if i == j else p_out for j in range(len(sizes))] for i in range(len(sizes))]
    graph = _call(nx.stochastic_block_model, sizes, probs, seed=seed)
    label = "/".join(map(str, sizes))
    return _finish(graph, f"sbm:sizes={label},p_in={p_in},p_out={p_out},seed={seed}", truth="block")


def _call(generator: Callable[..., nx.Graph], *args: Any, seed: int) -> nx.Graph:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise GraphInputError(f"seed must be an integer, got {seed!r}")
    try:
        return generator(*args, seed=seed)
    except (nx.NetworkXError, ValueError, TypeError) as exc:
        raise GraphInputError(f"{generator.__name__}: {exc}") from None


def _finish(graph: nx.Graph, name: str, truth: str | None = None) -> Data:
    graph.graph.pop("name", None)
    graph.graph.pop("partition", None)
    data = from_networkx(graph, weight=None, truth=truth)
    data.name = name
    return data


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise GraphInputError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_probability(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise GraphInputError(f"{name} must be a probability in [0, 1], got {value!r}")
