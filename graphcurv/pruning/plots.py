"""PNG plots of pruning sweeps (matplotlib, Agg canvas without pyplot; written atomically)."""

from __future__ import annotations

import math
import os
from pathlib import Path

from graphcurv.atomic import atomic_path
from graphcurv.errors import GraphcurvError
from graphcurv.pruning.per_layer import PerLayerResult
from graphcurv.pruning.sweep import SweepResult

__all__ = ["plot_per_layer", "plot_sweep"]

# One fixed colour per method, so every figure reads the same.
COLOURS = {
    "curvature": "tab:red",
    "curvature-negative": "tab:purple",
    "curvature-magnitude": "tab:orange",
    "magnitude": "tab:blue",
    "random": "tab:gray",
    "snip": "tab:green",
    "synflow": "tab:brown",
    "synflow-linear": "tab:pink",
    "curvature-iterative": "tab:olive",
}


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path: str | os.PathLike[str], dpi: int) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise GraphcurvError(f"plots are PNG files: the path must end in .png, got {path.name!r}")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi)
    return path


def _dense_band(axes, dense: float, tolerance: float) -> None:
    axes.axhline(dense, color="black", linewidth=0.8, label=f"dense {dense:.2%}")
    axes.axhspan(dense - tolerance, dense, color="black", alpha=0.08, label=f"within {tolerance * 100:g} point")


def plot_sweep(path: str | os.PathLike[str], result: SweepResult, *, title: str = "", dpi: int = 120) -> Path:
    """Test accuracy against the share of weights removed, one line per method (dashed: fine-tuned);
    left the whole range, right a zoom on the top 8 points, where the headline is read."""
    figure = _figure(12.0, 4.6)
    zoom_floor = result.dense_accuracy - 0.08
    for k, floor in enumerate((0.0, zoom_floor)):
        axes = figure.add_subplot(1, 2, k + 1)
        _dense_band(axes, result.dense_accuracy, result.tolerance)
        for method in result.methods:
            curve = result.curve(method)
            colour = COLOURS.get(method)
            headline = result.headline(method)
            label = f"{method} ({'-' if headline is None else f'{headline:g}'})"
            removed = [p.removed for p in curve]
            axes.plot(removed, [p.accuracy for p in curve], marker="o", markersize=3, color=colour, label=label)
            if all(p.finetuned_accuracy is not None for p in curve):
                tuned = [p.finetuned_accuracy for p in curve]
                axes.plot(removed, tuned, linestyle="--", color=colour, label=f"{method}, fine-tuned")
        axes.set_xlabel("share of prunable weights removed")
        axes.set_ylabel("test accuracy")
        axes.set_ylim(floor, min(1.0, result.dense_accuracy + (0.05 if k == 0 else 0.01)))
        axes.grid(alpha=0.3)
        if k == 0:
            axes.legend(fontsize=7, loc="lower left", title="method (largest ratio within 1 point)", title_fontsize=7)
        else:
            axes.set_title("zoom: the top 8 points", fontsize=9)
    figure.suptitle(title or "one-shot pruning")
    figure.tight_layout()
    return _save(figure, path, dpi)


def plot_per_layer(path: str | os.PathLike[str], result: PerLayerResult, *, title: str = "", dpi: int = 120) -> Path:
    """One panel per layer: accuracy against the share of that layer's weights removed, per method."""
    layers = result.layers
    if not layers:
        raise GraphcurvError("no per-layer results to plot")
    columns = min(3, len(layers))
    rows = math.ceil(len(layers) / columns)
    figure = _figure(4.2 * columns, 3.2 * rows)
    for k, layer in enumerate(layers):
        axes = figure.add_subplot(rows, columns, k + 1)
        _dense_band(axes, result.dense_accuracy, result.tolerance)
        for method in result.methods:
            curve = result.curve(layer, method)
            axes.plot(
                [p.ratio for p in curve],
                [p.accuracy for p in curve],
                marker="o",
                markersize=3,
                color=COLOURS.get(method),
                label=method,
            )
        axes.set_title(layer, fontsize=9)
        axes.set_ylim(0, min(1.0, result.dense_accuracy + 0.05))
        axes.set_xlabel("share of the layer removed", fontsize=8)
        axes.grid(alpha=0.3)
        if k == 0:
            axes.legend(fontsize=7, loc="lower left")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return _save(figure, path, dpi)
