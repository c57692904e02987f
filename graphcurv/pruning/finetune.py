"""Fine-tuning a pruned model with its masks in place, so pruned weights stay exactly zero."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from graphcurv.datasets.image_dataset import ImageDataset
from graphcurv.errors import GraphcurvError
from graphcurv.models.exported import frozen_kind
from graphcurv.progress import ProgressCallback
from graphcurv.pruning.masks import apply_masks, make_permanent

__all__ = ["check_trainable", "finetune_pruned"]


def check_trainable(model: nn.Module) -> None:
    """Refuse a frozen program (TorchScript, ``torch.export``): graphcurv fine-tunes Python models only."""
    kind = frozen_kind(model)
    if kind is not None:
        raise GraphcurvError(
            f"a {kind} model is a frozen inference program: it can be pruned but not fine-tuned here "
            "(--finetune); fine-tune the Python model it was made from (a checkpoint, a state_dict with "
            "--arch or a pickled module), or prune without fine-tuning"
        )


def finetune_pruned(
    model: nn.Module,
    masks: Mapping[str, Tensor],
    train_set: ImageDataset,
    *,
    epochs: int,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    batch_size: int = 128,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: ProgressCallback | None = None,
) -> nn.Module:
    """A copy of ``model`` pruned by ``masks`` and trained ``epochs`` more epochs on ``train_set``.

    The masks stay installed during training (``torch.nn.utils.prune``: the forward pass
    uses ``weight_orig * weight_mask``), so the removed weights get no say and stay zero;
    the result is made permanent (``prune.remove``) and returned in eval mode. Training
    is :func:`graphcurv.models.train_model` (AdamW, cosine schedule from ``lr``).
    Frozen programs (TorchScript, ``torch.export``) are refused (:func:`check_trainable`).
    """
    from graphcurv.models import train_model

    check_trainable(model)
    pruned = apply_masks(copy.deepcopy(model), masks)
    train_model(
        pruned, train_set, epochs=epochs, lr=lr, weight_decay=weight_decay, batch_size=batch_size, seed=seed,
        device=device, progress=progress,
    )  # fmt: skip
    return make_permanent(pruned).eval()
