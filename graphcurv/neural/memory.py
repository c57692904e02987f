r"""How much memory neural curvature needs, estimated from the graph's sizes before any allocation.

:func:`graphcurv.neural.curvature.neural_curvature` builds, for a chain of layers with
:math:`n_0, \dots, n_K` nodes and :math:`E_0, \dots, E_{K-1}` edges per connection
(connection :math:`k` runs from layer :math:`k` to layer :math:`k+1`) over :math:`S`
calibration inputs:

* **distance matrices** (kept; float64), the dense shortest distances two and three
  layers apart (:mod:`~graphcurv.neural.curvature.distances`):
  :math:`8 \sum_k n_k n_{k+2} + 8 \sum_k n_k n_{k+3}` bytes. These grow with the
  *product* of layer sizes. A matrix of more than :data:`DENSE_ENTRIES` entries keeps
  only its finite entries (:class:`~graphcurv.neural.curvature.local.LocalMatrix`), how
  many depends on the receptive fields, which the sizes do not tell: such matrices are
  counted at :data:`LOCAL_BYTES` per entry as an upper bound (**local distance
  matrices**, not certain, like the open problems) and their builder stops with an
  :class:`~graphcurv.errors.InsufficientMemoryError` when what it keeps outgrows the
  available memory;
* **per-edge arrays** (kept): every edge's ends, length, weight and parameter entry
  (:data:`CHAIN_BYTES`) and its entries in the predecessor / successor layouts
  (:data:`SIDE_BYTES` per layout);
* **building the distances** (transient): the two-hop path pairs of the chunk being
  built and of the one before it, :data:`PAIR_BYTES` and :data:`PREVIOUS_PAIR_BYTES`
  each, with :math:`\text{pairs}_k \approx E_k E_{k+1} / n_{k+1}` cut in chunks of
  :data:`CHUNK`;
* **hashing the activations** (transient): the :math:`n \times S` calibration
  activations copied once to identify the run;
* **running the inputs** (transient): per edge, the groups, the running minimum, sum
  and bounds and one input's arrays (:data:`RUN_BYTES`); the dense products of the
  first and last connection's closed forms (:math:`n_0 n_1` and :math:`n_{K-1} n_K`
  entries, and a copy of their D2); and the **open transport problems**, the cost
  matrices of one input's uncertified edges, all in flight at once: :data:`OPEN_SHARE`
  of the :math:`\sum_k E_k (1 + d^{in}_k)(1 + d^{out}_{k+1})` entries of the middle
  connections (:math:`d` the mean degrees), 8 bytes each (``mean=True``:
  :data:`OPEN_SHARE_MEAN`). That is the per-edge engine's count; the grouped engine (the
  default) never builds an edge's cost matrix in this process: it holds the open edges of
  its look-ahead (at most ``KEEP_BYTES``) and a bounded queue for the solver pool, so its
  open problems are counted at the smaller of that and :data:`GROUPED_OPEN_BYTES`;
* the parameter scores of every checkpoint, :data:`WORKER_BYTES` per solver process.

On a DAG of layers (residual additions, concatenations) the same parts are counted over
what the engine builds there: the distance matrices of every layer pair its memoised
recursion visits (:class:`~graphcurv.neural.curvature.distances.LayerPairDistances`,
mirrored by :class:`_Distances`) plus the stacked copies of the sides that spread over
several layers, and sides that spread over every connection into a connection's source
layer and out of its target layer. On a chain this is exactly the D2/D3 sum above.

The peak is the kept part plus the largest of the three transient stages. The
constants were calibrated against the peak resident memory measured on the bundled
LeNet, a small conv net and an MLP (``benchmarks/memory_estimate.py``,
``docs/reliability.md``, "Memory"): estimate / measured peak between 0.7 and 1.4 over
repeated runs (the measured peaks themselves vary by up to 25 % from run to run). The open transport problems depend on
the data (how many edges the certificates settle; 1 to 2.4 % of the entries on those
nets), so :func:`check_memory` refuses a run only when what it allocates for certain
(:attr:`MemoryEstimate.certain`) exceeds the available memory, with an
:class:`~graphcurv.errors.InsufficientMemoryError` naming the estimate, what is
available and what to change; when only the open problems take it past, it warns
(:class:`MemoryWarning`); so do the local distance matrices.

>>> from torch_geometric.data import Data
>>> graph = Data(layer_ptr=[0, 3072, 35840, 68608, 101376, 101386], connection_source=[0, 1, 2, 3],
...              connection_target=[1, 2, 3, 4], connection_num_edges=[884736, 9437184, 9437184, 327680])
>>> estimate = estimate_memory(graph, samples=100, workers=1)  # 3x32x32 -> three 32x32x32 convs -> 10
>>> format_bytes(estimate.parts["local distance matrices (at most)"]), format_bytes(estimate.certain)
('14.2 GiB', '6.2 GiB')
>>> check_memory(graph, available=4 << 30, samples=100)
Traceback (most recent call last):
...
graphcurv.errors.InsufficientMemoryError: neural curvature of this graph needs at least ...
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch_geometric.data import Data

from graphcurv.errors import InsufficientMemoryError

__all__ = ["MemoryEstimate", "MemoryWarning", "available_memory", "check_memory", "estimate_memory", "format_bytes"]

CHUNK = 1 << 22  # path pairs per chunk in distances.two_hop (and matrix entries in three_hop)
CHAIN_BYTES = 36  # per edge: ends (2 x int64), length (float64), weight (float32), parameter entry (int64)
SIDE_BYTES = 16  # per edge and side layout it is in: neighbour (int64) and length (float64)
RUN_BYTES = 180  # per edge while inputs run: groups, running minimum / sum / bounds, one input's arrays
PAIR_BYTES = 48  # per two-hop path pair of the chunk being built: indices, offsets, lengths, temporaries
PREVIOUS_PAIR_BYTES = 32  # per pair of the chunk before it, still referenced while the next one is built
OPEN_SHARE = 0.02  # share of the middle connections' problem entries in flight for one input (measured: about 1%)
OPEN_SHARE_MEAN = 0.05  # the same when every problem is solved (mean=True)
LOOK_AHEAD_BYTES = 1 << 30  # grouped engine: compacted bounds passes kept (curvature.engine.KEEP_BYTES)
QUEUED_ENTRIES = 1 << 25  # grouped engine: cost entries queued for the solver pool (ExactSolverPool's default)
GROUPED_OPEN_BYTES = LOOK_AHEAD_BYTES + 8 * QUEUED_ENTRIES  # the most its open problems hold at once
WORKER_BYTES = 32 << 20  # private memory of one forked solver process (measured: 10 to 33 MiB)
BASE_BYTES = 32 << 20  # the engine's fixed overhead (pools, queues, small tensors)
OPEN = "open transport problems"  # the one part that depends on the data (how many edges certificates settle)
LOCAL = "local distance matrices (at most)"  # finite entries only: receptive fields decide how many
UNCERTAIN = (OPEN, LOCAL)  # parts that are upper bounds, not certain allocations
DENSE_ENTRIES = 1 << 24  # larger distance matrices keep only their finite entries (curvature.local.LocalMatrix)
ROW_ENTRIES = 1 << 24  # dense entries of one block of rows while such a matrix is built
ROW_BLOCK_BYTES = 40 * ROW_ENTRIES  # that block while it is built: terms, their minimum, the finite mask (~5 arrays)
LOCAL_BYTES = 12  # per finite entry of a local matrix: value (float64) and column (int32)


class MemoryWarning(UserWarning):
    """The run fits for certain, but may not once its open transport problems are counted."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated peak memory of a neural-curvature run, in bytes, by part (see the module docstring).

    ``total`` is the expected peak; ``certain`` leaves out the open transport problems,
    the one part that depends on the data (how many edges the certificates settle).
    """

    total: int
    parts: dict[str, int] = field(default_factory=dict)
    certain: int = 0

    def largest(self, certain: bool = False) -> str:
        """The name of the largest part (``certain``: leaving out the open transport problems)."""
        parts = {k: v for k, v in self.parts.items() if not (certain and k in UNCERTAIN)}
        return max(parts, key=parts.get)

    def describe(self, count: int = 3, certain: bool = False) -> str:
        """``"16.2 GiB (distance matrices 15.1 GiB, per-edge arrays 0.9 GiB, ...)"``; ``certain``:
        :attr:`certain` and its parts."""
        parts = [(k, v) for k, v in self.parts.items() if not (certain and k in UNCERTAIN)]
        top = sorted(parts, key=lambda item: -item[1])[:count]
        size = self.certain if certain else self.total
        return f"{format_bytes(size)} ({', '.join(f'{name} {format_bytes(part)}' for name, part in top)})"


def format_bytes(size: float) -> str:
    """Bytes as ``"512 MiB"`` or ``"3.4 GiB"``.

    >>> format_bytes(3 << 29), format_bytes(5 << 20)
    ('1.5 GiB', '5 MiB')
    """
    if size >= 1 << 30:
        return f"{size / 2**30:.1f} GiB"
    return f"{size / 2**20:.0f} MiB"


def _structure(graph: Data) -> tuple[list[int], list[tuple[int, int, int]]] | None:
    """Layer sizes and the (source layer, target layer, edges) of every connection
    (``None`` if ``graph`` is not a neural graph: the engine says so)."""
    if graph.get("layer_ptr") is None or graph.get("connection_target") is None:
        return None
    ptr = [int(p) for p in graph.layer_ptr]
    sizes = [b - a for a, b in zip(ptr[:-1], ptr[1:])]
    links = [
        (int(a), int(b), int(e))
        for a, b, e in zip(graph.connection_source, graph.connection_target, graph.connection_num_edges)
    ]
    if not links or any(not 0 <= a < b < len(sizes) for a, b, _ in links):
        return None  # not layers linked forwards: the engine refuses it
    return sizes, links


class _Distances:
    """Which dense distance matrices the engine builds, and the largest transient of building
    one, mirroring :class:`~graphcurv.neural.curvature.distances.LayerPairDistances` (its
    memo of D(X, Y), two-hop products through a single connection, three-hop ones after)
    without computing anything. On a chain the matrices are the D2 and D3 blocks."""

    def __init__(self, sizes: list[int], links: list[tuple[int, int, int]]) -> None:
        self.sizes, self.links = sizes, links
        self.into: list[list[int]] = [[] for _ in sizes]
        self.out_of: list[list[int]] = [[] for _ in sizes]
        for c, (a, b, _) in enumerate(links):
            self.into[b].append(c)
            self.out_of[a].append(c)
        self.reach: list[set[int]] = [set() for _ in sizes]
        for layer in reversed(range(len(sizes))):
            for c in self.out_of[layer]:
                target = links[c][1]
                self.reach[layer] |= {target} | self.reach[target]
        self.built: set[tuple[int, int]] = set()
        self.building = 0

    def _only_direct(self, x: int, z: int) -> int | None:
        direct = [c for c in self.into[z] if self.links[c][0] == x]
        others = [c for c in self.into[z] if self.links[c][0] != x and self.links[c][0] in self.reach[x]]
        return direct[0] if len(direct) == 1 and not others else None

    def need(self, x: int, y: int) -> None:
        """D(X, Y) is built (and what it needs first)."""
        if (x, y) in self.built:
            return
        self.built.add((x, y))
        sizes, terms = self.sizes, 0
        for c in self.into[y]:
            z, _, edges = self.links[c]
            if z != x and z not in self.reach[x]:
                continue
            terms += 1
            if z == x:
                continue
            first = self._only_direct(x, z)
            if first is not None:  # two_hop: the path pairs of one chunk and of the one before it
                pairs = self.links[first][2] * edges // max(sizes[z], 1)
                extra = PAIR_BYTES * min(pairs, CHUNK) + PREVIOUS_PAIR_BYTES * min(max(pairs - CHUNK, 0), CHUNK)
            else:  # three_hop: a block of D(X, Z) columns per chunk of edges, and its sum
                self.need(x, z)
                extra = 24 * min(sizes[x] * max(edges, 1), max(CHUNK, sizes[x]))
            self.building = max(self.building, extra)
        if sizes[x] * sizes[y] > DENSE_ENTRIES:  # built a block of rows at a time: terms, minimum, mask
            self.building = max(self.building, ROW_BLOCK_BYTES)
        elif terms > 1:  # one term per connection into Y, combined by an element-wise minimum
            self.building = max(self.building, 16 * sizes[x] * sizes[y])

    def bytes(self) -> int:
        """The dense matrices (at most :data:`DENSE_ENTRIES` entries each)."""
        return sum(8 * n for n in self._entries() if n <= DENSE_ENTRIES)

    def local_bytes(self) -> int:
        """The larger ones keep only their finite entries: at most all of them."""
        return sum(LOCAL_BYTES * n for n in self._entries() if n > DENSE_ENTRIES)

    def _entries(self) -> list[int]:
        return [self.sizes[x] * self.sizes[y] for x, y in self.built]


def estimate_memory(
    graph: Data,
    *,
    samples: int | None = None,
    workers: int | None = None,
    mean: bool = False,
    checkpoints: int = 0,
    engine: str = "grouped",
) -> MemoryEstimate:
    """Estimated peak memory of :func:`~graphcurv.neural.curvature.neural_curvature` on ``graph``.

    Reads only the graph's layer and connection lists (``layer_ptr``, ``connection_*``),
    ``param_shapes`` and the shape of ``activation``: nothing is allocated. Chains and DAGs
    of layers (residual additions, concatenations) alike: a connection's sides spread over
    every connection into its source layer and out of its target layer.

    Args:
        samples: calibration inputs (default: the columns of ``graph.activation``).
        workers: solver processes (default: one per CPU core).
        mean: the run also averages over inputs (every problem is solved).
        checkpoints: how many checkpoint score sets are kept.
        engine: ``"grouped"`` or ``"per-edge"``, as for ``neural_curvature`` (only the open
            transport problems differ).
    """
    structure = _structure(graph)
    if structure is None:
        return MemoryEstimate(0, {})
    sizes, links = structure
    activation = getattr(graph, "activation", None)
    if samples is None:
        samples = int(activation.shape[1]) if activation is not None and activation.dim() == 2 else 1
    distances = _Distances(sizes, links)
    copies = sides = closed_forms = 0
    entries = 0.0
    for source, target, edges in links:
        feeding, fed = distances.into[source], distances.out_of[target]
        left, right = [links[c][0] for c in feeding], [links[c][1] for c in fed]
        for x in left:
            distances.need(x, target)
        for y in right:
            distances.need(source, y)
        for x in left:
            for y in right:
                distances.need(x, y)
        if any(links[c][0] != source and links[c][0] in distances.reach[source] for c in distances.into[target]):
            distances.need(source, target)  # d(i, j) may be a shorter detour
        wide_left, wide_right = sum(sizes[x] for x in left), sum(sizes[y] for y in right)
        if len(left) > 1 or len(right) > 1:  # several blocks are stacked into one copy
            stacked = [wide_left * sizes[target] * (len(left) > 1), sizes[source] * wide_right * (len(right) > 1)]
            for n in [*stacked, wide_left * wide_right]:
                if n <= DENSE_ENTRIES:  # larger ones are read in place (curvature.blocks.BlockMatrix)
                    copies += 8 * n
        in_edges, out_edges = sum(links[c][2] for c in feeding), sum(links[c][2] for c in fed)
        sides += in_edges + out_edges
        if feeding and fed:  # both ends spread: transport problems
            entries += edges * (1 + in_edges / max(sizes[source], 1)) * (1 + out_edges / max(sizes[target], 1))
        elif feeding or fed:  # a point mass on one side: a dense product and a copy of the distances it reads
            read = wide_left * sizes[target] if feeding else sizes[source] * wide_right
            closed_forms = max(closed_forms, 8 * (sizes[source] * sizes[target] + read))
    kept = {
        "distance matrices": distances.bytes() + copies,
        "per-edge arrays": CHAIN_BYTES * sum(e for _, _, e in links) + SIDE_BYTES * sides,
    }
    local = distances.local_bytes()
    share = OPEN_SHARE_MEAN if mean else OPEN_SHARE
    itemsize = activation.element_size() if activation is not None else 4
    phases = {  # what comes on top of the kept arrays at each stage
        "building the distances": {"building the distances": distances.building},
        "hashing the activations": {"hashing the activations": itemsize * sum(sizes) * int(samples)},
        "running the inputs": {
            "per-input arrays": RUN_BYTES * sum(e for _, _, e in links),
            OPEN: int(8 * share * entries)
            if engine == "per-edge"
            else int(min(8 * share * entries, GROUPED_OPEN_BYTES)),
            "one input's closed forms": closed_forms,
        },
    }
    parameters = sum(math.prod(shape) for shape in getattr(graph, "param_shapes", []) or [])
    workers = _workers(workers)
    fixed = {
        "checkpoint scores": 8 * parameters * (int(checkpoints) + 2),
        "solver processes": WORKER_BYTES * (workers if workers > 1 else 0),
        "overhead": BASE_BYTES,
    }
    peak = max(phases.values(), key=lambda part: sum(part.values()))
    local_part = {LOCAL: local} if local else {}
    parts = {name: int(size) for name, size in {**kept, **local_part, **fixed, **peak}.items()}
    certain = sum(kept.values()) + sum(fixed.values())
    certain += max(sum(size for name, size in part.items() if name != OPEN) for part in phases.values())
    return MemoryEstimate(sum(parts.values()), parts, int(certain))


def _workers(workers: int | None) -> int:
    if workers is not None:
        return max(1, int(workers))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _cgroup_room() -> int | None:
    """Room left under this process's cgroup memory limit (v2 or v1), ``None`` without a limit."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or int(limit) >= 1 << 60:
            return None
        return max(int(limit) - usage, 0)
    return None


