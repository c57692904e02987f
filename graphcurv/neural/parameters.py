"""Edge scores back to parameter scores, through each edge's (parameter, flat index).

Several edges read one parameter entry (a conv kernel weight appears once per
output position); their scores are reduced (``amin`` by default, the spec's
"min over positions and samples"). Entries that no edge reads (zero weights,
biases) get ``fill``.

Example:

>>> import torch
>>> from graphcurv.neural import export
>>> graph = export(torch.nn.Sequential(torch.nn.Linear(2, 1)), torch.randn(3, 2))
>>> scores = parameter_scores(graph, torch.tensor([0.5, -1.0]))
>>> scores["0.weight"].shape
torch.Size([1, 2])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError

__all__ = ["parameter_scores", "scatter_parameter_scores"]


def scatter_parameter_scores(
    scores: dict[str, Tensor], data: Data, param: Tensor, param_index: Tensor, values: Tensor, reduce: str = "amin"
) -> dict[str, Tensor]:
    """Reduce ``values`` (one per edge) into ``scores`` (flat, one tensor per parameter name), in place.

    Use this for streamed chunks (:func:`~graphcurv.neural.iter_connection_edges`):
    ``param`` may be a single index repeated for a whole chunk.
    """
    names = data.param_names
    param = param.expand_as(param_index) if param.dim() == 0 else param
    for p in torch.unique(param).tolist():
        if p < 0:
            continue
        mask = param == p
        flat = scores.get(names[p])
        if flat is None:
            size = math.prod(data.param_shapes[p])
            fill = float("inf") if reduce == "amin" else float("-inf") if reduce == "amax" else 0.0
            flat = scores[names[p]] = torch.full((size,), fill, dtype=values.dtype, device=values.device)
        flat.scatter_reduce_(0, param_index[mask], values[mask], reduce=reduce)
    return scores


def parameter_scores(
    data: Data, edge_scores: Tensor, *, reduce: str = "amin", fill: float = float("nan")
) -> dict[str, Tensor]:
    """Per parameter name, a tensor of the parameter's shape holding the reduced scores
    of the stored edges that read each entry (``fill`` where none does)."""
    if reduce not in ("amin", "amax", "sum", "mean"):
        raise GraphcurvError(f"reduce must be amin, amax, sum or mean, not {reduce!r}")
    if edge_scores.shape != (data.edge_index.size(1),):
        raise GraphcurvError(
            f"expected one score per stored edge ({data.edge_index.size(1)}), got {tuple(edge_scores.shape)}"
        )
    flat = scatter_parameter_scores({}, data, data.param, data.param_index, edge_scores, reduce)
    counts = scatter_parameter_scores({}, data, data.param, data.param_index, torch.ones_like(edge_scores), "sum")
    out = {}
    for name, values in flat.items():
        values = values.clone()
        values[counts[name] == 0] = fill
        out[name] = values.reshape(data.param_shapes[data.param_names.index(name)])
    return out
