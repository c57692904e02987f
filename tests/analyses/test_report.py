import networkx as nx
import pytest
import torch
from support import requires_graph_tool
from torch_geometric.data import Data

import graphcurv.flow
from graphcurv.analyses.communities import clustering_agreement, compare_methods, louvain_labels
from graphcurv.analyses.communities import report as report_module
from graphcurv.errors import GraphcurvError, MissingDependencyError
from graphcurv.graphs import from_networkx, load_graph


def barbell_with_truth() -> Data:
    data = from_networkx(nx.barbell_graph(5, 0))
    data.y = torch.tensor([0] * 5 + [1] * 5)
    return data


def test_rows_for_each_method():
    requires_graph_tool()
    data = barbell_with_truth()
    rows = compare_methods(data, ("louvain", "ricci", "sbm"), iterations=10)
    assert [row.method for row in rows] == ["louvain", "ricci", "sbm"]
    by_method = {row.method: row for row in rows}
    for row in (by_method["louvain"], by_method["ricci"]):
        assert row.communities == 2 and row.ari == 1.0 and row.nmi == pytest.approx(1.0)
        assert row.modularity == pytest.approx(2 * (10 / 21 - 0.25))  # by hand: the two cliques
        assert row.seconds >= 0 and row.labels.shape == (10,)
    assert by_method["ricci"].result.num_communities == 2
    sbm = by_method["sbm"]
    assert (sbm.ari, sbm.nmi) == pytest.approx(clustering_agreement(data.y, sbm.labels))
    assert by_method["louvain"].values()[:3] == ("louvain", 2, by_method["louvain"].modularity)


def test_truth_by_name_and_none():
    data = load_graph("karate")
    (row,) = compare_methods(data, ["louvain"], seed=1)
    parts = [set(torch.nonzero(row.labels == k).flatten().tolist()) for k in row.labels.unique()]
    assert row.modularity == pytest.approx(nx.community.modularity(nx.karate_club_graph(), parts, weight=None))
    assert (row.ari, row.nmi) == pytest.approx(clustering_agreement(data.y, louvain_labels(data, seed=1)))
    assert compare_methods(data, "louvain", truth="club", seed=1)[0].ari == row.ari
    del data.y
    (blank,) = compare_methods(data, ["louvain"])
    assert blank.ari is None and blank.nmi is None


def test_bad_arguments_fail_before_anything_runs(monkeypatch):
    def no_flow(*args, **kwargs):
        raise AssertionError("nothing may run before the arguments are checked")

    monkeypatch.setattr(graphcurv.flow, "ricci_flow", no_flow)
    data = barbell_with_truth()
    with pytest.raises(GraphcurvError, match="unknown community method 'leiden'.*ricci, louvain, sbm"):
        compare_methods(data, ["ricci", "leiden"])
    with pytest.raises(GraphcurvError, match="listed twice"):
        compare_methods(data, ["ricci", "ricci"])
    with pytest.raises(GraphcurvError, match="no community method"):
        compare_methods(data, [])
    with pytest.raises(GraphcurvError, match="cutoff_step"):
        compare_methods(data, ["ricci"], cutoff_step=0)
    with pytest.raises(GraphcurvError, match="one label per node"):
        compare_methods(data, ["ricci"], truth=[0, 1])
    with pytest.raises(GraphcurvError, match="empty"):
        compare_methods(Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=2), ["ricci"])

    def missing():
        raise MissingDependencyError("graph-tool is not importable")

    monkeypatch.setattr(report_module, "import_graph_tool", missing)
    with pytest.raises(MissingDependencyError):
        compare_methods(data, ["ricci", "sbm"])
