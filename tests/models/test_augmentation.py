import torch
import torch.nn.functional as F

from graphcurv.models import random_crop_flip


def test_every_output_is_a_shifted_possibly_mirrored_window():
    images = torch.rand(16, 3, 6, 5)
    out = random_crop_flip(images, torch.Generator().manual_seed(0), padding=2)
    padded = F.pad(images, (2, 2, 2, 2))
    flips = 0
    for b in range(16):
        windows = [padded[b, :, dy : dy + 6, dx : dx + 5] for dy in range(5) for dx in range(5)]
        plain = any(torch.equal(out[b], w) for w in windows)
        mirrored = any(torch.equal(out[b], w.flip(-1)) for w in windows)
        assert plain or mirrored
        flips += mirrored and not plain
    assert 0 < flips < 16  # both kinds occur


def test_deterministic_with_the_generator_and_identity_without_padding():
    images = torch.rand(8, 1, 4, 4)
    a = random_crop_flip(images, torch.Generator().manual_seed(3))
    b = random_crop_flip(images, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    out = random_crop_flip(images, torch.Generator().manual_seed(1), padding=0)
    assert all(torch.equal(o, x) or torch.equal(o, x.flip(-1)) for o, x in zip(out, images))
