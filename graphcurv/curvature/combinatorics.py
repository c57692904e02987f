"""Per-edge counting blocks of the curvature package: degrees, triangles, 4-cycles.

Everything here reads the *underlying simple undirected graph* of an ``edge_index``:
``y`` is a neighbour of ``x`` when ``(x, y)`` or ``(y, x)`` is listed, self-loops and
repeated entries are ignored. For a PyG undirected graph (both directions stored) that
is the graph itself. Per-edge results are returned for the edge list *as given*, so
both directions of an undirected edge get the same value (and a self-loop gets 0).

Notation for an edge ``(x, y)``: ``N(v)`` the neighbours of ``v``, ``d_v = |N(v)|``,
``t = |N(x) & N(y)|`` the triangles on the edge, and the "private" neighbourhoods

    D_x = N(x) \\ (N(y) | {y}),    D_y = N(y) \\ (N(x) | {x}).

A 4-cycle ``x ~ k ~ w ~ y ~ x`` through the edge has no diagonal exactly when
``k in D_x``, ``w in D_y`` and ``k ~ w``, so the 4-cycle quantities of Balanced Forman
curvature (Topping et al. 2022, Definition 1) are read off the bipartite graph of
edges between ``D_x`` and ``D_y``:

* ``sq_x = #{k in D_x : N(k) & D_y != {}}`` (neighbours of ``x`` that start such a
  4-cycle), ``sq_y`` likewise;
* ``gamma_max = max(max_{k in D_x} |N(k) & D_y|, max_{w in D_y} |N(w) & D_x|)``, the
  largest number of such 4-cycles through one node; the paper writes
  ``|N(k) & D_y|`` as ``A_k . (A_y - A_x * A_y) - 1`` (the ``- 1`` removes ``x``).

Cost (``n`` nodes, ``M`` undirected edges). Building :class:`SimpleAdjacency` sorts
``O(M)`` keys. Triangles enumerate *degree-ordered wedges* (Chiba and Nishizeki 1985):
nodes are ranked by ``(degree, id)`` and a wedge is listed only from its lowest to its
highest corner, which bounds the work by ``O(arboricity * M) <= O(M ** 1.5)`` (4.5
million wedges for a Barabasi-Albert graph with one million edges). The 4-cycle
counts have two exact strategies and pick the cheaper one on the fly
(:meth:`SimpleAdjacency.four_cycles`): *listing* the 4-cycles whose opposite corners
are not adjacent, once each, from degree-ordered wedges grouped by their end points
(work ``O(arboricity * M)`` + the number of such cycles: 116,000 on that graph); or
*counting 2-paths* (work ``sum_x d_x ** 2`` + diamonds), which wins on dense
bipartite-like graphs such as the fully connected layers of a neural network, where
``K_{a,b}`` has ``a**2 b**2 / 4`` 4-cycles but only ``a b (a + b)`` 2-paths. Past
``2 ** 34`` steps both ways they raise :class:`GraphcurvError`. Work is done in
chunks of about ``2 ** 24`` items, so memory stays ``O(M + chunk)`` plus the per-edge
records; no ``n x n`` matrix is ever formed. Everything is index arithmetic in torch
(sort, searchsorted, bincount, repeat_interleave), so it runs unchanged on CUDA. Keys
are ``a * n + b`` in int64, which limits ``n`` to about 3e9 nodes.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphcurv.errors import GraphcurvError

_CHUNK = 1 << 24  # wedges (or 4-cycle candidates) handled at once
_MAX_FOUR_CYCLE_WORK = 1 << 34  # 2-paths or 4-cycles; beyond this, give up


class EdgeFourCycles(NamedTuple):
    """The 4-cycle counts of Balanced Forman curvature, one entry per edge (long)."""

    sq_x: Tensor
    sq_y: Tensor
    gamma_max: Tensor


def _check_edge_index(edge_index: Tensor, num_nodes: int) -> None:
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise GraphcurvError("edge_index must be a (2, E) tensor")
    if edge_index.dtype.is_floating_point or edge_index.dtype == torch.bool:
        raise GraphcurvError("edge_index must hold integer node ids (torch.long)")
    if num_nodes is None or int(num_nodes) < 0:
        raise GraphcurvError("num_nodes must be a non-negative integer")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= int(num_nodes)):
        raise GraphcurvError(f"edge_index refers to nodes outside 0..{int(num_nodes) - 1}")


class SimpleAdjacency:
    """Rank-sorted adjacency of the simple undirected graph under ``edge_index``.

    Built once (one sort of ``O(E)`` keys) and shared by the counting methods, so a
    caller that needs degrees, triangles and 4-cycles pays for the structure once.

    Attributes:
        num_nodes: ``n``.
        degree: ``(n,)`` long, number of distinct neighbours (self-loops ignored).
        pairs: ``(2, M)`` long, the undirected edges ``a < b``, sorted.
        edge_pair: ``(E,)`` long, the pair each given edge lies on (-1 for a self-loop).
        edge_from_high: ``(E,)`` bool, the given edge starts at the larger id ``b``.

    Example:
        >>> adj = SimpleAdjacency(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), 3)
        >>> adj.degree.tolist(), adj.pairs.tolist()
        ([1, 2, 1], [[0, 1], [1, 2]])
    """

    def __init__(self, edge_index: Tensor, num_nodes: int) -> None:
        _check_edge_index(edge_index, num_nodes)
        n = int(num_nodes)
        edge_index = edge_index.long()
        device = edge_index.device
        row, col = edge_index[0], edge_index[1]
        self.num_nodes = n
        self.device = device
        loop = row == col
        low, high = torch.minimum(row, col), torch.maximum(row, col)
        key, inverse = torch.unique((low * n + high)[~loop], return_inverse=True)
        self.key = key  # sorted, unique: a * n + b with a < b
        self.edge_pair = torch.full_like(row, -1)
        self.edge_pair[~loop] = inverse
        self.edge_from_high = row > col
        a, b = key // max(n, 1), key % max(n, 1)
        self.pairs = torch.stack([a, b])
        m = key.numel()
        self.num_pairs = m
        self.degree = torch.bincount(torch.cat([a, b]), minlength=n)
        # rank nodes by (degree, id); ties of the stable sort keep id order
        order = torch.sort(self.degree, stable=True).indices
        rank = torch.empty_like(order)
        rank[order] = torch.arange(n, device=device)
        self.rank = rank
        # CSR over both directions, each row sorted by the neighbour's rank
        rows = torch.cat([a, b])
        cols = torch.cat([b, a])
        pid = torch.arange(m, device=device).repeat(2)
        perm = torch.argsort(rows * max(n, 1) + rank[cols])
        self.row = rows[perm]
        self.nbr = cols[perm]
        self.nbr_pair = pid[perm]
        self.ptr = torch.zeros(n + 1, dtype=torch.long, device=device)
        self.ptr[1:] = torch.cumsum(self.degree, 0)
        self.position = torch.arange(2 * m, device=device) - self.ptr[self.row]
        lower = rank[self.nbr] < rank[self.row]
        self.num_lower = torch.bincount(self.row[lower], minlength=n)
        # slots v -> u with rank(u) > rank(v): every listed wedge u - v - w uses one
        self.up = torch.nonzero(~lower).squeeze(1)
        self._triangle_count: Tensor | None = None

    # ------------------------------------------------------------------ lookups
    def pair_id(self, u: Tensor, v: Tensor) -> Tensor:
        """Index of the undirected edge ``{u, v}`` in :attr:`pairs`, or -1 if absent."""
        if self.num_pairs == 0:
            return torch.full_like(u, -1)
        k = torch.minimum(u, v) * self.num_nodes + torch.maximum(u, v)
        idx = torch.searchsorted(self.key, k).clamp_(max=self.num_pairs - 1)
        return torch.where(self.key[idx] == k, idx, torch.full_like(idx, -1))

    def per_edge(self, side0: Tensor, side1: Tensor | None = None) -> Tensor:
        """Spread a per-pair value to the given edges (``x``'s side; 0 on self-loops).

        ``side0`` belongs to the smaller endpoint ``a``, ``side1`` to ``b``; with one
        argument the value is symmetric.
        """
        ok = self.edge_pair >= 0
        p = self.edge_pair.clamp(min=0)
        value = side0[p]
        if side1 is not None:
            value = torch.where(self.edge_from_high, side1[p], value)
        return torch.where(ok, value, torch.zeros_like(value))

    # --------------------------------------------------------------- triangles
    def _triangle_chunks(self):
        """Yield ``(u, v, w, p_vu, p_vw, p_uw)``: every triangle once, ranked u > v > w."""
        up = self.up
        lengths = self.num_lower[self.row[up]]
        for start, stop in _owner_slices(lengths, _CHUNK):
            up_c = up[start:stop]
            owner, j = _expand(lengths[start:stop])
            t = self.ptr[self.row[up_c]][owner] + j  # slot of w in v's row
            p_uw = self.pair_id(self.nbr[up_c][owner], self.nbr[t])
            closed = torch.nonzero(p_uw >= 0).squeeze(1)
            owner, t, p_uw = owner[closed], t[closed], p_uw[closed]
            s = up_c[owner]
            yield self.nbr[s], self.row[s], self.nbr[t], self.nbr_pair[s], self.nbr_pair[t], p_uw

    def triangles(self, values: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """Triangles per pair, and optionally per-side sums over the triangle apexes.

        With ``values`` (one number per pair), also returns ``(2, M)`` sums: row 0 is
        ``sum_{z in N(a) & N(b)} values[{a, z}]`` and row 1 the same with ``b``.
        Each triangle is found once, from its lowest-ranked corner ``w`` through the
        middle one ``v`` to the highest ``u``. The counts are cached.
        """
        m = self.num_pairs
        if values is None and self._triangle_count is not None:
            return self._triangle_count, None
        count = torch.zeros(m, dtype=torch.long, device=self.device)
        sums = None
        if values is not None:
            sums = torch.zeros(2, m, dtype=values.dtype, device=self.device)
        for u, v, w, p_vu, p_vw, p_uw in self._triangle_chunks():
            count += torch.bincount(torch.cat([p_vu, p_vw, p_uw]), minlength=m)
            if sums is not None:
                val_vu, val_vw, val_uw = values[p_vu], values[p_vw], values[p_uw]
                _add_sides(sums, p_vu, v, u, val_vw, val_uw)
                _add_sides(sums, p_vw, v, w, val_vu, val_uw)
                _add_sides(sums, p_uw, u, w, val_vu, val_vw)
        self._triangle_count = count
        return count, sums

    # ---------------------------------------------------------------- 4-cycles
    def four_cycles(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(sq_a, sq_b, gamma_max)`` per pair (side ``a`` is the smaller endpoint).

        Two exact strategies, chosen by cost. *Listing* (sparse and power-law graphs):
        wedges ``u - v - w`` with ``u`` the highest-ranked corner are grouped by
        ``(u, w)``; two wedges of a group close a 4-cycle ``u v1 w v2`` found exactly
        once; groups with ``u ~ w`` and pairs with ``v1 ~ v2`` have a diagonal and are
        dropped; each chordless cycle adds, for each of its 4 edges, one edge of the
        bipartite graph between ``D_x`` and ``D_y``. *Paths* (dense bipartite-like
        graphs, where 4-cycles outnumber 2-paths): see :meth:`_four_cycles_by_paths`.
        Listing starts, and hands over to paths as soon as the 4-cycles it has met
        outnumber the paths (``sum_x d_x ** 2``) plus the diamonds paths must subtract.
        """
        n, m = self.num_nodes, self.num_pairs
        path_cost = int((self.degree * self.degree).sum()) if n else 0
        with_diamonds = False
        up = self.up
        u_of = self.nbr[up]
        order = torch.sort(u_of, stable=True).indices
        up, u_of = up[order], u_of[order]
        lengths = self.position[up]  # neighbours of v ranked below u
        tables: list[tuple[Tensor, Tensor] | None] = [None, None]
        candidates = 0
        for start, stop in _owner_slices(lengths, _CHUNK, group=u_of):
            up_c = up[start:stop]
            owner, j = _expand(lengths[start:stop])
            t = self.ptr[self.row[up_c]][owner] + j  # slot of w in v's row
            gkey, perm = torch.sort((u_of[start:stop] * n)[owner] + self.nbr[t])
            # only wedges sharing their end points (u, w) with another one close cycles
            same = gkey[1:] == gkey[:-1]
            shared = torch.zeros_like(gkey, dtype=torch.bool)
            shared[1:] |= same
            shared[:-1] |= same
            keep = torch.nonzero(shared).squeeze(1)
            gkey, perm = gkey[keep], perm[keep]
            u, w = gkey // n, gkey % n
            keep = torch.nonzero(self.pair_id(u, w) < 0).squeeze(1)  # u ~ w: a diagonal
            gkey, u, w = gkey[keep], u[keep], w[keep]
            s = up_c[owner[perm[keep]]]
            t = t[perm[keep]]
            v = self.row[s]
            _, counts = torch.unique_consecutive(gkey, return_counts=True)
            gend = torch.repeat_interleave(torch.cumsum(counts, 0), counts)
            partners = gend - 1 - torch.arange(gkey.numel(), device=self.device)
            candidates += int(partners.sum())
            if candidates > min(path_cost, _MAX_FOUR_CYCLE_WORK):
                if not with_diamonds:
                    tri = self.triangles()[0]
                    path_cost += 2 * int((tri * (tri - 1)).sum())
                    with_diamonds = True
                if candidates > min(path_cost, _MAX_FOUR_CYCLE_WORK):
                    # cheaper by 2-paths (or hopeless either way: that raises)
                    return self._four_cycles_by_paths(path_cost)
            for pstart, pstop in _owner_slices(partners, _CHUNK):
                first, off = _expand(partners[pstart:pstop])
                i = first + pstart
                k = i + 1 + off
                v1, v2 = v[i], v[k]
                keep = self.pair_id(v1, v2) < 0
                i, k, v1, v2 = i[keep], k[keep], v1[keep], v2[keep]
                uu, ww = u[i], w[i]
                edges = (
                    (self.nbr_pair[s[i]], uu, v1, v2, ww),  # edge, x, y, k in D_x, w in D_y
                    (self.nbr_pair[t[i]], v1, ww, uu, v2),
                    (self.nbr_pair[t[k]], ww, v2, v1, uu),
                    (self.nbr_pair[s[k]], v2, uu, ww, v1),
                )
                pair = torch.cat([e[0] for e in edges])
                x = torch.cat([e[1] for e in edges])
                y = torch.cat([e[2] for e in edges])
                kx = torch.cat([e[3] for e in edges])
                wy = torch.cat([e[4] for e in edges])
                side0 = torch.where(x < y, kx, wy)  # the endpoint a < b owns side 0
                side1 = torch.where(x < y, wy, kx)
                for side, node in enumerate((side0, side1)):
                    tables[side] = _merge_counts(tables[side], pair * n + node)
        out = []
        gamma = torch.zeros(m, dtype=torch.long, device=self.device)
        for table in tables:
            sq = torch.zeros(m, dtype=torch.long, device=self.device)
            if table is not None:
                keys, counts = table
                pair = keys // n
                sq = torch.bincount(pair, minlength=m)
                gamma = gamma.scatter_reduce(0, pair, counts, "amax")
            out.append(sq)
        return out[0], out[1], gamma

    def _four_cycles_by_paths(self, cost: int) -> tuple[Tensor, Tensor, Tensor]:
        """The 4-cycle counts from the 2-paths ``y - x - k``, without listing cycles.

        For the edge ``(x, y)`` and ``k in D_x`` (``k ~ x``, ``k != y``, ``k !~ y``),
        the number of 4-cycles ``x k w y`` without diagonal is
        ``c = |N(y) & N(k)| - 1 - |N(x) & N(y) & N(k)|``: common neighbours of ``y``
        and ``k`` except ``x`` and those adjacent to ``x``. ``|N(y) & N(k)|`` is the
        number of 2-paths from ``y`` to ``k`` (grouped per ``y``, so chunks hold whole
        rows); the last term counts diamonds, from pairs of apexes of a triangle edge
        ``(x, x')``. Work ``sum_x d_x ** 2 + 2 sum_e t_e (t_e - 1)``.
        """
        if cost > _MAX_FOUR_CYCLE_WORK:
            raise GraphcurvError(
                f"counting the 4-cycles of this graph needs more than {_MAX_FOUR_CYCLE_WORK:,} "
                "steps either way (it has both many 2-paths and many 4-cycles); Balanced "
                "Forman curvature is out of reach for it"
            )
        n, m = self.num_nodes, self.num_pairs
        dev = self.device
        sq = torch.zeros(2 * m, dtype=torch.long, device=dev)
        gamma = torch.zeros(m, dtype=torch.long, device=dev)
        diamond_keys, diamond_counts = self._diamonds()
        lengths = self.degree[self.nbr]  # slot y -> x: paths y - x - k for k in N(x)
        side_slot = 2 * self.nbr_pair + (self.nbr > self.row).long()  # (pair, x's side)
        for start, stop in _owner_slices(lengths, _CHUNK, group=self.row):
            row, nbr, length = self.row[start:stop], self.nbr[start:stop], lengths[start:stop]
            total = int(length.sum())
            owner = torch.repeat_interleave(torch.arange(stop - start, device=dev), length, output_size=total)
            # k runs over the row of x: slot ptr[x] + j, j = 0 .. d_x - 1
            shift = self.ptr[nbr] - (torch.cumsum(length, 0) - length)
            k = self.nbr[shift[owner] + torch.arange(total, device=dev)]
            y0, rows = int(row[0]), int(row[-1]) - int(row[0]) + 1
            if rows * n <= 4 * _CHUNK:
                # few rows y in this chunk: count the 2-paths (y, k) in a dense table
                local = ((row - y0) * n)[owner] + k
                codeg = torch.bincount(local, minlength=rows * n)
                closed = torch.zeros(rows * n, dtype=torch.bool, device=dev)
                closed[(row - y0) * n + nbr] = True  # y ~ k: a diagonal
                closed[(row - y0) * (n + 1) + y0] = True  # k = y
                count = torch.where(closed[local], 0, codeg[local] - 1)
            else:
                gkey, perm = torch.sort(row[owner] * n + k)
                groups, codeg = torch.unique_consecutive(gkey, return_counts=True)
                y, kk = groups // n, groups % n
                open_ = (self.pair_id(y, kk) < 0) & (y != kk)
                count = torch.empty_like(k)
                count[perm] = torch.repeat_interleave(torch.where(open_, codeg - 1, 0), codeg)
            if diamond_keys.numel():
                key = side_slot[start:stop][owner] * n + k
                idx = torch.searchsorted(diamond_keys, key).clamp_(max=diamond_keys.numel() - 1)
                count = count - torch.where(diamond_keys[idx] == key, diamond_counts[idx], 0)
            count = count.clamp_(min=0)  # k = y or y ~ k: no cycle
            hits = torch.zeros(stop - start, dtype=torch.long, device=dev)
            hits.index_add_(0, owner, (count > 0).long())
            most = torch.zeros(stop - start, dtype=torch.long, device=dev)
            most = most.scatter_reduce(0, owner, count, "amax")
            sq.index_add_(0, side_slot[start:stop], hits)
            gamma = gamma.scatter_reduce(0, self.nbr_pair[start:stop], most, "amax")
        sq = sq.view(m, 2)
        return sq[:, 0], sq[:, 1], gamma

    def _diamonds(self) -> tuple[Tensor, Tensor]:
        """``|N(x) & N(y) & N(k)|`` for ``y !~ k``, keyed ``(2 pair(x, y) + side) n + k``.

        Each such common neighbour ``x'`` makes ``y`` and ``k`` two apexes of a
        triangle on the edge ``(x, x')``, so pairs of apexes per edge list them all.
        """
        n, dev = self.num_nodes, self.device
        parts = []
        for u, v, w, p_vu, p_vw, p_uw in self._triangle_chunks():
            # (edge, x, x', apex z, pair(x, z), pair(x', z)) for the 3 edges
            parts.append((p_vu, v, u, w, p_vw, p_uw))
            parts.append((p_vw, v, w, u, p_vu, p_uw))
            parts.append((p_uw, u, w, v, p_vu, p_vw))
        empty = torch.empty(0, dtype=torch.long, device=dev)
        if not parts:
            return empty, empty
        edge, x0, x1, z, p0, p1 = (torch.cat(c) for c in zip(*parts))
        order = torch.sort(edge, stable=True).indices
        edge, x0, x1, z, p0, p1 = edge[order], x0[order], x1[order], z[order], p0[order], p1[order]
        _, counts = torch.unique_consecutive(edge, return_counts=True)
        gend = torch.repeat_interleave(torch.cumsum(counts, 0), counts)
        partners = gend - 1 - torch.arange(edge.numel(), device=dev)
        keys = []
        for start, stop in _owner_slices(partners, _CHUNK):
            first, off = _expand(partners[start:stop])
            i = first + start
            k = i + 1 + off
            keep = self.pair_id(z[i], z[k]) < 0
            i, k = i[keep], k[keep]
            for a, b in ((i, k), (k, i)):  # y = z[a], k = z[b]
                for x, p in ((x0[a], p0[a]), (x1[a], p1[a])):
                    keys.append((2 * p + (x > z[a]).long()) * n + z[b])
        if not keys:
            return empty, empty
        return torch.unique(torch.cat(keys), return_counts=True)


# ---------------------------------------------------------------------- helpers
def _expand(lengths: Tensor) -> tuple[Tensor, Tensor]:
    """Ragged ranges: ``owner`` repeated ``lengths[owner]`` times, with 0..len-1."""
    total = int(lengths.sum()) if lengths.numel() else 0
    ar = torch.arange(lengths.numel(), device=lengths.device)
    owner = torch.repeat_interleave(ar, lengths, output_size=total)
    start = torch.cumsum(lengths, 0) - lengths
    return owner, torch.arange(total, device=lengths.device) - start[owner]


def _owner_slices(lengths: Tensor, budget: int, group: Tensor | None = None) -> list:
    """Split owners into consecutive slices of about ``budget`` total length.

    With ``group`` (sorted ids), a slice never splits a run of equal ids. A slice holds
    at most ``budget`` plus one run, so a single large owner forms its own slice.
    """
    if lengths.numel() == 0:
        return []
    cum = torch.cumsum(lengths, 0)
    if group is not None:
        last = torch.ones_like(group, dtype=torch.bool)
        last[:-1] = group[1:] != group[:-1]
        run = torch.cumsum(last.long(), 0) - last.long()
        cum = cum[torch.nonzero(last).squeeze(1)][run]
    _, counts = torch.unique_consecutive(cum // budget, return_counts=True)
    bounds = [0, *torch.cumsum(counts, 0).tolist()]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _add_sides(sums: Tensor, pair: Tensor, x: Tensor, y: Tensor, vx: Tensor, vy: Tensor):
    """Add ``vx`` to the side of endpoint ``x`` of ``pair`` and ``vy`` to ``y``'s."""
    sums[0].index_add_(0, pair, torch.where(x < y, vx, vy))
    sums[1].index_add_(0, pair, torch.where(x < y, vy, vx))


def _merge_counts(table: tuple[Tensor, Tensor] | None, keys: Tensor):
    """Running ``(unique keys, multiplicities)`` with ``keys`` added."""
    new_keys, new_counts = torch.unique(keys, return_counts=True)
    if table is None:
        return new_keys, new_counts
    keys = torch.cat([table[0], new_keys])
    merged, inverse = torch.unique(keys, return_inverse=True)
    counts = torch.zeros_like(merged).index_add_(0, inverse, torch.cat([table[1], new_counts]))
    return merged, counts


# ------------------------------------------------------------------- public API
def degrees(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Number of distinct neighbours of each node, ``(num_nodes,)`` long.

    For a PyG undirected graph without self-loops or repeated edges this equals
    ``torch_geometric.utils.degree(edge_index[0], num_nodes)``.

    Example:
        >>> degrees(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), 4).tolist()
        [1, 2, 1, 0]
    """
    return SimpleAdjacency(edge_index, num_nodes).degree


def edge_triangles(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Triangles through each edge, ``t(x, y) = |N(x) & N(y)|``, ``(E,)`` long.

    Cost ``O(arboricity * E)``, see the module docstring.

    Example (two triangles 0-1-2 and 1-2-3 sharing the edge 1-2):
        >>> from torch_geometric.utils import to_undirected
        >>> ei = to_undirected(torch.tensor([[0, 0, 1, 1, 2], [1, 2, 2, 3, 3]]))
        >>> dict(zip(map(tuple, ei.t().tolist()), edge_triangles(ei, 4).tolist()))[(1, 2)]
        2
    """
    adj = SimpleAdjacency(edge_index, num_nodes)
    return adj.per_edge(adj.triangles()[0])


def edge_four_cycles(edge_index: Tensor, num_nodes: int) -> EdgeFourCycles:
    """``sq_x``, ``sq_y`` and ``gamma_max`` of Balanced Forman curvature per edge.

    Definitions (Topping et al. 2022, Definition 1) are in the module docstring:
    ``sq_x`` counts the neighbours ``k`` of ``x`` (``k`` not ``y``, not adjacent to
    ``y``) that start a 4-cycle ``x ~ k ~ w ~ y`` with ``w`` not adjacent to ``x``;
    ``gamma_max`` is the largest number of such cycles through one ``k`` or ``w``.

    Example (the 4-cycle 0-1-2-3: every edge has sq_x = sq_y = gamma_max = 1):
        >>> ei = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3]])
        >>> c = edge_four_cycles(ei, 4)
        >>> c.sq_x.tolist(), c.gamma_max.tolist()
        ([1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1])
    """
    adj = SimpleAdjacency(edge_index, num_nodes)
    sq_a, sq_b, gamma = adj.four_cycles()
    return EdgeFourCycles(adj.per_edge(sq_a, sq_b), adj.per_edge(sq_b, sq_a), adj.per_edge(gamma))


def undirected_graph(
    data: Data, method: str, family: str = "the Forman family"
) -> tuple[SimpleAdjacency, Tensor | None]:
    """Check ``data`` for the undirected curvature ``method``; return its structure.

    Returns the :class:`SimpleAdjacency` and the edge lengths, or ``None`` when the
    graph is unweighted (no ``edge_weight``, or all lengths 1). Raises
    :class:`GraphcurvError` for a directed graph (one direction or two different
    lengths), self-loops, repeated edges, or lengths that are not finite and positive.
    """
    edge_index = getattr(data, "edge_index", None)
    if edge_index is None:
        raise GraphcurvError(f"{method}: the graph has no edge_index")
    num_nodes = data.num_nodes
    if num_nodes is None:
        raise GraphcurvError(f"{method}: set data.num_nodes")
    _check_edge_index(edge_index, num_nodes)
    weight = data.edge_weight if "edge_weight" in data else None
    if weight is not None:
        if weight.dim() == 2 and weight.size(1) == 1:
            weight = weight.squeeze(1)
        if weight.shape != (edge_index.size(1),) or not weight.dtype.is_floating_point:
            raise GraphcurvError(f"{method}: edge_weight must be a float tensor of shape (E,)")
        if not bool(torch.isfinite(weight).all()) or bool((weight <= 0).any()):
            raise GraphcurvError(f"{method}: edge lengths must be finite and positive")
    if bool((edge_index[0] == edge_index[1]).any()):
        raise GraphcurvError(
            f"{method}: the graph has self-loops; remove them (torch_geometric.utils.remove_self_loops)"
        )
    # undirected and simple: each pair {a, b} listed exactly once as (a, b) and once
    # as (b, a), with the same length (torch_geometric.utils.is_undirected, without
    # its two coalescing sorts)
    adj = SimpleAdjacency(edge_index, num_nodes)
    m = adj.num_pairs
    high = adj.edge_from_high
    forward = torch.bincount(adj.edge_pair[~high], minlength=m)
    backward = torch.bincount(adj.edge_pair[high], minlength=m)
    if bool((forward > 1).any()) or bool((backward > 1).any()):
        raise GraphcurvError(f"{method}: the graph repeats edges; merge them (torch_geometric.utils.coalesce)")
    directed = bool((forward != backward).any())
    if not directed and weight is not None:
        length = torch.zeros(2, m, dtype=weight.dtype, device=weight.device)
        length[high.long(), adj.edge_pair] = weight
        directed = not torch.equal(length[0], length[1])
    if directed:
        raise GraphcurvError(
            f"{method}: {family} here is defined for undirected graphs; store "
            "both directions of every edge with the same length "
            "(torch_geometric.utils.to_undirected)"
        )
    if weight is not None and bool((weight == 1).all()):
        weight = None
    return adj, weight
