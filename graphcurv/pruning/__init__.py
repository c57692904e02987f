"""Pruning trained networks: curvature-guided (neural curvature) against magnitude, random, SNIP and SynFlow.

>>> import torch
>>> from torch import nn
>>> from graphcurv.pruning import prune_masks, pruned_copy, score
>>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
>>> masks = prune_masks(score(net, method="magnitude"), 0.5)
>>> pruned = pruned_copy(net, masks)
>>> int((pruned[0].weight == 0).sum() + (pruned[2].weight == 0).sum())
9
"""

from graphcurv.pruning.curvature_scores import compute_curvature_scores, load_curvature_scores
from graphcurv.pruning.finetune import finetune_pruned
from graphcurv.pruning.masks import (
    apply_masks,
    check_ratio,
    make_permanent,
    mask_summary,
    prunable_weights,
    prune_masks,
    pruned_copy,
    removal_count,
    removal_order,
)
from graphcurv.pruning.saliency import balanced_examples, snip_scores, synflow_keep_fractions, synflow_scores
from graphcurv.pruning.scores import METHODS, SCORE_FUNCTIONS, ScoreOptions, normalise_method, score
from graphcurv.pruning.sweep import SweepPoint, SweepResult, headline_ratio, pruning_sweep, write_sweep_csv

__all__ = [
    "METHODS",
    "SCORE_FUNCTIONS",
    "ScoreOptions",
    "SweepPoint",
    "SweepResult",
    "apply_masks",
    "balanced_examples",
    "check_ratio",
    "compute_curvature_scores",
    "finetune_pruned",
    "headline_ratio",
    "load_curvature_scores",
    "make_permanent",
    "mask_summary",
    "normalise_method",
    "prunable_weights",
    "prune_masks",
    "pruned_copy",
    "pruning_sweep",
    "removal_count",
    "removal_order",
    "score",
    "snip_scores",
    "synflow_keep_fractions",
    "synflow_scores",
    "write_sweep_csv",
]
