r"""Random wiring: the stage graphs of a randomly wired network (Xie et al. 2019).

An undirected random graph on ``n`` nodes is drawn with networkx and every edge
:math:`\{u, v\}` is oriented from the lower to the higher label, :math:`u \to v` with
:math:`u < v`. Labels are then a topological order, so the result is a DAG; in the
network a node with no predecessor reads the stage input and a node with no successor
feeds the stage output.

Generators (networkx):

* ``"ws"``: Watts-Strogatz WS(K, P), ``connected_watts_strogatz_graph(n, k, p)``
  (ring lattice of degree K, each edge rewired with probability P; connected);
  :math:`nK/2` edges. The paper's graphs: N = 32, K = 4, P = 0.75.
* ``"er"``: Erdos-Renyi ER(P), every pair an edge with probability P.
* ``"ba"``: Barabasi-Albert BA(M), each new node attaches to M existing ones.

Every stage gets its own graph: stage i is drawn with the i-th seed spawned from
``seed`` by :class:`numpy.random.SeedSequence` (the public RicciNets code reuses one
seed, so all its stages are wired alike).

>>> g = random_dag(8, "ws", k=4, p=0.0)
>>> g.edge_index.size(1), bool((g.edge_index[0] < g.edge_index[1]).all())
(16, True)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import torch
from torch_geometric.data import Data

from graphcurv.atomic import atomic_path
from graphcurv.errors import GraphcurvError
from graphcurv.files import load_tagged

GENERATORS = ("ws", "er", "ba")
GRAPHS_FORMAT = "graphcurv-randwire-graphs"


def _check(n: int, generator: str, k: int, p: float, m: int) -> None:
    if generator not in GENERATORS:
        raise GraphcurvError(f"unknown random graph generator {generator!r}: use one of {', '.join(GENERATORS)}")
    if int(n) < 2:
        raise GraphcurvError(f"a random stage needs at least 2 nodes, got n={n}")
    if not 0.0 <= float(p) <= 1.0:
        raise GraphcurvError(f"the probability P must lie in [0, 1], got {p}")
    if generator == "ws" and not (2 <= k < n and k % 2 == 0):
        raise GraphcurvError(f"Watts-Strogatz needs an even K with 2 <= K < N, got K={k}, N={n}")
    if generator == "ba" and not 1 <= m < n:
        raise GraphcurvError(f"Barabasi-Albert needs 1 <= M < N, got M={m}, N={n}")


def dag_from_edges(edges: Any, num_nodes: int) -> Data:
    """The DAG orienting every undirected edge ``{u, v}`` as ``min -> max``, sorted by (src, dst)."""
    pairs = sorted({(min(u, v), max(u, v)) for u, v in edges if u != v})
    index = torch.tensor(pairs, dtype=torch.long).t().reshape(2, -1)
    return Data(edge_index=index, num_nodes=int(num_nodes))


def random_dag(n: int, generator: str = "ws", *, k: int = 4, p: float = 0.75, m: int = 2, seed: int = 0) -> Data:
    """One random DAG on ``n`` nodes (see the module docstring); ``seed`` makes it reproducible."""
    _check(n, generator, k, p, m)
    if generator == "ws":
        graph = nx.connected_watts_strogatz_graph(int(n), int(k), float(p), tries=1000, seed=int(seed))
    elif generator == "er":
        graph = nx.erdos_renyi_graph(int(n), float(p), seed=int(seed))
    else:
        graph = nx.barabasi_albert_graph(int(n), int(m), seed=int(seed))
    data = dag_from_edges(graph.edges(), n)
    data.wiring = {"generator": generator, "n": int(n), "k": int(k), "p": float(p), "m": int(m), "seed": int(seed)}
    return data


def stage_seeds(stages: int, seed: int) -> list[int]:
    """Independent integer seeds for ``stages`` stages, spawned from ``seed``."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(int(seed)).spawn(int(stages))]


def stage_graphs(
    stages: int, n: int, generator: str = "ws", *, k: int = 4, p: float = 0.75, m: int = 2, seed: int = 0
) -> list[Data]:
    """One different random DAG per stage (seeds from :func:`stage_seeds`)."""
    if int(stages) < 1:
        raise GraphcurvError(f"a network needs at least one random stage, got {stages}")
    return [random_dag(n, generator, k=k, p=p, m=m, seed=s) for s in stage_seeds(stages, seed)]


def check_dag(graph: Data, what: str = "stage graph") -> None:
    """Raise unless ``graph`` is a DAG in topological labelling: src < dst, no duplicate edge."""
    index = graph.edge_index
    if index.dim() != 2 or index.size(0) != 2:
        raise GraphcurvError(f"{what}: edge_index must have shape (2, E), got {tuple(index.shape)}")
    n = int(graph.num_nodes or 0)
    if n < 1:
        raise GraphcurvError(f"{what} has no node")
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= n):
        raise GraphcurvError(f"{what}: edge_index refers to nodes outside 0..{n - 1}")
    if bool((index[0] >= index[1]).any()):
        raise GraphcurvError(f"{what}: every edge must go from a lower to a higher label (a DAG in topological order)")
    if torch.unique(index[0] * n + index[1]).numel() != index.size(1):
        raise GraphcurvError(f"{what} has duplicate edges")


def _plain(graph: Data) -> dict[str, Any]:
    return {
        "edges": graph.edge_index.t().tolist(),
        "num_nodes": int(graph.num_nodes),
        "wiring": dict(getattr(graph, "wiring", None) or {}),
    }


def _from_plain(entry: dict[str, Any]) -> Data:
    data = Data(
        edge_index=torch.tensor(entry["edges"], dtype=torch.long).reshape(-1, 2).t().contiguous(),
        num_nodes=int(entry["num_nodes"]),
    )
    if entry.get("wiring"):
        data.wiring = dict(entry["wiring"])
    return data


def save_graphs(path: str | os.PathLike[str], graphs: list[Data]) -> Path:
    """Write stage graphs as plain edge lists (loadable with ``weights_only=True``), atomically."""
    for i, graph in enumerate(graphs):
        check_dag(graph, f"stage {i + 1}")
    target = Path(path)
    with atomic_path(target) as tmp:
        torch.save({"format": GRAPHS_FORMAT, "graphs": [_plain(g) for g in graphs]}, tmp)
    return target


def load_graphs(path: str | os.PathLike[str]) -> list[Data]:
    """Read stage graphs written by :func:`save_graphs` (checked to be DAGs)."""
    source = Path(path)
    payload = load_tagged(source, GRAPHS_FORMAT, "stage-graphs", "written by `graphcurv riccinets prune`")
    graphs = [_from_plain(entry) for entry in payload["graphs"]]
    for i, graph in enumerate(graphs):
        check_dag(graph, f"{source}: stage {i + 1}")
    return graphs
