"""Calibration sets: ``k`` correctly classified examples per class from a held-out split.

The neural curvature of a model is measured on a small set ``D`` of inputs that
the model classifies correctly, ``k`` per class (the paper uses ``k`` = 1, 2, 5, 10),
taken from data the model was not trained on (the ``"val"`` split, or ``"test"``).
:func:`calibration_set` draws them deterministically: the split is visited in one
random order fixed by ``seed``, and each class keeps its first ``k`` correctly
classified images in that order. The result does not depend on ``batch_size`` or
the device, and evaluation stops as soon as every class is full.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.device import resolve_device
from graphcurv.errors import GraphcurvError
from graphcurv.progress import ProgressCallback, report

__all__ = ["calibration_set", "evaluation_mode", "model_device", "predict_labels"]


def model_device(model: nn.Module, device: str | torch.device | None = None) -> torch.device:
    """``device`` resolved, or (``None``) the device of the model's first parameter (CPU without any)."""
    if device is not None:
        return resolve_device(device)
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


@contextlib.contextmanager
def evaluation_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode (dropout off, BatchNorm running statistics) and restore it afterwards.

    Modules from ``torch.export`` do not support ``.eval()``; they are already
    frozen in the mode they were exported in and are used as they are.
    """
    was_training = model.training
    try:
        model.eval()
    except (NotImplementedError, RuntimeError):
        was_training = None
    try:
        with torch.no_grad():
            yield model
    finally:
        if was_training:
            model.train()


def _logits(model: nn.Module, batch: torch.Tensor, num_classes: int | None) -> torch.Tensor:
    try:
        logits = model(batch)
    except RuntimeError as exc:
        raise GraphcurvError(
            f"the model does not accept inputs of shape {tuple(batch.shape[1:])}: {' '.join(str(exc).split())}"
        ) from exc
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise GraphcurvError(f"the model must return logits of shape (batch, classes), got {shape}")
    if num_classes is not None and logits.shape[1] < num_classes:
        raise GraphcurvError(f"the model has {logits.shape[1]} outputs but the dataset has {num_classes} classes")
    return logits


def predict_labels(
    model: nn.Module,
    images: torch.Tensor,
    *,
    device: str | torch.device | None = None,
    batch_size: int = 512,
    num_classes: int | None = None,
) -> torch.Tensor:
    """``argmax`` of the model's logits for every image, in eval mode without gradients (CPU long tensor)."""
    dev = model_device(model, device)
    out = torch.empty(len(images), dtype=torch.long)
    with evaluation_mode(model):
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size].to(dev)
            out[start : start + len(batch)] = _logits(model, batch, num_classes).argmax(1).cpu()
    return out


def calibration_set(
    model: nn.Module,
    dataset: ImageDataset,
    per_class: int,
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
    batch_size: int = 256,
    progress: ProgressCallback | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``per_class`` correctly classified examples of every class, deterministic with ``seed``.

    Args:
        model: a classifier returning logits ``(batch, classes)``; used in eval mode.
        dataset: the held-out split to draw from (``load_dataset(..., split="val")``).
        per_class: ``k``, how many examples per class.
        seed: fixes the order in which the split is visited, hence the choice.
        device: where to evaluate (default: the model's device).
        batch_size: images per forward pass.
        progress: optional ``progress(done, total, description)`` callback.

    Returns:
        ``(inputs, labels)`` on the CPU: ``inputs`` ``(k * C, channels, H, W)`` grouped
        by class in label order (the ``k`` images of class 0 first), ``labels`` ``(k * C,)``.

    Raises:
        GraphcurvError: when a class has fewer than ``k`` correctly classified examples.
    """
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise GraphcurvError(f"per_class must be a positive integer, got {per_class!r}")
    if batch_size < 1:
        raise GraphcurvError(f"batch_size must be positive, got {batch_size}")
    dev = model_device(model, device)
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(int(seed)))
    chosen: list[list[int]] = [[] for _ in range(dataset.num_classes)]
    full = 0
    with evaluation_mode(model):
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            logits = _logits(model, dataset.images[index].to(dev), dataset.num_classes)
            truth = dataset.labels[index]
            hits = logits.argmax(1).cpu() == truth
            for i, label in zip(index[hits].tolist(), truth[hits].tolist()):
                if len(chosen[label]) < per_class:
                    chosen[label].append(i)
                    full += len(chosen[label]) == per_class
            report(progress, min(start + batch_size, len(order)), len(order), "calibration set")
            if full == dataset.num_classes:
                break
    _check_full(chosen, per_class, dataset)
    selected = torch.tensor([i for group in chosen for i in group], dtype=torch.long)
    return dataset.images[selected].clone(), dataset.labels[selected].clone()


def _check_full(chosen: list[list[int]], per_class: int, dataset: ImageDataset) -> None:
    short = [c for c, group in enumerate(chosen) if len(group) < per_class]
    if not short:
        return
    names = dataset.classes or tuple(str(c) for c in range(dataset.num_classes))
    parts = [f"class {c} ({names[c]}): {len(chosen[c])}" for c in short[:5]]
    more = f" and {len(short) - 5} more classes" if len(short) > 5 else ""
    raise GraphcurvError(
        f"too few correctly classified examples in the {dataset.name} {dataset.split} split for "
        f"{per_class} per class: {'; '.join(parts)}{more} (use a smaller per-class count or a larger split)"
    )
