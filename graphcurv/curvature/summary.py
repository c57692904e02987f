"""Plain summaries of per-edge curvature, for reports and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import is_undirected


@dataclass(frozen=True)
class CurvatureSummary:
    """Distribution of edge curvature (each undirected edge counted once)."""

    edges: int
    minimum: float
    q25: float
    median: float
    mean: float
    q75: float
    maximum: float
    negative_share: float
    most_negative: list[tuple[int, int, float]]

    def distribution_rows(self) -> list[tuple[str, float]]:
        return [
            ("edges", self.edges),
            ("min", self.minimum),
            ("25%", self.q25),
            ("median", self.median),
            ("mean", self.mean),
            ("75%", self.q75),
            ("max", self.maximum),
            ("share negative", self.negative_share),
        ]


def once_per_edge(data: Data) -> Tensor:
    """Mask keeping one direction (source < target) of each undirected edge; all arcs if directed."""
    ei = data.edge_index
    if is_undirected(ei, num_nodes=data.num_nodes):
        return ei[0] < ei[1]
    return torch.ones(ei.size(1), dtype=torch.bool, device=ei.device)


def curvature_summary(data: Data, curvature: Tensor, *, top: int = 10) -> CurvatureSummary:
    """Quantiles, mean, share of negative edges and the ``top`` most negative edges."""
    keep = once_per_edge(data)
    values = curvature[keep].detach().to(torch.float64).cpu()
    ends = data.edge_index[:, keep].cpu()
    q = torch.quantile(values, torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0], dtype=torch.float64))
    order = torch.argsort(values)[:top]
    worst = [(int(ends[0, i]), int(ends[1, i]), float(values[i])) for i in order]
    return CurvatureSummary(
        edges=values.numel(),
        minimum=float(q[0]),
        q25=float(q[1]),
        median=float(q[2]),
        mean=float(values.mean()),
        q75=float(q[3]),
        maximum=float(q[4]),
        negative_share=float((values < 0).double().mean()),
        most_negative=worst,
    )
