"""Agreement of a clustering with ground truth: ARI and NMI, computed by scikit-learn.

* ``adjusted_rand_index``: :func:`sklearn.metrics.adjusted_rand_score`, the Rand index
  corrected for chance (1 for identical partitions, about 0 for random ones);
* ``normalized_mutual_information``:
  :func:`sklearn.metrics.normalized_mutual_info_score` with its default arithmetic
  normalisation, :math:`I(T; L) / ((H(T) + H(L)) / 2)`.

Both are invariant to renaming labels. Nodes whose ground truth is unknown carry a
negative label (``-1``) and are left out of both scores: the scores compare the
clustering restricted to the labelled nodes with their truth.

>>> adjusted_rand_index([0, 0, 1, 1], [5, 5, 2, 2])
1.0
>>> normalized_mutual_information([0, 0, 1, -1], [1, 1, 0, 0])  # the unknown node is left out
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from graphcurv.analyses.communities.labels import node_labels
from graphcurv.errors import GraphcurvError

__all__ = ["adjusted_rand_index", "clustering_agreement", "normalized_mutual_information"]


def adjusted_rand_index(truth: Any, labels: Any) -> float:
    """Adjusted Rand index of ``labels`` against ``truth`` (negative truth = unknown, left out)."""
    known_truth, known_labels = _labelled(truth, labels)
    return float(adjusted_rand_score(known_truth, known_labels))


def normalized_mutual_information(truth: Any, labels: Any) -> float:
    """Normalised mutual information (arithmetic mean normalisation) of ``labels`` against ``truth``."""
    known_truth, known_labels = _labelled(truth, labels)
    return float(normalized_mutual_info_score(known_truth, known_labels))


def clustering_agreement(truth: Any, labels: Any) -> tuple[float, float]:
    """``(ARI, NMI)`` of ``labels`` against ``truth``."""
    return adjusted_rand_index(truth, labels), normalized_mutual_information(truth, labels)


def _labelled(truth: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    truth_array = np.asarray(truth.detach().cpu() if hasattr(truth, "detach") else truth)
    if truth_array.ndim != 1:
        raise GraphcurvError(f"ground truth must be one label per node, got shape {truth_array.shape}")
    truth_array = node_labels(truth_array, truth_array.shape[0], "ground truth")
    label_array = node_labels(labels, truth_array.shape[0], "labels")
    known = truth_array >= 0
    if not known.any():
        raise GraphcurvError("ground truth has no labelled node (every label is negative, i.e. unknown)")
    return truth_array[known], label_array[known]
