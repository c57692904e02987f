"""Device and seed handling shared by the library and the CLI.

graphcurv never hard-codes a device: functions compute on the device of their input
tensors, and entry points that create tensors take a ``device`` argument resolved
here ("cpu", "cuda", "cuda:1" or "auto" = CUDA when available, else CPU).
"""

from __future__ import annotations

import random

import numpy as np
import torch

from graphcurv.errors import GraphcurvError


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"`` (or a ``torch.device``) into a usable device.

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        name = str(device)
    else:
        name = (device or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise GraphcurvError(f"unknown device {name!r}: use cpu, cuda, cuda:N or auto") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise GraphcurvError(
            f"device {name!r} was asked for but CUDA is not available on this machine "
            "(use --device cpu or --device auto)"
        )
    if dev.type not in {"cpu", "cuda"}:
        raise GraphcurvError(f"unsupported device {name!r}: use cpu, cuda, cuda:N or auto")
    return dev


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (CPU and all CUDA devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
