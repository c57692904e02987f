"""The paper's CIFAR augmentation on batches of tensors: random crop (zero padding 4) and horizontal flip.

For each image of a batch ``(B, C, H, W)``: pad every side with ``padding`` zeros,
cut an ``H x W`` window at a uniformly random offset in ``0 .. 2 * padding`` (per
axis), and mirror it left-right with probability 1/2. Random numbers come from the
given ``torch.Generator`` (on the CPU), so training stays deterministic.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["random_crop_flip"]


def random_crop_flip(images: torch.Tensor, generator: torch.Generator, *, padding: int = 4) -> torch.Tensor:
    """A randomly shifted (within ``padding``) and randomly mirrored copy of each image.

    >>> x = torch.arange(4.0).view(1, 1, 2, 2)
    >>> out = random_crop_flip(x, torch.Generator().manual_seed(0), padding=0)
    >>> out.tolist() in ([[[[0.0, 1.0], [2.0, 3.0]]]], [[[[1.0, 0.0], [3.0, 2.0]]]])
    True
    """
    b, c, h, w = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    dy, dx = (torch.randint(0, 2 * padding + 1, (b,), generator=generator) for _ in range(2))
    flip = torch.rand(b, generator=generator) < 0.5
    cols = dx[:, None] + torch.arange(w)[None, :]
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    rows = dy[:, None] + torch.arange(h)[None, :]
    device = images.device
    batch = torch.arange(b, device=device)[:, None, None, None]
    channel = torch.arange(c, device=device)[None, :, None, None]
    return padded[batch, channel, rows.to(device)[:, None, :, None], cols.to(device)[:, None, None, :]]
