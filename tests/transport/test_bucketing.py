import pytest
import torch

from graphcurv.errors import GraphcurvError
from graphcurv.transport.bucketing import (
    make_buckets,
    pad_bucket,
    padded_lengths,
    padding_counts,
    padding_waste_bound,
    size_grid,
    unpad_cost_like,
    unpad_masses,
)
from graphcurv.transport.problems import TransportProblems

SHAPES = [(1, 1), (1, 5), (5, 1), (3, 7), (7, 3), (40, 40), (2, 2), (0, 3), (3, 0), (9, 17)]


def _mixed(seed: int = 0, extra: int = 60) -> TransportProblems:
    """Fixed awkward shapes plus power-law sizes; distinct values everywhere."""
    gen = torch.Generator().manual_seed(seed)
    shapes = list(SHAPES)
    sizes = (torch.rand(extra, 2, generator=gen) ** -1.5).clamp(max=70).long()
    shapes += [tuple(s) for s in sizes.tolist()]
    problems = []
    for n_a, n_b in shapes:
        problems.append(
            (
                torch.rand(n_a, generator=gen, dtype=torch.float64),
                torch.rand(n_b, generator=gen, dtype=torch.float64),
                torch.rand(n_a, n_b, generator=gen, dtype=torch.float64),
            )
        )
    return TransportProblems.from_dense(problems)


def test_size_grid_and_padded_lengths():
    assert size_grid(20, 2.0).tolist() == [1, 2, 4, 8, 16, 32]
    assert size_grid(20, 1.5).tolist() == [1, 2, 3, 4, 6, 9, 13, 19, 28]
    lengths = torch.tensor([0, 1, 2, 3, 5, 8, 9, 33])
    assert padded_lengths(lengths, 2.0).tolist() == [0, 1, 2, 4, 8, 8, 16, 64]
    with pytest.raises(GraphcurvError):
        size_grid(5, 1.0)


def test_every_nonempty_problem_in_exactly_one_bucket():
    p = _mixed()
    buckets = make_buckets(p)
    index = torch.cat([bucket.index for bucket in buckets])
    sizes = p.sizes()
    nonempty = torch.nonzero(sizes.min(1).values > 0).flatten()
    assert sorted(index.tolist()) == nonempty.tolist()
    for bucket in buckets:
        assert bool((bucket.rows <= bucket.shape[0]).all())
        assert bool((bucket.cols <= bucket.shape[1]).all())
        assert bucket.shape[0] <= bucket.shape[1]  # oriented
        true = sizes[bucket.index]
        swapped = torch.where(bucket.transposed.unsqueeze(1), true.flip(1), true)
        assert torch.equal(torch.stack([bucket.rows, bucket.cols], 1), swapped)


@pytest.mark.parametrize("growth", [2.0, 1.5, 3.0])
def test_padding_waste_within_documented_bound(growth):
    p = _mixed(seed=1, extra=200)
    buckets = make_buckets(p, growth=growth)
    padded, ragged = padding_counts(p, buckets)
    sizes = p.sizes()
    assert ragged == int((sizes[:, 0] * sizes[:, 1]).sum())
    assert padded <= padding_waste_bound(growth) * ragged
    for bucket in buckets:  # the bound holds bucket by bucket
        assert bucket.padded_elements <= padding_waste_bound(growth) * int(
            (bucket.rows * bucket.cols).sum()
        )


@pytest.mark.parametrize("orient", [True, False])
def test_round_trip_is_exact(orient):
    p = _mixed(seed=2)
    cost = torch.full_like(p.cost, float("nan"))
    masses = (torch.full_like(p.a, float("nan")), torch.full_like(p.b, float("nan")))
    for bucket in make_buckets(p, orient=orient):
        a, b, dense = pad_bucket(p, bucket, pad_cost=-7.0)
        assert a.shape == (bucket.num_problems, bucket.shape[0])
        assert dense.shape == (bucket.num_problems, *bucket.shape)
        rows = torch.arange(bucket.shape[0]) < bucket.rows.unsqueeze(1)
        cols = torch.arange(bucket.shape[1]) < bucket.cols.unsqueeze(1)
        assert bool((a[~rows] == 0).all()) and bool((b[~cols] == 0).all())
        real = rows.unsqueeze(2) & cols.unsqueeze(1)
        assert bool((dense[~real] == -7.0).all())
        unpad_cost_like(p, bucket, dense, out=cost)
        unpad_masses(p, bucket, a, b, out=masses)
    assert torch.equal(cost, p.cost)
    # masses of problems with an empty side are in no bucket and stay NaN
    for got, want, ptr in ((masses[0], p.a, p.a_ptr), (masses[1], p.b, p.b_ptr)):
        owner = torch.repeat_interleave(torch.arange(p.num_problems), ptr.diff())
        bucketed = (p.sizes().min(1).values > 0)[owner]
        assert torch.equal(got[bucketed], want[bucketed])
        assert bool(got[~bucketed].isnan().all())


def test_transposed_problem_is_stored_as_b_a_ct():
    d = {"dtype": torch.float64}
    cost = torch.arange(6, **d).view(3, 2)
    p = TransportProblems.from_dense(
        [(torch.tensor([1.0, 2.0, 3.0], **d), torch.tensor([4.0, 5.0], **d), cost)]
    )
    (bucket,) = make_buckets(p)
    assert bucket.transposed.tolist() == [True] and bucket.shape == (2, 4)
    a, b, dense = pad_bucket(p, bucket)
    assert a.tolist() == [[4.0, 5.0]]
    assert b.tolist() == [[1.0, 2.0, 3.0, 0.0]]
    assert torch.equal(dense[0, :, :3], cost.T)


def test_subset_and_split():
    p = _mixed(seed=3)
    index = torch.tensor([5, 3, 12, 40])
    buckets = make_buckets(p, index=index)
    assert sorted(torch.cat([b.index for b in buckets]).tolist()) == [3, 5, 12, 40]
    big = max(make_buckets(p), key=lambda b: b.num_problems)
    per = big.shape[0] * big.shape[1]
    chunks = big.split(2 * per)
    assert all(c.num_problems <= 2 for c in chunks)
    assert torch.equal(torch.cat([c.index for c in chunks]), big.index)
    assert big.split(10**9) == [big]


def test_empty_batch_of_buckets():
    d = {"dtype": torch.float64}
    p = TransportProblems.from_dense(
        [(torch.zeros(0, **d), torch.ones(2, **d), torch.zeros(0, 2, **d))]
    )
    assert make_buckets(p) == []
    assert padding_counts(p, []) == (0, 0)
