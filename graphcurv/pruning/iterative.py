r"""Extension (not in the paper): curvature pruning with prune-rescore rounds.

One-shot curvature pruning scores the dense model once. After a large share is removed
the network's geometry has changed: distances :math:`d = 1/|w|` through removed edges
are gone, neighbourhoods shrink, neurons die. This extension prunes in ``rounds``
steps with SynFlow's exponential schedule (kept fraction :math:`\rho^{k/n}` after
round ``k`` of ``n``, :math:`\rho = 1 -` ratio) and recomputes the neural curvature of
the model pruned so far before each round, on the *same* calibration inputs (those
of the dense model). Round 1 uses the dense model's scores (``curvature=`` when
given). Weights removed in an earlier round have no edge any more (NaN curvature) and
get ``-inf``, so they stay removed; the returned scores are those of the last round,
and pruning them at ``ratio`` gives its mask exactly.

Cost: ``rounds - 1`` curvature computations more than one-shot curvature, per ratio.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.errors import GraphcurvError
from graphcurv.progress import ProgressCallback
from graphcurv.pruning.curvature_scores import check_curvature_scores, compute_curvature_scores
from graphcurv.pruning.masks import prunable_weights, prune_masks, pruned_copy
from graphcurv.pruning.saliency import synflow_keep_fractions

__all__ = ["iterative_curvature_scores"]


def iterative_curvature_scores(
    model: nn.Module,
    data: ImageDataset | None,
    *,
    ratio: float,
    rounds: int = 2,
    curvature: Mapping[str, Tensor] | None = None,
    per_class: int = 10,
    alpha: float = 0.9,
    seed: int = 0,
    scope: str = "global",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Tensor]:
    """Positive-first importance :math:`-\\kappa` after ``rounds`` prune-rescore rounds towards ``ratio``.

    Args:
        data: the split the calibration inputs are drawn from (``"val"``), once, for the dense model.
        curvature: the dense model's scores (saves round 1's computation).
        the rest: as for :func:`graphcurv.pruning.curvature_scores.compute_curvature_scores`.
    """
    from graphcurv.datasets import calibration_set

    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise GraphcurvError(f"rounds must be a positive integer, got {rounds!r}")
    fractions = synflow_keep_fractions(ratio, rounds)
    if data is None:
        raise GraphcurvError("iterative curvature needs data to draw the calibration inputs from")
    weights = {name: layer.weight.detach() for name, layer in prunable_weights(model).items()}
    calibration = calibration_set(model, data, per_class, seed=seed)
    kappa, masks = curvature, None
    for step, keep in enumerate(fractions):
        if kappa is None or step > 0:
            current = model if masks is None else pruned_copy(model, masks)
            kappa = compute_curvature_scores(
                current, None, alpha=alpha, calibration=calibration, workers=workers, progress=progress
            )
        checked = check_curvature_scores(kappa, weights)
        scores = {n: torch.where(torch.isnan(k), -torch.inf, -k.double()) for n, k in checked.items()}
        if masks is not None:
            scores = {n: torch.where(masks[n], s, -torch.inf) for n, s in scores.items()}
        if step == len(fractions) - 1:
            return scores
        masks = prune_masks(scores, 1.0 - keep, scope=scope)
    raise AssertionError("unreachable")  # pragma: no cover
