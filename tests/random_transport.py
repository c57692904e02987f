"""Random batches of transport problems and POT's exact values, shared by transport tests."""

from __future__ import annotations

import ot
import torch

from graphcurv.transport.problems import TransportProblems

TOL = 1e-4
F64 = {"dtype": torch.float64}
SHAPES = [(1, 1), (1, 6), (6, 1), (2, 2), (3, 7), (7, 3), (40, 40), (6, 6), (5, 30), (30, 5)]


def random_problems(
    seed: int, integer: bool, extra: int = 30, total: float = 0.7, target_zeros: bool = True
) -> TransportProblems:
    """Mixed sizes (fixed awkward shapes, then power-law ones), masses with zeros (on the
    target side too unless ``target_zeros=False``), equal totals ``total`` (not 1)."""
    gen = torch.Generator().manual_seed(seed)
    shapes = list(SHAPES) + [
        tuple(s) for s in (torch.rand(extra, 2, generator=gen) ** -1.2).clamp(2, 48).long().tolist()
    ]
    problems = []
    for n_a, n_b in shapes:
        a = torch.rand(n_a, generator=gen, **F64)
        b = torch.rand(n_b, generator=gen, **F64)
        a[torch.rand(n_a, generator=gen) < 0.2] = 0
        if target_zeros:
            b[torch.rand(n_b, generator=gen) < 0.2] = 0
        a[0] += 0.05
        b[-1] += 0.05
        a, b = a / a.sum() * total, b / b.sum() * total
        if integer:
            cost = torch.randint(0, 4, (n_a, n_b), generator=gen).to(torch.float64)
        else:
            cost = torch.rand(n_a, n_b, generator=gen, **F64)
        problems.append((a, b, cost))
    return TransportProblems.from_dense(problems)


def exact(problems: TransportProblems) -> torch.Tensor:
    """Reference W1 per problem with POT's ``ot.emd2``."""
    out = torch.zeros(problems.num_problems, **F64)
    for k in range(problems.num_problems):
        a, b, cost = (t.cpu().numpy() for t in problems.dense(k))
        total = a.sum() if a.size and b.size else 0.0
        if total > 0:  # normalised: ot.emd2 crashes on masses near 1e-300
            out[k] = float(ot.emd2(a / total, b / b.sum(), cost)) * total
    return out


def degenerate_problems() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """1x1, all-zero costs, zero masses, empty sides, constant costs, tiny masses, huge costs."""
    return [
        (torch.tensor([1.0], **F64), torch.tensor([1.0], **F64), torch.tensor([[2.0]], **F64)),
        (
            torch.tensor([0.3, 0.7], **F64),
            torch.tensor([0.5, 0.5], **F64),
            torch.zeros(2, 2, **F64),
        ),
        (torch.zeros(2, **F64), torch.zeros(3, **F64), torch.rand(2, 3, **F64)),
        (
            torch.tensor([0.0, 0.5, 0.0, 0.5], **F64),
            torch.tensor([0.25, 0.0, 0.75], **F64),
            torch.tensor([[0.0, 1, 2], [3, 2, 1], [1, 1, 1], [2, 0, 3]], **F64),
        ),
        (torch.zeros(0, **F64), torch.zeros(0, **F64), torch.zeros(0, 0, **F64)),
        (torch.zeros(0, **F64), torch.ones(2, **F64), torch.zeros(0, 2, **F64)),
        (
            torch.tensor([0.4, 0.6], **F64),
            torch.tensor([0.2, 0.8], **F64),
            torch.full((2, 2), 5.0, **F64),
        ),
        (
            torch.tensor([1e-300, 1e-300], **F64),
            torch.tensor([1e-300, 1e-300], **F64),
            torch.rand(2, 2, **F64),
        ),
        (
            torch.tensor([0.5, 0.5], **F64),
            torch.tensor([0.5, 0.5], **F64),
            torch.tensor([[0.0, 1e6], [1e6, 0.0]], **F64),
        ),
    ]
