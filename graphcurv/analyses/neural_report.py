"""The report folder of a neural curvature analysis, and the scores file pruning reads.

:func:`write_report` writes, into one folder:

* ``scores.pt``: the per-parameter scores (:func:`save_scores`; read back with
  :func:`load_scores`, ``torch.load(weights_only=True)`` works too);
* ``scores.csv``: one row per parameter entry (:func:`write_scores_csv`);
* ``histograms.png`` and ``curvature_vs_weight.png``
  (:mod:`~graphcurv.analyses.neural_plots`);
* ``report.json``: settings, the bottleneck report, the communities, the file list.

The folder is written completely or not at all: every file is first written into a
temporary sibling folder (each through :func:`graphcurv.atomic.atomic_path`); only
when all are there are they moved into the destination with :func:`os.replace`, the
JSON last. A failure while writing leaves an existing report folder as it was (and
creates none); files in the folder that are not part of a report are never touched.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data

from graphcurv.analyses.neural_plots import parameter_weights, plot_curvature_histograms, plot_curvature_vs_weight
from graphcurv.atomic import atomic_path, partial_prefix, remove_stale_partials
from graphcurv.errors import GraphcurvError
from graphcurv.files import load_tagged

__all__ = [
    "REPORT_FILES",
    "REPORT_FORMAT",
    "SCORES_FORMAT",
    "load_scores",
    "save_scores",
    "write_report",
    "write_scores_csv",
]

SCORES_FORMAT = "graphcurv-curvature-scores"
REPORT_FORMAT = "graphcurv-analysis-report-1"
REPORT_FILES = ("scores.pt", "scores.csv", "histograms.png", "curvature_vs_weight.png", "report.json")


def save_scores(path: str | os.PathLike[str], result, *, metadata: dict | None = None) -> Path:
    """Save the per-parameter scores of ``result`` (a ``NeuralCurvature``) for pruning.

    The file holds ``{"format": "graphcurv-curvature-scores", "alpha", "samples",
    "param_scores" {name: tensor of the parameter's shape, NaN where no edge},
    "checkpoints" {examples per class: param_scores}, "metadata"}``, CPU tensors only.
    """
    payload = {
        "format": SCORES_FORMAT,
        "alpha": float(result.alpha),
        "samples": int(result.samples),
        "param_scores": {name: t.detach().cpu() for name, t in result.param_scores.items()},
        "checkpoints": {
            int(k): {name: t.detach().cpu() for name, t in scores.items()} for k, scores in result.checkpoints.items()
        },
        "metadata": dict(metadata or {}),
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_scores(path: str | os.PathLike[str]) -> dict:
    """Read a scores file written by :func:`save_scores` (``weights_only``: no code runs)."""
    return load_tagged(path, SCORES_FORMAT, "curvature scores", "written by `graphcurv analyze MODEL -o report/`")


def write_scores_csv(path: str | os.PathLike[str], graph: Data, result) -> Path:
    """One row per parameter entry: ``parameter, flat_index, coordinates, score, weight``
    and one ``score_k<k>`` column per checkpoint (examples per class); empty where no
    edge reads the entry (zero weights)."""
    weights = parameter_weights(graph)
    checkpoints = sorted(result.checkpoints)
    header = ["parameter", "flat_index", "coordinates", "score", "weight", *(f"score_k{k}" for k in checkpoints)]
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for name, scores in result.param_scores.items():
            shape = tuple(scores.shape)
            flat = np.arange(scores.numel())
            coordinates = np.stack(np.unravel_index(flat, shape), 1) if shape else np.zeros((1, 0), dtype=int)
            columns = [_numbers(scores)]
            weight = weights.get(name)
            columns.append(_numbers(weight) if weight is not None else [""] * flat.size)
            columns += [_numbers(result.checkpoints[k][name]) for k in checkpoints]
            coordinate_text = [",".join(map(str, c)) for c in coordinates.tolist()]
            writer.writerows(
                [name, index, coords, *values]
                for index, coords, *values in zip(flat.tolist(), coordinate_text, *columns)
            )
    return path


def _numbers(values: torch.Tensor) -> list[str]:
    """Shortest text that reads back as the same value in the tensor's own precision; empty for NaN."""
    array = values.detach().cpu().numpy().reshape(-1)
    text = array.astype(str)
    text[np.isnan(array)] = ""
    return text.tolist()


def write_report(
    folder: str | os.PathLike[str],
    graph: Data,
    result,
    bottlenecks,
    communities=None,
    *,
    metadata: dict | None = None,
    plots: bool = True,
) -> dict[str, Path]:
    """Write the report folder (see the module docstring); returns ``{file name: path}``.

    Args:
        result: the ``NeuralCurvature`` of ``graph``.
        bottlenecks: its :class:`~graphcurv.analyses.bottlenecks.BottleneckReport`.
        communities: a :class:`~graphcurv.analyses.model_communities.ModelCommunities` or ``None``.
        metadata: settings to record (model, dataset, calibration, device, timings...).
        plots: write the two PNG files.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise GraphcurvError(f"the report folder {folder} exists and is not a folder")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=partial_prefix(folder), suffix=".tmp", dir=folder.parent))
    try:
        written = [save_scores(staging / "scores.pt", result, metadata=metadata)]
        written.append(write_scores_csv(staging / "scores.csv", graph, result))
        if plots:
            written.append(plot_curvature_histograms(staging / "histograms.png", result))
            written.append(plot_curvature_vs_weight(staging / "curvature_vs_weight.png", graph, result))
        files = [p.name for p in written] + ["report.json"]
        document = report_document(result, bottlenecks, communities, metadata=metadata, files=files)
        with atomic_path(staging / "report.json") as tmp:
            tmp.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
        written.append(staging / "report.json")
        folder.mkdir(exist_ok=True)
        for path in written:  # report.json is last: it names a complete folder
            os.replace(path, folder / path.name)
        remove_stale_partials(folder)  # staging folders of runs killed mid-write
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {path.name: folder / path.name for path in written}


def report_document(result, bottlenecks, communities=None, *, metadata=None, files=()) -> dict:
    """The JSON document of a report (non-finite numbers become ``null``)."""
    document = {
        "format": REPORT_FORMAT,
        **dict(metadata or {}),
        "curvature": {
            "alpha": float(result.alpha),
            "samples": int(result.samples),
            "checkpoints_per_class": sorted(int(k) for k in result.checkpoints),
            "truncation_bound": float(result.truncation_bound),
            "seconds": float(result.seconds),
            "layers": [{"name": n, "nodes": s} for n, s in zip(result.chain.names, result.chain.sizes)],
        },
        "bottlenecks": bottlenecks.to_dict(),
        "communities": None if communities is None else communities.to_dict(),
        "files": list(files),
    }
    return _finite(document)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
