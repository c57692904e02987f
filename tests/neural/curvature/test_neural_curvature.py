"""Neural curvature: a hand-computed network, the point-mass and dead-neuron rules,
agreement with the per-edge reference, aggregation, checkpoints and resuming."""

from __future__ import annotations

import pytest
import torch
from neural_examples import hand_network
from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.neural import export
from graphcurv.neural.curvature import neural_chain, neural_curvature, reference_curvature

_hand_network = hand_network


def _by_pair(result, chain) -> dict[tuple[int, int], float]:
    """Edge score by (global source, global target)."""
    out = {}
    for k, (link, score) in enumerate(zip(chain.links, result.edge_score)):
        for s, d, v in zip(link.src.tolist(), link.dst.tolist(), score.tolist()):
            out[(s + chain.starts[k], d + chain.starts[k + 1])] = v
    return out


def test_hand_computed_network():
    # x = (1, 0): a_input = (1, 0); hidden h = relu(0.5, 1.0, -0.25) = (0.5, 1, 0): a = (0.5, 1, 0);
    # logits z = (1.0, 1.75): a = (0, 1). Nodes: x0, x1 = 0, 1; h0, h1, h2 = 2, 3, 4; z0, z1 = 5, 6.
    # d(x0, z1) = min_k 1/|W1[k,0]| + 1/|W2[1,k]| = min(2 + 2, 1 + 0.5, 4 + 4/3) = 1.5.
    graph = export(_hand_network(), torch.tensor([[1.0, 0.0]]))
    result = neural_curvature(graph, alpha=0.9)
    score = _by_pair(result, neural_chain(graph))
    # (h1 -> z1): mu = 0.9 h1 + 0.1 x0 (x1 inactive), nu = z1 (output):
    # W1 = 0.9 * 1/2 + 0.1 * 1.5 = 0.6, kappa = (1 - 0.6 / 0.5) / 0.1 = -2
    assert score[(3, 6)] == pytest.approx(-2.0, abs=1e-12)
    # (h0 -> z1): W1 = 0.9 * 2 + 0.1 * 1.5 = 1.95, kappa = (1 - 1.95 / 2) / 0.1 = 0.25
    assert score[(2, 6)] == pytest.approx(0.25, abs=1e-12)
    # (x0 -> h0): mu = x0 (input), nu = 0.9 h0 + 0.1 z1 (z0 has a = 0):
    # W1 = 0.9 * 2 + 0.1 * 1.5 = 1.95, kappa = (1 - 1.95 / 2) / 0.1 = 0.25
    assert score[(0, 2)] == pytest.approx(0.25, abs=1e-12)
    # (x0 -> h1): W1 = 0.9 * 1 + 0.1 * 1.5 = 1.05, kappa = -0.5
    assert score[(0, 3)] == pytest.approx(-0.5, abs=1e-12)
    # h2 is dead: edges into it (from inputs) get kappa 1, edges out of it score 2.0
    assert score[(1, 4)] == 1.0 and score[(0, 4)] == 1.0
    assert score[(4, 5)] == 2.0 and score[(4, 6)] == 2.0
    # parameter scores: the same values at the weights' positions
    assert result.param_scores["2.weight"][1, 1].item() == pytest.approx(-2.0, abs=1e-12)
    assert result.param_scores["0.weight"][0, 0].item() == pytest.approx(0.25, abs=1e-12)


def _deep_network(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)
    )


def _conv_network(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, stride=2),
        nn.ReLU(),
        nn.Conv2d(2, 3, 2, padding=1, dilation=2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(48, 4),
        nn.ReLU(),
        nn.Linear(4, 3),
    )


@pytest.mark.parametrize(("make", "shape"), [(_deep_network, (3, 5)), (_conv_network, (2, 1, 9, 9))])
def test_every_sample_agrees_with_the_per_edge_reference(make, shape):
    torch.manual_seed(1)
    graph = export(make(0), torch.randn(*shape))
    chain = neural_chain(graph)
    from graphcurv.neural.curvature.sample import chain_geometry, sample_curvature
    from graphcurv.transport.exact import ExactSolverPool

    geometry = chain_geometry(chain)
    position = {tuple(pair): e for e, pair in enumerate(graph.edge_index.t().tolist())}
    worst = 0.0
    with ExactSolverPool(1) as pool:
        for sample in range(shape[0]):
            kappa, _, _ = sample_curvature(geometry, graph.activation[:, sample], 0.9, pool.submit)
            expected = reference_curvature(graph, sample, 0.9)
            for k, link in enumerate(chain.links):
                for e, (s, d) in enumerate(zip(link.src.tolist(), link.dst.tolist())):
                    pair = (s + chain.starts[k], d + chain.starts[k + 1])
                    worst = max(worst, abs(float(kappa[k][e]) - expected[position[pair]]))
    assert worst < 1e-9


