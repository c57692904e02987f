r"""The transport problem of every live edge (i -> j) of one connection, for one sample.

Rows are the support of mu_i: the centre i (layer l), then its kept predecessors p
(layer l-1); columns the support of nu_j: the centre j (layer l+1), then its kept
successors s (layer l+2). The ground cost is the directed shortest-path distance:

=========  ======================  ======================
           column j                column s
=========  ======================  ======================
row i      d(i, j) = 1 / |w_ij|    D2_l[i, s]
row p      D2_{l-1}[p, j]          D3_{l-1}[p, s]
=========  ======================  ======================

The supports lie in four different layers, so no mass is shared. Problems are packed
ragged (:class:`~graphcurv.transport.problems.TransportProblems`), row-major.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphcurv import arrays as xp
from graphcurv.arrays import Array
from graphcurv.neural.curvature.measures import SideMeasures
from graphcurv.transport.problems import TransportProblems


@dataclass(frozen=True)
class LayerDistances:
    """The distance matrices one connection's problems read (None where a side is absent)."""

    before: Array | None  # D2_{l-1}: layer l-1 -> l+1
    after: Array | None  # D2_l: layer l -> l+2
    across: Array | None  # D3_{l-1}: layer l-1 -> l+2


def problem_sizes(src: SideMeasures, dst: SideMeasures, i: Array, j: Array) -> Array:
    """Cost entries of each edge's problem."""
    return (1 + src.ptr[i + 1] - src.ptr[i]) * (1 + dst.ptr[j + 1] - dst.ptr[j])


def build_edge_problems(
    src: SideMeasures, dst: SideMeasures, i: Array, j: Array, length: Array, distances: LayerDistances
) -> TransportProblems:
    """Problems of the edges (i[k] -> j[k]) with lengths ``length[k]`` (NumPy arrays on the
    CPU, torch tensors on CUDA, as :mod:`graphcurv.arrays`)."""
    row_node, row_mass, row_centre, na = _support(src, i)
    col_node, col_mass, col_centre, nb = _support(dst, j)
    count = xp.size(na)
    b_ptr = xp.offsets(nb)
    problem_of_row = xp.repeat(xp.arange(count, i), na)
    width = nb[problem_of_row]  # each row spans its problem's columns
    ia = xp.repeat(xp.arange(xp.size(row_node), i), width)
    shift = xp.offsets(width)[:-1] - b_ptr[:-1][problem_of_row]  # first entry of a row -> its first column
    jb = xp.arange(xp.size(ia), i) - shift[ia]
    rc, cc = row_centre[ia], col_centre[jb]
    rn, cn = row_node[ia], col_node[jb]
    cost = length[problem_of_row[ia]] * 1.0  # the (i, j) entries; the rest is overwritten below
    for mask, matrix in ((rc & ~cc, distances.after), (~rc & cc, distances.before), (~rc & ~cc, distances.across)):
        if xp.any_true(mask):
            cost[mask] = matrix[rn[mask], cn[mask]]
    fields = (row_mass, col_mass, cost, xp.offsets(na), b_ptr, xp.offsets(na * nb))
    return TransportProblems(*(xp.to_tensor(f) for f in fields))


def _support(side: SideMeasures, centre: Array):
    """Per problem: the centre first, then its kept neighbours (node ids local to their layer)."""
    n = side.ptr[centre + 1] - side.ptr[centre] + 1
    problem = xp.repeat(xp.arange(xp.size(centre), centre), n)
    local = xp.arange(xp.size(problem), centre) - xp.offsets(n)[:-1][problem]
    is_centre = local == 0
    c = centre[problem]
    if xp.size(side.node) == 0:
        return c, side.centre_mass[c], is_centre, n
    entry = side.ptr[c] + local - 1
    entry[is_centre] = 0
    node = xp.where(is_centre, c, side.node[entry])
    mass = xp.where(is_centre, side.centre_mass[c], side.mass[entry])
    return node, mass, is_centre, n
