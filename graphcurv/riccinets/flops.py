r"""FLOPs per forward pass and parameter counts, with PyTorch's own ``FlopCounterMode``.

Convention (the RicciNets reward :math:`F` of spec section 8): one forward pass of a batch of
one image, the model in eval mode, no gradient; a multiply-accumulate counts **2 FLOPs**, as
:class:`torch.utils.flop_counter.FlopCounterMode` counts them:

* convolution (any ``groups``): :math:`2\, H_{out} W_{out} C_{out} (C_{in}/g)\, k_h k_w`
  (depthwise convs included, biases not counted);
* linear layer: :math:`2\, n_{in} n_{out}` (the bias add is not counted);
* matrix products (``mm``, ``bmm``, ...): :math:`2mnk`. The RandWire aggregation of a node with
  :math:`k` inputs of :math:`N = C H W` elements is a contraction
  :math:`\sum_i \sigma(w_i) x_i`, i.e. an ``aten.mm`` of :math:`(1, k) \times (k, N)`: :math:`2kN`
  FLOPs; the stage output, the mean of :math:`m` nodes, costs :math:`2mN`;
* BatchNorm in eval mode (added here through ``custom_mapping``; the stock counter ignores
  it): an affine map per element, :math:`2` FLOPs per input element;
* ReLU, sigmoid, pooling and other element-wise ops: 0 (not counted).

>>> from torch import nn
>>> count_flops(nn.Conv2d(3, 4, 3, padding=1, bias=False), (1, 3, 8, 8)) == 2 * 8 * 8 * 4 * 3 * 9
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from graphcurv.errors import GraphcurvError

__all__ = ["batch_norm_flop", "count_flops", "count_parameters", "flop_breakdown"]

_BATCH_NORM_OPS = (
    "native_batch_norm",
    "_native_batch_norm_legit",
    "_native_batch_norm_legit_no_training",
    "_native_batch_norm_legit_functional",
    "_batch_norm_with_update",
    "_batch_norm_no_update",
    "cudnn_batch_norm",
    "miopen_batch_norm",
)


def batch_norm_flop(input_shape: Sequence[int], *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """FLOPs of an eval-mode BatchNorm: 2 per element of the input (``FlopCounterMode`` formula signature)."""
    return 2 * math.prod(input_shape)


def _custom_mapping() -> dict[Any, Any]:
    aten = torch.ops.aten
    return {getattr(aten, name): batch_norm_flop for name in _BATCH_NORM_OPS if hasattr(aten, name)}


def _example_input(model: nn.Module, input_shape: Sequence[int] | None) -> torch.Tensor:
    if input_shape is None:
        channels = getattr(model, "in_channels", None)
        if not isinstance(channels, int):
            raise GraphcurvError("pass input_shape=(1, C, H, W): the model does not say how many channels it reads")
        input_shape = (1, channels, 32, 32)
    shape = tuple(input_shape)
    if len(shape) < 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape):
        raise GraphcurvError(f"input_shape must be positive integers (1, C, H, W) or (1, features), got {shape}")
    if shape[0] != 1:
        raise GraphcurvError(f"FLOPs are counted for a batch of one: input_shape must start with 1, got {shape}")
    first = next(iter(model.parameters()), None)
    if first is None:
        return torch.zeros(shape)
    return torch.zeros(shape, dtype=first.dtype, device=first.device)


def flop_breakdown(model: nn.Module, input_shape: Sequence[int] | None = None) -> dict[str, int]:
    """FLOPs of one forward pass per aten op (``"aten.convolution"``, ``"aten.mm"``, ...); see the module docstring.

    ``input_shape`` defaults to ``(1, model.in_channels, 32, 32)`` for models that have ``in_channels``.
    The model's train/eval mode is restored afterwards.
    """
    x = _example_input(model, input_shape)
    was_training = model.training
    counter = FlopCounterMode(display=False, custom_mapping=_custom_mapping())
    model.eval()
    try:
        with torch.no_grad(), counter:
            model(x)
    except RuntimeError as exc:
        raise GraphcurvError(f"the model cannot run on an input of shape {tuple(x.shape)}: {exc}") from exc
    finally:
        model.train(was_training)
    totals = counter.get_flop_counts().get("Global", {})
    return {str(op): int(count) for op, count in sorted(totals.items(), key=lambda item: str(item[0]))}


def count_flops(model: nn.Module, input_shape: Sequence[int] | None = None) -> int:
    """Total FLOPs of one forward pass of a batch of one (convention in the module docstring).

    >>> from torch import nn
    >>> count_flops(nn.Linear(5, 7), (1, 5))
    70
    """
    return sum(flop_breakdown(model, input_shape).values())


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters of ``model``: every weight, bias, BatchNorm affine and aggregation weight.

    >>> from torch import nn
    >>> count_parameters(nn.Linear(5, 7))
    42
    """
    return sum(p.numel() for p in model.parameters())
