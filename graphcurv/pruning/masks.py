r"""Pruning masks from scores, applied the standard PyTorch way (``torch.nn.utils.prune``).

Prunable weights are the ``weight`` tensors of every ``Linear`` and ``Conv1d/2d/3d``
(biases and BatchNorm are never pruned), also in models that are not Python code: the
``Linear``/``Conv`` submodules of a TorchScript model, and in a ``torch.export``
program (``.pt2``) every ``weight`` parameter that a linear or convolution operation of
its graph reads. A *score* is one tensor per prunable weight,
of its shape, where **larger means more important**: pruning removes the entries with
the smallest scores first (``-inf`` is removed before anything else; NaN is refused).

*Ratio* is the share of prunable weights removed, in ``[0, 1)``. With ``n`` weights in
scope the number removed is ``round(ratio * n)`` (halves rounded up):

* ``scope="global"``: all prunable weights are ranked together, ``n`` = their total;
* ``scope="layer"``: every layer is ranked on its own and loses the same share.

Ties are broken deterministically by position: among equal scores, the entry of the
earlier parameter (model order), then the lower flat index, is removed first
(a stable ascending sort of the concatenated scores).

:func:`apply_masks` installs masks with ``prune.custom_from_mask`` (``weight_orig``,
``weight_mask`` and a forward pre-hook); :func:`make_permanent` calls ``prune.remove``
so the model is an ordinary one again, with exact zeros where pruned. Frozen programs
(TorchScript, ``torch.export``) take no hooks: their pruned entries are set to zero in
place, which is already permanent (they are not fine-tuned).

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Linear(2, 2, bias=False))
>>> masks = prune_masks({"0.weight": torch.tensor([[4.0, 1.0], [3.0, 2.0]])}, 0.5)
>>> masks["0.weight"].tolist()
[[True, False], [True, False]]
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor, nn
from torch.nn.utils import prune

from graphcurv.errors import GraphcurvError
from graphcurv.models.exported import copy_model, graph_module

__all__ = [
    "PRUNABLE_LAYERS",
    "SCOPES",
    "apply_masks",
    "check_ratio",
    "make_permanent",
    "mask_summary",
    "prunable_weights",
    "prune_masks",
    "pruned_copy",
    "removal_count",
    "removal_order",
]

PRUNABLE_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
SCOPES = ("global", "layer")


_SCRIPTED_LAYERS = ("Linear", "Conv1d", "Conv2d", "Conv3d")
_GRAPH_LAYER_OPS = ("linear", "conv1d", "conv2d", "conv3d", "convolution", "_convolution", "addmm", "mm")


def _is_layer(module: nn.Module) -> bool:
    if isinstance(module, torch.jit.ScriptModule):
        return getattr(module, "original_name", "") in _SCRIPTED_LAYERS and hasattr(module, "weight")
    return isinstance(module, PRUNABLE_LAYERS)


def _graph_weights(model: nn.Module) -> dict[str, nn.Module]:
    """``{name: holder}`` of the ``weight`` parameters the linear / conv operations of a
    ``torch.export`` program read (through a transpose for ``addmm``), in state_dict order."""
    graph = graph_module(model)
    if graph is None:
        return {}
    used = set()
    for node in graph.graph.nodes:
        name = getattr(node.target, "_opname", "")
        if node.op != "call_function" or name not in _GRAPH_LAYER_OPS:
            continue
        for arg in node.args[1:3] if name in ("addmm", "mm") else node.args[1:2]:
            while isinstance(arg, torch.fx.Node) and getattr(arg.target, "_opname", "") in (
                "t",
                "permute",
                "transpose",
            ):
                arg = arg.args[0]
            if (
                isinstance(arg, torch.fx.Node)
                and arg.op == "get_attr"
                and str(arg.target).rsplit(".", 1)[-1] == "weight"
            ):
                used.add(str(arg.target))
    holders = {}
    for name in model.state_dict():
        if name in used:
            holders[name] = graph.get_submodule(name.rpartition(".")[0])
    return holders


def prunable_weights(model: nn.Module) -> dict[str, nn.Module]:
    """``{"features.0.weight": module}`` for every conv / linear layer of ``model``, in model order.

    The module is the one holding the ``weight``: the layer itself, or for a ``torch.export``
    program the plain module its parameters hang from (see the module docstring).

    Raises:
        GraphcurvError: when a layer already carries a pruning mask (``weight_orig``).
    """
    found = {}
    for name, module in model.named_modules():
        if _is_layer(module):
            if hasattr(module, "weight_orig"):
                raise GraphcurvError(f"layer {name!r} is already pruned (weight_orig): call make_permanent first")
            found[f"{name}.weight" if name else "weight"] = module
    if not found:
        found = _graph_weights(model)
    if not found:
        raise GraphcurvError("the model has no prunable weights (no Linear or Conv layers)")
    return found


def check_ratio(ratio: float) -> float:
    """``ratio`` as a float in ``[0, 1)``, or a clear error."""
    try:
        value = float(ratio)
    except (TypeError, ValueError) as exc:
        raise GraphcurvError(f"the pruning ratio must be a number in [0, 1), got {ratio!r}") from exc
    if not 0.0 <= value < 1.0:  # also refuses NaN
        raise GraphcurvError(
            f"the pruning ratio is the share of weights removed and must be in [0, 1) (0.8 removes 80 %), got {ratio}"
        )
    return value


def check_scope(scope: str) -> str:
    key = str(scope).strip().lower()
    if key not in SCOPES:
        raise GraphcurvError(f"unknown pruning scope {scope!r}: use one of {', '.join(SCOPES)}")
    return key


def removal_count(total: int, ratio: float) -> int:
    """How many of ``total`` weights ``ratio`` removes: ``round(ratio * total)``, halves up.

    >>> removal_count(45312, 0.8), removal_count(10, 0.25), removal_count(7, 0.0)
    (36250, 3, 0)
    """
    return min(int(total), int(math.floor(check_ratio(ratio) * int(total) + 0.5)))


def _flat_scores(scores: Mapping[str, Tensor]) -> Tensor:
    parts = []
    for name, value in scores.items():
        flat = torch.as_tensor(value).detach().reshape(-1).to("cpu", torch.float64)
        if bool(torch.isnan(flat).any()):
            raise GraphcurvError(f"the scores of {name!r} contain NaN: give every weight a score")
        parts.append(flat)
    if not parts:
        raise GraphcurvError("no scores given")
    return torch.cat(parts)


def removal_order(scores: Mapping[str, Tensor]) -> Tensor:
    """Positions in the concatenation of the flattened scores (in the mapping's order), in
    the order pruning removes them: ascending score, ties by position."""
    return torch.sort(_flat_scores(scores), stable=True).indices


def _keep(scores: Mapping[str, Tensor], ratio: float) -> dict[str, Tensor]:
    """The first ``removal_count`` entries of :func:`removal_order` removed, found in linear
    time: everything below the k-th smallest score, then the earliest entries equal to it."""
    flat = _flat_scores(scores)
    count = removal_count(flat.numel(), ratio)
    keep = torch.ones(flat.numel(), dtype=torch.bool)
    if count:
        threshold = torch.kthvalue(flat, count).values
        below = flat < threshold
        keep[below] = False
        keep[torch.nonzero(flat == threshold).flatten()[: count - int(below.sum())]] = False
    masks, start = {}, 0
    for name, value in scores.items():
        size = value.numel()
        masks[name] = keep[start : start + size].view(value.shape).to(value.device)
        start += size
    return masks


def prune_masks(scores: Mapping[str, Tensor], ratio: float, *, scope: str = "global") -> dict[str, Tensor]:
    """Boolean keep-masks (``True`` = kept) removing the lowest-scored ``ratio`` of the weights.

    Args:
        scores: ``{parameter name: tensor}``, larger = more important (see the module docstring).
        ratio: share of weights removed, in ``[0, 1)``.
        scope: ``"global"`` (rank everything together) or ``"layer"`` (each tensor loses ``ratio``).
    """
    ratio, scope = check_ratio(ratio), check_scope(scope)
    if scope == "global":
        return _keep(scores, ratio)
    return {name: _keep({name: value}, ratio)[name] for name, value in scores.items()}


def _check_masks(model: nn.Module, masks: Mapping[str, Tensor]) -> dict[str, nn.Module]:
    layers = prunable_weights(model)
    unknown = sorted(set(masks) - set(layers))
    if unknown:
        raise GraphcurvError(f"masks for weights the model does not have or cannot prune: {', '.join(unknown)}")
    for name, mask in masks.items():
        if tuple(mask.shape) != tuple(layers[name].weight.shape):
            raise GraphcurvError(
                f"the mask of {name!r} has shape {tuple(mask.shape)}, the weight {tuple(layers[name].weight.shape)}"
            )
    return layers


def apply_masks(model: nn.Module, masks: Mapping[str, Tensor]) -> nn.Module:
    """Install ``masks`` on ``model`` in place with ``prune.custom_from_mask``; returns ``model``.

    Weights without a mask are left as they are. Until :func:`make_permanent`, the layers
    hold ``weight_orig`` and ``weight_mask`` and a forward pre-hook multiplies them, so
    fine-tuning keeps pruned entries at zero. In a frozen program (TorchScript,
    ``torch.export``) the removed entries are set to zero in place instead.
    """
    layers = _check_masks(model, masks)
    for name, mask in masks.items():
        module = layers[name]
        keep = mask.to(device=module.weight.device, dtype=torch.bool)
        if isinstance(module, PRUNABLE_LAYERS):
            prune.custom_from_mask(module, "weight", keep)
        else:  # a frozen program: no hooks, the entries become zero for good
            with torch.no_grad():
                module.weight.masked_fill_(~keep, 0.0)
    return model


def make_permanent(model: nn.Module) -> nn.Module:
    """``prune.remove`` on every masked weight: an ordinary model with exact zeros, no hooks."""
    for module in model.modules():
        if prune.is_pruned(module) and hasattr(module, "weight_mask"):
            prune.remove(module, "weight")
            # prune.remove re-registers ``weight`` last; put it back first, so the state_dict
            # has the dense model's key order (weight, bias), as every layer of torch.nn does.
            parameters = module._parameters
            for key in [k for k in parameters if k != "weight"]:
                parameters[key] = parameters.pop(key)
    return model


def pruned_copy(model: nn.Module, masks: Mapping[str, Tensor]) -> nn.Module:
    """A deep copy of ``model`` with ``masks`` applied and made permanent (``model`` is untouched)."""
    return make_permanent(apply_masks(copy_model(model), masks))


def mask_summary(masks: Mapping[str, Tensor]) -> list[tuple[str, int, int, float]]:
    """``(weight name, weights, removed, share removed)`` per masked tensor, then ``"total"``."""
    rows = []
    for name, mask in masks.items():
        removed = int((~mask.bool()).sum())
        rows.append((name, mask.numel(), removed, removed / max(mask.numel(), 1)))
    total, removed = sum(r[1] for r in rows), sum(r[2] for r in rows)
    rows.append(("total", total, removed, removed / max(total, 1)))
    return rows
