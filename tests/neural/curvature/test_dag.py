"""Neural curvature on DAGs of layers (residual additions, projection shortcuts,
concatenations): both engines against the networkx + ``ot.emd2`` reference on every
edge and input, and the chain case unchanged value for value."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from graphcurv.neural import export
from graphcurv.neural.curvature import neural_chain, neural_curvature, reference_curvature
from graphcurv.neural.curvature.distances import three_hop, two_hop
from graphcurv.neural.curvature.grouped import EngineStats, grouped_geometry, grouped_sample_curvature
from graphcurv.neural.curvature.sample import chain_geometry, sample_curvature
from graphcurv.neural.layout import connections
from graphcurv.transport.exact import ExactSolverPool


class DenseResidual(nn.Module):
    """h = act(a x); act(c act(b h) + h) (an identity skip over two layers) -> logits."""

    def __init__(self, act: nn.Module) -> None:
        super().__init__()
        self.a, self.b, self.c, self.out = nn.Linear(4, 5), nn.Linear(5, 4), nn.Linear(4, 5), nn.Linear(5, 3)
        self.act = act

    def forward(self, x):
        h = self.act(self.a(x))
        return self.out(self.act(self.c(self.act(self.b(h))) + h))


class ConvResidual(nn.Module):
    """A ResNet basic block with a strided 1x1 projection shortcut, then an identity block."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 2, 3, padding=1)
        self.c1, self.c2 = nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.Conv2d(3, 3, 3, padding=1)
        self.proj = nn.Conv2d(2, 3, 1, stride=2)
        self.c3, self.c4 = nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 3, padding=1)
        self.fc = nn.Linear(3 * 3 * 3, 3)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = torch.relu(self.c2(torch.relu(self.c1(x))) + self.proj(x))
        x = torch.relu(self.c4(torch.relu(self.c3(x))) + x)
        return self.fc(x.flatten(1))


class TwoBranch(nn.Module):
    """Two conv branches of different widths and activations, concatenated, then a conv."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(1, 3, 3, padding=2, dilation=2)
        self.c, self.fc = nn.Conv2d(5, 2, 3), nn.Linear(2 * 3 * 3, 3)

    def forward(self, x):
        h = torch.cat([torch.relu(self.a(x)), torch.tanh(self.b(x))], 1)
        return self.fc(torch.relu(self.c(h)).flatten(1))


class Detour(nn.Module):
    """A weak projection (long edges) next to a strong two-layer path: for the projection's
    edges the shortest path from i to j runs round through the other branch."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.p, self.out = nn.Linear(3, 4), nn.Linear(4, 4), nn.Linear(3, 4), nn.Linear(4, 2)
        with torch.no_grad():
            self.a.weight.mul_(8.0)
            self.b.weight.mul_(8.0)
            self.p.weight.mul_(0.05)

    def forward(self, x):
        return self.out(torch.tanh(self.b(torch.tanh(self.a(x))) + self.p(x)))


def _case(name: str):
    torch.manual_seed(3)
    if name == "dense-relu":
        return DenseResidual(nn.ReLU()), torch.randn(3, 4)
    if name == "dense-tanh":
        return DenseResidual(nn.Tanh()), torch.randn(2, 4)
    if name == "conv-residual":
        return ConvResidual(), torch.randn(2, 1, 6, 6)
    if name == "two-branch":
        return TwoBranch(), torch.randn(2, 1, 5, 5)
    return Detour(), torch.randn(2, 3)


def _positions(chain) -> dict[tuple[int, int], tuple[int, int]]:
    out = {}
    for k, link in enumerate(chain.links):
        for e, (s, d) in enumerate(zip(link.src.tolist(), link.dst.tolist())):
            out[(s + chain.starts[link.source], d + chain.starts[link.target])] = (k, e)
    return out


