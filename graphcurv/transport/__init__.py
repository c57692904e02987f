"""Many small optimal-transport problems at once, behind one function.

``wasserstein(problems, solver=...)`` returns W1 of every problem of a
:class:`~graphcurv.transport.problems.TransportProblems` batch:

* ``"exact"`` — POT's network simplex per problem, with an optimality certificate
  (:mod:`graphcurv.transport.exact`); the default and the reference.
* ``"sinkhorn"`` — batched log-domain Sinkhorn with epsilon scaling and rounding to a
  feasible plan, bucketed by problem size, suited to GPUs; each value is certified
  within ``tol`` by an LP-duality lower bound, and the rare problems not certified after
  ``max_iter`` are re-solved exactly (:mod:`graphcurv.transport.sinkhorn`).
* ``"pot-batch"`` — POT's ``ot.batch`` solvers on the same buckets, for comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from torch import Tensor

from graphcurv.errors import GraphcurvError
from graphcurv.transport.exact import ExactSolverPool, wasserstein_exact
from graphcurv.transport.problems import TransportProblems

SOLVERS = ("exact", "sinkhorn", "pot-batch")


def wasserstein(
    problems: TransportProblems, *, solver: str = "exact", tol: float = 1e-4, workers: int | None = None
) -> Tensor:
    """W1 of every problem in the batch (float64, shape (B,), on the batch's device)."""
    if solver == "exact":
        return wasserstein_exact(problems, workers=workers)
    if solver == "sinkhorn":
        from graphcurv.transport.sinkhorn import wasserstein_sinkhorn

        # Problems not certified within tol after max_iter are re-solved exactly.
        return wasserstein_sinkhorn(problems, tol=tol, fallback=lambda p: wasserstein_exact(p, workers=workers))
    if solver == "pot-batch":
        from graphcurv.transport.pot_batch import wasserstein_pot_batch

        return wasserstein_pot_batch(problems, tol=tol)
    raise GraphcurvError(f"unknown transport solver {solver!r}: choose one of {', '.join(SOLVERS)}")


@contextmanager
def solver_session(
    solver: str = "exact", *, tol: float = 1e-4, workers: int | None = None
) -> Iterator[Callable[[TransportProblems], Callable[[], Tensor]]]:
    """A ``submit(problems) -> wait()`` function for streaming many batches to one solver.

    The exact solver keeps its worker processes for the whole session and solves while
    the caller builds the next batch; the batched solvers run at submission.
    """
    if solver == "exact":
        with ExactSolverPool(workers) as pool:
            yield pool.submit
        return
    if solver not in SOLVERS:
        raise GraphcurvError(f"unknown transport solver {solver!r}: choose one of {', '.join(SOLVERS)}")

    def submit(problems: TransportProblems) -> Callable[[], Tensor]:
        result = wasserstein(problems, solver=solver, tol=tol)
        return lambda: result

    yield submit


__all__ = ["SOLVERS", "ExactSolverPool", "TransportProblems", "solver_session", "wasserstein", "wasserstein_exact"]
