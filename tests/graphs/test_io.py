import os
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data

from graphcurv.atomic import atomic_path
from graphcurv.errors import GraphInputError
from graphcurv.graphs.io import load_data, read_edgelist, save_graph, write_edge_csv
from graphcurv.graphs.validate import GraphInputWarning

FIXTURE = Path(__file__).resolve().parents[2] / "datasets" / "graphs" / "two_triangles.txt"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def edge_dict(data):
    """{(name_u, name_v): length} of the stored arcs."""
    names = data.node_names
    return {
        (names[u], names[v]): w
        for (u, v), w in zip(data.edge_index.t().tolist(), data.edge_weight.tolist())
    }


def test_fixture_two_triangles():
    g = read_edgelist(FIXTURE)
    assert g.num_nodes == 6
    assert g.edge_index.size(1) == 2 * 7
    assert g.node_names == ["alice", "bob", "carol", "dave", "erin", "frank"]
    arcs = edge_dict(g)
    assert arcs[("carol", "dave")] == arcs[("dave", "carol")] == 2.5
    assert arcs[("erin", "frank")] == 1.0
    assert sorted(w for w in arcs.values()) == [1.0] * 12 + [2.5] * 2
    assert g.name == "two_triangles.txt"


def test_whitespace_unweighted_with_integer_tokens_in_numeric_order(tmp_path):
    path = write(tmp_path, "g.edges", "10 2\n\n2\t7\n# c\n7 10\n")
    g = read_edgelist(path)
    assert g.node_names == ["2", "7", "10"]
    assert g.edge_index.tolist() == [[0, 0, 1, 1, 2, 2], [1, 2, 0, 2, 0, 1]]
    assert g.edge_weight.tolist() == [1.0] * 6


def test_mixed_tokens_in_first_appearance_order(tmp_path):
    g = read_edgelist(write(tmp_path, "g.txt", "b 3\n3 a\n"))
    assert g.node_names == ["b", "3", "a"]


def test_csv_with_header_detected_by_suffix(tmp_path):
    path = write(tmp_path, "g.csv", "source,target,weight\nx, y ,0.5\ny,z,2\n")
    g = read_edgelist(path)
    assert g.node_names == ["x", "y", "z"]
    assert edge_dict(g) == {("x", "y"): 0.5, ("y", "x"): 0.5, ("y", "z"): 2.0, ("z", "y"): 2.0}


def test_csv_detected_by_comma_without_suffix(tmp_path):
    g = read_edgelist(write(tmp_path, "g.txt", "# comment first\n0,1,3.0\n1,2,4.0\n"))
    assert g.edge_weight.tolist() == [3.0, 3.0, 4.0, 4.0]


def test_two_column_header_words_are_skipped(tmp_path):
    g = read_edgelist(write(tmp_path, "g.txt", "source target\n0 1\n"))
    assert g.num_nodes == 2 and g.node_names == ["0", "1"]


def test_explicit_delimiter(tmp_path):
    g = read_edgelist(write(tmp_path, "g.txt", "a;b;2\nb;c;3\n"), delimiter=";")
    assert g.node_names == ["a", "b", "c"]
    assert g.edge_weight.tolist() == [2.0, 2.0, 3.0, 3.0]


def test_directed_file_keeps_arcs(tmp_path):
    g = read_edgelist(write(tmp_path, "g.txt", "0 1 1.0\n1 0 2.0\n1 2 1.0\n"), directed=True)
    assert g.edge_index.tolist() == [[0, 1, 1], [1, 0, 2]]
    assert g.edge_weight.tolist() == [1.0, 2.0, 1.0]


def test_weighted_false_ignores_third_column(tmp_path):
    g = read_edgelist(write(tmp_path, "g.txt", "0 1 label\n1 2 other\n"), weighted=False)
    assert g.edge_weight.tolist() == [1.0] * 4