@pytest.mark.parametrize("name", ["dense-relu", "dense-tanh", "conv-residual", "two-branch"])
def test_both_engines_equal_the_dag_reference_on_every_edge(name):
    model, inputs = _case(name)
    graph = export(model, inputs)
    chain = neural_chain(graph)
    assert not chain.is_chain  # really a DAG
    geometry = chain_geometry(chain)
    grouped = grouped_geometry(geometry)
    position, pairs = _positions(chain), graph.edge_index.t().tolist()
    stats, worst, checked = EngineStats(), 0.0, 0
    with ExactSolverPool(1) as pool:
        for sample in range(inputs.size(0)):
            per_edge, _, _ = sample_curvature(geometry, graph.activation[:, sample], 0.9, pool.submit)
            fast, _, _ = grouped_sample_curvature(grouped, graph.activation[:, sample], 0.9, pool.submit, stats=stats)
            for e, value in reference_curvature(graph, sample, alpha=0.9).items():
                k, local = position[tuple(pairs[e])]
                worst = max(worst, abs(float(per_edge[k][local]) - value), abs(float(fast[k][local]) - value))
                checked += 1
    assert checked == graph.edge_index.size(1) * inputs.size(0)
    assert worst < 1e-9
    assert stats.solved + stats.certified > 0  # real transport problems, not only dead edges


def test_a_detour_shorter_than_the_edge_is_its_distance():
    model, inputs = _case("detour")
    graph = export(model, inputs)
    chain = neural_chain(graph)
    geometry = chain_geometry(chain)
    projection = next(k for k, link in enumerate(chain.links) if graph.param_names[link.param] == "p.weight")
    raw, used = chain.links[projection].length, geometry.chain.links[projection].length
    assert bool((used < raw).any())  # the detour a -> b is shorter for some projection edges
    with ExactSolverPool(1) as pool:
        for sample in range(inputs.size(0)):
            kappa, _, _ = sample_curvature(geometry, graph.activation[:, sample], 0.9, pool.submit)
            position, pairs = _positions(chain), graph.edge_index.t().tolist()
            for e, value in reference_curvature(graph, sample, alpha=0.9).items():
                k, local = position[tuple(pairs[e])]
                assert float(kappa[k][local]) == pytest.approx(value, abs=1e-9)


def test_on_a_chain_the_distances_are_the_chain_products_value_for_value():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 3, 2), nn.ReLU(), nn.Flatten(), nn.Linear(48, 5), nn.ReLU(),
        nn.Linear(5, 3),
    )  # fmt: skip
    graph = export(model, torch.randn(1, 1, 7, 7))
    chain = neural_chain(graph)
    assert chain.is_chain
    geometry = chain_geometry(chain)
    links, sizes = chain.links, chain.sizes
    d2 = [two_hop(links[k], links[k + 1], sizes[k], sizes[k + 1], sizes[k + 2]) for k in range(len(links) - 1)]
    d3 = [three_hop(d2[k], links[k + 2], sizes[k + 3]) for k in range(len(links) - 2)]
    for k in range(len(links)):
        distances = geometry.distances[k]
        if k >= 1:
            assert np.array_equal(distances.before, d2[k - 1].numpy())
        if k + 1 < len(links):
            assert np.array_equal(distances.after, d2[k].numpy())
        if 1 <= k < len(links) - 1:
            assert np.array_equal(distances.across, d3[k - 1].numpy())
        assert geometry.chain.links[k].length is links[k].length  # no detours on a chain


def test_skip_edges_are_scored_but_only_parameter_edges_reach_the_parameters():
    model, inputs = _case("conv-residual")
    graph = export(model, inputs)
    result = neural_curvature(graph, 0.9, workers=1)
    kinds = {c.index: c.kind for c in connections(graph)}
    chain = result.chain
    skips = [k for k, link in enumerate(chain.links) if kinds[link.index] == "skip"]
    assert skips and all(bool(torch.isfinite(result.edge_score[k]).all()) for k in skips)
    names = {"stem.weight", "c1.weight", "c2.weight", "proj.weight", "c3.weight", "c4.weight", "fc.weight"}
    assert set(result.param_scores) == names
    # the parameter scores are the minima over the edges that read each entry
    for k, link in enumerate(chain.links):
        if link.param < 0:
            continue
        name = graph.param_names[link.param]
        flat = result.param_scores[name].reshape(-1).double()
        lowest = torch.full_like(flat, float("inf")).scatter_reduce(
            0, link.param_index, result.edge_score[k], reduce="amin"
        )
        assert torch.equal(flat[torch.isfinite(lowest)], lowest[torch.isfinite(lowest)])


