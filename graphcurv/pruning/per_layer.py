"""Per-layer pruning: one layer pruned at a time, every other layer intact.

For each method (curvature against magnitude by default), each prunable layer and each
ratio, the layer alone loses ``ratio`` of its weights (its lowest scores) and the test
accuracy is measured: how much each layer can lose, and whether curvature knows which
of a layer's weights matter better than their size does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.errors import GraphcurvError
from graphcurv.files import write_csv
from graphcurv.progress import ProgressCallback, report
from graphcurv.pruning.masks import prune_masks, pruned_copy
from graphcurv.pruning.scores import (
    CURVATURE_METHODS,
    RATIO_DEPENDENT,
    ScoreOptions,
    curvature_of,
    normalise_method,
    score,
)
from graphcurv.pruning.sweep import check_ratios, headline_ratio

__all__ = ["LayerPoint", "PerLayerResult", "per_layer_sweep", "write_per_layer_csv"]


@dataclass(frozen=True)
class LayerPoint:
    """Accuracy with one layer pruned by one method at one ratio."""

    layer: str
    method: str
    ratio: float
    accuracy: float


@dataclass
class PerLayerResult:
    dense_accuracy: float
    points: list[LayerPoint] = field(default_factory=list)
    tolerance: float = 0.01

    @property
    def layers(self) -> list[str]:
        return list(dict.fromkeys(p.layer for p in self.points))

    @property
    def methods(self) -> list[str]:
        return list(dict.fromkeys(p.method for p in self.points))

    def curve(self, layer: str, method: str) -> list[LayerPoint]:
        return sorted((p for p in self.points if p.layer == layer and p.method == method), key=lambda p: p.ratio)

    def headline(self, layer: str, method: str) -> float | None:
        """Largest ratio of ``layer`` alone within ``tolerance`` of the dense accuracy."""
        curve = self.curve(layer, method)
        return headline_ratio(
            [p.ratio for p in curve], [p.accuracy for p in curve], self.dense_accuracy, self.tolerance
        )


def per_layer_sweep(
    model: nn.Module,
    test_set: ImageDataset,
    *,
    ratios: Sequence[float],
    methods: Sequence[str] = ("curvature", "magnitude"),
    data: ImageDataset | None = None,
    device: str | torch.device | None = None,
    progress: ProgressCallback | None = None,
    **score_options,
) -> PerLayerResult:
    """Prune each layer alone at each ratio with each method and measure test accuracy.

    Args:
        model: the trained dense model (not modified).
        ratios: shares of the layer's weights removed.
        methods: methods whose scores do not depend on the ratio (not SynFlow).
        data, score_options: as for :func:`graphcurv.pruning.scores.score` (``curvature=`` reuses saved scores).
    """
    from graphcurv.models import evaluate

    names = list(dict.fromkeys(normalise_method(m) for m in methods))
    bad = [m for m in names if m in RATIO_DEPENDENT]
    if bad:
        raise GraphcurvError(f"the per-layer experiment needs ratio-independent scores, not {', '.join(bad)}")
    grid = check_ratios(ratios)
    if any(m in CURVATURE_METHODS for m in names) and score_options.get("curvature") is None:
        options = ScoreOptions(data=data, device=device, progress=progress, **score_options)
        score_options = {**score_options, "curvature": curvature_of(model, options)}
    result = PerLayerResult(evaluate(model, test_set, device=device))
    scores = {m: score(model, method=m, data=data, **score_options) for m in names}
    layers = list(next(iter(scores.values())))
    total, done = len(names) * len(layers) * len(grid), 0
    for layer in layers:
        for method in names:
            for ratio in grid:
                mask = prune_masks({layer: scores[method][layer]}, ratio)
                accuracy = evaluate(pruned_copy(model, mask), test_set, device=device)
                result.points.append(LayerPoint(layer, method, ratio, accuracy))
                done += 1
                report(progress, done, total, f"{layer} {method} at {ratio:g}")
    return result


def write_per_layer_csv(path: str | os.PathLike[str], result: PerLayerResult) -> Path:
    """``layer, method, ratio, accuracy, dense_accuracy`` per point, atomically."""
    rows = ([p.layer, p.method, repr(p.ratio), repr(p.accuracy), repr(result.dense_accuracy)] for p in result.points)
    return write_csv(path, ["layer", "method", "ratio", "accuracy", "dense_accuracy"], rows)