def test_weighted_true_requires_third_column(tmp_path):
    with pytest.raises(GraphInputError, match=r"g.txt:2: missing the length"):
        read_edgelist(write(tmp_path, "g.txt", "0 1 1\n1 2\n"), weighted=True)


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("0 1\n2\n", 2, "expected 'source target"),
        ("# header comment\n0 1 1.0\n1 2 x\n", 3, "length 'x' is not a number"),
        ("0 1 1.0\n1 2 1.0 7\n", 2, "4 columns"),
        ("0,1\n,2\n", 2, "expected 'source target"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(GraphInputError) as info:
        read_edgelist(path)
    assert f"bad.txt:{line}:" in str(info.value)
    assert message in str(info.value)


@pytest.mark.parametrize("value", ["-1", "nan", "0", "inf"])
def test_invalid_length_in_file_names_file_and_edge(tmp_path, value):
    path = write(tmp_path, "w.txt", f"a b 1\nb c {value}\n")
    with pytest.raises(GraphInputError) as info:
        read_edgelist(path)
    assert "w.txt" in str(info.value)
    assert "edge (b, c)" in str(info.value)


def test_missing_file():
    with pytest.raises(GraphInputError, match="no such file"):
        read_edgelist("/nonexistent/edges.txt")


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(GraphInputError, match="not a file"):
        read_edgelist(tmp_path)


def test_binary_file_is_rejected(tmp_path):
    path = tmp_path / "g.txt"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(GraphInputError, match="not a UTF-8 text file"):
        read_edgelist(path)


def test_file_with_only_comments_is_empty(tmp_path):
    with pytest.raises(GraphInputError, match="empty graph"):
        read_edgelist(write(tmp_path, "g.txt", "# nothing\n\n"))


def test_self_loops_and_duplicates_in_file_are_normalised(tmp_path):
    path = write(tmp_path, "g.txt", "a a 1\na b 3\nb a 2\nb c 1\n")
    with pytest.warns(GraphInputWarning) as record:
        g = read_edgelist(path)
    messages = " | ".join(str(w.message) for w in record)
    assert "dropped 1 self-loop" in messages
    assert "merged 1 duplicate" in messages
    assert edge_dict(g)[("a", "b")] == 2.0
    assert g.num_nodes == 3 and g.edge_index.size(1) == 4


def test_save_and_load_round_trip(tmp_path):
    data = Data(
        edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]),
        edge_weight=torch.tensor([0.5, 0.5, 2.0, 2.0], dtype=torch.float64),
        edge_curvature=torch.tensor([0.1, 0.1, -0.3, -0.3]),
        y=torch.tensor([0, 0, 1, 1]),
        y_name="value",
        node_names=["a", "b", "c", "d"],
        name="tiny",
        num_nodes=4,
    )
    path = tmp_path / "sub" / "g.pt"
    save_graph(data, path)
    back = load_data(path)
    assert back.num_nodes == 4
    for key in ("edge_index", "edge_weight", "edge_curvature", "y"):
        assert torch.equal(back[key], data[key]), key
    assert back.node_names == ["a", "b", "c", "d"] and back.y_name == "value" and back.name == "tiny"
    assert back.edge_weight.dtype == torch.float64


def test_load_data_names_an_unnamed_graph_after_the_file(tmp_path):
    path = tmp_path / "mine.pt"
    torch.save(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2), path)
    assert load_data(path).name == "mine.pt"


def test_load_data_rejects_a_non_data_object(tmp_path):
    path = tmp_path / "dict.pt"
    torch.save({"edge_index": torch.tensor([[0], [1]])}, path)
    with pytest.raises(GraphInputError, match="holds a dict, not a torch_geometric.data.Data"):
        load_data(path)


def test_load_data_rejects_a_tensor(tmp_path):
    path = tmp_path / "t.pt"
    torch.save(torch.zeros(3), path)
    with pytest.raises(GraphInputError, match="holds a Tensor"):
        load_data(path)


def test_load_data_rejects_a_corrupt_file(tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(b"this is not a torch file" * 10)
    with pytest.raises(GraphInputError, match="not a readable graph file"):
        load_data(path)


def test_load_data_rejects_a_truncated_file(tmp_path):
    good, bad = tmp_path / "good.pt", tmp_path / "cut.pt"
    save_graph(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2), good)
    bad.write_bytes(good.read_bytes()[:200])
    with pytest.raises(GraphInputError, match="not a readable graph file"):
        load_data(bad)


class _Marker:
    ran = False

    def __reduce__(self):
        return (_set_marker, ())


def _set_marker():
    _Marker.ran = True
    return "x"