def test_grouped_and_per_edge_scores_agree_on_a_dag_in_both_modes():
    model, inputs = _case("two-branch")
    graph = export(model, inputs)
    base = neural_curvature(graph, 0.9, workers=1, engine="per-edge")
    for exact in ("edges", "parameters"):
        fast = neural_curvature(graph, 0.9, workers=1, exact=exact)
        for name, value in base.param_scores.items():
            assert torch.allclose(fast.param_scores[name], value, atol=1e-9, equal_nan=True)
        if exact == "edges":
            for a, b in zip(fast.edge_score, base.edge_score):
                assert torch.allclose(a, b, atol=1e-9)


def test_the_bundled_resnet20_estimate_counts_its_large_distance_matrices_as_local():
    from pathlib import Path

    from graphcurv.errors import InsufficientMemoryError
    from graphcurv.models import load_model
    from graphcurv.neural.memory import LOCAL, LOCAL_BYTES, MemoryWarning, check_memory, estimate_memory

    path = Path(__file__).resolve().parents[3] / "datasets" / "models" / "resnet20-relu-fashion-mnist.pt"
    graph = export(load_model(path), torch.rand(1, 1, 28, 28), max_edges=0)  # edges implicit: nothing built
    estimate = estimate_memory(graph, workers=1)
    # stage 1: 12,544 neurons per layer; dozens of its layer pairs would be 1.26 GB each dense: they are
    # local (finite entries only), counted as at most every entry, and not as certain
    assert estimate.parts[LOCAL] > 25 * LOCAL_BYTES * 12544**2  # stacked blocks are read in place, not copied
    assert estimate.parts["distance matrices"] < 2 << 30  # the small dense ones (stage 3)
    assert estimate.certain + estimate.parts[LOCAL] <= estimate.total
    with pytest.raises(InsufficientMemoryError, match="local distances"):
        check_memory(graph, available=2 << 30, workers=1)
    with pytest.warns(MemoryWarning, match="receptive fields"):  # room for the certain part only
        check_memory(graph, available=(estimate.certain + estimate.total) // 2, workers=1)


def test_the_dag_estimate_counts_every_layer_pair_the_engine_builds():
    from graphcurv.neural.curvature.distances import LayerPairDistances
    from graphcurv.neural.memory import estimate_memory

    model, inputs = _case("conv-residual")
    graph = export(model, inputs)
    chain = neural_chain(graph)
    built = LayerPairDistances(chain)  # asked for the blocks chain_geometry stacks, it builds these pairs
    for link in chain.links:
        left = [chain.links[k].source for k in chain.into(link.source)]
        right = [chain.links[k].target for k in chain.out_of(link.target)]
        for x, y in [(x, link.target) for x in left] + [(link.source, y) for y in right]:
            built.between(x, y)
        for x in left:
            for y in right:
                built.between(x, y)
    pairs = set(built._memo)
    stacked = 0
    for link in chain.links:
        left = [chain.links[k].source for k in chain.into(link.source)]
        right = [chain.links[k].target for k in chain.out_of(link.target)]
        if len(left) > 1:
            stacked += sum(chain.sizes[x] * chain.sizes[link.target] for x in left)
        if len(right) > 1:
            stacked += sum(chain.sizes[link.source] * chain.sizes[y] for y in right)
        if len(left) > 1 or len(right) > 1:
            stacked += sum(chain.sizes[x] * chain.sizes[y] for x in left for y in right)
    expected = 8 * (sum(chain.sizes[x] * chain.sizes[y] for x, y in pairs) + stacked)
    assert estimate_memory(graph, workers=1).parts["distance matrices"] == expected
