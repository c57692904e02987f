import networkx as nx
import pytest
from torch_geometric.utils import is_undirected

from graphcurv.errors import GraphInputError
from graphcurv.graphs.convert import to_networkx
from graphcurv.graphs.generators import (
    barabasi_albert,
    erdos_renyi,
    stochastic_block_model,
    watts_strogatz,
)


def edge_set(G):
    return {frozenset(e) for e in G.edges()}


CASES = [
    (lambda: watts_strogatz(200, 6, 0.2, seed=3), lambda: nx.watts_strogatz_graph(200, 6, 0.2, seed=3)),
    (lambda: erdos_renyi(300, p=0.02, seed=4), lambda: nx.fast_gnp_random_graph(300, 0.02, seed=4)),
    (
        lambda: erdos_renyi(301, mean_degree=6, seed=5),
        lambda: nx.fast_gnp_random_graph(301, 6 / 300, seed=5),
    ),
    (lambda: barabasi_albert(250, 3, seed=6), lambda: nx.barabasi_albert_graph(250, 3, seed=6)),
    (
        lambda: stochastic_block_model([30, 40, 50], 0.3, 0.02, seed=7),
        lambda: nx.stochastic_block_model([30, 40, 50], [[0.3, 0.02, 0.02], [0.02, 0.3, 0.02], [0.02, 0.02, 0.3]], seed=7),
    ),
]


@pytest.mark.parametrize("ours, theirs", CASES, ids=["ws", "er-p", "er-degree", "ba", "sbm"])
def test_same_graph_as_networkx(ours, theirs):
    data, G = ours(), theirs()
    assert data.num_nodes == G.number_of_nodes()
    assert is_undirected(data.edge_index, data.edge_weight)
    assert data.edge_weight.tolist() == [1.0] * data.edge_index.size(1)
    assert edge_set(to_networkx(data)) == edge_set(G)


def test_sbm_labels_are_the_blocks():
    data = stochastic_block_model([3, 4, 2], 0.9, 0.1, seed=1)
    G = nx.stochastic_block_model([3, 4, 2], [[0.9, 0.1, 0.1], [0.1, 0.9, 0.1], [0.1, 0.1, 0.9]], seed=1)
    assert data.y.tolist() == [G.nodes[i]["block"] for i in range(9)]
    assert data.y_name == "block"


def test_seed_changes_the_graph_and_repeats_it():
    a, b, c = (watts_strogatz(100, 4, 0.5, seed=s) for s in (0, 1, 0))
    assert not (a.edge_index.shape == b.edge_index.shape and bool((a.edge_index == b.edge_index).all()))
    assert a.edge_index.tolist() == c.edge_index.tolist()


def test_names_are_generator_specs():
    assert watts_strogatz(20, 4, 0.1).name == "ws:n=20,k=4,p=0.1,seed=0"
    assert erdos_renyi(50, mean_degree=4, seed=2).name == "er:n=50,mean_degree=4,seed=2"
    assert barabasi_albert(20, 2).name == "ba:n=20,m=2,seed=0"
    assert stochastic_block_model([5, 5], 0.5, 0.1).name == "sbm:sizes=5/5,p_in=0.5,p_out=0.1,seed=0"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: watts_strogatz(10, 12, 0.1), "k=12 must be at most n=10"),
        (lambda: watts_strogatz(10, 2, 1.5), "p must be a probability"),
        (lambda: watts_strogatz(0, 2, 0.1), "n must be an integer >= 1"),
        (lambda: watts_strogatz(10.5, 2, 0.1), "n must be an integer"),
        (lambda: watts_strogatz(10, 2, 0.1, seed="x"), "seed must be an integer"),
        (lambda: erdos_renyi(10), "exactly one of p and mean_degree"),
        (lambda: erdos_renyi(10, p=0.1, mean_degree=2), "exactly one of p and mean_degree"),
        (lambda: erdos_renyi(10, mean_degree=20), "mean_degree must be between"),
        (lambda: erdos_renyi(10, p=0.0), "empty graph"),
        (lambda: barabasi_albert(5, 5), "m=5 must be smaller than n=5"),
        (lambda: barabasi_albert(5, 0), "m must be an integer >= 1"),
        (lambda: stochastic_block_model([], 0.5, 0.1), "at least one block"),
        (lambda: stochastic_block_model([3, 0], 0.5, 0.1), "sizes must be an integer >= 1"),
        (lambda: stochastic_block_model([3, 3], 0.5, -0.1), "p_out must be a probability"),
    ],
)
def test_bad_parameters(make, message):
    with pytest.raises(GraphInputError, match=message):
        make()
