import math

import networkx as nx
import pytest
import torch
from orc_reference import data_from_networkx
from torch.utils.data import DataLoader, Dataset
from torch_geometric.data import Data
from torch_geometric.nn import GATConv, GCNConv
from torch_geometric.transforms import Compose

from graphcurv.curvature.forman import augmented_forman, balanced_forman, forman
from graphcurv.curvature.ollivier import ollivier_ricci
from graphcurv.errors import GraphcurvError
from graphcurv.transforms import AugmentedFormanRicci, BalancedFormanRicci, FormanRicci, OllivierRicci, output_dtype


def karate() -> Data:
    return data_from_networkx(nx.karate_club_graph(), weight=None)[0]


def test_ollivier_transform_in_compose_matches_function():
    data = karate()
    out = Compose([OllivierRicci(alpha=0.3, dtype=torch.float64)])(data)
    expected = ollivier_ricci(data, alpha=0.3)
    assert torch.equal(out.edge_curvature, expected.edge_curvature)
    assert torch.allclose(out.node_curvature, expected.node_curvature, equal_nan=True)
    assert not hasattr(data, "edge_curvature")  # the input is left unchanged


def test_forman_transforms():
    # Two triangles sharing edge (0, 1): deg 0 = deg 1 = 3, deg 2 = deg 3 = 2.
    G = nx.Graph([(0, 1), (0, 2), (1, 2), (0, 3), (1, 3)])
    data, nodes = data_from_networkx(G, weight=None)
    forman_out = FormanRicci()(data)
    augmented = AugmentedFormanRicci()(data).edge_curvature
    ei = data.edge_index
    shared = ((ei[0] == nodes.index(0)) & (ei[1] == nodes.index(1))).nonzero().item()
    assert forman_out.edge_curvature[shared].item() == 4 - 3 - 3
    assert augmented[shared].item() == 4 - 3 - 3 + 3 * 2
    # Node 2 has edges to 0 and 1, each with F = 4 - 2 - 3 = -1; node 0 has (0,1): -2 and
    # (0,2), (0,3): -1 each, mean -4/3.
    node = forman_out.node_curvature
    assert node[nodes.index(2)].item() == -1.0
    assert node[nodes.index(0)].item() == pytest.approx(-4 / 3)


@pytest.mark.parametrize(
    "transform, function",
    [(FormanRicci, forman), (AugmentedFormanRicci, augmented_forman), (BalancedFormanRicci, balanced_forman)],
)
def test_forman_node_curvature_is_the_mean_over_incident_edges(transform, function):
    data = karate()
    out = transform(dtype=torch.float64)(data)
    edge = function(data, dtype=torch.float64)
    assert torch.equal(out.edge_curvature, edge)
    total = torch.zeros(data.num_nodes, dtype=torch.float64).index_add_(0, data.edge_index[0], edge)
    degree = torch.bincount(data.edge_index[0], minlength=data.num_nodes)
    assert torch.allclose(out.node_curvature, total / degree, rtol=0, atol=1e-12)


def test_isolated_node_gets_nan_node_curvature_in_every_transform():
    data = Data(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=4)
    for transform in (OllivierRicci(), FormanRicci(), AugmentedFormanRicci(), BalancedFormanRicci()):
        node = transform(data).node_curvature
        assert node.shape == (4,) and math.isnan(node[3].item()) and not node[:3].isnan().any()


ALL_SETTINGS = dict(
    alpha=0.3,
    measure="uniform",
    base=2.0,
    exp_power=1.0,
    solver="sinkhorn",
    tol=1e-6,
    directed=False,
    workers=1,
    max_entries=4096,
    dtype=torch.float16,
    attr_name="orc",
    node_attr_name="node_orc",
)


def test_repr_names_every_setting_and_round_trips():
    transform = OllivierRicci(**ALL_SETTINGS)
    text = repr(transform)
    for name, value in ALL_SETTINGS.items():
        assert f"{name}={value!r}" in text
    rebuilt = eval(text, {"OllivierRicci": OllivierRicci, "torch": torch})
    assert repr(rebuilt) == text
    assert rebuilt.alpha == 0.3 and rebuilt.options["solver"] == "sinkhorn" and rebuilt.dtype == torch.float16
    for cls in (FormanRicci, AugmentedFormanRicci, BalancedFormanRicci):
        forman_transform = cls(dtype=torch.float64, attr_name="f", node_attr_name=None)
        assert repr(forman_transform) == f"{cls.__name__}(dtype=torch.float64, attr_name='f', node_attr_name=None)"
        assert repr(eval(repr(forman_transform), {cls.__name__: cls, "torch": torch})) == repr(forman_transform)


