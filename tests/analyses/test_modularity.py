import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from graphcurv.analyses.communities import modularity
from graphcurv.errors import GraphcurvError
from graphcurv.graphs import from_networkx


def test_ring_by_hand():
    ring = from_networkx(nx.cycle_graph(6))
    # halves {0,1,2} / {3,4,5}: 2 edges inside each of 6, degree sum 6 of 12 each
    assert modularity(ring, [0, 0, 0, 1, 1, 1]) == pytest.approx(2 * (2 / 6 - 0.25))
    assert modularity(ring, [7] * 6) == pytest.approx(0.0)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_networkx_undirected_and_directed(seed):
    rng = np.random.default_rng(seed)
    for G in (nx.gnm_random_graph(40, 120, seed=seed), nx.gnm_random_graph(40, 150, seed=seed, directed=True)):
        labels = rng.integers(0, 5, size=40)
        parts = [set(np.flatnonzero(labels == k).tolist()) for k in np.unique(labels)]
        expected = nx.community.modularity(G, parts, weight=None)
        assert modularity(from_networkx(G), labels) == pytest.approx(expected, abs=1e-12)


def test_lengths_do_not_count():
    G = nx.karate_club_graph()  # integer 'weight' attributes, read as lengths
    labels = [0 if G.nodes[v]["club"] == "Mr. Hi" else 1 for v in G]
    parts = [{v for v in G if labels[v] == k} for k in (0, 1)]
    weighted = from_networkx(G, weight="weight")
    assert modularity(weighted, labels) == pytest.approx(nx.community.modularity(G, parts, weight=None))


def test_bad_labels():
    data = from_networkx(nx.path_graph(4))
    with pytest.raises(GraphcurvError, match="one label per node"):
        modularity(data, [0, 1, 1])
    with pytest.raises(GraphcurvError, match="integers"):
        modularity(data, [0.5, 1, 1, 0])
    with pytest.raises(GraphcurvError, match="empty"):
        modularity(Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=4), [0, 0, 0, 0])
