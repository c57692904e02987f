import networkx as nx
import pytest
import torch
from torch_geometric.data import Data

from graphcurv.analyses.communities import draw_communities
from graphcurv.analyses.communities import drawing as drawing_module
from graphcurv.errors import GraphcurvError
from graphcurv.graphs import from_networkx

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_png_is_written_atomically(tmp_path):
    data = from_networkx(nx.barbell_graph(5, 0))
    path = tmp_path / "sub" / "barbell.png"
    assert draw_communities(data, [0] * 5 + [1] * 5, path) == path
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert [p.name for p in path.parent.iterdir()] == ["barbell.png"]  # no temporary file left


def test_bad_arguments_write_nothing(tmp_path, monkeypatch):
    data = from_networkx(nx.path_graph(4))
    with pytest.raises(GraphcurvError, match=r"must end in \.png"):
        draw_communities(data, [0, 0, 1, 1], tmp_path / "x.jpg")
    with pytest.raises(GraphcurvError, match="one label per node"):
        draw_communities(data, [0, 1], tmp_path / "x.png")
    with pytest.raises(GraphcurvError, match="empty"):
        draw_communities(Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=2), [0, 1], tmp_path / "x.png")
    monkeypatch.setattr(drawing_module, "MAX_DRAWN_NODES", 3)
    with pytest.raises(GraphcurvError, match="limited to 3 nodes"):
        draw_communities(data, [0, 0, 1, 1], tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []
