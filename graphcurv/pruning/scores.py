r"""Pruning scores of every prunable weight, one function per method with one signature.

``score(model, method=..., data=..., **options)`` returns ``{parameter name: tensor of
the weight's shape}`` for every ``Linear`` / ``Conv`` weight, where **larger means more
important** (pruning removes the smallest first, :mod:`graphcurv.pruning.masks`).
Every method is a function ``method(model, options: ScoreOptions) -> dict`` in
:data:`SCORE_FUNCTIONS`:

* ``magnitude``: :math:`|w|`;
* ``random``: uniform on [0, 1), from a generator seeded with ``seed`` (parameters in
  model order), the floor every method must beat;
* ``snip``, ``synflow``: :mod:`graphcurv.pruning.saliency`; ``synflow-linear``: SynFlow
  with saturating activations (Tanh) replaced by the identity, a variant for Tanh
  networks, on which plain SynFlow's gradients vanish;
* ``curvature``, ``curvature-negative`` and the extensions ``curvature-magnitude``,
  ``curvature-iterative``: :mod:`graphcurv.pruning.curvature_methods`.

Curvature scores come from ``curvature=`` (e.g. :func:`load_curvature_scores` of a
``graphcurv analyze`` file, so one computation serves every ratio) or are computed on
``data`` (:func:`compute_curvature_scores`: ``per_class`` inputs per class, ``alpha``).

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Linear(2, 1, bias=False))
>>> with torch.no_grad():
...     _ = net[0].weight.copy_(torch.tensor([[-3.0, 1.0]]))
>>> score(net, method="magnitude")["0.weight"].tolist()
[[3.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import torch
from torch import Tensor, nn

from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.errors import GraphcurvError
from graphcurv.pruning.curvature_methods import (
    curvature,
    curvature_iterative,
    curvature_magnitude,
    curvature_negative,
    curvature_of,
)
from graphcurv.pruning.masks import check_ratio, check_scope
from graphcurv.pruning.options import ScoreOptions, needs_data, prunable_tensors
from graphcurv.pruning.saliency import snip_scores, synflow_scores

__all__ = [
    "CURVATURE_METHODS",
    "METHODS",
    "RATIO_DEPENDENT",
    "SCORE_FUNCTIONS",
    "ScoreOptions",
    "curvature_of",
    "normalise_method",
    "score",
]


def magnitude(model: nn.Module, options: ScoreOptions) -> dict[str, Tensor]:
    """:math:`|w|`."""
    return {name: w.abs().clone() for name, w in prunable_tensors(model).items()}


def random(model: nn.Module, options: ScoreOptions) -> dict[str, Tensor]:
    """Uniform scores on [0, 1) from ``torch.Generator().manual_seed(seed)``, in model order."""
    generator = torch.Generator().manual_seed(int(options.seed))
    return {name: torch.rand(w.shape, generator=generator).to(w.device) for name, w in prunable_tensors(model).items()}


def snip(model: nn.Module, options: ScoreOptions) -> dict[str, Tensor]:
    """SNIP: :math:`|\\partial L/\\partial w \\cdot w|` on ``per_class`` examples per class of ``data``."""
    data = needs_data("SNIP", options)
    return snip_scores(model, data, per_class=options.per_class, seed=options.seed, device=options.device)


def synflow(model: nn.Module, options: ScoreOptions, *, linearise: bool = False) -> dict[str, Tensor]:
    """SynFlow, ``iterations`` steps towards ``ratio`` (data-free; the data only gives the input shape)."""
    if options.ratio is None:
        raise GraphcurvError("SynFlow's scores depend on the pruning ratio: pass ratio=")
    shape = options.input_shape
    if shape is None and options.data is not None:
        shape = tuple(options.data.images.shape[1:])
    if shape is None:
        raise GraphcurvError("SynFlow needs the input shape: pass input_shape= or data=")
    return synflow_scores(
        model, shape, ratio=options.ratio, iterations=options.iterations, scope=options.scope,
        linearise=linearise, device=options.device, progress=options.progress,
    )  # fmt: skip


def synflow_linear(model: nn.Module, options: ScoreOptions) -> dict[str, Tensor]:
    """SynFlow with saturating activations replaced by the identity (a variant for Tanh networks)."""
    return synflow(model, options, linearise=True)


SCORE_FUNCTIONS: dict[str, Callable[[nn.Module, ScoreOptions], dict[str, Tensor]]] = {
    "curvature": curvature,
    "curvature-negative": curvature_negative,
    "magnitude": magnitude,
    "random": random,
    "snip": snip,
    "synflow": synflow,
    "synflow-linear": synflow_linear,
    "curvature-magnitude": curvature_magnitude,
    "curvature-iterative": curvature_iterative,
}
METHODS = tuple(SCORE_FUNCTIONS)
CURVATURE_METHODS = ("curvature", "curvature-negative", "curvature-magnitude", "curvature-iterative")
RATIO_DEPENDENT = ("synflow", "synflow-linear", "curvature-iterative")


def normalise_method(method: str) -> str:
    """``"Curvature_Negative"`` -> ``"curvature-negative"``; unknown names raise :class:`GraphcurvError`."""
    key = str(method).strip().lower().replace("_", "-")
    if key not in SCORE_FUNCTIONS:
        raise GraphcurvError(f"unknown pruning method {method!r}: use one of {', '.join(METHODS)}")
    return key


def score(model: nn.Module, *, method: str, data: ImageDataset | None = None, **options) -> dict[str, Tensor]:
    """Scores of every prunable weight of ``model`` by ``method`` (larger = more important).

    Args:
        model: a classifier with ``Linear`` / ``Conv`` layers (not modified).
        method: one of :data:`METHODS`.
        data: the split to draw SNIP's prune set / curvature's calibration set from.
        options: the other fields of :class:`ScoreOptions` (``ratio``, ``curvature``, ``seed``, ...).
    """
    try:
        settings = replace(ScoreOptions(), data=data, **options)
    except TypeError as exc:
        raise GraphcurvError(f"unknown scoring option: {exc}") from exc
    if settings.ratio is not None:
        settings = replace(settings, ratio=check_ratio(settings.ratio))
    settings = replace(settings, scope=check_scope(settings.scope))
    return SCORE_FUNCTIONS[normalise_method(method)](model, settings)
