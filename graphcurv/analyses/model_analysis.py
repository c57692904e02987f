"""``analyze_model``: the neural curvature analysis of a trained model, the pipeline of ``graphcurv analyze``.

The stages, each timed (``ModelAnalysis.seconds``):

1. *calibration*: ``per_class`` correctly classified inputs per class of ``data`` (the
   ``"val"`` split), drawn with ``seed`` (:func:`graphcurv.datasets.calibration_set`);
2. *export*: the neural graph of the model on them (:func:`graphcurv.neural.export`);
3. *curvature*: :math:`\\kappa_N` of every edge, with the scores after 1, 2, 5 and 10
   inputs per class (those up to ``per_class``) as checkpoints, resumable through
   ``state`` (:func:`graphcurv.neural.curvature.neural_curvature`);
4. *bottlenecks*: the most negative edges and where they concentrate
   (:func:`~graphcurv.analyses.bottlenecks.bottleneck_report`);
5. *communities* (optional): Ricci-flow communities of the units and channels
   (:func:`~graphcurv.analyses.model_communities.model_communities`).

With ``output``, the report folder is written (completely or not at all,
:func:`~graphcurv.analyses.neural_report.write_report`): ``scores.pt`` (what pruning reads),
``scores.csv``, two plots and ``report.json``.

Before any stage, what would fail later is refused (:mod:`graphcurv.models.validation`,
docs/reliability.md): an output folder that cannot be written, a state file that is
truncated or not a state file, NaN or inf weights, images of a shape the model does not
take, non-finite activations. A write that fails (disk full) raises a
:class:`~graphcurv.atomic.WriteError` and leaves the previous report intact; a solver
worker that dies raises a :class:`~graphcurv.errors.WorkerError` (the state file keeps
the inputs done).

Example::

    import graphcurv
    model = graphcurv.load_model("model.pt")
    val = graphcurv.load_dataset("fashion-mnist", split="val")
    analysis = graphcurv.analyze_model(model, val, per_class=2, output="report")
    analysis.curvature.param_scores["features.0.weight"]
"""

from __future__ import annotations

import os
import time
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.errors import GraphcurvError, WorkerError
from graphcurv.progress import ProgressBars, stage

__all__ = ["CHECKPOINTS", "ModelAnalysis", "analyze_model", "check_state_file"]

CHECKPOINTS = (1, 2, 5, 10)  # inputs per class after which the scores are kept too


@dataclass
class ModelAnalysis:
    """What :func:`analyze_model` found (and wrote).

    Attributes:
        graph: the neural graph (on the CPU), named ``name``.
        labels: the class of every calibration input.
        curvature: the ``NeuralCurvature`` (``param_scores``, ``checkpoints``, edge scores).
        bottlenecks: a :class:`~graphcurv.analyses.bottlenecks.BottleneckReport`.
        communities: a :class:`~graphcurv.analyses.model_communities.ModelCommunities`, or ``None``.
        metadata: what ``report.json`` records (model, calibration, device, graph size, seconds).
        seconds: time per stage.
        output: the report folder, ``written`` its files (empty without ``output``).
    """

    graph: Data
    labels: Tensor
    curvature: Any
    bottlenecks: Any
    communities: Any | None
    metadata: dict[str, Any]
    seconds: dict[str, float]
    output: Path | None = None
    written: list[str] = field(default_factory=list)