def test_load_data_runs_no_code_from_the_file(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as handle:
        torch.save(_Marker(), handle)
    with pytest.raises(GraphInputError, match="cannot be loaded safely"):
        load_data(path)
    assert _Marker.ran is False


def test_load_data_validates_the_graph(tmp_path):
    path = tmp_path / "neg.pt"
    data = Data(edge_index=torch.tensor([[0], [1]]), edge_weight=torch.tensor([-1.0]), num_nodes=2)
    torch.save(data, path)
    with pytest.raises(GraphInputError, match=r"neg.pt: edge \(0, 1\) has length -1.0"):
        load_data(path)


def test_load_data_missing_file(tmp_path):
    with pytest.raises(GraphInputError, match="no such file"):
        load_data(tmp_path / "missing.pt")


def test_write_edge_csv_undirected_once_with_names(tmp_path):
    g = read_edgelist(FIXTURE)
    g.edge_curvature = torch.arange(g.edge_index.size(1), dtype=torch.float64) / 4
    path = tmp_path / "out.csv"
    write_edge_csv(g, path, attributes=("edge_weight", "edge_curvature"))
    lines = path.read_text().splitlines()
    assert lines[0] == "source,target,edge_weight,edge_curvature"
    assert len(lines) == 1 + 7
    rows = [line.split(",") for line in lines[1:]]
    index = {name: i for i, name in enumerate(g.node_names)}
    assert all(index[u] < index[v] for u, v, *_ in rows)
    assert ["carol", "dave", "2.5"] == rows[[r[:2] for r in rows].index(["carol", "dave"])][:3]
    arcs = {(u, v): k for (u, v), k in zip(g.edge_index.t().tolist(), g.edge_curvature.tolist())}
    for u, v, _, k in rows:
        assert float(k) == arcs[(index[u], index[v])]


def test_write_edge_csv_all_arcs_and_indices(tmp_path):
    g = Data(
        edge_index=torch.tensor([[0, 1], [1, 0]]),
        edge_weight=torch.tensor([0.1, 0.1], dtype=torch.float64),
        num_nodes=2,
    )
    path = tmp_path / "arcs.csv"
    write_edge_csv(g, path, undirected_once=False)
    assert path.read_text() == "source,target,edge_weight\n0,1,0.1\n1,0,0.1\n"


def test_write_edge_csv_directed_graph_writes_every_arc(tmp_path):
    g = Data(
        edge_index=torch.tensor([[0, 1], [1, 0]]),
        edge_weight=torch.tensor([1.0, 3.0], dtype=torch.float64),
        num_nodes=2,
    )
    path = tmp_path / "d.csv"
    write_edge_csv(g, path)
    assert path.read_text() == "source,target,edge_weight\n0,1,1.0\n1,0,3.0\n"


def test_write_edge_csv_round_trips_through_read_edgelist(tmp_path):
    g = read_edgelist(FIXTURE)
    path = tmp_path / "again.csv"
    write_edge_csv(g, path)
    back = read_edgelist(path)
    assert edge_dict(back) == edge_dict(g)


def test_csv_quoting_round_trip_with_commas_and_hashes(tmp_path):
    names = ["House of Bush, House of Saud", 'say "hi"', "x.org/?a=1&#38;b", "plain"]
    g = Data(
        edge_index=torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]),
        edge_weight=torch.tensor([0.1, 0.1, 2.0, 2.0, 1 / 3, 1 / 3], dtype=torch.float64),
        num_nodes=4,
        node_names=names,
    )
    path = tmp_path / "quoted.csv"
    write_edge_csv(g, path)
    text = path.read_text()
    assert '"House of Bush, House of Saud","say ""hi""",0.1' in text
    back = read_edgelist(path)
    assert back.node_names == names
    assert edge_dict(back) == edge_dict(g)  # 1/3 survives: full precision


def test_whitespace_file_cuts_inline_comments_but_csv_does_not(tmp_path):
    txt = read_edgelist(write(tmp_path, "g.txt", "a b 2 # two\n"))
    assert txt.edge_weight.tolist() == [2.0, 2.0]
    csv_graph = read_edgelist(write(tmp_path, "g.csv", "# whole-line comment\na#1,b,2\n"))
    assert csv_graph.node_names == ["a#1", "b"]


def test_write_edge_csv_missing_attribute(tmp_path):
    g = read_edgelist(FIXTURE)
    with pytest.raises(GraphInputError, match="edge_curvature"):
        write_edge_csv(g, tmp_path / "x.csv", attributes=("edge_curvature",))
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("new")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_path_success_writes_and_cleans_up(tmp_path):
    target = tmp_path / "deep" / "out.txt"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_text("done")
    assert target.read_text() == "done"
    assert list(target.parent.iterdir()) == [target]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_save_graph_failure_leaves_no_file(tmp_path, monkeypatch):
    def broken_save(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"partial")
        raise OSError("no space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="no space"):
        save_graph(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2), tmp_path / "g.pt")
    assert list(tmp_path.iterdir()) == []
