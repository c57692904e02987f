from collections import Counter

import networkx as nx
import numpy as np
import pytest
import torch
from support import requires_graph_tool

from graphcurv.errors import GraphInputError, MissingDependencyError
from graphcurv.graphs import collection
from graphcurv.graphs.collection import collection_names, load_collection
from graphcurv.graphs.validate import GraphInputWarning


def test_karate_is_unweighted_with_two_factions():
    data = load_collection("karate")
    G = nx.karate_club_graph()
    assert data.name == "karate"
    assert data.num_nodes == 34 and data.edge_index.size(1) == 2 * 78
    assert data.edge_weight.tolist() == [1.0] * 156
    assert data.y_name == "club"
    clubs = [G.nodes[i]["club"] for i in range(34)]
    assert data.y.tolist() == [0 if c == "Mr. Hi" else 1 for c in clubs]
    edges = {frozenset(e) for e in data.edge_index.t().tolist()}
    assert edges == {frozenset(e) for e in G.edges()}


def test_karate_weighted_uses_interaction_counts_as_lengths():
    data = load_collection("karate-weighted")
    G = nx.karate_club_graph()
    for (u, v), w in zip(data.edge_index.t().tolist(), data.edge_weight.tolist()):
        assert w == G.edges[u, v]["weight"]
    assert data.edge_weight.max() > 1.0


def test_football_has_115_nodes_613_edges_12_conferences():
    requires_graph_tool()
    import graph_tool.collection

    g = graph_tool.collection.data["football"]
    data = load_collection("football")
    assert data.name == "football"
    assert data.num_nodes == 115
    assert data.edge_index.size(1) == 2 * 613
    assert data.y_name == "value"
    conferences = g.vp["value"].a
    assert len(set(conferences.tolist())) == 12
    assert data.y.tolist() == conferences.tolist()  # already 0..11
    assert data.node_names[0] == g.vp["label"][g.vertex(0)]


def test_polbooks_string_leanings_become_integers():
    requires_graph_tool()
    import graph_tool.collection

    g = graph_tool.collection.data["polbooks"]
    data = load_collection("polbooks")
    leanings = [g.vp["value"][v] for v in g.vertices()]
    counts = Counter(leanings)
    assert set(counts) == {"c", "l", "n"}
    assert data.y.bincount().tolist() == [counts["c"], counts["l"], counts["n"]]
    assert data.num_nodes == 105 and data.edge_index.size(1) == 2 * 441


def test_polblogs_stays_directed_and_is_normalised():
    requires_graph_tool()
    import graph_tool.collection

    g = graph_tool.collection.data["polblogs"]
    arcs = g.get_edges()
    loops = int((arcs[:, 0] == arcs[:, 1]).sum())
    distinct = {(u, v) for u, v in arcs.tolist() if u != v}
    with pytest.warns(GraphInputWarning) as record:
        data = load_collection("polblogs")
    messages = [str(w.message) for w in record]
    assert any(m.startswith(f"polblogs: dropped {loops} self-loop") for m in messages)
    assert any("polblogs: merged" in m for m in messages)
    assert data.edge_index.size(1) == len(distinct)
    assert set(map(tuple, data.edge_index.t().tolist())) == distinct
    assert data.y.bincount().tolist() == np.bincount(g.vp["value"].a.astype(int)).tolist()

    with pytest.warns(GraphInputWarning):
        sym = load_collection("polblogs", undirected=True)
    undirected = {frozenset(e) for e in distinct}
    assert sym.edge_index.size(1) == 2 * len(undirected)


def test_names_are_case_insensitive():
    requires_graph_tool()
    assert load_collection("FootBall").name == "football"


def test_unknown_name_lists_available_names():
    requires_graph_tool()
    with pytest.raises(GraphInputError) as info:
        load_collection("footbal")
    assert "unknown graph 'footbal'" in str(info.value)
    assert "football" in str(info.value) and "karate" in str(info.value)


def test_collection_names_include_graph_tool_networks():
    requires_graph_tool()
    names = collection_names()
    assert {"football", "polbooks", "polblogs", "karate", "karate-weighted"} <= set(names)


def _no_graph_tool():
    raise MissingDependencyError("graph-tool is not importable (test)")


def test_without_graph_tool(monkeypatch):
    monkeypatch.setattr(collection, "import_graph_tool", _no_graph_tool)
    with pytest.raises(MissingDependencyError, match="graph-tool"):
        load_collection("football")
    with pytest.raises(GraphInputError, match="graph-tool is not installed") as info:
        load_collection("nonsense")
    assert not isinstance(info.value, MissingDependencyError)
    assert load_collection("karate").num_nodes == 34
    assert collection_names() == ["karate", "karate-weighted"]


def test_collection_graph_is_validated_data():
    data = load_collection("karate")
    keys = data.edge_index[0] * data.num_nodes + data.edge_index[1]
    assert bool((keys[1:] > keys[:-1]).all())
    assert data.edge_weight.dtype == torch.float64
