r"""How much memory neural curvature needs, estimated from the graph's sizes before any allocation.

:func:`graphcurv.neural.curvature.neural_curvature` builds, for a chain of layers with
:math:`n_0, \dots, n_K` nodes and :math:`E_0, \dots, E_{K-1}` edges per connection
(connection :math:`k` runs from layer :math:`k` to layer :math:`k+1`) over :math:`S`
calibration inputs:

* **distance matrices** (kept; float64), the dense shortest distances two and three
  layers apart (:mod:`~graphcurv.neural.curvature.distances`):
  :math:`8 \sum_k n_k n_{k+2} + 8 \sum_k n_k n_{k+3}` bytes. These grow with the
  *product* of layer sizes: they are what does not fit for a MobileNet at 32 x 32;
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
  :data:`OPEN_SHARE_MEAN`);
* the parameter scores of every checkpoint, :data:`WORKER_BYTES` per solver process.

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
(:class:`MemoryWarning`).

>>> from torch_geometric.data import Data
>>> graph = Data(layer_ptr=[0, 3072, 35840, 68608, 101376, 101386], connection_source=[0, 1, 2, 3],
...              connection_target=[1, 2, 3, 4], connection_num_edges=[884736, 9437184, 9437184, 327680])
>>> estimate = estimate_memory(graph, samples=100, workers=1)  # 3x32x32 -> three 32x32x32 convs -> 10
>>> format_bytes(estimate.parts["distance matrices"]), format_bytes(estimate.certain)
('9.5 GiB', '15.7 GiB')
>>> check_memory(graph, available=8 << 30, samples=100)
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
WORKER_BYTES = 32 << 20  # private memory of one forked solver process (measured: 10 to 33 MiB)
BASE_BYTES = 32 << 20  # the engine's fixed overhead (pools, queues, small tensors)
OPEN = "open transport problems"  # the one part that depends on the data (how many edges certificates settle)


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
        parts = {k: v for k, v in self.parts.items() if not (certain and k == OPEN)}
        return max(parts, key=parts.get)

    def describe(self, count: int = 3, certain: bool = False) -> str:
        """``"16.2 GiB (distance matrices 15.1 GiB, per-edge arrays 0.9 GiB, ...)"``; ``certain``:
        :attr:`certain` and its parts."""
        parts = [(k, v) for k, v in self.parts.items() if not (certain and k == OPEN)]
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


def _chain(graph: Data) -> tuple[list[int], list[int]] | None:
    """Layer sizes and edges per connection of a chain (``None`` if the graph is not one)."""
    if graph.get("layer_ptr") is None or graph.get("connection_target") is None:
        return None  # not a neural graph: the engine says so
    ptr = [int(p) for p in graph.layer_ptr]
    sizes = [b - a for a, b in zip(ptr[:-1], ptr[1:])]
    into: dict[int, list[int]] = {}
    for c, target in enumerate(graph.connection_target):
        into.setdefault(int(target), []).append(c)
    edges = []
    for target in range(1, len(sizes)):
        feeding = into.get(target, [])
        if len(feeding) != 1 or int(graph.connection_source[feeding[0]]) != target - 1:
            return None
        edges.append(int(graph.connection_num_edges[feeding[0]]))
    return sizes, edges


def estimate_memory(
    graph: Data,
    *,
    samples: int | None = None,
    workers: int | None = None,
    mean: bool = False,
    checkpoints: int = 0,
) -> MemoryEstimate:
    """Estimated peak memory of :func:`~graphcurv.neural.curvature.neural_curvature` on ``graph``.

    Reads only the graph's layer and connection lists (``layer_ptr``, ``connection_*``),
    ``param_shapes`` and the shape of ``activation``: nothing is allocated.

    Args:
        samples: calibration inputs (default: the columns of ``graph.activation``).
        workers: solver processes (default: one per CPU core).
        mean: the run also averages over inputs (every problem is solved).
        checkpoints: how many checkpoint score sets are kept.
    """
    chain = _chain(graph)
    if chain is None:
        return _dag_estimate(graph, workers)
    sizes, edges = chain
    activation = getattr(graph, "activation", None)
    if samples is None:
        samples = int(activation.shape[1]) if activation is not None and activation.dim() == 2 else 1
    links = len(edges)
    d2 = sum(sizes[k] * sizes[k + 2] for k in range(links - 1))
    d3 = sum(sizes[k] * sizes[k + 3] for k in range(links - 2))
    sides = sum(edges[: links - 1]) + sum(edges[1:])  # predecessor layouts of links 1.., successors of ..K-2
    kept = {"distance matrices": 8 * (d2 + d3), "per-edge arrays": CHAIN_BYTES * sum(edges) + SIDE_BYTES * sides}
    building = 0
    for k in range(links - 1):
        middle = max(sizes[k + 1], 1)
        pairs = edges[k] * edges[k + 1] // middle
        building = max(
            building, PAIR_BYTES * min(pairs, CHUNK) + PREVIOUS_PAIR_BYTES * min(max(pairs - CHUNK, 0), CHUNK)
        )
    for k in range(links - 2):  # D3: a block of D2 columns per chunk of edges, and its sum
        building = max(building, 24 * min(sizes[k] * max(edges[k + 2], 1), max(CHUNK, sizes[k])))
    closed_forms = 8 * sizes[0] * sizes[1] + 8 * sizes[-2] * sizes[-1]  # dense products of the end connections
    if links >= 2:
        closed_forms += 8 * max(sizes[0] * sizes[2], sizes[-3] * sizes[-1])  # their D2 with inf zeroed
    entries = 0.0
    for k in range(1, links - 1):  # connections whose both ends spread
        into_source = edges[k - 1] / max(sizes[k], 1)
        out_of_target = edges[k + 1] / max(sizes[k + 1], 1)
        entries += edges[k] * (1 + into_source) * (1 + out_of_target)
    share = OPEN_SHARE_MEAN if mean else OPEN_SHARE
    itemsize = activation.element_size() if activation is not None else 4
    phases = {  # what comes on top of the kept arrays at each stage
        "building the distances": {"building the distances": building},
        "hashing the activations": {"hashing the activations": itemsize * sum(sizes) * int(samples)},
        "running the inputs": {
            "per-input arrays": RUN_BYTES * sum(edges),
            OPEN: int(8 * share * entries),
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
    parts = {name: int(size) for name, size in {**kept, **fixed, **peak}.items()}
    certain = sum(kept.values()) + sum(fixed.values())
    certain += max(sum(size for name, size in part.items() if name != OPEN) for part in phases.values())
    return MemoryEstimate(sum(parts.values()), parts, int(certain))


def _dag_estimate(graph: Data, workers: int | None) -> MemoryEstimate:
    """A DAG of layers (residual additions, concatenations): what is certain, the dense
    distance matrices of every layer pair the engine builds (as
    :class:`~graphcurv.neural.curvature.distances.LayerPairDistances` does), the stacked
    side blocks and the per-edge arrays; nothing data-dependent."""
    if graph.get("layer_ptr") is None or graph.get("connection_target") is None:
        return MemoryEstimate(0, {})
    ptr = [int(p) for p in graph.layer_ptr]
    sizes = [b - a for a, b in zip(ptr[:-1], ptr[1:])]
    source = [int(x) for x in graph.connection_source]
    target = [int(x) for x in graph.connection_target]
    edges = [int(x) for x in graph.connection_num_edges]
    into = {y: [c for c in range(len(target)) if target[c] == y] for y in range(len(sizes))}
    reach: list[set[int]] = [set() for _ in sizes]
    for layer in reversed(range(len(sizes))):
        for c in range(len(source)):
            if source[c] == layer:
                reach[layer] |= {target[c]} | reach[target[c]]
    pairs: set[tuple[int, int]] = set()

    def need(x: int, y: int) -> None:  # the memoised recursion of LayerPairDistances.between
        if (x, y) in pairs:
            return
        pairs.add((x, y))
        for c in into[y]:
            z = source[c]
            if z == x or z not in reach[x]:
                continue
            direct = [d for d in into[z] if source[d] == x]
            others = [d for d in into[z] if source[d] != x and source[d] in reach[x]]
            if not (len(direct) == 1 and not others):
                need(x, z)

    stacked = 0
    for c in range(len(source)):
        left = [source[d] for d in into[source[c]]]
        right = [target[d] for d in range(len(source)) if source[d] == target[c]]
        blocks = (
            [(x, target[c]) for x in left] + [(source[c], y) for y in right] + [(x, y) for x in left for y in right]
        )
        for x, y in blocks:
            need(x, y)
        for group in ([(x, target[c]) for x in left], [(source[c], y) for y in right]):
            if len(group) > 1:
                stacked += sum(sizes[x] * sizes[y] for x, y in group)
        if len(left) > 1 or len(right) > 1:
            stacked += sum(sizes[x] * sizes[y] for x in left for y in right)
    kept = {
        "distance matrices": 8 * (sum(sizes[x] * sizes[y] for x, y in pairs) + stacked),
        "per-edge arrays": CHAIN_BYTES * sum(edges) + 2 * SIDE_BYTES * sum(edges),
    }
    parameters = sum(math.prod(shape) for shape in getattr(graph, "param_shapes", []) or [])
    workers = _workers(workers)
    fixed = {
        "checkpoint scores": 8 * parameters * 2,
        "solver processes": WORKER_BYTES * (workers if workers > 1 else 0),
        "overhead": BASE_BYTES,
    }
    parts = {name: int(size) for name, size in {**kept, **fixed}.items()}
    total = sum(parts.values())
    return MemoryEstimate(total, parts, total)


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
    estimate = estimate_memory(graph, samples=samples, workers=workers, mean=mean, checkpoints=checkpoints)
    device = getattr(getattr(graph, "activation", None), "device", torch.device("cpu"))
    if estimate.total == 0:
        return estimate
    room = available_memory() if available is None else int(available)
    if estimate.certain > room:
        more = (
            f", about {format_bytes(estimate.total)} with its open transport problems" if OPEN in estimate.parts else ""
        )
        raise InsufficientMemoryError(
            f"neural curvature of this graph needs at least {estimate.describe(certain=True)} at its peak{more}, "
            f"but only {format_bytes(room)} is available: {_advice(estimate.largest(certain=True))}"
        )
    if estimate.total > room:
        warnings.warn(
            f"neural curvature of this graph may need about {estimate.describe()} at its peak (the open "
            f"transport problems depend on the data), and {format_bytes(room)} is available",
            MemoryWarning,
            stacklevel=2,
        )
    if device.type == "cuda":
        _check_cuda(estimate, device)
    return estimate


def _check_cuda(estimate: MemoryEstimate, device: torch.device) -> None:
    """The kept part (distance matrices and per-edge arrays) lives on the GPU."""
    free, _ = torch.cuda.mem_get_info(device)
    on_device = estimate.parts.get("distance matrices", 0) + estimate.parts.get("per-edge arrays", 0)
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
            "use smaller input images or a narrower model (the distance matrices between layers two and three "
            "apart grow with the product of their sizes), or a machine with more memory"
        )
    if largest == "hashing the activations":
        return "use fewer calibration inputs (--per-class) or smaller input images, or a machine with more memory"
    if largest == "solver processes":
        return "use fewer solver processes (--workers)"
    return "use a smaller model or smaller input images (fewer edges), or a machine with more memory"
