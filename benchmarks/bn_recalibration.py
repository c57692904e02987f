"""How much of one-shot pruning's accuracy loss is BatchNorm's stale running statistics?

    .venv/bin/python benchmarks/bn_recalibration.py /tmp/models/vgg9-relu.pt --methods random,magnitude --ratios 0.01,0.1

Prunes the model (global scope, as `graphcurv sweep`), measures test accuracy as the
sweep does (the running statistics of the dense model kept), then re-estimates every
BatchNorm layer's running mean and variance from ``--images`` training images (a
cumulative average, ``momentum=None``, in train mode, no gradient, no weight changed)
and measures again. Prints a Markdown table. Not part of the paper's protocol; a
diagnostic for models with BatchNorm, such as VGG9-lite.
"""

from __future__ import annotations

import argparse
import sys

import torch
from torch import nn

from graphcurv.datasets import ImageDataset, load_dataset
from graphcurv.models import evaluate, load_model
from graphcurv.pruning import prune_masks, pruned_copy, score

NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, data: ImageDataset, images: int, batch_size: int = 500) -> nn.Module:
    """Re-estimate the running statistics of every BatchNorm of ``model`` in place, from ``data``'s first images.

    With ``momentum=None`` BatchNorm keeps the plain average over batches:
    ``running_mean = mean_b(mean over batch b)``, likewise the (unbiased) variance.
    """
    norms = [m for m in model.modules() if isinstance(m, NORMS)]
    if not norms:
        raise SystemExit("the model has no BatchNorm layer: nothing to recalibrate")
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    xs = data.images[:images]
    for start in range(0, len(xs), batch_size):
        model(xs[start : start + batch_size])
    for m, momentum in zip(norms, saved, strict=True):
        m.momentum = momentum
    return model.eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--methods", default="random,magnitude", help="comma-separated, as graphcurv sweep's --methods")
    parser.add_argument("--ratios", default="0.01,0.1")
    parser.add_argument("--images", type=int, default=5000, help="training images for the new statistics")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random scores")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = load_model(args.checkpoint)
    test = load_dataset(args.dataset, split="test")
    train = load_dataset(args.dataset, split="train")  # the new statistics
    val = load_dataset(args.dataset, split="val")  # SNIP's examples, as in graphcurv sweep
    print(f"{args.checkpoint}: dense test accuracy {evaluate(model, test):.4f}")
    print("| method | ratio | one-shot | BatchNorm recalibrated |")
    print("| --- | --- | --- | --- |")
    for method in args.methods.split(","):
        for ratio in (float(r) for r in args.ratios.split(",")):
            scores = score(model, method=method, data=val, ratio=ratio, seed=args.seed)  # SynFlow's depend on it
            pruned = pruned_copy(model, prune_masks(scores, ratio))
            before = evaluate(pruned, test)
            after = evaluate(recalibrate_batchnorm(pruned, train, args.images), test)
            print(f"| {method} | {ratio:g} | {before:.4f} | {after:.4f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
