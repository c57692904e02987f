r"""The curvature family of pruning scores (spec neural-curvature.md), larger = more important.

* ``curvature``: positive first, the largest score :math:`\kappa` removed first: importance
  :math:`-\kappa`;
* ``curvature-negative``: the control, the most negative removed first: importance
  :math:`+\kappa`, the exact reverse of ``curvature`` on distinct scores (equal scores are
  removed in position order in both, :mod:`graphcurv.pruning.masks`);
* extensions (not in the paper): ``curvature-magnitude`` (:func:`curvature_magnitude`)
  and ``curvature-iterative`` (:mod:`graphcurv.pruning.iterative`).

Curvature scores are NaN where no edge reads a weight, i.e. the weight is already
exactly zero. Such weights get importance ``-inf`` in every curvature method (both
orders): removing them costs nothing, so they are always removed first, as magnitude
does with zeros.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from graphcurv.errors import GraphcurvError
from graphcurv.pruning.curvature_scores import check_curvature_scores, compute_curvature_scores
from graphcurv.pruning.iterative import iterative_curvature_scores
from graphcurv.pruning.options import ScoreOptions, needs_data, prunable_tensors

__all__ = ["curvature", "curvature_iterative", "curvature_magnitude", "curvature_negative", "curvature_of"]


def curvature_of(model: nn.Module, options: ScoreOptions) -> dict[str, Tensor]:
    """The raw curvature scores :math:`\\kappa` (NaN where no edge), given or computed, checked against the model."""
    raw = options.curvature
    if raw is None:
        data = needs_data("curvature", options)
        raw = compute_curvature_scores(
            model, data, per_class=options.per_class, alpha=options.alpha, seed=options.seed,
            workers=options.workers, progress=options.progress,
        )  # fmt: skip
    return check_curvature_scores(raw, prunable_tensors(model))


def _signed(kappa: Mapping[str, Tensor], sign: float) -> dict[str, Tensor]:
    return {name: torch.where(torch.isnan(k), -torch.inf, sign * k.double()) for name, k in kappa.items()}


def curvature(model: nn.Module, options: ScoreOptions) -> dict[str, Tensor]:
    """Positive first: importance :math:`-\\kappa` (largest curvature removed first; NaN -> -inf)."""
    return _signed(curvature_of(model, options), -1.0)


def curvature_negative(model: nn.Module, options: ScoreOptions) -> dict[str, Tensor]:
    """The control, negative first: importance :math:`+\\kappa` (most negative removed first; NaN -> -inf)."""
    return _signed(curvature_of(model, options), 1.0)


def _percentile_ranks(values: Tensor) -> Tensor:
    """Average ranks of ``values`` (ties share their mean rank) divided by their count: (0, 1]."""
    from scipy.stats import rankdata

    ranks = rankdata(values.detach().cpu().double().numpy(), method="average")
    return torch.from_numpy(ranks / max(ranks.size, 1))


def curvature_magnitude(model: nn.Module, options: ScoreOptions) -> dict[str, Tensor]:
    r"""Extension (not in the paper): the product of the percentile ranks of :math:`-\kappa` and :math:`|w|`.

    .. math:: s(w) = \frac{\operatorname{rank}(-\kappa_w)}{N} \cdot \frac{\operatorname{rank}(|w|)}{N}

    over all ``N`` prunable weights (average ranks for ties). Ranks make the two scores,
    in unrelated units, commensurable without a tuning parameter; the product removes
    first what *either* order puts near the bottom (a dead-neuron edge, :math:`\kappa = 2`,
    or a tiny weight) and keeps what both rank high. NaN curvature (no edge, zero
    weight) is ``-inf``: removed first.
    """
    kappa = curvature_of(model, options)
    positive_first = _signed(kappa, -1.0)
    weights = prunable_tensors(model)
    names = list(weights)
    curvature_rank = _percentile_ranks(torch.cat([positive_first[n].reshape(-1) for n in names]))
    magnitude_rank = _percentile_ranks(torch.cat([weights[n].reshape(-1).abs().double() for n in names]))
    product = curvature_rank * magnitude_rank
    out, start = {}, 0
    for name in names:
        size = weights[name].numel()
        value = product[start : start + size].view(weights[name].shape).to(weights[name].device)
        out[name] = torch.where(torch.isnan(kappa[name]), -torch.inf, value)
        start += size
    return out


def curvature_iterative(model: nn.Module, options: ScoreOptions) -> dict[str, Tensor]:
    """Extension (not in the paper): ``rounds`` prune-rescore rounds, :mod:`graphcurv.pruning.iterative`."""
    if options.ratio is None:
        raise GraphcurvError("iterative curvature's scores depend on the pruning ratio: pass ratio=")
    return iterative_curvature_scores(
        model, options.data, ratio=options.ratio, rounds=options.rounds, curvature=options.curvature,
        per_class=options.per_class, alpha=options.alpha, seed=options.seed, scope=options.scope,
        workers=options.workers, progress=options.progress,
    )  # fmt: skip
