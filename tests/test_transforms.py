import networkx as nx
import torch
from orc_reference import data_from_networkx
from torch_geometric.transforms import Compose

from graphcurv.curvature.ollivier import ollivier_ricci
from graphcurv.transforms import AugmentedFormanRicci, FormanRicci, OllivierRicci


def test_ollivier_transform_in_compose_matches_function():
    data, _ = data_from_networkx(nx.karate_club_graph(), weight=None)
    out = Compose([OllivierRicci(alpha=0.3)])(data)
    expected = ollivier_ricci(data, alpha=0.3)
    assert torch.equal(out.edge_curvature, expected.edge_curvature)
    assert torch.allclose(out.node_curvature, expected.node_curvature, equal_nan=True)
    assert not hasattr(data, "edge_curvature")  # the input is left unchanged


def test_forman_transforms():
    # Two triangles sharing edge (0, 1): deg 0 = deg 1 = 3, deg 2 = deg 3 = 2.
    G = nx.Graph([(0, 1), (0, 2), (1, 2), (0, 3), (1, 3)])
    data, nodes = data_from_networkx(G, weight=None)
    forman = FormanRicci()(data).edge_curvature
    augmented = AugmentedFormanRicci()(data).edge_curvature
    ei = data.edge_index
    shared = ((ei[0] == nodes.index(0)) & (ei[1] == nodes.index(1))).nonzero().item()
    assert forman[shared].item() == 4 - 3 - 3
    assert augmented[shared].item() == 4 - 3 - 3 + 3 * 2
