r"""Gradient saliency baselines: SNIP (Lee et al. 2019) and SynFlow (Tanaka et al. 2020).

Both return one score tensor per prunable weight (larger = more important), the
convention of :mod:`graphcurv.pruning.masks`. Behaviour follows the reference
implementation ganguli-lab/Synaptic-Flow (``Pruners/pruners.py``); the code is graphcurv's.

**SNIP**: on a prune set of ``per_class`` examples per class (one batch), with
:math:`L` the mean cross-entropy, the score of a weight is

.. math:: s(w) = \left| \frac{\partial L}{\partial w} \, w \right|,

the first-order change of the loss when the weight is removed. The model is in eval
mode (a trained model's BatchNorm statistics are used). The reference's division by
the sum of all scores is left out: it does not change any ranking.

**SynFlow** (data-free): on a ``float64`` copy of the model in eval mode whose
parameters and buffers are all replaced by their absolute values, with an all-ones
input of the data's shape (batch 1), :math:`R = \mathbf 1^\top f(\mathbf 1)` and

.. math:: s(w) = \left| \frac{\partial R}{\partial w} \, w \right| .

For ``y = W_2 W_1 x`` this is :math:`R = \mathbf 1^\top |W_2| |W_1| \mathbf 1`, so
:math:`s(W_1[i, j]) = |W_1[i, j]| \sum_k |W_2[k, i]|`. It is iterated ``n`` times
(100 by default): step ``k`` scores the model masked by step ``k - 1``'s mask and keeps
the fraction :math:`\rho^{k/n}` of the weights, :math:`\rho = 1 -` ratio (the
exponential schedule). The scores returned are those of the last step, with ``-inf``
for the weights removed by earlier steps, so that pruning them at ``ratio`` gives the
last step's mask exactly. The model passed in is never modified (the copy plays the
role of the reference's sign save / restore).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphcurv.datasets.calibration import model_device
from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.errors import GraphcurvError
from graphcurv.models.exported import copy_model, frozen_kind
from graphcurv.progress import ProgressCallback, report
from graphcurv.pruning.masks import check_ratio, prunable_weights, prune_masks

__all__ = ["SATURATING", "balanced_examples", "snip_scores", "synflow_keep_fractions", "synflow_scores"]


def balanced_examples(data: ImageDataset, per_class: int, *, seed: int = 0) -> tuple[Tensor, Tensor]:
    """The first ``per_class`` examples of every class in a random order fixed by ``seed``
    (correct or not: SNIP's prune set), grouped by class."""
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise GraphcurvError(f"per_class must be a positive integer, got {per_class!r}")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(int(seed)))
    labels = data.labels[order]
    chosen = []
    for label in range(data.num_classes):
        picked = order[labels == label][:per_class]
        if len(picked) < per_class:
            raise GraphcurvError(
                f"the {data.name} {data.split} split has {len(picked)} examples of class {label}, fewer than {per_class}"
            )
        chosen.append(picked)
    index = torch.cat(chosen)
    return data.images[index], data.labels[index]


