r"""Lowest-magnitude edge pruning of a RandWire: the RicciNets paper's baseline (Zhu and Gupta 2017).

Every edge :math:`e` of every stage is ranked by its effective aggregation weight
:math:`\sigma(w_e)`, globally across stages; the ``keep`` largest survive. Since
:math:`\sigma` is increasing, the ranking is done on :math:`w_e` itself (the same order, without
the ties that float rounding of :math:`\sigma` creates near 0 and 1); remaining ties keep the
earlier stage, then the earlier ``edge_index`` column. ``keep_share`` :math:`s` keeps
:math:`\lfloor s|E| + 1/2 \rfloor` edges of the :math:`|E|` in the network.

Each stage is then cut with :func:`~graphcurv.riccinets.graph_ops.remove_edges`
(``dangling="isolated"``, the default, drops nodes left with no edge; ``"remove"`` drops nodes
left without inputs or outputs, with their edges;
``"repair"`` feeds them from the stage input / into the stage output), a new :class:`RandWire`
with the same settings is built on the pruned graphs and :func:`transfer_weights` copies the
trained weights: the stem (``conv1``, ``conv2``), ``head`` and ``classifier`` unchanged, each
surviving node's op through ``node_map`` and each surviving edge's aggregation weight through
``kept_edges``.

A node that reads the stage input only *after* pruning (it had predecessors, it has none now,
possible with ``"repair"``) changes its op: it convolves the stage input with stride 2 and
:math:`C_{in} \to C_{out}` channels instead of a :math:`C_{out} \to C_{out}` stride-1 input. Its
trained op does not apply, so it keeps the **fresh** initialisation of the new model (also in the
first stage, where the shapes happen to agree); :func:`transfer_weights` returns these nodes.

>>> import torch
>>> from torch_geometric.data import Data
>>> from graphcurv.riccinets.network import RandWire, edge_weights
>>> g = Data(edge_index=torch.tensor([[0, 0, 1, 2], [1, 2, 3, 3]]), num_nodes=4)
>>> model = RandWire([g], channels=4, head_channels=8)
>>> with torch.no_grad():
...     _ = edge_weights(model)[0].copy_(torch.tensor([-1.0, 2.0, 1.0, 3.0]))
>>> pruned, cuts = magnitude_prune(model, keep_edges=3, dangling="remove")
>>> cuts[0].kept_edges.tolist(), cuts[0].node_map.tolist()
([1, 3], [0, -1, 1, 2])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from graphcurv.errors import GraphcurvError
from graphcurv.riccinets.graph_ops import PrunedGraph, remove_edges
from graphcurv.riccinets.network import RandWire, edge_weights

__all__ = ["largest_edges", "magnitude_prune", "transfer_weights"]


def largest_edges(weights: Sequence[Tensor], keep: int) -> list[Tensor]:
    r"""Boolean masks (one per stage) of the ``keep`` edges with the largest :math:`\sigma(w_e)`, ranked globally.

    >>> [m.tolist() for m in largest_edges([torch.tensor([0.5, -2.0]), torch.tensor([1.0])], 2)]
    [[True, False], [True]]
    """
    flat = torch.cat([w.detach().flatten().double().cpu() for w in weights]) if weights else torch.zeros(0)
    if bool(torch.isnan(flat).any()):
        raise GraphcurvError("aggregation weights contain NaN: cannot rank edges by magnitude")
    if isinstance(keep, bool) or not isinstance(keep, int) or not 0 <= keep <= flat.numel():
        raise GraphcurvError(f"the number of edges to keep must be an integer in 0..{flat.numel()}, got {keep!r}")
    mask = torch.zeros(flat.numel(), dtype=torch.bool)
    mask[torch.sort(flat, descending=True, stable=True).indices[:keep]] = True
    return list(mask.split([w.numel() for w in weights]))


def _edges_to_keep(total: int, keep_share: float | None, keep_edges: int | None) -> int:
    if (keep_share is None) == (keep_edges is None):
        raise GraphcurvError("give exactly one of keep_share (a share of the edges) or keep_edges (a number)")
    if keep_edges is not None:
        return keep_edges
    if isinstance(keep_share, bool) or not isinstance(keep_share, (int, float)) or not 0.0 <= keep_share <= 1.0:
        raise GraphcurvError(f"keep_share must be a number in [0, 1], got {keep_share!r}")
    return int(math.floor(keep_share * total + 0.5))


def magnitude_prune(
    model: RandWire,
    keep_share: float | None = None,
    keep_edges: int | Sequence[int] | None = None,
    dangling: str = "isolated",
) -> tuple[RandWire, list[PrunedGraph]]:
    """Keep the largest-magnitude edges of a (trained) RandWire; return the pruned model and the per-stage cuts.

    Args:
        model: the RandWire to prune (left unchanged).
        keep_share: share of all edges to keep, in [0, 1] (rounded to the nearest count).
        keep_edges: number of edges to keep (instead of ``keep_share``), ranked across stages; or one
            number per stage, each stage ranked on its own (RicciNets' per-stage counts, matched).
        dangling: ``"isolated"``, ``"remove"`` or ``"repair"``, passed to :func:`~graphcurv.riccinets.graph_ops.remove_edges`.

    Returns:
        The pruned :class:`RandWire` (same settings, device, dtype and train/eval mode, trained weights copied by
        :func:`transfer_weights`) and one :class:`~graphcurv.riccinets.graph_ops.PrunedGraph` per stage. With
        ``"remove"`` fewer edges than requested can survive (edges of removed nodes go too).
    """
    if not isinstance(model, RandWire):
        raise GraphcurvError(f"magnitude_prune needs a RandWire, got {type(model).__name__}")
    weights = edge_weights(model)
    if isinstance(keep_edges, Sequence):
        if len(keep_edges) != len(weights):
            raise GraphcurvError(f"keep_edges per stage needs {len(weights)} counts, got {len(keep_edges)}")
        masks = [largest_edges([w], int(k))[0] for w, k in zip(weights, keep_edges, strict=True)]
    else:
        masks = largest_edges(weights, _edges_to_keep(sum(w.numel() for w in weights), keep_share, keep_edges))
    cuts = []
    for i, (graph, mask) in enumerate(zip(model.graphs, masks)):
        try:
            cuts.append(remove_edges(graph, mask, dangling=dangling))
        except GraphcurvError as exc:
            raise GraphcurvError(f"stage {i + 1}: {exc} (keep more edges or use dangling='repair')") from exc
    pruned = RandWire([cut.graph for cut in cuts], **model.settings())
    reference = next(model.parameters())
    pruned.to(device=reference.device, dtype=reference.dtype)
    transfer_weights(model, pruned, cuts)
    pruned.train(model.training)
    return pruned, cuts


def _check_cut(old_stage, new_stage, cut: PrunedGraph, stage: int) -> None:
    node_map = cut.node_map.tolist()
    if len(node_map) != old_stage.num_nodes or new_stage.num_nodes != sum(u >= 0 for u in node_map):
        raise GraphcurvError(f"stage {stage}: node_map does not map the old stage's nodes onto the new stage's")
    mapped = [(node_map[old_stage.edges[e][0]], node_map[old_stage.edges[e][1]]) for e in cut.kept_edges.tolist()]
    if mapped != new_stage.edges:
        raise GraphcurvError(f"stage {stage}: the new stage's edges are not the kept edges of the old one")


def transfer_weights(old: RandWire, new: RandWire, pruned: Sequence[PrunedGraph]) -> list[list[int]]:
    """Copy ``old``'s weights into ``new``, built on the graphs of ``pruned`` (module docstring); in place.

    Stem, head and classifier are copied as they are; node ``v`` of stage ``i`` goes to node
    ``pruned[i].node_map[v]`` and edge column ``pruned[i].kept_edges[j]`` to column ``j``. Returns, per stage,
    the new labels of the nodes that became input nodes and were left as ``new`` had them (fresh).
    """
    if not isinstance(old, RandWire) or not isinstance(new, RandWire):
        raise GraphcurvError("transfer_weights copies between two RandWire models")
    if old.settings() != new.settings() or not len(old.stages) == len(new.stages) == len(pruned):
        raise GraphcurvError(
            f"transfer_weights needs models with the same settings and stages ({old.settings()}, "
            f"{len(old.stages)} stages) and one PrunedGraph per stage, got {new.settings()}, "
            f"{len(new.stages)} stages, {len(pruned)} cuts"
        )
    fresh: list[list[int]] = []
    source = old.state_dict()
    with torch.no_grad():
        for name, tensor in new.state_dict().items():
            if not name.startswith("stages."):
                tensor.copy_(source[name])
        for i, (old_stage, new_stage, cut) in enumerate(zip(old.stages, new.stages, pruned)):
            _check_cut(old_stage, new_stage, cut, i + 1)
            kept = cut.kept_edges.to(old_stage.aggregation_weight.device)
            new_stage.aggregation_weight.copy_(old_stage.aggregation_weight[kept])
            fresh.append([])
            for v, u in enumerate(cut.node_map.tolist()):
                if u < 0:
                    continue
                if old_stage.predecessors[v] and not new_stage.predecessors[u]:
                    fresh[-1].append(u)
                else:
                    new_stage.nodes[u].load_state_dict(old_stage.nodes[v].state_dict())
    return fresh