def available_memory() -> int:
    """Bytes this process can still allocate: the system's available memory
    (``psutil.virtual_memory().available``), or less under a cgroup limit."""
    import psutil

    available = int(psutil.virtual_memory().available)
    room = _cgroup_room()
    return available if room is None else min(available, room)


def check_memory(
    graph: Data,
    *,
    available: int | None = None,
    samples: int | None = None,
    workers: int | None = None,
    mean: bool = False,
    checkpoints: int = 0,
    engine: str = "grouped",
) -> MemoryEstimate:
    """Refuse, before any allocation, a neural-curvature run whose estimated peak exceeds
    ``available`` (default: :func:`available_memory`); returns the estimate otherwise.

    The refusal counts what the run allocates for certain (:attr:`MemoryEstimate.certain`);
    when only the expected open transport problems take it past ``available``, a
    :class:`MemoryWarning` is issued instead (their share is calibrated on small nets).

    Raises:
        InsufficientMemoryError: naming the estimate and its largest parts, what is
            available, and what to change.
    """
    estimate = estimate_memory(
        graph, samples=samples, workers=workers, mean=mean, checkpoints=checkpoints, engine=engine
    )
    device = getattr(getattr(graph, "activation", None), "device", torch.device("cpu"))
    if estimate.total == 0:
        return estimate
    room = available_memory() if available is None else int(available)
    if estimate.certain > room:
        more = (
            f", at most {format_bytes(estimate.total)} with its open transport problems and local distances"
            if any(part in estimate.parts for part in UNCERTAIN)
            else ""
        )
        raise InsufficientMemoryError(
            f"neural curvature of this graph needs at least {estimate.describe(certain=True)} at its peak{more}, "
            f"but only {format_bytes(room)} is available: {_advice(estimate.largest(certain=True))}"
        )
    if estimate.total > room:
        warnings.warn(
            f"neural curvature of this graph may need about {estimate.describe()} at its peak (the open "
            f"transport problems depend on the data, local distance matrices on the receptive fields), and "
            f"{format_bytes(room)} is available",
            MemoryWarning,
            stacklevel=2,
        )
    if device.type == "cuda":
        _check_cuda(estimate, device)
    return estimate


def _check_cuda(estimate: MemoryEstimate, device: torch.device) -> None:
    """The kept part (distance matrices and per-edge arrays) lives on the GPU."""
    free, _ = torch.cuda.mem_get_info(device)
    on_device = sum(estimate.parts.get(part, 0) for part in ("distance matrices", LOCAL, "per-edge arrays"))
    if on_device > free:
        raise InsufficientMemoryError(
            f"neural curvature of this graph needs about {format_bytes(on_device)} of GPU memory (distance "
            f"matrices and per-edge arrays), but {device} has {format_bytes(free)} free: run it on the CPU "
            f"(--device cpu) or {_advice(estimate.largest(certain=True))}"
        )


def _advice(largest: str) -> str:
    """What to change when ``largest`` is the part that does not fit."""
    if largest == "distance matrices":
        return (
            "use smaller input images or a narrower model (the dense distance matrices between layers grow with "
            "the product of their sizes), or a machine with more memory"
        )
    if largest == "hashing the activations":
        return "use fewer calibration inputs (--per-class) or smaller input images, or a machine with more memory"
    if largest == "solver processes":
        return "use fewer solver processes (--workers)"
    return "use a smaller model or smaller input images (fewer edges), or a machine with more memory"
