"""The options every pruning score function takes, and helpers they share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.errors import GraphcurvError
from graphcurv.progress import ProgressCallback
from graphcurv.pruning.masks import prunable_weights

__all__ = ["ScoreOptions", "needs_data", "prunable_tensors"]


@dataclass(frozen=True)
class ScoreOptions:
    """Everything a scoring method may use (each uses what it needs).

    Attributes:
        data: the split examples come from: SNIP's prune set and curvature's calibration
            inputs (use ``"val"``: data the model was not trained on).
        ratio: the share to remove, for methods whose scores depend on it (SynFlow).
        scope: ``"global"`` or ``"layer"``, for iterative methods (SynFlow's steps).
        curvature: saved per-parameter curvature scores (skips computing them).
        per_class: examples per class (SNIP's prune set, curvature's calibration set).
        alpha: laziness of the curvature measures.
        seed: random scores, SNIP's prune-set draw, curvature's calibration draw.
        iterations: SynFlow's steps.
        input_shape: one input's shape (SynFlow without ``data``).
        rounds: prune-rescore rounds of ``curvature-iterative``.
        device, workers, progress: where to compute, curvature solver processes, progress callback.
    """

    data: ImageDataset | None = None
    ratio: float | None = None
    scope: str = "global"
    curvature: Mapping[str, Tensor] | None = None
    per_class: int = 10
    alpha: float = 0.9
    seed: int = 0
    iterations: int = 100
    input_shape: tuple[int, ...] | None = None
    rounds: int = 2
    device: str | torch.device | None = None
    workers: int | None = None
    progress: ProgressCallback | None = None


def prunable_tensors(model: nn.Module) -> dict[str, Tensor]:
    """``{name: weight}`` (detached) of every prunable layer, in model order."""
    return {name: layer.weight.detach() for name, layer in prunable_weights(model).items()}


def needs_data(method: str, options: ScoreOptions) -> ImageDataset:
    """``options.data``, or an error naming ``method``."""
    if options.data is None:
        raise GraphcurvError(f"{method} scores need data (examples per class): pass a dataset")
    return options.data