@pytest.mark.parametrize("name, value", [(k, v) for k, v in ALL_SETTINGS.items() if k != "alpha"] + [("alpha", 0.4)])
def test_different_settings_give_different_reprs(name, value):
    # PyG decides whether a processed dataset is stale by comparing pre_transform reprs.
    assert repr(OllivierRicci(alpha=0.3)) != repr(OllivierRicci(**{"alpha": 0.3, name: value}))


def test_forman_reprs_differ_by_class_and_settings():
    reprs = {
        repr(cls(**kw))
        for cls in (FormanRicci, AugmentedFormanRicci, BalancedFormanRicci)
        for kw in ({}, {"dtype": torch.float64}, {"attr_name": "f"}, {"node_attr_name": None})
    }
    assert len(reprs) == 12


class CountingData(Data):
    copies = 0

    def __copy__(self):
        CountingData.copies += 1
        return super().__copy__()


@pytest.mark.parametrize("transform", [OllivierRicci(), FormanRicci(), BalancedFormanRicci()])
def test_one_shallow_copy_and_forward_writes_in_place(transform):
    data = CountingData(edge_index=karate().edge_index, num_nodes=34)
    CountingData.copies = 0
    out = transform(data)
    assert CountingData.copies == 1  # BaseTransform.__call__'s, none of the transform's own
    assert out is not data and "edge_curvature" not in data
    CountingData.copies = 0
    assert transform.forward(data) is data and "edge_curvature" in data and CountingData.copies == 0


def test_output_dtype_follows_x_then_default():
    ei = karate().edge_index
    assert output_dtype(Data(edge_index=ei, x=torch.zeros(34, 2, dtype=torch.float64))) == torch.float64
    assert output_dtype(Data(edge_index=ei, x=torch.zeros(34, dtype=torch.long))) == torch.get_default_dtype()
    assert output_dtype(Data(edge_index=ei)) == torch.get_default_dtype()
    data = Data(edge_index=ei, num_nodes=34, edge_weight=torch.ones(ei.size(1), dtype=torch.float64))
    for transform in (OllivierRicci(), FormanRicci()):
        out = transform(data)
        assert out.edge_curvature.dtype == out.node_curvature.dtype == torch.float32
        data64 = Data(edge_index=ei, num_nodes=34, x=torch.zeros(34, 1, dtype=torch.float64))
        assert transform(data64).edge_curvature.dtype == torch.float64
        data_x64 = data64
        assert type(transform)(dtype=torch.bfloat16)(data_x64).node_curvature.dtype == torch.bfloat16


@pytest.mark.parametrize("bad", [torch.long, "float32"])
def test_non_floating_dtype_is_refused_up_front(bad):
    with pytest.raises(GraphcurvError, match="dtype"):
        OllivierRicci(dtype=bad)
    with pytest.raises(GraphcurvError, match="dtype"):
        FormanRicci(dtype=bad)


def test_attr_name_and_node_attr_name():
    data = karate()
    out = Compose([OllivierRicci(attr_name="orc", node_attr_name="node_orc"), FormanRicci(node_attr_name=None)])(data)
    assert out.orc.shape == out.edge_curvature.shape == (data.edge_index.size(1),)
    assert out.node_orc.shape == (34,)
    assert "node_curvature" not in out
    assert torch.equal(out.orc, OllivierRicci()(data).edge_curvature)
    with pytest.raises(GraphcurvError, match="attr_name"):
        FormanRicci(attr_name="c", node_attr_name="c")


def test_curvature_goes_straight_into_gcn_and_gat_in_float32():
    torch.manual_seed(0)
    data = karate()
    data.x = torch.randn(34, 8)  # float32, as PyG layers are
    data = Compose([OllivierRicci(), AugmentedFormanRicci(attr_name="forman")])(data)
    assert data.edge_curvature.dtype == data.forman.dtype == torch.float32
    gcn = GCNConv(8, 4)(data.x, data.edge_index, edge_weight=data.edge_curvature.exp())
    gat = GATConv(8, 4, edge_dim=2)(
        data.x, data.edge_index, edge_attr=torch.stack([data.edge_curvature, data.forman], 1)
    )
    assert gcn.dtype == gat.dtype == torch.float32
    assert gcn.isfinite().all() and gat.isfinite().all()


class KarateCopies(Dataset):
    def __init__(self, transform):
        self.transform = transform

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> Data:
        return self.transform(karate())


def test_dataloader_workers_solve_in_process():
    # A DataLoader worker is a daemonic process: it may not start the exact solver's
    # worker processes ("daemonic processes are not allowed to have children").
    transform = OllivierRicci(workers=2, dtype=torch.float64)
    expected = ollivier_ricci(karate()).edge_curvature
    loader = DataLoader(KarateCopies(transform), batch_size=None, num_workers=2)
    batches = list(loader)
    assert len(batches) == 4
    for data in batches:
        assert torch.equal(data.edge_curvature, expected)
