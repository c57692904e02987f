r"""Neural curvature scores for pruning: computed from a model, or read from ``graphcurv analyze``'s file.

The score of a weight is the aggregated neural curvature :math:`\kappa_N` of the edges
that read it (spec neural-curvature.md: min over calibration samples and over a conv
kernel weight's spatial positions; 2.0 for dead-neuron edges of a hidden source), one
tensor per parameter, NaN where no edge reads the entry (the weight is exactly zero).

:func:`compute_curvature_scores` does what ``graphcurv analyze`` does for the scores:
``per_class`` correctly classified inputs per class from ``data`` (the ``"val"`` split)
drawn with :func:`graphcurv.datasets.calibration_set`, the neural graph
(:func:`graphcurv.neural.export`) and :func:`graphcurv.neural.curvature.neural_curvature`.
:func:`load_curvature_scores` reads the ``scores.pt`` file ``graphcurv analyze`` writes
(``{"format": "graphcurv-curvature-scores", "alpha", "samples", "param_scores",
"checkpoints"}``) with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from graphcurv.analyses.neural_report import SCORES_FORMAT, load_scores
from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.errors import GraphcurvError
from graphcurv.progress import ProgressCallback

__all__ = ["SCORES_FORMAT", "check_curvature_scores", "compute_curvature_scores", "load_curvature_scores"]


def load_curvature_scores(path: str | os.PathLike[str], *, per_class: int | None = None) -> dict[str, Tensor]:
    """The per-parameter curvature scores stored in ``path`` (a ``scores.pt`` of ``graphcurv analyze``).

    Args:
        per_class: take the scores after this many calibration inputs per class (one of the
            file's checkpoints) instead of the final ones; ``None`` = the final scores.
    """
    payload = load_scores(path)
    if per_class is None:
        return dict(payload["param_scores"])
    checkpoints = {int(k): v for k, v in payload.get("checkpoints", {}).items()}
    if int(per_class) not in checkpoints:
        available = ", ".join(map(str, sorted(checkpoints))) or "none"
        raise GraphcurvError(f"{path} has no scores after {per_class} inputs per class (it has: {available})")
    return dict(checkpoints[int(per_class)])


def check_curvature_scores(scores: Mapping[str, Tensor], weights: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """``scores`` restricted to ``weights``' names, checked: every weight has a score of its shape."""
    missing = [name for name in weights if name not in scores]
    if missing:
        raise GraphcurvError(
            f"the curvature scores have no entry for {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}: "
            "were they computed for this model?"
        )
    out = {}
    for name, weight in weights.items():
        value = torch.as_tensor(scores[name])
        if tuple(value.shape) != tuple(weight.shape):
            raise GraphcurvError(
                f"the curvature scores of {name!r} have shape {tuple(value.shape)}, the weight "
                f"{tuple(weight.shape)}: were they computed for this model?"
            )
        out[name] = value.to(weight.device)
    return out


def compute_curvature_scores(
    model: nn.Module,
    data: ImageDataset | None,
    *,
    per_class: int = 10,
    alpha: float = 0.9,
    seed: int = 0,
    calibration: tuple[Tensor, Tensor] | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Tensor]:
    """Per-parameter curvature scores of ``model`` over ``per_class`` correctly classified
    inputs per class of ``data`` (use the ``"val"`` split); CPU tensors, NaN where no edge.

    ``calibration=(inputs, labels)`` uses those inputs instead of drawing them from ``data``
    (the iterative extension keeps the dense model's inputs for every round).
    """
    from graphcurv.datasets import calibration_set
    from graphcurv.neural import export
    from graphcurv.neural.curvature import neural_curvature

    if calibration is None:
        if data is None:
            raise GraphcurvError("curvature scores need data to draw the calibration inputs from")
        calibration = calibration_set(model, data, per_class, seed=seed, progress=progress)
    inputs, labels = calibration
    graph = export(model, inputs, progress=progress)
    result = neural_curvature(graph, alpha, labels=labels, workers=workers, exact="parameters", progress=progress)
    return {name: value.detach().cpu() for name, value in result.param_scores.items()}
