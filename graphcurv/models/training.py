"""Training and evaluating classifiers: deterministic mini-batch training with AdamW or SGD.

:func:`train_model` minimises the cross-entropy of ``model`` on ``train_set``:

* optimiser ``"adam"`` (default) is ``torch.optim.AdamW``, whose ``weight_decay`` is
  *decoupled* weight decay (``w <- w - lr * weight_decay * w`` each step, apart from
  the Adam update); ``"sgd"`` is SGD with momentum 0.9, where ``weight_decay`` adds
  ``weight_decay * w`` to the gradient (the classic form). Weight decay applies to
  every parameter. ``weight_decay=0`` disables it.
* the learning rate follows a cosine schedule from ``lr`` to 0 over all steps;
* batches are drawn by a random permutation per epoch from a generator seeded with
  ``seed``, and every other random draw (augmentation, dropout) happens under a
  forked RNG seeded with ``seed``: the same model initialisation, data and seed
  give bitwise the same weights on the same machine and device.

:func:`evaluate` returns the accuracy of ``argmax`` of the logits in eval mode.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from graphcurv.datasets.calibration import model_device, predict_labels
from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.errors import GraphcurvError
from graphcurv.models.augmentation import random_crop_flip
from graphcurv.progress import ProgressCallback, report

__all__ = ["EpochRecord", "TrainingHistory", "evaluate", "train_model"]

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch of :func:`train_model` measured."""

    epoch: int
    train_loss: float
    train_accuracy: float
    val_accuracy: float | None
    seconds: float


@dataclass
class TrainingHistory:
    """Per-epoch records of a training run."""

    epochs: list[EpochRecord] = field(default_factory=list)

    @property
    def final(self) -> EpochRecord:
        return self.epochs[-1]


def evaluate(
    model: nn.Module, dataset: ImageDataset, *, device: str | torch.device | None = None, batch_size: int = 512
) -> float:
    """Fraction of ``dataset`` that ``model`` classifies correctly (eval mode, no gradients).

    >>> from graphcurv.datasets import ImageDataset
    >>> data = ImageDataset(torch.eye(2).view(2, 2, 1, 1), torch.tensor([0, 0]), 2, "toy")
    >>> evaluate(nn.Flatten(), data)  # logits = the image: image 0 says class 0, image 1 says class 1
    0.5
    """
    if len(dataset) == 0:
        raise GraphcurvError(f"cannot evaluate on an empty dataset ({dataset.name} {dataset.split})")
    predicted = predict_labels(model, dataset.images, device=device, batch_size=batch_size)
    return float((predicted == dataset.labels).double().mean())


def _optimizer(model: nn.Module, name: str, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise GraphcurvError(f"unknown optimizer {name!r}: use one of {', '.join(OPTIMIZERS)}")


def _check(epochs: int, lr: float, weight_decay: float, batch_size: int, train_set: ImageDataset) -> None:
    if epochs < 1 or batch_size < 1:
        raise GraphcurvError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")
    if not lr > 0 or not weight_decay >= 0:
        raise GraphcurvError(f"need lr > 0 and weight_decay >= 0, got lr={lr}, weight_decay={weight_decay}")
    if len(train_set) == 0:
        raise GraphcurvError("the training set is empty")


def train_model(
    model: nn.Module,
    train_set: ImageDataset,
    *,
    epochs: int = 10,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    batch_size: int = 128,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: ProgressCallback | None = None,
    val_set: ImageDataset | None = None,
    optimizer: str = "adam",
    augment: bool = False,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> TrainingHistory:
    """Train ``model`` in place on ``train_set``; return the per-epoch history.

    Args:
        model: any classifier returning logits; moved to ``device``.
        train_set: the training images and labels.
        epochs, lr, weight_decay, batch_size: the usual; see the module docstring.
        seed: seeds batch order, augmentation and dropout (not the initialisation:
            seed before building the model).
        device: where to train (default: the model's device).
        progress: ``progress(done_batches, total_batches, description)`` callback.
        val_set: held-out data; its accuracy is measured after every epoch.
        optimizer: ``"adam"`` (AdamW) or ``"sgd"`` (momentum 0.9).
        augment: random crop (padding 4) and horizontal flip, as the paper does for CIFAR.
        on_epoch: called with each :class:`EpochRecord` as soon as the epoch ends.
    """
    _check(epochs, lr, weight_decay, batch_size, train_set)
    dev = model_device(model, device)
    model.to(dev)
    opt = _optimizer(model, optimizer, lr, weight_decay)
    steps_per_epoch = -(-len(train_set) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(int(seed))
    history = TrainingHistory()
    rng_devices = [dev.index or 0] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=rng_devices):
        torch.manual_seed(int(seed))
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            model.train()
            loss_sum, correct = 0.0, 0
            order = torch.randperm(len(train_set), generator=generator)
            for step, start in enumerate(range(0, len(order), batch_size), 1):
                index = order[start : start + batch_size]
                images = train_set.images[index]
                if augment:
                    images = random_crop_flip(images, generator)
                images, labels = images.to(dev), train_set.labels[index].to(dev)
                logits = model(images)
                loss = F.cross_entropy(logits, labels)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                schedule.step()
                loss_value = loss.item()
                loss_sum += loss_value * len(index)
                correct += int((logits.argmax(1) == labels).sum())
                done = (epoch - 1) * steps_per_epoch + step
                report(progress, done, epochs * steps_per_epoch, f"epoch {epoch}/{epochs} loss {loss_value:.3f}")
            val = evaluate(model, val_set, device=dev) if val_set is not None and len(val_set) else None
            record = EpochRecord(epoch, loss_sum / len(order), correct / len(order), val, time.perf_counter() - started)
            history.epochs.append(record)
            if on_epoch is not None:
                on_epoch(record)
    model.eval()
    return history