def analyze_model(
    model: nn.Module,
    data: ImageDataset,
    *,
    per_class: int = 2,
    alpha: float = 0.9,
    seed: int = 0,
    top: int = 10,
    communities: bool = True,
    output: str | os.PathLike[str] | None = None,
    state: str | os.PathLike[str] | None = None,
    keep_state: bool = True,
    workers: int | None = None,
    mean: bool = False,
    exact: str = "edges",
    device: str | torch.device | None = None,
    name: str | None = None,
    progress_bars: ProgressBars | None = None,
    executor=None,
) -> ModelAnalysis:
    """Neural curvature of every weight of ``model`` over a calibration set from ``data``, with its
    bottlenecks and communities (stages in the module docstring), written to ``output`` if given.

    Args:
        model: a trained classifier (any model :func:`graphcurv.neural.export` traces).
        data: the held-out split to draw the calibration inputs from (``load_dataset(..., split="val")``).
        per_class: calibration inputs per class.
        alpha: laziness of the measures, in [0, 1).
        seed: seed of the calibration draw.
        top: how many most negative edges, concentration neurons per layer and bridges to report.
        communities: also find the Ricci-flow communities.
        output: the report folder to write (``None``: write nothing).
        state: a file that saves the curvature run after every input, so a run resumes;
            ``keep_state=False`` removes it once the report is written.
        mean: also report the mean of kappa_N over the inputs (every problem is then
            solved; without it, problems that cannot lower a minimum are skipped).
        exact: ``"edges"`` (every edge's score is its exact minimum) or ``"parameters"``
            (only the parameter scores are exact, and with them each weight's most negative
            edge in the report; other edges of a conv kernel weight may keep a certified
            lower bound, so the per-connection distributions and the concentration are of
            those bounds; several times faster on conv nets, see
            :func:`~graphcurv.neural.curvature.neural_curvature`).
        workers: transport solver processes (default: one per CPU core).
        device: where to compute the curvature (default: the model's device).
        name: the model's name in the report (default: its class name).
        progress_bars: ``progress_bars(description)``, a context manager yielding one
            stage's progress callback (:mod:`graphcurv.progress`); ``None``: silent.
        executor: a :mod:`graphcurv.execution` executor, already entered, that solves the
            calibration inputs as units of work (a local pool or a Dask cluster; same scores).
    """
    from graphcurv.analyses import neural_report
    from graphcurv.datasets import calibration_set
    from graphcurv.datasets.calibration import model_device
    from graphcurv.neural import export
    from graphcurv.neural.tracing import check_one_input_at_a_time

    if not 0 <= alpha < 1:
        raise GraphcurvError(f"alpha must be in [0, 1), got {alpha}")
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1 or top < 0:
        raise GraphcurvError(f"per_class must be at least 1 and top at least 0, got {per_class} and {top}")
    from graphcurv.atomic import check_writable
    from graphcurv.models.validation import check_finite_activations, check_model_and_data

    output = Path(output) if output is not None else None
    if output is not None and output.exists() and not output.is_dir():
        raise GraphcurvError(f"the report folder {output} exists and is not a folder")
    for path in (output, state):
        if path is not None:
            check_writable(path)
    if state is not None:
        check_state_file(state)
    check_one_input_at_a_time(model)  # before any work
    check_model_and_data(model, data)
    name = name or type(model).__name__
    device = model_device(model, device)
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    with stage(progress_bars, "calibration set") as progress:
        inputs, labels = calibration_set(model, data, per_class, seed=seed, progress=progress)
    check_finite_activations(model, inputs)
    seconds["calibration"] = time.perf_counter() - started
    started = time.perf_counter()
    with stage(progress_bars, "neural graph") as progress:
        graph = export(model, inputs, progress=progress)
    graph.name = name
    seconds["export"] = time.perf_counter() - started
    started = time.perf_counter()
    with stage(progress_bars, "neural curvature") as progress:
        try:
            curvature = _curvature(
                graph, labels, per_class, alpha, state, workers, mean, device, progress, executor, exact
            )
        except BrokenExecutor as exc:
            from graphcurv.interrupts import worker_died

            raise WorkerError(worker_died("neural curvature")) from exc
    seconds["curvature"] = time.perf_counter() - started
    bottlenecks, found = _analyses(graph, curvature, top, communities, seconds, progress_bars)
    metadata = {
        "model": name,
        "calibration": {"dataset": data.name, "split": data.split, "per_class": per_class, "seed": seed},
        "exact": exact,
        "device": str(device),
        "graph": {"nodes": int(graph.num_nodes), "edges": int(sum(graph.connection_num_edges))},
        "seconds": {key: round(value, 3) for key, value in seconds.items()},
    }
    analysis = ModelAnalysis(graph, labels, curvature, bottlenecks, found, metadata, seconds, output)
    if output is not None:
        existed = output.exists()
        try:
            written = neural_report.write_report(output, graph, curvature, bottlenecks, found, metadata=metadata)
        except (OSError, RuntimeError) as exc:
            from graphcurv.atomic import WriteError, write_failure_reason

            reason = write_failure_reason(exc)
            if reason is None:
                raise
            raise WriteError(output, reason, existed=existed) from exc
        analysis.written = list(written)
        if state is not None and not keep_state:
            Path(state).unlink(missing_ok=True)
    return analysis


def check_state_file(path: str | os.PathLike[str]) -> int | None:
    """How many inputs the neural-curvature state file ``path`` holds (``None`` if there is no file).

    A file that is truncated, damaged or of another kind is refused with a
    :class:`GraphcurvError` saying so, before any work (the engine then checks that it
    belongs to the same graph, calibration set and alpha).
    """
    from graphcurv.neural.curvature.engine import STATE_FORMAT

    path = Path(path)
    if not path.exists():
        return None
    if not path.is_file():
        raise GraphcurvError(f"the state file {path} is a folder, not a file")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message
        detail = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise GraphcurvError(
            f"cannot resume from {path}: the file is truncated or damaged ({detail}); delete it to start afresh"
        ) from exc
    if not isinstance(saved, dict) or saved.get("format") != STATE_FORMAT or "done" not in saved:
        held = f"a dict of format {saved.get('format')!r}" if isinstance(saved, dict) else f"a {type(saved).__name__}"
        raise GraphcurvError(
            f"cannot resume from {path}: it is not a graphcurv neural-curvature state file (it holds {held}); "
            "delete it or choose another state file"
        )
    return int(saved["done"])


def _curvature(graph, labels, per_class, alpha, state, workers, mean, device, progress, executor=None, exact="edges"):
    from graphcurv.neural.curvature import neural_curvature

    return neural_curvature(
        graph.to(device) if device.type != "cpu" else graph,
        alpha=alpha,
        labels=labels,
        checkpoints=[k for k in CHECKPOINTS if k <= per_class],
        state=state,
        workers=workers,
        mean=mean,
        exact=exact,
        progress=progress,
        executor=executor,
    )


def _analyses(graph, curvature, top, communities, seconds, progress_bars):
    from graphcurv.analyses.bottlenecks import bottleneck_report

    started = time.perf_counter()
    report = bottleneck_report(graph, curvature, top=top)
    seconds["bottlenecks"] = time.perf_counter() - started
    if not communities:
        return report, None
    from graphcurv.analyses.model_communities import model_communities

    started = time.perf_counter()
    with stage(progress_bars, "communities (Ricci flow)") as progress:
        found = model_communities(graph, bridges=top, progress=progress)
    seconds["communities"] = time.perf_counter() - started
    return report, found
