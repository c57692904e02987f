r"""Neural curvature on an executor (:mod:`graphcurv.execution`): inputs as units of work.

The grouped engine's unit of work is one calibration input: its bounds pass, then the
LPs that can still lower a minimum, solved in the worker's own process. The chain's
geometry (distances, side layouts, edge groups: everything input-independent) is the
shared data, shipped to every worker once per map. Per block of inputs (up to the next
checkpoint, as in :func:`~graphcurv.neural.curvature.engine.neural_curvature`):

1. a bounds map: every input's certified upper bounds, whose minimum over the block
   bounds each edge's score from above (the look-ahead);
2. a solve map of the inputs still to do, with one ceiling for the block: the running
   minimum before the block and the look-ahead's bound (per parameter entry with
   ``per_parameter``).

So the work, and the result, does not depend on which worker solves what or how many
there are: a local process pool and a Dask cluster give the same values, bit for bit.
Against the in-process engine, minima (edge scores with ``exact="edges"``, parameter
scores) are the same exact values; only edges that skipped their LP keep a certified
lower bound that may differ (the in-process engine tightens its ceiling after every
input, here once per block).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from graphcurv.neural.curvature.grouped import GroupedGeometry, grouped_sample_curvature, prepare_sample
from graphcurv.transport.exact import ExactSolverPool


@dataclass(frozen=True)
class InputWork:
    """What every unit of one run reads: the grouped geometry and the engine's options."""

    grouped: GroupedGeometry
    alpha: float
    threshold: float
    tol: float
    per_parameter: bool


def input_bounds(unit: Tensor, shared: tuple[InputWork, None]) -> tuple[list[Tensor], list[Tensor]]:
    """Unit of the bounds map: one input's certified upper bounds and dead-rule masks."""
    work, _ = shared
    prepared = prepare_sample(work.grouped, unit, work.alpha, threshold=work.threshold, tol=work.tol)
    return [t.cpu() for t in prepared.upper()], [t.cpu() for t in prepared.dead_masks()]


def input_curvature(unit: Tensor, shared: tuple[InputWork, list[Tensor] | None]):
    """Unit of the solve map: one input's kappa_N, dead-rule masks and truncation bound,
    its LPs solved in this process, skipping those that cannot go below the block's
    ``ceiling`` (shared by the map's units)."""
    sample, (work, ceiling) = unit, shared
    with ExactSolverPool(1) as pool:
        kappa, dead, bound = grouped_sample_curvature(
            work.grouped,
            sample,
            work.alpha,
            pool.submit,
            threshold=work.threshold,
            tol=work.tol,
            ceiling=ceiling,
            per_parameter=work.per_parameter,
        )
    return [t.cpu() for t in kappa], [t.cpu() for t in dead], bound
