"""One-shot pruning sweeps: test accuracy against the share of weights removed, per method.

The protocol of the neural-curvature paper (spec pruning.md): for each method, score
the trained model once (SynFlow, whose scores depend on the ratio, once per ratio),
then for each ratio prune once (no fine-tuning) and measure the accuracy on the whole
test set. Optionally every pruned model is also fine-tuned for a few epochs with its
mask in place, and both accuracies are kept.

Headline per method (:func:`headline_ratio`): the largest ratio of the grid whose
accuracy is within ``tolerance`` (1 point = 0.01) of the dense model's, i.e.
``accuracy >= dense - tolerance``; ``None`` when no ratio is.
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
from graphcurv.pruning.finetune import finetune_pruned
from graphcurv.pruning.masks import check_ratio, mask_summary, prune_masks, pruned_copy
from graphcurv.pruning.scores import (
    CURVATURE_METHODS,
    RATIO_DEPENDENT,
    ScoreOptions,
    curvature_of,
    normalise_method,
    score,
)

__all__ = ["SweepPoint", "SweepResult", "headline_ratio", "pruning_sweep", "write_sweep_csv"]


@dataclass(frozen=True)
class SweepPoint:
    """One pruned model: its method, requested ratio, share actually removed and accuracies."""

    method: str
    ratio: float
    removed: float
    accuracy: float
    finetuned_accuracy: float | None = None


@dataclass
class SweepResult:
    """Accuracy against ratio for every method, and the dense model's accuracy."""

    dense_accuracy: float
    points: list[SweepPoint] = field(default_factory=list)
    tolerance: float = 0.01

    @property
    def methods(self) -> list[str]:
        return list(dict.fromkeys(p.method for p in self.points))

    def curve(self, method: str) -> list[SweepPoint]:
        return sorted((p for p in self.points if p.method == method), key=lambda p: p.ratio)

    def headline(self, method: str, *, finetuned: bool = False) -> float | None:
        """The largest ratio within ``tolerance`` of the dense accuracy (see the module docstring)."""
        curve = self.curve(method)
        values = [p.finetuned_accuracy if finetuned else p.accuracy for p in curve]
        if finetuned and any(v is None for v in values):
            return None
        return headline_ratio([p.ratio for p in curve], values, self.dense_accuracy, self.tolerance)


def headline_ratio(
    ratios: Sequence[float], accuracies: Sequence[float], dense: float, tolerance: float = 0.01
) -> float | None:
    """Largest ratio whose accuracy is at least ``dense - tolerance`` (``None`` if none).

    >>> headline_ratio([0.0, 0.5, 0.8, 0.9], [0.90, 0.895, 0.891, 0.70], 0.90)
    0.8
    """
    if len(ratios) != len(accuracies):
        raise GraphcurvError(f"{len(ratios)} ratios but {len(accuracies)} accuracies")
    within = [r for r, a in zip(ratios, accuracies) if a >= dense - tolerance - 1e-12]
    return max(within) if within else None


def check_ratios(ratios: Sequence[float]) -> list[float]:
    """The grid sorted, without duplicates, every ratio in [0, 1)."""
    grid = sorted({check_ratio(r) for r in ratios})
    if not grid:
        raise GraphcurvError("give at least one pruning ratio")
    return grid


def pruning_sweep(
    model: nn.Module,
    test_set: ImageDataset,
    *,
    methods: Sequence[str],
    ratios: Sequence[float],
    data: ImageDataset | None = None,
    scope: str = "global",
    finetune_epochs: int = 0,
    train_set: ImageDataset | None = None,
    finetune_lr: float = 1e-3,
    device: str | torch.device | None = None,
    progress: ProgressCallback | None = None,
    **score_options,
) -> SweepResult:
    """Prune ``model`` once per (method, ratio) and measure test accuracy (see the module docstring).

    Args:
        model: the trained dense model (not modified).
        test_set: the full test split.
        methods: names from :data:`graphcurv.pruning.scores.METHODS`.
        ratios: shares of weights to remove, each in [0, 1).
        data: SNIP's prune set / curvature's calibration source (the ``"val"`` split).
        scope: ``"global"`` or ``"layer"``.
        finetune_epochs: also fine-tune every pruned model this many epochs on ``train_set``.
        score_options: passed to :func:`graphcurv.pruning.scores.score` (``curvature=``, ``seed=``, ...);
            curvature scores are computed once and shared by the curvature methods.
    """
    from graphcurv.models import evaluate

    names = list(dict.fromkeys(normalise_method(m) for m in methods))
    grid = check_ratios(ratios)
    if finetune_epochs and train_set is None:
        raise GraphcurvError("fine-tuning needs the training split (train_set=)")
    if any(m in CURVATURE_METHODS for m in names) and score_options.get("curvature") is None:
        options = ScoreOptions(data=data, device=device, progress=progress, **score_options)
        score_options = {**score_options, "curvature": curvature_of(model, options)}
    result = SweepResult(evaluate(model, test_set, device=device))
    total, done = len(names) * len(grid), 0
    for method in names:
        fixed = (
            None if method in RATIO_DEPENDENT else score(model, method=method, data=data, scope=scope, **score_options)
        )
        for ratio in grid:
            scores = (
                fixed
                if fixed is not None
                else score(model, method=method, data=data, ratio=ratio, scope=scope, **score_options)
            )
            masks = prune_masks(scores, ratio, scope=scope)
            accuracy = evaluate(pruned_copy(model, masks), test_set, device=device)
            tuned = None
            if finetune_epochs:
                tuned_model = finetune_pruned(
                    model, masks, train_set, epochs=finetune_epochs, lr=finetune_lr,
                    seed=score_options.get("seed", 0), device=device,
                )  # fmt: skip
                tuned = evaluate(tuned_model, test_set, device=device)
            result.points.append(SweepPoint(method, ratio, mask_summary(masks)[-1][3], accuracy, tuned))
            done += 1
            report(progress, done, total, f"{method} at {ratio:g}")
    return result


def write_sweep_csv(path: str | os.PathLike[str], result: SweepResult) -> Path:
    """``method, ratio, removed, accuracy, finetuned_accuracy, dense_accuracy`` per point, atomically."""
    header = ["method", "ratio", "removed", "accuracy", "finetuned_accuracy", "dense_accuracy"]
    rows = (
        [p.method, repr(p.ratio), repr(p.removed), repr(p.accuracy),
         "" if p.finetuned_accuracy is None else repr(p.finetuned_accuracy), repr(result.dense_accuracy)]
        for p in result.points
    )  # fmt: skip
    return write_csv(path, header, rows)
