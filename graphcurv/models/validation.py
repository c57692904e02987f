r"""Refuse a broken model or mismatched data before any expensive step.

Each check costs at most a few forward passes and raises a
:class:`~graphcurv.errors.GraphcurvError` that names the cause:

* :func:`check_finite_model`: every floating-point parameter and buffer is finite
  (a NaN weight would otherwise surface hours later as "too few correctly classified
  examples" or "the scores contain NaN");
* :func:`check_input_fits`: one image of the dataset goes through the model, and the
  model has an output per class; otherwise both shapes are named (the data's
  :math:`(C, H, W)` and the one the model takes, found by trying common sizes);
* :func:`check_finite_activations`: on a batch of inputs, the inputs and the output of
  every module are finite; otherwise the first module (in execution order) whose
  output is not is named.

:func:`check_model_and_data` runs all three (the last on up to ``probe`` images).

>>> import torch
>>> from graphcurv.models import build_model
>>> model = build_model("mlp", in_channels=1, image_size=8, num_classes=10, hidden=[16])
>>> check_finite_model(model)
>>> with torch.no_grad():
...     model.classifier[0].weight[0, :3] = float("nan")
>>> check_finite_model(model)
Traceback (most recent call last):
...
graphcurv.errors.GraphcurvError: the model's parameter 'classifier.0.weight' has 3 NaN entries (first at [0, 0]): ...
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from graphcurv.datasets.calibration import evaluation_mode, model_device
from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.errors import GraphcurvError

__all__ = ["check_finite_activations", "check_finite_model", "check_input_fits", "check_model_and_data"]

PROBE_IMAGES = 64  # images check_model_and_data runs through the model
COMMON_SIZES = (28, 32, 8, 16, 24, 64, 96, 128, 224)  # square image sides tried to name the expected shape


def _bad_entries(tensor: Tensor) -> str | None:
    """``"3 NaN entries (first at [0, 5])"`` for a tensor that is not finite, else ``None``."""
    if not (tensor.is_floating_point() or tensor.is_complex()):
        return None
    finite = torch.isfinite(tensor.detach())
    if bool(finite.all()):
        return None
    nan, inf = int(torch.isnan(tensor).sum()), int(torch.isinf(tensor).sum())
    counts = " and ".join(f"{n} {what} entr{'y' if n == 1 else 'ies'}" for n, what in ((nan, "NaN"), (inf, "inf")) if n)
    flat = int(torch.nonzero(~finite.reshape(-1))[0])
    first = [int(i) for i in torch.unravel_index(torch.tensor(flat), tuple(tensor.shape))] if tensor.dim() else []
    return f"{counts} (first at {first})"


def _named_tensors(model: nn.Module) -> Iterable[tuple[str, str, Tensor]]:
    for name, tensor in model.named_parameters():
        yield "parameter", name, tensor
    for name, tensor in model.named_buffers():
        yield "buffer", name, tensor


def check_finite_model(model: nn.Module) -> None:
    """Refuse a model with a NaN or inf parameter or buffer, naming every such tensor (up to three)."""
    bad = [(kind, name, text) for kind, name, tensor in _named_tensors(model) if (text := _bad_entries(tensor))]
    if not bad:
        return
    parts = [f"the model's {kind} {name!r} has {text}" for kind, name, text in bad[:3]]
    more = f" (and {len(bad) - 3} more tensors)" if len(bad) > 3 else ""
    raise GraphcurvError(
        f"{'; '.join(parts)}{more}: the model's numbers are broken (a diverged training run or a damaged "
        "file); retrain it or load an earlier checkpoint"
    )


def _first_layer(model: nn.Module) -> str | None:
    """``"its first layer 'features.0' (Conv2d) takes 3 input channels"``, or ``None``."""
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.conv._ConvNd):
            count = module.in_channels
            return f"its first layer {name!r} ({type(module).__name__}) takes {count} input channel{'s' * (count != 1)}"
        if isinstance(module, nn.Linear):
            return f"its first layer {name!r} (Linear) takes {module.in_features} input features"
    return None


def _runs(model: nn.Module, batch: Tensor) -> Tensor | None:
    try:
        out = model(batch)
    except Exception:  # noqa: BLE001 - any failure means the shape does not fit
        return None
    return out if isinstance(out, Tensor) else None


def _expected_shape(model: nn.Module, device: torch.device, tried: tuple[int, ...]) -> tuple[int, ...] | None:
    """An input shape (C, H, W) the model runs on, among 1 or 3 channels and :data:`COMMON_SIZES`."""
    channels = [1, 3]
    for _, module in model.named_modules():
        if isinstance(module, nn.modules.conv._ConvNd):
            channels = [module.in_channels]
            break
        if isinstance(module, nn.Linear):
            channels = [c for c in (1, 3) if any(c * s * s == module.in_features for s in COMMON_SIZES)] or channels
            break
    for c in channels:
        for side in COMMON_SIZES:
            shape = (c, side, side)
            if shape != tried and _runs(model, torch.zeros(1, *shape, device=device)) is not None:
                return shape
    return None


def check_input_fits(model: nn.Module, data: ImageDataset) -> None:
    """Refuse data the model cannot take: one image must go through it and give an output per class."""
    if len(data) == 0:
        raise GraphcurvError(f"the {data.name} {data.split} split has no images")
    device = model_device(model)
    shape = tuple(int(s) for s in data.images.shape[1:])
    with evaluation_mode(model):
        out = _runs(model, data.images[:1].to(device))
        if out is None:
            expected = _expected_shape(model, device, shape)
            takes = f"the model takes {expected}" if expected else "the model does not take them"
            layer = _first_layer(model)
            raise GraphcurvError(
                f"the {data.name} images have shape {shape} (channels, height, width) but {takes}"
                f"{f' ({layer})' if layer else ''}: choose the dataset the model was trained on (--dataset)"
            )
    if out.dim() != 2:
        raise GraphcurvError(f"the model must return logits of shape (batch, classes), got {tuple(out.shape)}")
    if out.shape[1] < data.num_classes:
        raise GraphcurvError(
            f"the model has {out.shape[1]} outputs but the {data.name} dataset has {data.num_classes} classes: "
            "choose the dataset the model was trained on (--dataset)"
        )


def check_finite_activations(model: nn.Module, inputs: Tensor, *, what: str = "the calibration inputs") -> None:
    """Refuse non-finite inputs, or a model whose activations on ``inputs`` are not finite,
    naming the first module (in execution order) with a NaN or inf output."""
    text = _bad_entries(inputs)
    if text:
        raise GraphcurvError(f"{what} have {text}: the data files are damaged or were not scaled to [0, 1]")
    first: list[tuple[str, str, str]] = []
    names = {module: name for name, module in model.named_modules()}

    def hook(module: nn.Module, _args, output) -> None:
        if first or not isinstance(output, Tensor):
            return
        text = _bad_entries(output)
        if text:
            name = names.get(module)
            first.append((repr(name) if name else "the model", type(module).__name__, text))

    hooked = [m for m in names if not isinstance(m, torch.jit.ScriptModule)]  # TorchScript takes no hooks
    handles = [m.register_forward_hook(hook) for m in hooked if not any(True for _ in m.children()) or m is model]
    try:
        with evaluation_mode(model):
            output = model(inputs.to(model_device(model)))
    finally:
        for handle in handles:
            handle.remove()
    if not first and isinstance(output, Tensor) and (text := _bad_entries(output)):
        first.append(("the model", type(model).__name__, text))
    if first:
        name, kind, text = first[0]
        raise GraphcurvError(
            f"the model's activations are not finite on {what}: the output of {name} ({kind}) has {text} "
            f"over {len(inputs)} inputs, the first module that does; check its weights and the inputs' scale"
        )


def check_model_and_data(model: nn.Module, data: ImageDataset | None = None, *, probe: int = PROBE_IMAGES) -> None:
    """:func:`check_finite_model`, then (with ``data``) :func:`check_input_fits` and
    :func:`check_finite_activations` on the first ``probe`` images of ``data``."""
    check_finite_model(model)
    if data is None:
        return
    check_input_fits(model, data)
    count = min(len(data), max(1, int(probe)))
    check_finite_activations(model, data.images[:count], what=f"the first {count} {data.name} {data.split} images")
