"""A batch of many small optimal-transport problems of different sizes, stored ragged.

Problem ``k`` moves the masses ``a[a_ptr[k]:a_ptr[k+1]]`` onto
``b[b_ptr[k]:b_ptr[k+1]]`` at the cost ``cost[cost_ptr[k]:cost_ptr[k+1]]``, a
row-major ``(n_a, n_b)`` block. Nothing is padded to the largest problem, so a
batch of power-law sized problems (a hub next to many leaves) costs memory in
proportion to the sum of its problem sizes, ``sum_k n_a(k) * n_b(k)``.

Both sides of one problem must carry the same total mass (up to rounding); it
need not be 1, since curvature code removes the mass shared by both measures
before solving (an optimal plan under a metric cost leaves it in place).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from graphcurv.errors import GraphcurvError


@dataclass(frozen=True)
class TransportProblems:
    """Ragged batch of transport problems; see the module docstring for the layout.

    Example (two problems, 1x2 and 2x1):

    >>> import torch
    >>> p = TransportProblems.from_dense([
    ...     (torch.tensor([1.0]), torch.tensor([0.5, 0.5]), torch.tensor([[1.0, 2.0]])),
    ...     (torch.tensor([0.5, 0.5]), torch.tensor([1.0]), torch.tensor([[0.0], [3.0]])),
    ... ])
    >>> p.num_problems, p.sizes().tolist()
    (2, [[1, 2], [2, 1]])
    """

    a: Tensor
    b: Tensor
    cost: Tensor
    a_ptr: Tensor
    b_ptr: Tensor
    cost_ptr: Tensor

    def __post_init__(self) -> None:
        for name in ("a_ptr", "b_ptr", "cost_ptr"):
            ptr = getattr(self, name)
            if ptr.dim() != 1 or ptr.numel() < 1 or ptr.dtype != torch.long:
                raise GraphcurvError(f"{name} must be a 1-d long tensor of B+1 offsets")
        if not (self.a_ptr.numel() == self.b_ptr.numel() == self.cost_ptr.numel()):
            raise GraphcurvError("a_ptr, b_ptr and cost_ptr must have the same length")
        if int(self.a_ptr[-1]) != self.a.numel() or int(self.b_ptr[-1]) != self.b.numel():
            raise GraphcurvError("a_ptr / b_ptr do not end at the number of masses")
        if int(self.cost_ptr[-1]) != self.cost.numel():
            raise GraphcurvError("cost_ptr does not end at the number of cost entries")

    @property
    def num_problems(self) -> int:
        return self.a_ptr.numel() - 1

    @property
    def device(self) -> torch.device:
        return self.cost.device

    def sizes(self) -> Tensor:
        """``(B, 2)`` long tensor of ``(n_a, n_b)`` per problem."""
        return torch.stack([self.a_ptr.diff(), self.b_ptr.diff()], dim=1)

    def to(self, device: torch.device | str) -> TransportProblems:
        return TransportProblems(*(t.to(device) for t in self._fields()))

    def select(self, index: Tensor) -> TransportProblems:
        """The sub-batch of the problems listed in ``index`` (in that order)."""
        index = index.to(self.a_ptr.device, torch.long)
        a, a_ptr = _gather_segments(self.a, self.a_ptr, index)
        b, b_ptr = _gather_segments(self.b, self.b_ptr, index)
        cost, cost_ptr = _gather_segments(self.cost, self.cost_ptr, index)
        return TransportProblems(a, b, cost, a_ptr, b_ptr, cost_ptr)

    def dense(self, k: int) -> tuple[Tensor, Tensor, Tensor]:
        """Problem ``k`` as ``(a, b, M)`` with ``M`` of shape ``(n_a, n_b)`` (views, no copy)."""
        a = self.a[self.a_ptr[k] : self.a_ptr[k + 1]]
        b = self.b[self.b_ptr[k] : self.b_ptr[k + 1]]
        cost = self.cost[self.cost_ptr[k] : self.cost_ptr[k + 1]].view(a.numel(), b.numel())
        return a, b, cost

    @staticmethod
    def from_dense(problems: list[tuple[Tensor, Tensor, Tensor]]) -> TransportProblems:
        """Pack a list of ``(a, b, M)`` triples (all on one device, one dtype)."""
        if not problems:
            raise GraphcurvError("no transport problems given")
        a = torch.cat([p[0].reshape(-1) for p in problems])
        b = torch.cat([p[1].reshape(-1) for p in problems])
        cost = torch.cat([p[2].reshape(-1) for p in problems])
        for pa, pb, pm in problems:
            if pm.shape != (pa.numel(), pb.numel()):
                raise GraphcurvError(f"cost block of shape {tuple(pm.shape)} does not match masses")
        dev = a.device
        a_ptr = _offsets([p[0].numel() for p in problems], dev)
        b_ptr = _offsets([p[1].numel() for p in problems], dev)
        cost_ptr = _offsets([p[2].numel() for p in problems], dev)
        return TransportProblems(a, b, cost, a_ptr, b_ptr, cost_ptr)

    def _fields(self) -> tuple[Tensor, ...]:
        return (self.a, self.b, self.cost, self.a_ptr, self.b_ptr, self.cost_ptr)


def _offsets(lengths: list[int], device: torch.device) -> Tensor:
    out = torch.zeros(len(lengths) + 1, dtype=torch.long, device=device)
    out[1:] = torch.tensor(lengths, dtype=torch.long, device=device).cumsum(0)
    return out


def _gather_segments(values: Tensor, ptr: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
    """Concatenate the segments ``values[ptr[i]:ptr[i+1]]`` for ``i`` in ``index``."""
    lengths = ptr[index + 1] - ptr[index]
    new_ptr = torch.zeros(index.numel() + 1, dtype=torch.long, device=ptr.device)
    new_ptr[1:] = lengths.cumsum(0)
    total = int(new_ptr[-1])
    seg = torch.repeat_interleave(torch.arange(index.numel(), device=ptr.device), lengths)
    within = torch.arange(total, device=ptr.device) - new_ptr[:-1][seg]
    return values[ptr[index][seg] + within], new_ptr


@dataclass(frozen=True)
class BorderedProblems:
    r"""Transport problems that share their masses and most of their cost (NumPy arrays).

    Problem e moves ``[centre, *mu]`` onto ``[centre, *nu]`` at the cost

    .. math::
        C_e = \begin{pmatrix} \mathrm{corner}_e & \mathrm{rows}_e \\ \mathrm{cols}_e^\top & \mathrm{block} \end{pmatrix},

    so a batch of n problems ships ``n (1 + P + S)`` numbers and one P x S block instead
    of ``n (1 + P)(1 + S)``: the solver process expands them (:meth:`packed`).

    >>> import numpy as np
    >>> p = BorderedProblems(0.5, np.array([0.5]), np.array([0.5]), np.array([[2.0]]),
    ...                      np.array([1.0, 3.0]), np.array([[4.0], [5.0]]), np.array([[6.0], [7.0]]))
    >>> p.num_problems, p.packed()[2].tolist()
    (2, [1.0, 4.0, 6.0, 2.0, 3.0, 5.0, 7.0, 2.0])

    ``u`` and ``v``, when given, are feasible duals of the shared problem ``mu -> nu`` on
    ``block`` (:math:`u_p + v_s \le \mathrm{block}_{ps}`): the solver then starts every
    problem from the duals of :meth:`warm_duals` instead of from scratch.
    """

    centre: float
    mu: np.ndarray
    nu: np.ndarray
    block: np.ndarray  # (P, S)
    corner: np.ndarray  # (n,)
    rows: np.ndarray  # (n, S)
    cols: np.ndarray  # (n, P)
    u: np.ndarray | None = None  # (P,)
    v: np.ndarray | None = None  # (S,)

    @property
    def num_problems(self) -> int:
        return int(self.corner.size)

    @property
    def entries(self) -> int:
        return self.num_problems * (1 + self.mu.size) * (1 + self.nu.size)

    def split(self, max_entries: int) -> list[BorderedProblems]:
        """Consecutive sub-batches of about ``max_entries`` cost entries (at least one problem) each."""
        step = max(1, max_entries // ((1 + self.mu.size) * (1 + self.nu.size)))
        return [
            BorderedProblems(
                self.centre, self.mu, self.nu, self.block, self.corner[s : s + step], self.rows[s : s + step],
                self.cols[s : s + step], self.u, self.v,
            )
            for s in range(0, self.num_problems, step)
        ]  # fmt: skip

    def packed(self) -> tuple[np.ndarray, ...]:
        """The ragged layout of :class:`TransportProblems`: (a, b, cost, a_ptr, b_ptr, cost_ptr)."""
        n, p, s = self.num_problems, self.mu.size, self.nu.size
        a_side, b_side = np.r_[self.centre, self.mu], np.r_[self.centre, self.nu]
        cost = np.empty((n, 1 + p, 1 + s))
        cost[:, 0, 0] = self.corner
        cost[:, 0, 1:] = self.rows
        cost[:, 1:, 0] = self.cols
        cost[:, 1:, 1:] = self.block
        step = np.arange(n + 1, dtype=np.int64)
        return (
            np.tile(a_side, n), np.tile(b_side, n), cost.reshape(-1), step * (1 + p), step * (1 + s),
            step * (1 + p) * (1 + s),
        )  # fmt: skip

    def warm_duals(self) -> tuple[np.ndarray, np.ndarray]:
        r"""Feasible duals of every problem, in the layout of :meth:`packed`'s masses:
        ``(f, g)`` of shapes ``(n, 1 + P)`` and ``(n, 1 + S)`` (needs ``u`` and ``v``).

        For any :math:`\theta`, with :math:`d` the corner and :math:`D_2` the border,

        .. math::
            f = (\theta,\ \min(u_p, D_2[p, j] - d + \theta)), \qquad
            g = (d - \theta,\ \min(v_s, D_2[i, s] - \theta))

        satisfy :math:`f + g \le C` entrywise (the block's entries since
        :math:`u_p + v_s \le D_3[p, s]`). Their value is
        :math:`\langle\mu, u\rangle + \langle\nu, v\rangle + c\,d - F(\theta)` with
        :math:`F(\theta) = \sum_s \nu_s (\theta - r_s)^+ + \sum_p \mu_p (t_p - \theta)^+`,
        :math:`r_s = D_2[i, s] - v_s`, :math:`t_p = d - D_2[p, j] + u_p`. F is convex with
        slope :math:`\nu(r < \theta) + \mu(t < \theta) - \mu(\mathbb{1})`, so it is smallest
        at the weighted median of the values r (weights nu) and t (weights mu) together,
        which is the :math:`\theta` taken: the best duals of this form (the level bound of
        :mod:`graphcurv.neural.curvature.certificates`).

        >>> import numpy as np
        >>> p = BorderedProblems(0.5, np.array([0.5]), np.array([0.5]), np.array([[2.0]]),
        ...                      np.array([1.0]), np.array([[4.0]]), np.array([[6.0]]),
        ...                      np.array([2.0]), np.array([0.0]))
        >>> f, g = p.warm_duals()
        >>> f.tolist(), g.tolist()  # here optimal: <a, f> + <b, g> = W1 = 1.5
        ([[-3.0, 2.0]], [[4.0, 0.0]])
        """
        if self.u is None or self.v is None:
            raise ValueError("warm_duals needs the shared problem's duals u and v")
        d = self.corner[:, None]
        r = self.rows - self.v[None, :]
        t = d - self.cols + self.u[None, :]
        values = np.concatenate([r, t], axis=1)
        weights = np.concatenate([self.nu, self.mu])
        order = np.argsort(values, axis=1, kind="stable")
        cumulative = np.cumsum(weights[order], axis=1)
        half = 0.5 * float(weights.sum())
        median = np.minimum((cumulative < half).sum(axis=1), values.shape[1] - 1)
        theta = np.take_along_axis(values, np.take_along_axis(order, median[:, None], 1), 1)
        f = np.concatenate([theta, np.minimum(self.u[None, :], self.cols - d + theta)], axis=1)
        g = np.concatenate([d - theta, np.minimum(self.v[None, :], self.rows - theta)], axis=1)
        return f, g
