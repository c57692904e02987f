"""Reading and writing graphs: edge lists (text / CSV) and saved ``Data`` files (``.pt``).

Edge-list format (:func:`read_edgelist`):

* one edge per line: ``source target [length]``, separated by whitespace, or by
  commas in a CSV file (detected from a ``.csv`` suffix or a comma in the first
  data line; pass ``delimiter`` to force one);
* blank lines and comment lines (starting with ``comments``, default ``#``) are
  skipped; in whitespace-separated files a comment may also end a line;
  delimited (CSV) fields follow CSV quoting (``"Bush, George",b,1.0``), so there
  ``#`` inside a field is data and comments must be whole lines;
* a first line whose length column is not a number (``source,target,weight``;
  not checked with ``weighted=False``), or whose two columns are both well-known
  header words (``source target``, ``u v``, ``from to``, ...) is a header and is
  skipped;
* the optional third column is the edge *length* (an unweighted file gets 1.0);
  ``weighted=True`` requires it, ``weighted=False`` ignores it, ``None`` (default)
  uses it when the first data line has one; more than three columns, a single
  column, or a length that is not a number is an error naming the file and line;
* node tokens may be integers or strings: they are relabelled ``0 .. n - 1``,
  integers in numeric order, strings (or a mix) in order of first appearance;
  the original tokens are kept in ``data.node_names``.

All writers go through :func:`graphcurv.atomic.atomic_path`, so a failed write
leaves neither a partial file nor a temporary file behind.

Example:

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "g.txt"
>>> _ = path.write_text("# a triangle\\n a b 2.0\\n b c 1.5\\n c a 1\\n")
>>> g = read_edgelist(path)
>>> g.num_nodes, g.edge_index.size(1), g.node_names
(3, 6, ['a', 'b', 'c'])
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import is_undirected

from graphcurv.atomic import atomic_path
from graphcurv.errors import GraphInputError
from graphcurv.graphs.validate import validate_graph

__all__ = ["load_data", "read_edgelist", "save_graph", "write_edge_csv"]

_HEADER_WORDS = {
    "source", "target", "src", "dst", "from", "to", "u", "v", "i", "j",
    "node1", "node2", "node_1", "node_2", "head", "tail", "start", "end",
}  # fmt: skip


def read_edgelist(
    path: str | os.PathLike[str],
    *,
    directed: bool = False,
    delimiter: str | None = None,
    comments: str = "#",
    weighted: bool | None = None,
) -> Data:
    """Read an edge-list file (format in the module docstring) into a validated ``Data``.

    Args:
        path: the file.
        directed: read each line as an arc ``source -> target``; by default the
            graph is undirected (each line is an edge, stored in both directions).
        delimiter: column separator; ``None`` detects CSV (comma) or whitespace.
        comments: lines starting with this string are skipped (and, in whitespace-separated
            files, the rest of a line after it).
        weighted: whether the third column holds lengths (``None``: if the first
            data line has a third column).

    Returns:
        A graph named after the file, with ``node_names`` holding the original tokens.

    Raises:
        GraphInputError: missing file, malformed line (with file name and line number),
            or any rule of :func:`~graphcurv.graphs.validate.validate_graph`.

    Example:

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "g.csv"
    >>> _ = path.write_text("source,target,weight\\n10,2,0.5\\n2,7,1\\n")
    >>> g = read_edgelist(path, directed=True)
    >>> g.node_names, g.edge_index.tolist(), g.edge_weight.tolist()
    (['2', '7', '10'], [[0, 2], [1, 0]], [1.0, 0.5])
    """
    path = _existing_file(path)
    sources, targets, lengths = _parse_lines(path, delimiter, comments, weighted)
    names, codes = _relabel(sources + targets)
    num = len(sources)
    edge_index = torch.from_numpy(np.asarray(codes, dtype=np.int64).reshape(2, num))
    data = Data(edge_index=edge_index, num_nodes=len(names), node_names=names, name=path.name)
    if lengths is not None:
        data.edge_weight = torch.tensor(lengths, dtype=torch.float64)
    try:
        return validate_graph(data, undirected=not directed)
    except GraphInputError as exc:
        raise GraphInputError(f"{path}: {exc}") from None


def load_data(path: str | os.PathLike[str]) -> Data:
    """Load a graph saved with :func:`save_graph` (or ``torch.save`` of a PyG ``Data``).

    The file is read with ``torch.load(weights_only=True)``: no code from the file
    runs. The graph is validated as stored (its direction is kept).

    Raises:
        GraphInputError: missing, corrupt or truncated file, a file that holds
            something other than a ``Data``, or an invalid graph.

    Example:

    >>> import tempfile, pathlib, torch
    >>> from torch_geometric.data import Data
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "g.pt"
    >>> save_graph(Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=2), path)
    >>> load_data(path).edge_weight.tolist()
    [1.0, 1.0]
    """
    path = _existing_file(path)
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a corrupt file fails in many ways inside torch.load
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise GraphInputError(
            f"{path}: not a readable graph file (corrupt, truncated, or holds objects "
            f"that cannot be loaded safely): {reason}"
        ) from None
    if not isinstance(obj, Data):
        raise GraphInputError(f"{path}: holds a {type(obj).__name__}, not a torch_geometric.data.Data graph")
    if "name" not in obj:
        obj.name = path.name
    try:
        return validate_graph(obj)
    except GraphInputError as exc:
        raise GraphInputError(f"{path}: {exc}") from None


def save_graph(data: Data, path: str | os.PathLike[str]) -> None:
    """Save ``data`` with ``torch.save`` (atomically); :func:`load_data` reads it back.

    Example: ``save_graph(graph, "out/football.pt")``.
    """
    if not isinstance(data, Data):
        raise GraphInputError(f"expected a torch_geometric.data.Data, got {type(data).__name__}")
    with atomic_path(path) as tmp:
        torch.save(data, tmp)


def write_edge_csv(
    data: Data,
    path: str | os.PathLike[str],
    attributes: Sequence[str] = ("edge_weight",),
    *,
    undirected_once: bool = True,
) -> None:
    """Write one CSV row per edge: ``source,target,<attributes...>`` (atomically).

    Node names (``data.node_names``) are written when present, node indices
    otherwise; names containing commas or quotes are quoted the CSV way, which
    :func:`read_edgelist` reads back. For an undirected graph and ``undirected_once=True`` each edge is
    written once, from the smaller to the larger node index; otherwise every
    stored arc is one row. Floats are written with full precision (``repr``).

    Raises:
        GraphInputError: an attribute that is missing or not one value per edge.

    Example:

    >>> import tempfile, pathlib, torch
    >>> from torch_geometric.data import Data
    >>> g = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=2,
    ...          edge_weight=torch.tensor([0.5, 0.5], dtype=torch.float64))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "edges.csv"
    >>> write_edge_csv(g, path)
    >>> print(path.read_text(), end="")
    source,target,edge_weight
    0,1,0.5
    """
    edge_index = data.edge_index.cpu()
    columns = []
    for name in attributes:
        value = data.get(name)
        if not isinstance(value, torch.Tensor) or value.dim() != 1 or value.numel() != edge_index.size(1):
            raise GraphInputError(
                f"cannot write edge attribute {name!r}: the graph has no 1-d tensor "
                f"with one value per edge under that name"
            )
        columns.append(value.detach().cpu())
    rows = torch.arange(edge_index.size(1))
    weight = data.get("edge_weight")
    if undirected_once and is_undirected(edge_index, weight, data.num_nodes):
        rows = rows[edge_index[0] < edge_index[1]]
    names = data.get("node_names")
    src, dst = edge_index[0, rows].tolist(), edge_index[1, rows].tolist()
    if names is not None:
        src, dst = [str(names[i]) for i in src], [str(names[i]) for i in dst]
    values = [_format_column(c[rows]) for c in columns]
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["source", "target", *attributes])
        writer.writerows(zip(src, dst, *values))


def _format_column(values: torch.Tensor) -> list:
    if values.is_floating_point():
        return [repr(float(x)) for x in values.tolist()]
    if values.dtype == torch.bool:
        return [int(x) for x in values.tolist()]
    return values.tolist()


def _existing_file(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if not path.exists():
        raise GraphInputError(f"no such file: {path}")
    if not path.is_file():
        raise GraphInputError(f"not a file: {path}")
    return path


def _safe_globals() -> list:
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import EdgeStorage, GlobalStorage, NodeStorage

    return [Data, DataEdgeAttr, DataTensorAttr, GlobalStorage, NodeStorage, EdgeStorage]


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _parse_lines(path: Path, delimiter: str | None, comments: str, weighted: bool | None):
    """Sources, targets (as tokens) and lengths (or None) of every data line."""
    try:
        with open(path, encoding="utf-8") as handle:
            return _parse_handle(handle, path, delimiter, comments, weighted)
    except UnicodeDecodeError as exc:
        raise GraphInputError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    except OSError as exc:
        raise GraphInputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _parse_handle(handle, path: Path, delimiter: str | None, comments: str, weighted: bool | None):
    sources: list[str] = []
    targets: list[str] = []
    lengths: list[float] = []
    first = True
    for number, raw in enumerate(handle, start=1):
        line = raw.strip()
        if not line or (comments and line.startswith(comments)):
            continue
        if delimiter is None:
            before_comment = line.split(comments, 1)[0] if comments else line
            delimiter = "," if path.suffix.lower() == ".csv" or "," in before_comment else ""
        if delimiter:
            tokens = _split_delimited(line, delimiter)
        else:
            tokens = (line.split(comments, 1)[0] if comments else line).split()
        where = f"{path}:{number}"
        if first:
            first = False
            if _is_header(tokens, weighted):
                continue
        if weighted is None:
            weighted = len(tokens) >= 3
        if len(tokens) < 2 or not all(tokens[:2]):
            raise GraphInputError(f"{where}: expected 'source target [length]', got {line!r}")
        if len(tokens) > 3:
            raise GraphInputError(f"{where}: {len(tokens)} columns, expected 2 or 3 (source target [length])")
        sources.append(tokens[0])
        targets.append(tokens[1])
        if weighted:
            if len(tokens) < 3:
                raise GraphInputError(f"{where}: missing the length (third column)")
            try:
                lengths.append(float(tokens[2]))
            except ValueError:
                raise GraphInputError(f"{where}: length {tokens[2]!r} is not a number") from None
    return sources, targets, (lengths if weighted else None)


def _split_delimited(line: str, delimiter: str) -> list[str]:
    """Fields of one delimited line; one-character delimiters honour CSV quoting."""
    if len(delimiter) == 1:
        fields = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True))
    else:
        fields = line.split(delimiter)
    return [field.strip() for field in fields]


def _is_header(tokens: list[str], weighted: bool | None) -> bool:
    if weighted is not False and len(tokens) >= 3 and not _is_number(tokens[2]):
        return True
    return len(tokens) >= 2 and all(t.lower() in _HEADER_WORDS for t in tokens[:2])


def _relabel(tokens: list[str]) -> tuple[list[str], list[int]]:
    """Map tokens to 0..n-1: integers in numeric order, otherwise first appearance."""
    try:
        numbers = [int(t) for t in tokens]
    except ValueError:
        numbers = None
    if numbers is not None:
        unique = sorted(set(numbers))
        index = {value: i for i, value in enumerate(unique)}
        return [str(v) for v in unique], [index[v] for v in numbers]
    index: dict[str, int] = {}
    codes = [index.setdefault(t, len(index)) for t in tokens]
    return list(index), codes
