"""Curvature in a PyTorch Geometric pipeline: a transform, a DataLoader with workers, a GCN.

    .venv/bin/python examples/pyg_curvature.py                 # 30 epochs, 2 loader workers
    .venv/bin/python examples/pyg_curvature.py --epochs 5 --loader-workers 0

The task: tell graphs with communities from graphs without, a task where curvature
helps (the few edges between communities are negatively curved, the many inside them
positively). The dataset is Zachary's karate club (PyG's ``KarateClub``: two factions)
and generated graphs: stochastic block models (communities, label 1) and Erdos-Renyi
graphs of the same density (label 0); half the generated graphs have random edge
lengths, the others length 1. Ollivier-Ricci curvature is a ``transform`` in ``Compose``, so it is computed
in the ``DataLoader``'s worker processes as batches are drawn (graphcurv solves
in-process there: a loader worker may not start processes of its own). The GCN weighs
each edge by ``affinity * softplus(a * kappa + b)``, with ``a`` and ``b`` learned:
``affinity = 1 / length`` (:func:`graphcurv.affinities_from_lengths`), because graphcurv's
``edge_weight`` is a length and PyG's layers read ``edge_weight`` as an affinity.

``main(argv)`` returns the per-epoch losses and the final training accuracy.
"""

from __future__ import annotations

import argparse

import networkx as nx
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Data, Dataset
from torch_geometric.datasets import KarateClub
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GCNConv, global_mean_pool
from torch_geometric.transforms import Compose, Constant
from torch_geometric.utils import from_networkx, to_undirected

from graphcurv import affinities_from_lengths
from graphcurv.transforms import OllivierRicci


class GraphList(Dataset):
    """A list of graphs as a PyG dataset: ``transform`` runs on every access."""

    def __init__(self, graphs: list[Data], transform=None) -> None:
        super().__init__(None, transform)
        self.graphs = graphs

    def len(self) -> int:
        return len(self.graphs)

    def get(self, idx: int) -> Data:
        return self.graphs[idx]


def generated_graphs(count: int, seed: int = 0) -> list[Data]:
    """``count`` graphs of 40 nodes: block models (4 communities, label 1) and Erdos-Renyi
    graphs of the same expected density (label 0), alternately; every other pair with
    random edge lengths in [0.5, 1.5] (``edge_weight``: lengths, as graphcurv reads it)."""
    generator = torch.Generator().manual_seed(seed)
    p_in, p_out, sizes = 0.6, 0.04, [10, 10, 10, 10]
    density = (4 * 45 * p_in + 600 * p_out) / 780
    graphs = []
    for k in range(count):
        if k % 2 == 0:
            graph = nx.stochastic_block_model(
                sizes, [[p_in if a == b else p_out for b in range(4)] for a in range(4)], seed=seed + k
            )
        else:
            graph = nx.gnp_random_graph(sum(sizes), density, seed=seed + k)
        graph = nx.convert_node_labels_to_integers(graph)
        data = from_networkx(nx.Graph(graph.edges()))
        data.num_nodes = graph.number_of_nodes()
        if (k // 2) % 2 == 1:
            length = 0.5 + torch.rand(data.edge_index.size(1), generator=generator, dtype=torch.float64)
            data.edge_index, data.edge_weight = to_undirected(data.edge_index, length, reduce="min")
        else:  # every graph has lengths (1 when unweighted), so all of them batch together
            data.edge_index = to_undirected(data.edge_index)
            data.edge_weight = torch.ones(data.edge_index.size(1), dtype=torch.float64)
        data.y = torch.tensor([1 - k % 2])
        graphs.append(data)
    return graphs


def karate_club() -> Data:
    """PyG's KarateClub as one graph with two factions (label 1), unit lengths, no node features."""
    club = KarateClub()[0]
    length = torch.ones(club.edge_index.size(1), dtype=torch.float64)
    return Data(edge_index=club.edge_index, edge_weight=length, num_nodes=club.num_nodes, y=torch.tensor([1]))


def curvature_dataset(count: int = 24, seed: int = 0) -> GraphList:
    """The karate club and ``count`` generated graphs, with Ollivier-Ricci curvature
    (alpha = 0.5, exact) and a constant node feature added by the transform."""
    transform = Compose([OllivierRicci(alpha=0.5), Constant(1.0)])
    return GraphList([karate_club(), *generated_graphs(count, seed)], transform=transform)


class CurvatureGCN(nn.Module):
    """Two GCN layers whose edge weights are ``affinity * softplus(a * kappa + b)``, then
    a mean pool and a linear read-out: the network learns how much to trust an edge from
    its curvature. Node features: the constant and the node's curvature."""

    def __init__(self, hidden: int = 16, classes: int = 2) -> None:
        super().__init__()
        self.gate = nn.Linear(1, 1)
        self.conv1 = GCNConv(2, hidden)
        self.conv2 = GCNConv(hidden, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, batch: Data) -> torch.Tensor:
        affinity = affinities_from_lengths(batch.edge_weight).to(batch.edge_curvature.dtype)
        weight = affinity * F.softplus(self.gate(batch.edge_curvature[:, None]).squeeze(1))
        x = torch.cat([batch.x, batch.node_curvature[:, None].nan_to_num(0.0)], dim=1)
        x = F.relu(self.conv1(x, batch.edge_index, weight))
        x = F.relu(self.conv2(x, batch.edge_index, weight))
        return self.out(global_mean_pool(x, batch.batch))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--graphs", type=int, default=24, help="generated graphs besides the karate club")
    parser.add_argument("--loader-workers", type=int, default=2, help="DataLoader worker processes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    dataset = curvature_dataset(args.graphs, args.seed)
    loader = DataLoader(dataset, batch_size=8, shuffle=True, num_workers=args.loader_workers, persistent_workers=False)
    model = CurvatureGCN()
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for epoch in range(args.epochs):
        total, seen = 0.0, 0
        for batch in loader:
            optimiser.zero_grad()
            loss = F.cross_entropy(model(batch), batch.y)
            loss.backward()
            optimiser.step()
            total, seen = total + float(loss) * batch.num_graphs, seen + batch.num_graphs
        losses.append(total / seen)
        print(f"epoch {epoch + 1:3d}  loss {losses[-1]:.4f}")
    model.eval()
    with torch.no_grad():
        batch = next(iter(DataLoader(dataset, batch_size=len(dataset))))
        accuracy = float((model(batch).argmax(1) == batch.y).float().mean())
    print(f"training accuracy {accuracy:.3f} on {len(dataset)} graphs (karate club + {args.graphs} generated)")
    return {"losses": losses, "accuracy": accuracy, "graphs": len(dataset)}


if __name__ == "__main__":
    main()