def test_an_edge_subset_gives_the_full_values_on_those_edges_and_nan_elsewhere():
    from graphcurv.neural.curvature.sample import chain_geometry, sample_curvature
    from graphcurv.transport.exact import ExactSolverPool

    torch.manual_seed(6)
    graph = export(_conv_network(7), torch.randn(1, 1, 9, 9))
    geometry = chain_geometry(neural_chain(graph))
    activation = graph.activation[:, 0]
    generator = torch.Generator().manual_seed(0)
    subset = [
        torch.randperm(link.num_edges, generator=generator)[: link.num_edges // 3] for link in geometry.chain.links
    ]
    subset[1] = None  # None: every edge of that connection
    with ExactSolverPool(1) as pool:
        full, full_dead, _ = sample_curvature(geometry, activation, 0.9, pool.submit)
        part, part_dead, _ = sample_curvature(geometry, activation, 0.9, pool.submit, edges=subset)
    for k, chosen in enumerate(subset):
        if chosen is None:
            assert torch.equal(part[k], full[k]) and torch.equal(part_dead[k], full_dead[k])
            continue
        mask = torch.zeros_like(full_dead[k])
        mask[chosen] = True
        assert torch.equal(part[k][mask], full[k][mask]) and bool(part[k][~mask].isnan().all())
        assert torch.equal(part_dead[k], full_dead[k] & mask)


def test_scores_are_minima_over_samples_and_positions():
    torch.manual_seed(2)
    graph = export(_conv_network(3), torch.randn(3, 1, 9, 9))
    result = neural_curvature(graph, alpha=0.9)
    chain = neural_chain(graph)
    per_sample = []
    for sample in range(3):
        single = graph.clone()
        single.activation = graph.activation[:, sample : sample + 1]
        per_sample.append(neural_curvature(single, alpha=0.9).edge_score)
    for k in range(len(chain.links)):
        expected = torch.stack([s[k] for s in per_sample]).min(0).values
        assert torch.equal(result.edge_score[k], expected)
    # a conv kernel weight's score is the min over all the positions (edges) that read it
    link = chain.links[0]
    kernel = result.param_scores["0.weight"].flatten()
    for entry in link.param_index.unique().tolist():
        assert kernel[entry].item() == result.edge_score[0][link.param_index == entry].min().item()


@pytest.mark.parametrize("exact", ["edges", "parameters"])
def test_blocks_of_one_input_give_the_scores_of_one_block(exact):
    """Checkpoints after every input (one class) make blocks of one input, which skip the
    look-ahead: the scores are those of one look-ahead block over all three."""
    torch.manual_seed(8)
    graph = export(_conv_network(9), torch.randn(3, 1, 9, 9))
    one_block = neural_curvature(graph, exact=exact, workers=1)
    singles = neural_curvature(graph, labels=torch.zeros(3), checkpoints=(1, 2, 3), exact=exact, workers=1)
    for name, value in one_block.param_scores.items():
        assert torch.equal(value.nan_to_num(9.0), singles.param_scores[name].nan_to_num(9.0)), name
    if exact == "edges":
        for a, b in zip(one_block.edge_score, singles.edge_score):
            assert torch.equal(a, b)


def test_checkpoints_follow_examples_per_class_and_resume(tmp_path):
    torch.manual_seed(4)
    graph = export(_deep_network(5), torch.randn(6, 5))
    labels = torch.tensor([0, 1, 0, 1, 0, 1])
    full = neural_curvature(graph, labels=labels, checkpoints=(1, 2))
    # one example per class = samples 0 and 1 (the first of each class)
    first = graph.clone()
    first.activation = graph.activation[:, [0, 1]]
    expected = neural_curvature(first).param_scores
    for name, value in expected.items():
        assert torch.equal(full.checkpoints[1][name].nan_to_num(9.0), value.nan_to_num(9.0))
    # an interrupted run resumes from its state file and ends with the same scores
    state = tmp_path / "state.pt"
    calls = []

    def stop_after_three(done, total, description=""):
        calls.append(done)
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        neural_curvature(graph, labels=labels, checkpoints=(1, 2), state=state, progress=stop_after_three)
    resumed_from = []
    result = neural_curvature(
        graph, labels=labels, checkpoints=(1, 2), state=state, progress=lambda d, t, s="": resumed_from.append(d)
    )
    assert resumed_from[0] == 3 and result.samples == 6
    for k in range(len(result.edge_score)):
        assert torch.equal(result.edge_score[k], full.edge_score[k])
    assert set(result.checkpoints) == {1, 2}


def test_bad_inputs_are_rejected(tmp_path):
    graph = export(_hand_network(), torch.tensor([[1.0, 0.0]]))
    with pytest.raises(GraphcurvError, match="alpha"):
        neural_curvature(graph, alpha=1.0)
    with pytest.raises(GraphcurvError, match="labels"):
        neural_curvature(graph, checkpoints=(1,))
    broken = graph.clone()
    broken.activation = broken.activation * float("nan")
    with pytest.raises(GraphcurvError, match="NaN"):
        neural_curvature(broken)
    other = tmp_path / "other.pt"
    neural_curvature(export(_deep_network(0), torch.randn(2, 5)), state=other)
    with pytest.raises(GraphcurvError, match="another graph"):
        neural_curvature(graph, state=other)
    # the same graph with other calibration inputs is another run too
    calibrated = tmp_path / "calibrated.pt"
    neural_curvature(graph, state=calibrated)
    moved = graph.clone()
    moved.activation = moved.activation.flip(0)
    with pytest.raises(GraphcurvError, match="calibration set"):
        neural_curvature(moved, state=calibrated)


@pytest.mark.parametrize("exact", ["edges", "parameters"])
def test_kept_look_ahead_passes_give_the_scores_of_recomputed_ones(monkeypatch, exact):
    """The solve pass reuses the look-ahead's bounds passes while they fit in KEEP_BYTES;
    with nothing kept it redoes them: every edge and parameter score is the same."""
    from graphcurv.neural.curvature import engine, grouped

    torch.manual_seed(6)
    graph = export(_conv_network(7), torch.randn(4, 1, 9, 9))
    calls = []
    original = grouped.PreparedSample.connections

    def counting(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(grouped.PreparedSample, "connections", counting)
    kept = neural_curvature(graph, alpha=0.9, exact=exact)
    kept_calls, calls[:] = len(calls), []
    monkeypatch.setattr(engine, "KEEP_BYTES", -1)
    redone = neural_curvature(graph, alpha=0.9, exact=exact)
    assert (kept_calls, len(calls)) == (4, 8)  # one bounds pass per sample, or two
    for k in range(len(kept.edge_score)):
        assert torch.equal(kept.edge_score[k], redone.edge_score[k])
    for name, value in kept.param_scores.items():
        assert torch.equal(value.nan_to_num(9.0), redone.param_scores[name].nan_to_num(9.0))


def test_a_parameters_run_does_not_resume_as_an_edges_run(tmp_path):
    """Edge minima of exact='parameters' may be lower bounds: resuming them as exact
    edge scores would be wrong, so it is refused; the other way round is fine."""
    torch.manual_seed(6)
    graph = export(_conv_network(7), torch.randn(2, 1, 9, 9))
    state = tmp_path / "state.pt"
    first = neural_curvature(graph, exact="parameters", state=state)
    with pytest.raises(GraphcurvError, match="exact='parameters'"):
        neural_curvature(graph, state=state)
    again = neural_curvature(graph, exact="parameters", state=state)  # all done: the saved scores
    for name, value in first.param_scores.items():
        assert torch.equal(value.nan_to_num(9.0), again.param_scores[name].nan_to_num(9.0))
    edges_state = tmp_path / "edges.pt"
    edges = neural_curvature(graph, state=edges_state)
    resumed = neural_curvature(graph, exact="parameters", state=edges_state)
    for name, value in edges.param_scores.items():
        assert torch.equal(value.nan_to_num(9.0), resumed.param_scores[name].nan_to_num(9.0))
