import math

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from graphcurv.analyses.communities import community_sweep
from graphcurv.analyses.communities.sweep import MAX_CUTOFFS
from graphcurv.errors import GraphcurvError
from graphcurv.graphs import from_networkx


def two_triangles() -> Data:
    """Triangles {0,1,2} and {3,4,5} joined by the bridge 2-3."""
    edges = torch.tensor([[0, 1, 2, 3, 4, 5, 2], [1, 2, 0, 4, 5, 3, 3]])
    return Data(edge_index=to_undirected(edges), num_nodes=6)


def bridge_mask(data: Data) -> torch.Tensor:
    u, v = data.edge_index
    return ((u == 2) & (v == 3)) | ((u == 3) & (v == 2))


def test_two_triangles_by_hand():
    data = two_triangles()
    sweep = community_sweep(data, torch.where(bridge_mask(data), 3.0, 0.5), cutoff_step=0.5)
    np.testing.assert_allclose(sweep.cutoffs, [3.0, 2.5, 2.0, 1.5, 1.0, 0.5])
    assert sweep.num_communities.tolist() == [1, 2, 2, 2, 2, 2]
    # m = 7 edges; each triangle: 3 edges inside, degree sum 2 + 2 + 3 = 7
    by_hand = 2 * (3 / 7 - (7 / 14) ** 2)
    np.testing.assert_allclose(sweep.modularity, [0.0] + [by_hand] * 5, atol=1e-12)
    assert sweep.best_index == 1 and sweep.best_cutoff == 2.5  # the largest cutoff among ties
    assert sweep.best_modularity == pytest.approx(by_hand) and sweep.best_num_communities == 2
    assert sweep.labels.dtype == torch.long and sweep.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert sweep.rows()[0] == (3.0, 1, 0.0)


def test_cutoff_equal_to_a_weight_keeps_that_edge():
    data = two_triangles()
    sweep = community_sweep(data, torch.where(bridge_mask(data), 2.0, 1.0), cutoff_step=1.0)
    assert sweep.cutoffs.tolist() == [2.0, 1.0] and sweep.num_communities.tolist() == [1, 2]


def reference_sweep(G: nx.Graph, weight: dict, cutoffs: np.ndarray):
    """The sweep with networkx: cut edges heavier than each cutoff, components, modularity on G."""
    out = []
    for cutoff in cutoffs:
        H = nx.Graph()
        H.add_nodes_from(G)
        H.add_edges_from(e for e in G.edges() if weight[frozenset(e)] <= cutoff)
        parts = list(nx.connected_components(H))
        out.append((len(parts), nx.community.modularity(G, parts, weight=None)))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_whole_sweep_matches_networkx(seed):
    rng = np.random.default_rng(seed)
    G = nx.connected_caveman_graph(4, 6)
    G.add_edges_from([(0, 13), (7, 20)])
    G.add_node(24)  # an isolated node: its own community at every cutoff
    data = from_networkx(G)
    u, v = data.edge_index.tolist()
    per_edge = {frozenset(e): float(rng.choice([0.1, 0.4, 0.7, 1.3, 2.2])) for e in G.edges()}
    flowed = torch.tensor([per_edge[frozenset((a, b))] for a, b in zip(u, v)], dtype=torch.float64)
    sweep = community_sweep(data, flowed, cutoff_step=0.1)
    expected = reference_sweep(G, per_edge, sweep.cutoffs)
    assert sweep.num_communities.tolist() == [k for k, _ in expected]
    np.testing.assert_allclose(sweep.modularity, [q for _, q in expected], atol=1e-12)
    np.testing.assert_allclose(sweep.cutoffs[0], 2.2)
    assert sweep.cutoffs[-1] >= 0.1 - 1e-12 and sweep.cutoffs[-1] < 0.2
    assert sweep.modularity[sweep.best_index] == pytest.approx(max(q for _, q in expected))
    best_parts = {}
    for node, label in enumerate(sweep.labels.tolist()):
        best_parts.setdefault(label, set()).add(node)
    assert nx.community.modularity(G, best_parts.values(), weight=None) == pytest.approx(sweep.best_modularity)


def test_disconnected_graph_keeps_every_component():
    # two barbells side by side: the first cutoff already has 2 communities (the components)
    G = nx.disjoint_union(nx.barbell_graph(4, 0), nx.barbell_graph(4, 0))
    data = from_networkx(G)
    u, v = data.edge_index
    bridges = ((u == 3) & (v == 4)) | ((u == 4) & (v == 3)) | ((u == 11) & (v == 12)) | ((u == 12) & (v == 11))
    sweep = community_sweep(data, torch.where(bridges, 4.0, 0.2), cutoff_step=0.5)
    assert sweep.num_communities[0] == 2 and sweep.best_num_communities == 4
    groups = sweep.labels.view(4, 4)
    assert all(len(set(row.tolist())) == 1 for row in groups) and len(set(groups[:, 0].tolist())) == 4


def test_infinite_weight_is_never_kept():
    data = two_triangles()
    flowed = torch.where(bridge_mask(data), math.inf, 1.0)
    sweep = community_sweep(data, flowed, cutoff_step=0.25)
    assert sweep.cutoffs.tolist() == [1.0] and sweep.num_communities.tolist() == [2]


def test_min_cutoff_floor():
    data = two_triangles()
    flowed = torch.where(bridge_mask(data), 2.0, 0.5)
    sweep = community_sweep(data, flowed, cutoff_step=0.25, min_cutoff=1.0)
    np.testing.assert_allclose(sweep.cutoffs, [2.0, 1.75, 1.5, 1.25, 1.0])
    with pytest.raises(GraphcurvError, match="min_cutoff"):
        community_sweep(data, flowed, min_cutoff=2.5)


@pytest.mark.parametrize("step", [0, -0.1, math.nan, math.inf, "0.1", True])
def test_bad_cutoff_step(step):
    data = two_triangles()
    with pytest.raises(GraphcurvError, match="cutoff_step must be a positive number"):
        community_sweep(data, torch.ones(14), cutoff_step=step)


def test_too_many_cutoffs():
    data = two_triangles()
    flowed = torch.where(bridge_mask(data), 1e3, 1.0)
    with pytest.raises(GraphcurvError, match=f"at most {MAX_CUTOFFS:,}"):
        community_sweep(data, flowed, cutoff_step=1e-4)


@pytest.mark.parametrize(
    ("flowed", "message"),
    [
        (torch.ones(13), "one value per edge"),
        (torch.ones(14, 1), "one value per edge"),
        (torch.full((14,), math.nan), "NaN"),
        (-torch.ones(14), "negative"),
        (torch.full((14,), math.inf), "every edge was cut"),
        (["a"] * 14, "numbers"),
    ],
)
def test_bad_weights(flowed, message):
    with pytest.raises(GraphcurvError, match=message):
        community_sweep(two_triangles(), flowed)


def test_empty_graph():
    empty = Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=5)
    with pytest.raises(GraphcurvError, match="empty"):
        community_sweep(empty, torch.empty(0))
    with pytest.raises(GraphcurvError, match="empty"):
        community_sweep(Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=0), torch.empty(0))
