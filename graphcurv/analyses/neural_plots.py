"""PNG plots of a neural curvature result (matplotlib, Agg backend; written atomically).

* :func:`plot_curvature_histograms`: one histogram per connection of the edge scores
  (min of kappa_N over samples), with the share of negative edges in each title;
* :func:`plot_curvature_vs_weight`: every parameter entry's score against its
  :math:`|w|` (log scale), one colour per parameter tensor; above ``max_points``
  entries a uniform random subset (fixed ``seed``) is drawn.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from graphcurv.atomic import atomic_path
from graphcurv.errors import GraphcurvError

__all__ = ["parameter_weights", "plot_curvature_histograms", "plot_curvature_vs_weight"]


def _figure(width: float, height: float):
    """A figure on matplotlib's Agg canvas, without pyplot (no global state, no GUI backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def _png(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise GraphcurvError(f"plots are PNG files: the path must end in .png, got {path.name!r}")
    return path


def _save(figure, path: Path, dpi: int) -> Path:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi)
    return path


def parameter_weights(graph: Data) -> dict[str, torch.Tensor]:
    """The weight tensor each parameter's edges read (from the graph's connections;
    BatchNorm-folded when the graph was exported with ``batchnorm="fold"``)."""
    out = {}
    for param, weight in zip(graph.connection_param, graph.connection_weight):
        if int(param) >= 0 and weight.numel():
            out[graph.param_names[int(param)]] = weight.detach().cpu()
    return out


def plot_curvature_histograms(path: str | os.PathLike[str], result, *, bins: int = 60, dpi: int = 120) -> Path:
    """Histograms of the edge scores (min over samples), one panel per connection."""
    path = _png(path)
    chain = result.chain
    count = len(chain.links)
    columns = min(3, count)
    rows = math.ceil(count / columns)
    figure = _figure(4.2 * columns, 3.2 * rows)
    axes = figure.subplots(rows, columns, squeeze=False)
    for k, axis in enumerate(axes.flat):
        if k >= count:
            axis.set_visible(False)
            continue
        score = result.edge_score[k].detach().double().cpu().numpy()
        axis.hist(score, bins=bins, color="tab:blue")
        axis.axvline(0.0, color="tab:red", linewidth=0.8)
        axis.set_yscale("log")
        negative = 100.0 * float((score < 0).mean()) if score.size else 0.0
        axis.set_title(
            f"{chain.names[chain.links[k].source]} -> {chain.names[chain.links[k].target]}\n{score.size:,} edges, {negative:.1f}% < 0",
            fontsize=9,
        )
        axis.set_xlabel("curvature score (min over samples)", fontsize=8)
    figure.suptitle(f"neural curvature per connection (alpha = {result.alpha}, {result.samples} samples)", fontsize=10)
    figure.tight_layout()
    return _save(figure, path, dpi)


def plot_curvature_vs_weight(
    path: str | os.PathLike[str],
    graph: Data,
    result,
    *,
    max_points: int = 100_000,
    seed: int = 0,
    dpi: int = 120,
) -> Path:
    """Scatter of every scored parameter entry: score against ``|w|`` (log x axis)."""
    from matplotlib import colormaps

    path = _png(path)
    weights = parameter_weights(graph)
    names = [name for name in result.param_scores if name in weights]
    xs, ys, groups = [], [], []
    for g, name in enumerate(names):
        score = result.param_scores[name].detach().double().cpu().reshape(-1)
        weight = weights[name].double().reshape(-1).abs()
        keep = torch.isfinite(score) & (weight > 0)
        xs.append(weight[keep].numpy())
        ys.append(score[keep].numpy())
        groups.append(np.full(int(keep.sum()), g))
    x = np.concatenate(xs) if xs else np.zeros(0)
    y, group = (np.concatenate(ys), np.concatenate(groups)) if ys else (np.zeros(0), np.zeros(0, dtype=int))
    if x.size > max_points:
        pick = np.random.default_rng(seed).choice(x.size, size=max_points, replace=False)
        x, y, group = x[pick], y[pick], group[pick]
    figure = _figure(7.5, 5.0)
    axis = figure.subplots()
    colours = colormaps["tab10"]
    for g, name in enumerate(names):
        mask = group == g
        axis.scatter(x[mask], y[mask], s=2, alpha=0.4, color=colours(g % 10), label=name, rasterized=True)
    if x.size:
        axis.set_xscale("log")
    axis.axhline(0.0, color="black", linewidth=0.6)
    axis.set_xlabel("|w|")
    axis.set_ylabel("curvature score (min over samples)")
    axis.set_title(f"curvature vs |w| ({x.size:,} weights shown)", fontsize=10)
    if names:
        axis.legend(markerscale=4, fontsize=7, loc="best")
    figure.tight_layout()
    return _save(figure, path, dpi)
