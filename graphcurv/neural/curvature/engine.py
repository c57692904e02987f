r"""Neural curvature over a calibration set, aggregated into edge and parameter scores.

For every calibration sample x the curvature kappa_N(i, j, x) of every edge is computed
(:mod:`~graphcurv.neural.curvature.sample`), then aggregated (spec, "Aggregation"):

* score of an edge = min over samples; an edge that hits the dead-neuron rule with a
  hidden source counts as 2.0 for that sample (so an edge dead on every sample scores
  2.0, the most removable); edges from input nodes hit by the rule count as 1;
* score of a parameter entry = min over the edges that read it (all spatial positions
  of a conv kernel weight) of their scores;
* on request (``mean=True``), the mean of kappa_N over samples (dead-rule edges count 1).

The default engine is the grouped one (:mod:`~graphcurv.neural.curvature.grouped`):
shared problems, certificates, and LPs only where they can still change a minimum.
A score is a minimum, so an (edge, sample) problem whose certified lower bound cannot
undercut the running minimum of its edge (``exact="edges"``, the default) or of its
parameter entry (``exact="parameters"``: over every spatial position of a conv
weight too) is not solved; the minima are exact all the same. The mean needs every
value, so ``mean=True`` solves every problem (several times slower).
``engine="per-edge"`` is the earlier engine (one LP per live edge and sample), kept as
the reference path.

Samples are taken in calibration order. With ``labels``, the order is rank by rank (the
first example of every class, then the second, ...), so the scores after k examples
per class are the ones after ``k * classes`` samples; ``checkpoints=(1, 2, 5, 10)``
keeps the parameter scores at each such k. A ``state`` file, rewritten atomically
after every sample block, lets an interrupted run resume where it stopped.

Distances and cost matrices do not depend on x and are computed once; problems of
every sample and connection stream to one pool of exact-solver processes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphcurv.atomic import atomic_path
from graphcurv.errors import GraphcurvError
from graphcurv.neural.curvature.chain import NeuralChain, neural_chain
from graphcurv.neural.curvature.distributed import InputWork, input_bounds, input_curvature
from graphcurv.neural.curvature.grouped import grouped_geometry, grouped_sample_curvature, prepare_sample
from graphcurv.neural.curvature.sample import chain_geometry, sample_curvature
from graphcurv.neural.memory import check_memory
from graphcurv.neural.parameters import scatter_parameter_scores
from graphcurv.progress import ProgressCallback, report
from graphcurv.transport.exact import ExactSolverPool

DEAD_SCORE = 2.0
STATE_FORMAT = "graphcurv-neural-curvature-state-1"
KEEP_BYTES = 1 << 30  # the look-ahead keeps its bounds passes for the solve pass up to this much


@dataclass
class NeuralCurvature:
    """Edge and parameter scores of a neural graph over a calibration set."""

    alpha: float
    samples: int
    chain: NeuralChain
    edge_score: list[Tensor]  # per connection: min over samples (dead hidden-source edges: 2.0)
    edge_mean: list[Tensor] | None  # per connection: mean kappa_N over samples (only with mean=True)
    param_scores: dict[str, Tensor]
    checkpoints: dict[int, dict[str, Tensor]] = field(default_factory=dict)
    truncation_bound: float = 0.0
    seconds: float = 0.0


def neural_curvature(
    graph: Data,
    alpha: float = 0.9,
    *,
    labels: Tensor | None = None,
    checkpoints: Sequence[int] = (),
    state: str | Path | None = None,
    workers: int | None = None,
    threshold: float = 1e-15,
    tol: float = 1e-9,
    mean: bool = False,
    exact: str = "edges",
    engine: str = "grouped",
    progress: ProgressCallback | None = None,
    executor=None,
) -> NeuralCurvature:
    """kappa_N of every edge of ``graph`` (from :func:`graphcurv.neural.export`) over its
    calibration samples (the columns of ``graph.activation``).

    Args:
        alpha: laziness (the authors use 0.9); must be in [0, 1).
        labels: class of each sample, to order samples rank by rank and report
            ``checkpoints`` (examples per class).
        state: a file to save progress to and resume from.
        threshold, tol: neighbour masses below ``threshold`` are moved onto the centre;
            edges whose certified error bound exceeds ``tol`` are solved untruncated.
        mean: also compute ``edge_mean`` (solves every problem).
        exact: ``"edges"`` (every edge's minimum over samples is exact) or
            ``"parameters"`` (only the parameter scores are: conv edges whose problems
            could not lower their kernel weight's minimum keep a certified lower bound
            as edge score; several times faster on conv nets).
        engine: ``"grouped"`` (default) or ``"per-edge"`` (the reference path).
        progress: called as ``progress(samples_done, samples, description)``.
        executor: a :mod:`graphcurv.execution` executor, already entered (a local pool
            or a Dask cluster): each calibration input is a unit of work solved on a
            worker, the chain's geometry shipped once per run
            (:mod:`~graphcurv.neural.curvature.distributed`; grouped engine only).
    """
    if not 0 <= alpha < 1:
        raise GraphcurvError(f"alpha must be in [0, 1), got {alpha!r}")
    activation = getattr(graph, "activation", None)
    if activation is None or activation.dim() != 2:
        raise GraphcurvError("the graph has no activations: export it with calibration inputs")
    if not bool(torch.isfinite(activation).all()):
        raise GraphcurvError("the graph's activations contain NaN or inf (check the model's weights and inputs)")
    if exact not in ("edges", "parameters"):
        raise GraphcurvError(f"exact must be 'edges' or 'parameters', got {exact!r}")
    if engine not in ("grouped", "per-edge"):
        raise GraphcurvError(f"engine must be 'grouped' or 'per-edge', got {engine!r}")
    if executor is not None and engine != "grouped":
        raise GraphcurvError("an executor runs the grouped engine: use engine='grouped'")
    check_memory(
        graph, workers=workers, mean=mean, checkpoints=len(checkpoints), engine=engine
    )  # before any allocation
    started = time.perf_counter()
    chain = neural_chain(graph, activation.device)
    order, stops = _sample_order(activation.size(1), labels, checkpoints)
    geometry = chain_geometry(chain)
    grouped = grouped_geometry(geometry) if engine == "grouped" else None
    signature = _signature(chain, activation)
    run = (
        _RunState.fresh(chain, alpha, signature, mean, exact)
        if state is None
        else _RunState.load_or_fresh(Path(state), chain, alpha, signature, mean, exact)
    )
    report(progress, run.done, len(order), "neural curvature")
    blocks = sorted({*stops.values(), len(order)})  # look-ahead never crosses a checkpoint

    def finish(position: int, kappa: list[Tensor], dead: list[Tensor], bound: float) -> None:
        run.add(kappa, dead, bound)
        for per_class, stop in stops.items():
            if position + 1 == stop:
                run.checkpoints[per_class] = _param_scores(graph, chain, run.minimum)
        if state is not None:
            run.save(Path(state))
        report(progress, run.done, len(order), "neural curvature")

    if executor is not None:
        work = InputWork(grouped, alpha, threshold, tol, exact == "parameters" and not mean)
        _run_on_executor(executor, work, chain, activation, order, blocks, run, mean, finish)
    else:
        _run_in_process(
            grouped, geometry, activation, order, blocks, run, workers, mean, exact, finish, threshold, tol, alpha
        )
    average = [total / max(run.done, 1) for total in run.total] if mean else None
    return NeuralCurvature(
        alpha,
        run.done,
        chain,
        run.minimum,
        average,
        _param_scores(graph, chain, run.minimum),
        dict(run.checkpoints),
        run.bound,
        time.perf_counter() - started,
    )


def _block(blocks: list[int], position: int) -> tuple[int, int]:
    """The look-ahead block holding ``position``: from the last checkpoint before it to the next."""
    return max([0, *(b for b in blocks if b <= position)]), min(b for b in blocks if b > position)


def _run_in_process(
    grouped, geometry, activation, order, blocks, run, workers, mean, exact, finish, threshold, tol, alpha
):
    """Inputs one after the other, their LPs on this process's pool of solver processes."""
    block_end, ahead, kept = 0, None, {}
    with ExactSolverPool(workers) as pool:
        for position in range(run.done, len(order)):
            sample = activation[:, order[position]]
            if grouped is not None and not mean and position >= block_end:
                _, block_end = _block(blocks, position)
                samples = {p: activation[:, order[p]] for p in range(position, block_end)}
                ahead, kept = None, {}
                # alone, an input gains nothing from a look-ahead: with exact='parameters' its solve
                # limits LPs by its own upper bounds anyway; per edge, they only skip LPs already settled
                if len(samples) > 1:
                    ahead, kept = _look_ahead(grouped, samples, run, exact == "parameters", alpha, threshold, tol)
            if grouped is None:
                kappa, dead, bound = sample_curvature(
                    geometry, sample, alpha, pool.submit, threshold=threshold, tol=tol
                )
            else:
                ceiling = None
                if not mean:
                    lowest = run.minimum if ahead is None else [torch.minimum(m, a) for m, a in zip(run.minimum, ahead)]
                    ceiling = _ceiling(grouped.geometry.chain, lowest, exact == "parameters")
                kappa, dead, bound = grouped_sample_curvature(
                    grouped,
                    sample,
                    alpha,
                    pool.submit,
                    threshold=threshold,
                    tol=tol,
                    ceiling=ceiling,
                    per_parameter=exact == "parameters" and not mean,
                    prepared=kept.pop(position, None),
                )
            finish(position, kappa, dead, bound)


def _run_on_executor(executor, work: InputWork, chain, activation, order, blocks, run, mean, finish) -> None:
    """Inputs as units of work on ``executor``, block by block: a bounds map (the
    look-ahead), then a solve map of the block's remaining inputs under one ceiling."""
    handle = executor.share(work)
    device = activation.device
    position = run.done
    while position < len(order):
        block_start, block_end = _block(blocks, position)
        ceiling = None
        if not mean:
            samples = [activation[:, order[p]].cpu() for p in range(block_start, block_end)]
            ahead = None
            for upper, dead in executor.map(input_bounds, samples, shared=(handle, None)).gather():
                score = _bound_scores(upper, dead)
                ahead = score if ahead is None else [torch.minimum(a, b) for a, b in zip(ahead, score)]
            lowest = [torch.minimum(m, a.to(m.device)) for m, a in zip(run.minimum, ahead)]
            ceiling = [t.cpu() for t in _ceiling(chain, lowest, work.per_parameter)]
        samples = [activation[:, order[p]].cpu() for p in range(position, block_end)]
        results = executor.map(input_curvature, samples, shared=(handle, ceiling)).gather()
        for offset, (kappa, dead, bound) in enumerate(results):
            finish(position + offset, [t.to(device) for t in kappa], [t.to(device) for t in dead], bound)
        position = block_end


def _sample_order(count: int, labels: Tensor | None, checkpoints: Sequence[int]) -> tuple[list[int], dict[int, int]]:
    """Samples rank by rank within their class, and after how many samples each
    checkpoint (examples per class) is complete."""
    if labels is None:
        if checkpoints:
            raise GraphcurvError("checkpoints per class need the labels of the calibration samples")
        return list(range(count)), {}
    labels = torch.as_tensor(labels).reshape(-1).cpu()
    if labels.numel() != count:
        raise GraphcurvError(f"{labels.numel()} labels for {count} calibration samples")
    rank = torch.zeros(count, dtype=torch.long)
    for value in labels.unique():
        where = torch.nonzero(labels == value).flatten()
        rank[where] = torch.arange(where.numel())
    order = sorted(range(count), key=lambda s: (int(rank[s]), int(labels[s])))
    stops = {}
    for k in checkpoints:
        if k < 1:
            raise GraphcurvError(f"checkpoints are examples per class (>= 1), got {k}")
        if int(rank.max()) + 1 < k:
            raise GraphcurvError(f"checkpoint {k} per class needs {k} examples of every class")
        stops[int(k)] = int((rank < k).sum())
    return order, stops


def _look_ahead(
    grouped, samples: dict, run: _RunState, per_parameter: bool, alpha: float, threshold: float, tol: float
):
    """The bounds passes of the inputs of a block still to do (``samples``, by position;
    no LP solved). Returns, per connection, the smallest certified upper bound on each
    edge's score over them: the minimum over samples is at most this, so a problem whose
    lower bound reaches it cannot lower the score, whichever sample it belongs to.

    Each pass's settled values (certificates, closed forms, the dead rule) are exact, so
    they go into the run's minima at once (a minimum is idempotent: a resume that redoes
    these inputs folds the same values again, and the block never crosses a checkpoint).
    The passes are then compacted (:meth:`~graphcurv.neural.curvature.grouped.PreparedSample.compact`:
    the open LPs that can still undercut the ceiling so far, with their floors) and kept
    for the solve pass, while they fit in ``KEEP_BYTES``; the solve pass redoes the others."""
    chain = grouped.geometry.chain
    lowest, kept, held = None, {}, 0
    for position, sample in samples.items():
        prepared = prepare_sample(grouped, sample, alpha, threshold=threshold, tol=tol)
        dead = prepared.dead_masks()
        run.fold(prepared.settled(), dead, prepared.worst)
        score = _bound_scores(prepared.upper(), dead)
        lowest = score if lowest is None else [torch.minimum(a, b) for a, b in zip(lowest, score)]
        ceiling = _ceiling(chain, [torch.minimum(m, a) for m, a in zip(run.minimum, lowest)], per_parameter)
        run.fold(prepared.compact(ceiling), [torch.zeros_like(d) for d in dead], 0.0)
        if held + prepared.nbytes() <= KEEP_BYTES:
            kept[position] = prepared
            held += prepared.nbytes()
    return lowest, kept


def _bound_scores(upper: list[Tensor], dead: list[Tensor]) -> list[Tensor]:
    """Per connection: an input's certified upper bound on each edge's score (edges out
    of a dead hidden neuron score ``DEAD_SCORE``)."""
    return [torch.where(d & (k >= 1), DEAD_SCORE, u) for k, (u, d) in enumerate(zip(upper, dead))]


def _ceiling(chain: NeuralChain, minimum: list[Tensor], per_parameter: bool) -> list[Tensor]:
    """The running minimum an (edge, sample) value must undercut to matter: the edge's,
    or (``per_parameter``) the smallest over the edges that read the same entry."""
    if not per_parameter:
        return minimum
    out = []
    for link, score in zip(chain.links, minimum):
        if link.param < 0:
            out.append(score)
            continue
        size = int(link.param_index.max()) + 1 if link.num_edges else 0
        smallest = score.new_full((size,), float("inf")).scatter_reduce(0, link.param_index, score, reduce="amin")
        out.append(smallest[link.param_index])
    return out


def _param_scores(graph: Data, chain: NeuralChain, edge_score: list[Tensor]) -> dict[str, Tensor]:
    flat: dict[str, Tensor] = {}
    for link, score in zip(chain.links, edge_score):
        if link.param >= 0:
            param = torch.tensor(link.param, device=score.device)
            scatter_parameter_scores(flat, graph, param, link.param_index, score)
    shapes = dict(zip(graph.param_names, graph.param_shapes))
    return {name: torch.where(torch.isinf(v), torch.nan, v).view(*shapes[name]) for name, v in flat.items()}


@dataclass
class _RunState:
    alpha: float
    signature: list[int]
    done: int
    minimum: list[Tensor]
    total: list[Tensor]
    bound: float
    checkpoints: dict[int, dict[str, Tensor]]
    mean: bool = False
    exact: str = "edges"

    @classmethod
    def fresh(
        cls, chain: NeuralChain, alpha: float, signature: list, mean: bool = False, exact: str = "edges"
    ) -> _RunState:
        device = chain.links[0].length.device
        sizes = [link.num_edges for link in chain.links]
        minimum = [torch.full((n,), float("inf"), dtype=torch.float64, device=device) for n in sizes]
        total = [torch.zeros(n, dtype=torch.float64, device=device) for n in sizes]
        return cls(alpha, signature, 0, minimum, total, 0.0, {}, mean, exact)

    @classmethod
    def load_or_fresh(
        cls, path: Path, chain: NeuralChain, alpha: float, signature: list, mean: bool, exact: str = "edges"
    ) -> _RunState:
        if not path.exists():
            return cls.fresh(chain, alpha, signature, mean, exact)
        try:
            saved = torch.load(path, weights_only=True, map_location=chain.links[0].length.device)
        except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message
            raise GraphcurvError(f"cannot resume from {path}: not a readable state file ({exc})") from exc
        if saved.get("format") != STATE_FORMAT or saved["signature"] != signature or saved["alpha"] != alpha:
            raise GraphcurvError(
                f"{path} holds a run of another graph, calibration set or alpha; delete it or choose another state file"
            )
        if mean and not saved.get("mean", True):
            raise GraphcurvError(
                f"{path} holds a run without the mean over samples; resume it without mean, or start afresh"
            )
        if exact == "edges" and saved.get("exact", "edges") == "parameters":
            raise GraphcurvError(
                f"{path} holds a run with exact='parameters', whose edge minima may be lower bounds; "
                "resume it with exact='parameters', or start afresh"
            )
        checkpoints = {int(k): v for k, v in saved["checkpoints"].items()}
        kept = mean  # a run resumed without the mean stops keeping it exact
        return cls(
            alpha,
            saved["signature"],
            saved["done"],
            saved["minimum"],
            saved["total"],
            saved["bound"],
            checkpoints,
            kept,
            "parameters" if "parameters" in (exact, saved.get("exact")) else "edges",
        )

    def add(self, kappa: list[Tensor], dead: list[Tensor], bound: float) -> None:
        """One more sample done: its values into the minima (and the totals, with the mean)."""
        self.fold(kappa, dead, bound)
        if self.mean:
            for total, value in zip(self.total, kappa):
                total += value
        self.done += 1

    def fold(self, kappa: list[Tensor], dead: list[Tensor], bound: float) -> None:
        """Values of a sample into the minima (edges hit by the dead rule with a hidden
        source count ``DEAD_SCORE``; +inf counts nothing)."""
        for k, (value, is_dead) in enumerate(zip(kappa, dead)):
            score = torch.where(is_dead & (k >= 1), DEAD_SCORE, value)
            torch.minimum(self.minimum[k], score, out=self.minimum[k])
        self.bound = max(self.bound, bound)

    def save(self, path: Path) -> None:
        payload = {
            "format": STATE_FORMAT,
            "alpha": self.alpha,
            "signature": self.signature,
            "done": self.done,
            "minimum": self.minimum,
            "total": self.total,
            "bound": self.bound,
            "checkpoints": {str(k): v for k, v in self.checkpoints.items()},
            "mean": self.mean,
            "exact": self.exact,
        }
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)


def _signature(chain: NeuralChain, activation: Tensor) -> list:
    """Identifies a run for resuming: layer sizes, edges per connection, and a hash of
    the calibration activations."""
    sizes = [*chain.sizes, *(link.num_edges for link in chain.links)]
    digest = hashlib.sha256(activation.detach().cpu().contiguous().numpy().tobytes()).hexdigest()
    return [*sizes, digest]
