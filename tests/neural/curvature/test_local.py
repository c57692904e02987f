"""Local (finite-entry) distance matrices: the same reads as the dense matrix, and the
engines give the same scores bit for bit when every distance matrix is local."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphcurv.neural import export
from graphcurv.neural.curvature import distances as distances_module
from graphcurv.neural.curvature import neural_chain, neural_curvature
from graphcurv.neural.curvature.blocks import BlockMatrix
from graphcurv.neural.curvature.local import LocalMatrix
from graphcurv.neural.curvature.sample import chain_geometry
from graphcurv.neural.curvature.shifted import ShiftMatrix
from tests.neural.curvature.test_dag import _case


def _random_dense(rows: int, cols: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    values = torch.rand(rows, cols, generator=g, dtype=torch.float64) * 5
    return torch.where(torch.rand(rows, cols, generator=g) < 0.7, float("inf"), values)


def _local(dense: torch.Tensor, step: int = 3) -> LocalMatrix:
    return LocalMatrix.from_dense_rows((dense[a : a + step] for a in range(0, dense.size(0), step)), dense.size(1))


def test_local_reads_equal_the_dense_matrix():
    dense = _random_dense(11, 13, 0)
    local = _local(dense)
    assert local.nnz == int(torch.isfinite(dense).sum())
    rows = np.random.default_rng(1).integers(0, 11, size=50)
    cols = np.random.default_rng(2).integers(0, 13, size=50)
    assert np.array_equal(local[rows, cols], dense.numpy()[rows, cols])  # entry by entry, NumPy
    r, c = torch.from_numpy(rows), torch.from_numpy(cols)
    assert torch.equal(local[r, c], dense[r, c])  # and torch
    a, b = np.array([4, 0, 10, 4]), np.array([12, 3, 0, 3])
    assert np.array_equal(local[np.ix_(a, b)], dense.numpy()[np.ix_(a, b)])  # a block, repeated rows and columns
    assert torch.equal(local.rows(2, 7), dense[2:7])
    assert local[np.ix_(a[:0], b)].shape == (0, 4)


def test_a_full_matrix_keeps_no_more_than_its_limit():
    from graphcurv.errors import InsufficientMemoryError

    with pytest.raises(InsufficientMemoryError, match="local distance matrices"):
        LocalMatrix.from_dense_rows([torch.zeros(100, 100, dtype=torch.float64)], 100, limit=1000)


@pytest.fixture
def everything_local(monkeypatch):
    monkeypatch.setattr(distances_module, "DENSE_ENTRIES", 0)
    monkeypatch.setattr(distances_module, "ROW_ENTRIES", 40)  # several row blocks per matrix


def _kinds(matrix) -> set[type]:
    """The kinds of a distance matrix's blocks (stacked ones are read in place)."""
    if isinstance(matrix, BlockMatrix):
        return {kind for row in matrix.parts for part in row for kind in _kinds(part)}
    return {type(matrix)}


def _no_tables(monkeypatch) -> None:
    monkeypatch.setattr(distances_module.LayerPairDistances, "shifted", lambda self, x, y: None)


@pytest.mark.parametrize("name", ["conv-residual", "two-branch", "dense-relu"])
@pytest.mark.parametrize("engine", ["grouped", "per-edge"])
@pytest.mark.parametrize("form", ["local", "tables"])
def test_local_distances_give_the_dense_scores_bit_for_bit(name, engine, form, monkeypatch):
    model, inputs = _case(name)
    graph = export(model, inputs)
    with pytest.MonkeyPatch.context() as patch:
        _no_tables(patch)  # the reference: dense matrices by pair enumeration only
        dense = neural_curvature(graph, 0.9, workers=1, engine=engine)
    monkeypatch.setattr(distances_module, "DENSE_ENTRIES", 0)
    monkeypatch.setattr(distances_module, "ROW_ENTRIES", 40)
    if form == "local":
        _no_tables(monkeypatch)
    geometry = chain_geometry(neural_chain(graph))
    kinds = {
        kind for d in geometry.distances for m in (d.before, d.after, d.across) if m is not None for kind in _kinds(m)
    }
    if form == "tables" and name == "conv-residual":  # tables where every path runs through windows
        assert kinds == {LocalMatrix, ShiftMatrix}
    else:  # no such path (dense), or the concatenation's blocks are local
        assert kinds == {LocalMatrix}
    local = neural_curvature(graph, 0.9, workers=1, engine=engine)
    for a, b in zip(dense.edge_score, local.edge_score):
        assert torch.equal(a, b)
    for key, value in dense.param_scores.items():
        assert torch.equal(value.nan_to_num(-7), local.param_scores[key].nan_to_num(-7))


def test_local_matrices_are_what_the_dense_ones_hold(everything_local, monkeypatch):
    _no_tables(monkeypatch)
    model, inputs = _case("conv-residual")
    chain = neural_chain(export(model, inputs))
    local = distances_module.LayerPairDistances(chain)
    for x in range(chain.num_layers):
        for y in range(x + 1, chain.num_layers):
            m = local.between(x, y)
            rows = m.rows(0, m.shape[0])
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(distances_module, "DENSE_ENTRIES", 1 << 40)
                assert torch.equal(rows, distances_module.LayerPairDistances(chain).between(x, y))


def test_the_torch_path_reads_local_matrices_as_cuda_would(everything_local):
    from graphcurv.arrays import torch_backend_on_cpu

    model, inputs = _case("conv-residual")
    graph = export(model, inputs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(distances_module, "DENSE_ENTRIES", 1 << 40)
        dense = neural_curvature(graph, 0.9, workers=1, engine="per-edge")
    with torch_backend_on_cpu():  # the array code CUDA runs: torch tensors, not NumPy
        local = neural_curvature(graph, 0.9, workers=1, engine="per-edge")
    for a, b in zip(dense.edge_score, local.edge_score):
        assert torch.allclose(a, b, atol=1e-12, rtol=0)