def snip_scores(
    model: nn.Module,
    data: ImageDataset,
    *,
    per_class: int = 10,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> dict[str, Tensor]:
    """SNIP scores :math:`|\\partial L / \\partial w \\cdot w|` on ``per_class`` examples per class of ``data``."""
    layers = prunable_weights(model)
    dev = model_device(model, device)
    images, labels = balanced_examples(data, per_class, seed=seed)
    weights = [layer.weight for layer in layers.values()]
    was_training, needed = model.training, [w.requires_grad for w in weights]
    model.eval()
    try:
        for w in weights:
            w.requires_grad_(True)  # frozen weights still get a gradient here
        loss = F.cross_entropy(model(images.to(dev)), labels.to(dev))
        grads = torch.autograd.grad(loss, weights)
    finally:
        model.train(was_training)
        for w, flag in zip(weights, needed):
            w.requires_grad_(flag)
    return {name: (g * w).abs().detach() for name, g, w in zip(layers, grads, weights)}


def synflow_keep_fractions(ratio: float, iterations: int = 100) -> list[float]:
    """Kept fraction after each step of the exponential schedule: :math:`\\rho^{k/n}`, k = 1..n.

    >>> [round(f, 4) for f in synflow_keep_fractions(0.75, 2)]
    [0.5, 0.25]
    """
    keep = 1.0 - check_ratio(ratio)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise GraphcurvError(f"SynFlow needs a positive number of iterations, got {iterations!r}")
    return [keep ** (k / iterations) for k in range(1, iterations + 1)]


# Saturating activations whose gradient vanishes on SynFlow's large positive pre-activations.
SATURATING = (nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Softsign, nn.Hardsigmoid)


def _linearised(model: nn.Module) -> nn.Module:
    """``model`` with every saturating activation module replaced by ``nn.Identity`` (in place)."""
    for parent in model.modules():
        for key, child in parent.named_children():
            if isinstance(child, SATURATING):
                setattr(parent, key, nn.Identity())
    return model


def _absolute_copy(model: nn.Module, dev: torch.device, linearise: bool = False) -> nn.Module:
    kind = frozen_kind(model)
    if linearise and kind is not None:
        raise GraphcurvError(
            f"synflow-linear replaces activation modules by the identity, and a {kind} model has none to replace "
            "(its activations are compiled into the program): use synflow, or the Python model"
        )
    twin = copy_model(model).to(device=dev, dtype=torch.float64).eval()
    if linearise:
        _linearised(twin)
    with torch.no_grad():
        for tensor in [*twin.parameters(), *twin.buffers()]:
            if tensor.is_floating_point() or tensor.is_complex():
                tensor.abs_()
    for parameter in twin.parameters():
        parameter.requires_grad_(False)
    return twin


def synflow_scores(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    ratio: float,
    iterations: int = 100,
    scope: str = "global",
    linearise: bool = False,
    device: str | torch.device | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Tensor]:
    """SynFlow scores after ``iterations`` steps of the exponential schedule towards ``ratio``.

    Args:
        input_shape: one input's shape without the batch (``(1, 28, 28)``).
        ratio: the share of weights finally removed (sets :math:`\\rho`).
        scope: the scope of every step's mask (the reference uses ``"global"``).
        linearise: replace saturating activation modules (Tanh, Sigmoid, ...) by the
            identity in the copy (the ``synflow-linear`` variant, not the reference's
            protocol). With all-positive weights and an all-ones input, tanh saturates and
            :math:`1 - \\tanh^2` rounds to 0, so plain SynFlow scores whole layers 0;
            ReLU is the identity there anyway, so on ReLU networks both agree.
    """
    fractions = synflow_keep_fractions(ratio, iterations)
    dev = model_device(model, device)
    twin = _absolute_copy(model, dev, linearise)
    layers = prunable_weights(twin)
    absolute = {name: layer.weight.detach().clone() for name, layer in layers.items()}
    masks = {name: torch.ones_like(w, dtype=torch.bool) for name, w in absolute.items()}
    ones = torch.ones((1, *map(int, input_shape)), dtype=torch.float64, device=dev)
    scores: dict[str, Tensor] = {}
    for step, keep in enumerate(fractions, 1):
        weights = []
        for name, layer in layers.items():
            layer.weight = nn.Parameter(absolute[name] * masks[name])
            weights.append(layer.weight)
        grads = torch.autograd.grad(twin(ones).sum(), weights)
        scores = {
            name: torch.where(masks[name], (g * w).abs(), -torch.inf).detach()
            for name, g, w in zip(layers, grads, weights)
        }
        masks = prune_masks(scores, 1.0 - keep if step < len(fractions) else check_ratio(ratio), scope=scope)
        report(progress, step, len(fractions), "SynFlow")
    return {name: value.to(model_device(model)) for name, value in scores.items()}
