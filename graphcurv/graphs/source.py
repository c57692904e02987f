"""One string names any graph: a file, a generator spec, or a collection network.

:func:`load_graph` resolves the ``GRAPH`` argument of every CLI command, in this order:

1. an existing path: ``.pt`` files are read with :func:`~graphcurv.graphs.io.load_data`,
   anything else as an edge list with :func:`~graphcurv.graphs.io.read_edgelist`;
2. a generator spec ``kind:key=value,...`` (parsed strictly: unknown, repeated or
   missing keys and malformed values are errors that list the accepted keys):

   * ``ws:n=1000,k=10,p=0.1[,seed=0]`` Watts-Strogatz,
   * ``er:n=2000,mean_degree=20[,seed=0]`` or ``er:n=2000,p=0.01`` Erdos-Renyi,
   * ``ba:n=5000,m=5[,seed=0]`` Barabasi-Albert,
   * ``sbm:sizes=40/40/40,p_in=0.3,p_out=0.02[,seed=0]`` stochastic block model;

3. a string that looks like a path (it has a suffix or a slash) but does not
   exist: ``GraphInputError("no such file: ...")``;
4. otherwise a network name for :func:`~graphcurv.graphs.collection.load_collection`
   (``football``, ``karate``, ``polblogs``, ...).

Example:

>>> g = load_graph("sbm:sizes=10/10,p_in=0.5,p_out=0.05,seed=1")
>>> g.num_nodes, g.y_name
(20, 'block')
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch_geometric.data import Data
from torch_geometric.utils import is_undirected

from graphcurv.errors import GraphInputError
from graphcurv.graphs import generators
from graphcurv.graphs.collection import collection_names, load_collection
from graphcurv.graphs.io import load_data, read_edgelist
from graphcurv.graphs.validate import validate_graph

__all__ = ["load_graph", "parse_generator_spec"]


@dataclass(frozen=True)
class _Generator:
    function: Callable[..., Data]
    keys: dict[str, Callable[[str], object]]
    required: tuple[str, ...]


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split("/")]


_GENERATORS = {
    "ws": _Generator(generators.watts_strogatz, {"n": int, "k": int, "p": float, "seed": int}, ("n", "k", "p")),
    "er": _Generator(generators.erdos_renyi, {"n": int, "p": float, "mean_degree": float, "seed": int}, ("n",)),
    "ba": _Generator(generators.barabasi_albert, {"n": int, "m": int, "seed": int}, ("n", "m")),
    "sbm": _Generator(
        generators.stochastic_block_model,
        {"sizes": _sizes, "p_in": float, "p_out": float, "seed": int},
        ("sizes", "p_in", "p_out"),
    ),
}
_SPEC = re.compile(r"^(?P<kind>[A-Za-z_]+):(?P<body>.*)$", re.DOTALL)
_VALUE_KINDS = {int: "an integer", float: "a number", _sizes: "block sizes like 40/40/40"}


def load_graph(spec: str | os.PathLike[str], *, directed: bool | None = None, undirected: bool = False) -> Data:
    """Load the graph that ``spec`` names (see the module docstring for the rules).

    Args:
        spec: a path, a generator spec or a network name.
        directed: ``True`` reads an edge-list file as arcs (default: edges, undirected).
            Graphs that carry their own direction (``.pt`` files, networks,
            generators) keep it.
        undirected: symmetrise a directed graph (reciprocal arcs with different
            lengths are merged to the smaller length, with a warning).

    Raises:
        GraphInputError: no such file, a bad generator spec, an unknown network, or
            invalid graph data.

    Example:

    >>> load_graph("karate").num_nodes
    34
    """
    if directed and undirected:
        raise GraphInputError("choose either directed or undirected, not both")
    text = os.fspath(spec)
    path = Path(text).expanduser()
    generator = _SPEC.match(text)
    if path.exists():
        if path.is_dir():
            raise GraphInputError(f"{path} is a directory, not a graph file")
        if path.suffix.lower() == ".pt":
            data = load_data(path)
        else:
            data = read_edgelist(path, directed=bool(directed))
    elif generator is not None and "=" in text:
        data = parse_generator_spec(text)
    elif path.suffix or "/" in text or os.sep in text:
        raise GraphInputError(f"no such file: {text}")
    else:
        if text.strip().lower() not in {name.lower() for name in collection_names()}:
            shown = ", ".join(collection_names()[:12])
            raise GraphInputError(
                f"unknown graph {text!r}: not an existing file, a generator spec "
                f"(ws:, er:, ba:, sbm:) or a network name ({shown}, ...)"
            )
        return load_collection(text, undirected=undirected)
    if undirected and not is_undirected(data.edge_index, data.edge_weight, data.num_nodes):
        data = validate_graph(data, undirected=True)
    return data


def parse_generator_spec(spec: str) -> Data:
    """Generate the graph of a spec such as ``"ws:n=1000,k=10,p=0.1,seed=0"``.

    Raises:
        GraphInputError: an unknown generator, an unknown / repeated / missing key,
            or a value of the wrong type, with the accepted keys in the message.

    >>> parse_generator_spec("ba:n=50,m=2").name
    'ba:n=50,m=2,seed=0'
    """
    match = _SPEC.match(spec.strip())
    kinds = ", ".join(_GENERATORS)
    if match is None:
        raise GraphInputError(f"bad generator spec {spec!r}: expected kind:key=value,... ({kinds})")
    kind, body = match.group("kind").lower(), match.group("body")
    if kind not in _GENERATORS:
        raise GraphInputError(f"unknown generator {kind!r} in {spec!r}: use one of {kinds}")
    generator = _GENERATORS[kind]
    accepted = ", ".join(generator.keys)
    kwargs: dict[str, object] = {}
    for item in body.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not key or not value:
            raise GraphInputError(f"bad generator spec {spec!r}: {item!r} is not key=value (keys: {accepted})")
        if key not in generator.keys:
            raise GraphInputError(f"unknown key {key!r} in {spec!r}: {kind} accepts {accepted}")
        if key in kwargs:
            raise GraphInputError(f"key {key!r} given twice in {spec!r}")
        convert = generator.keys[key]
        try:
            kwargs[key] = convert(value)
        except ValueError:
            raise GraphInputError(
                f"bad value {value!r} for {key} in {spec!r}: expected {_VALUE_KINDS[convert]}"
            ) from None
    missing = [key for key in generator.required if key not in kwargs]
    if missing:
        raise GraphInputError(f"{spec!r} is missing {', '.join(missing)} ({kind} accepts {accepted})")
    try:
        return generator.function(**kwargs)
    except GraphInputError as exc:
        raise GraphInputError(f"bad generator spec {spec!r}: {exc}") from None
