"""Bucket production values between reference edges in one pass (numba, numpy fallback).

The exact two-sample statistics of :mod:`mlrails.drift.statistics` need, for every
production value, the bucket of the sorted reference *edges* it falls in: ``k = #edges <= x``.
``np.searchsorted`` on unsorted keys costs a binary search of cache misses per value, and
sorting a million-row column costs more than SciPy's whole ``ks_2samp``; so the edges get a
two-level grid and each value is placed by a few multiply-adds and a short search inside its
cell. Level 1 is uniform over the (possibly trimmed) range of the edges; each level-1 cell is
split uniformly into fine cells in proportion to the edges it holds, so skewed data get fine
cells where their edges are dense. The grid is only a shortcut: a value's cell is computed by
the same monotone float expression for edges and values, so ``cell(e) < cell(x)`` implies
``e < x`` and the result is exactly ``searchsorted(edges, x, side="right")``.

numba is imported lazily (it is installed with ``shap``), only for columns big enough to be
worth its start-up (about a second to load the cached kernels, a few to compile them the first
time); otherwise, without numba, or when it cannot compile, a numpy path (``searchsorted`` +
``bincount``) gives identical counts, more slowly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def _bucketize_loop(
    x: Any,
    edges: Any,
    s1: float,
    o1: float,
    top1: float,
    fine: Any,
    cstart: Any,
    acc: Any,
    eqc: Any,
    bid: Any,
) -> tuple[int, int]:  # pragma: no cover - compiled by numba
    """For each value: bucket ``k = #edges <= x`` (``edges`` padded with one +inf); per bucket
    ``acc[2k]`` the count and ``acc[2k + 1]`` the sum of ``x - edges[max(k - 1, 0)]`` (offsets
    from the left edge keep later differences exact), ``eqc[k]`` the count equal to the left
    edge; ``bid[j] = k`` (-1 for NaN/inf). Returns (#NaN, #inf).

    The edges of a value's cell are the only ones that can go either way: all edges of earlier
    cells are below it, all of later cells above. Two branch-free steps settle cells with at
    most two edges (stepping past the cell is impossible: the next edge is above the value);
    crowded cells get a binary search. The loop runs in blocks, one phase at a time (cells,
    search, accumulate), so that the table look-ups of a block do not wait on each other.
    """
    n = x.shape[0]
    blk = 256
    ks = np.empty(blk, np.int64)
    his = np.empty(blk, np.int64)
    nmiss = 0
    ninf = 0
    for s0 in range(0, n, blk):
        m = min(n, s0 + blk) - s0
        for i in range(m):
            v = x[s0 + i]
            c = 0
            if v - v == 0.0:
                a = int(min(max(v * s1 + o1, 0.0), top1))
                c = int(fine[a, 2]) + int(min(max(v * fine[a, 0] + fine[a, 1], 0.0), fine[a, 3]))
            ks[i] = cstart[c]
            his[i] = cstart[c + 1]
        for i in range(m):
            v = x[s0 + i]
            if v - v != 0.0:  # +inf would step past the +inf pad
                continue
            k = ks[i]
            hi = his[i]
            if hi - k > 2:
                while hi - k > 1:
                    mid = (k + hi) >> 1
                    if edges[mid] <= v:
                        k = mid
                    else:
                        hi = mid
                k += edges[k] <= v
            else:
                k += edges[k] <= v
                k += edges[k] <= v
            ks[i] = k
        for i in range(m):
            v = x[s0 + i]
            if v - v != 0.0:  # NaN or +-inf
                if v != v:
                    nmiss += 1
                else:
                    ninf += 1
                bid[s0 + i] = -1
                continue
            k = ks[i]
            left = edges[k - 1] if k > 0 else edges[0]
            acc[2 * k] += 1.0
            acc[2 * k + 1] += v - left
            if v == left and k > 0:
                eqc[k] += 1
            bid[s0 + i] = k
    return nmiss, ninf


def _level1_loop(x: Any, s1: float, o1: float, top1: float, out: Any) -> None:  # pragma: no cover
    """Level-1 cell of each (finite) value, the expression of ``_bucketize_loop``."""
    for j in range(x.shape[0]):
        out[j] = int(min(max(x[j] * s1 + o1, 0.0), top1))


def _cells_loop(
    x: Any, s1: float, o1: float, top1: float, fine: Any, out: Any
) -> None:  # pragma: no cover
    """Fine cell of each (finite) value, the expression of ``_bucketize_loop``."""
    for j in range(x.shape[0]):
        v = x[j]
        a = int(min(max(v * s1 + o1, 0.0), top1))
        out[j] = int(fine[a, 2]) + int(min(max(v * fine[a, 0] + fine[a, 1], 0.0), fine[a, 3]))


def _gather_loop(x: Any, bid: Any, mask: Any, out: Any) -> int:  # pragma: no cover
    """Values whose bucket is flagged in ``mask``, in row order."""
    p = 0
    for j in range(x.shape[0]):
        k = bid[j]
        if k >= 0 and mask[k]:
            out[p] = x[j]
            p += 1
    return p


def _refine_loop(
    sub: Any,
    edges: Any,
    ref: Any,
    r_le: Any,
    r_lt: Any,
    c_lt: Any,
    kk: Any,
    do_ks: Any,
    do_w: Any,
    n1: int,
    n2: int,
) -> tuple[float, float, float]:  # pragma: no cover - compiled by numba
    """Walk the merged reference and production points of buckets ``kk`` (ascending, all in
    1..len(edges) - 1; ``sub`` holds every production value of those buckets, sorted).

    Returns the largest ``F1 - F2`` and ``F2 - F1`` at the points of the ``do_ks`` buckets
    (each evaluated as SciPy does, ``count1 / n1 - count2 / n2``) and the integral of
    ``|F1 - F2|`` over the ``do_w`` buckets.
    """
    best_plus = 0.0
    best_minus = 0.0
    w = 0.0
    j = 0
    nsub = sub.shape[0]
    inf = np.inf
    for t in range(kk.shape[0]):
        k = kk[t]
        z = edges[k - 1]
        end = edges[k]
        while j < nsub and sub[j] < z:
            j += 1
        p0 = j
        while j < nsub and sub[j] == z:
            j += 1
        i = r_le[k - 1]
        iend = r_lt[k]
        c1 = i
        c2 = c_lt[k - 1] + (j - p0)
        ks = do_ks[t]
        ww = do_w[t]
        while True:
            zr = ref[i] if i < iend else inf
            zc = sub[j] if j < nsub and sub[j] < end else inf
            nz = min(zr, zc, end)
            if ww:
                w += abs(c1 / n1 - c2 / n2) * (nz - z)
            if nz == end:
                break
            while i < iend and ref[i] == nz:
                i += 1
            while j < nsub and sub[j] == nz:
                j += 1
                c2 += 1
            c1 = i
            if ks:
                diff = c1 / n1 - c2 / n2
                if diff > best_plus:
                    best_plus = diff
                if -diff > best_minus:
                    best_minus = -diff
            z = nz
    return best_plus, best_minus, w


_LOCK = threading.Lock()
_JIT: dict[str, Any] | None = None
_JIT_TRIED = False


def _jit() -> dict[str, Any] | None:
    """The compiled kernels, or None where numba is missing or cannot compile them."""
    global _JIT, _JIT_TRIED
    if _JIT_TRIED:
        return _JIT
    with _LOCK:
        if _JIT_TRIED:
            return _JIT
        try:
            import numba

            def compile_all(cache: bool) -> dict[str, Any]:
                fns = {
                    "bucketize": _bucketize_loop,
                    "level1": _level1_loop,
                    "cells": _cells_loop,
                    "gather": _gather_loop,
                    "refine": _refine_loop,
                }
                k: dict[str, Any] = {
                    name: numba.njit(nogil=True, cache=cache)(fn) for name, fn in fns.items()
                }
                # compile now (tiny inputs) so that a failure falls back here, not mid-run
                e = np.array([0.0, 1.0])
                ep = np.array([0.0, 1.0, np.inf])
                fine = np.array([[1.0, 0.0, 0.0, 0.5]])
                cs = np.array([0, 2], dtype=np.int32)
                b = np.empty(2, dtype=np.int32)
                z = np.zeros(3, np.int64)
                ro = e.copy()
                ro.flags.writeable = False  # pandas hands out read-only column views
                for xx in (e, ro):
                    k["bucketize"](xx, ep, 1.0, 0.0, 0.5, fine, cs, np.zeros(6), z.copy(), b)
                    k["gather"](xx, b, np.zeros(3, dtype=np.bool_), np.empty(2))
                k["level1"](e, 1.0, 0.0, 0.5, np.empty(2, dtype=np.int64))
                k["cells"](e, 1.0, 0.0, 0.5, fine, np.empty(2, dtype=np.int64))
                i1 = np.array([1], dtype=np.int64)
                i2 = np.array([0, 1], dtype=np.int64)
                t1 = np.ones(1, dtype=np.bool_)
                k["refine"](e, e, e, i2, i2, i2, i1, t1, t1, 2, 2)
                return k

            try:
                _JIT = compile_all(cache=True)
            except Exception:  # no writable cache location: compile in memory
                _JIT = compile_all(cache=False)
        except Exception:
            _JIT = None
        _JIT_TRIED = True
        return _JIT


def refine(
    sub: F64,
    edges: F64,
    ref: F64,
    r_le: I64,
    r_lt: I64,
    c_lt: I64,
    kk: I64,
    do_ks: NDArray[np.bool_],
    do_w: NDArray[np.bool_],
    n1: int,
    n2: int,
) -> tuple[float, float, float] | None:
    """The compiled merge walk of :func:`_refine_loop`, or None without numba."""
    jit = _jit()
    if jit is None:
        return None
    bp, bm, w = jit["refine"](sub, edges, ref, r_le, r_lt, c_lt, kk, do_ks, do_w, n1, n2)
    return float(bp), float(bm), float(w)


def numba_available() -> bool:
    """Whether the compiled kernels are in use."""
    return _jit() is not None


@dataclass(frozen=True)
class EdgeGrid:
    """Sorted distinct edges and the two-level grid that places a value among them (built and
    used only with the numba kernels: cells must come from the compiled expression)."""

    edges: F64
    padded: F64  # edges + [inf]
    s1: float  # level 1: a = int(clip(x * s1 + o1, 0, top1))
    o1: float
    top1: float
    fine: F64  # per level-1 cell: scale, offset, first fine cell, top (fine - first <= top)
    cstart: NDArray[np.int32]  # edges in fine cell c are edges[cstart[c]:cstart[c + 1]]

    @classmethod
    def build(
        cls, edges: F64, sample: F64, cells_per_edge: int = 4, level1: int = 1024
    ) -> EdgeGrid:
        """About ``cells_per_edge`` fine cells per edge under ``level1`` level-1 cells.

        Level 1 spans the edges between two symmetric ranks, tails clamped into its end
        cells; of a few spans, the one with the cheapest search for ``sample`` (the reference
        values) wins: a trimmed span stops a heavy tail from squeezing the bulk of the edges
        into a handful of level-1 cells.
        """
        n = len(edges)
        nl = max(1, min(level1, n))
        best: tuple[float, EdgeGrid] | None = None
        for trim in (0.0, 0.001, 0.005, 0.02, 0.05):
            i0 = int(trim * (n - 1))
            grid = cls._with_span(
                edges, float(edges[i0]), float(edges[n - 1 - i0]), nl, cells_per_edge
            )
            per = np.diff(grid.cstart)
            cost = float(np.mean(np.log2(1.0 + per[grid.cells(sample)])))
            if best is None or cost < best[0]:
                best = (cost, grid)
            if grid.s1 == 0.0:
                break
        assert best is not None
        return best[1]

    @classmethod
    def _with_span(cls, edges: F64, lo: float, hi: float, nl: int, cpe: int) -> EdgeGrid:
        s1 = nl / (hi - lo) if hi > lo else 0.0
        o1 = -lo * s1
        top1 = nl - 0.5
        left = lo + np.arange(nl) / s1 if s1 > 0 else np.zeros(nl)
        if not (np.isfinite(s1) and np.isfinite(o1) and np.isfinite(left).all()):
            s1, o1, left = 0.0, 0.0, np.zeros(nl)  # degenerate: one level-1 cell, still exact
        a = _level1(edges, s1, o1, top1)
        nf = np.maximum(1, cpe * np.bincount(a, minlength=nl)).astype(np.float64)
        sf = nf * s1
        of = -left * sf
        bad = ~(np.isfinite(sf) & np.isfinite(of))
        sf[bad], of[bad] = 0.0, 0.0
        first = np.concatenate([[0.0], np.cumsum(nf)[:-1]])
        fine = np.ascontiguousarray(np.column_stack([sf, of, first, nf - 0.5]))
        m = int(nf.sum())
        partial = cls(edges, np.append(edges, np.inf), s1, o1, top1, fine, np.zeros(1, np.int32))
        cstart = np.zeros(m + 1, dtype=np.int32)
        np.cumsum(np.bincount(partial.cells(edges), minlength=m), out=cstart[1:])
        return cls(edges, partial.padded, s1, o1, top1, fine, cstart)

    def cells(self, x: F64) -> NDArray[np.int64]:
        """Fine cell of each finite value of ``x`` (by the compiled expression)."""
        out = np.empty(len(x), dtype=np.int64)
        _compiled()["cells"](
            np.ascontiguousarray(x, dtype=np.float64), self.s1, self.o1, self.top1, self.fine, out
        )
        return out


def _level1(x: F64, s1: float, o1: float, top1: float) -> NDArray[np.int64]:
    out = np.empty(len(x), dtype=np.int64)
    _compiled()["level1"](np.ascontiguousarray(x, dtype=np.float64), s1, o1, top1, out)
    return out


def _compiled() -> dict[str, Any]:
    jit = _jit()
    if jit is None:
        raise RuntimeError("the edge grid needs the numba kernels")
    return jit


@dataclass
class Buckets:
    """Per-bucket production counts; bucket k holds values with ``k`` edges <= x."""

    count: I64  # values in bucket k (len(edges) + 1 buckets)
    offset: F64  # sum of x - edges[max(k - 1, 0)] over bucket k
    at_edge: I64  # values equal to edges[k - 1] (bucket k's left edge)
    bid: NDArray[np.int32]  # bucket of each row, -1 for missing
    n_missing: int
    n_infinite: int


def bucketize(x: F64, edges: F64, grid: EdgeGrid | None) -> Buckets:
    """Bucket ``x`` (1-D float64) among ``edges``: with the compiled kernel when ``grid`` (of
    the same edges) is given, else with ``searchsorted`` and ``bincount``."""
    nb = len(edges) + 1
    jit = _jit() if grid is not None else None
    if grid is not None and jit is not None:
        x = np.ascontiguousarray(x, dtype=np.float64)
        acc = np.zeros(2 * nb + 2, dtype=np.float64)  # + the bucket of the +inf pad, unused
        eqc = np.zeros(nb + 1, dtype=np.int64)
        bid = np.empty(len(x), dtype=np.int32)
        nmiss, ninf = jit["bucketize"](
            x, grid.padded, grid.s1, grid.o1, grid.top1, grid.fine, grid.cstart, acc, eqc, bid
        )
        cnt = acc[0 : 2 * nb : 2].astype(np.int64)
        return Buckets(cnt, acc[1 : 2 * nb : 2].copy(), eqc[:nb], bid, int(nmiss), int(ninf))
    finite = np.isfinite(x)
    nan = np.isnan(x)
    ninf = int(len(x) - finite.sum() - nan.sum())
    xs = x[finite]
    k = np.searchsorted(edges, xs, side="right")
    cnt = np.bincount(k, minlength=nb).astype(np.int64)
    left = edges[np.maximum(k - 1, 0)]
    sm = np.asarray(np.bincount(k, weights=xs - left, minlength=nb), dtype=np.float64)
    eq = (k > 0) & (left == xs)
    eqc = np.bincount(k[eq], minlength=nb).astype(np.int64)
    bid = np.full(len(x), -1, dtype=np.int32)
    bid[finite] = k
    return Buckets(cnt, sm, eqc, bid, int(nan.sum()), ninf)


def gather(x: F64, buckets: Buckets, mask: NDArray[np.bool_], *, compiled: bool) -> F64:
    """The values of ``x`` whose bucket is flagged in ``mask`` (row order)."""
    jit = _jit() if compiled else None
    if jit is not None:
        out = np.empty(int(buckets.count[mask].sum()), dtype=np.float64)
        got = jit["gather"](np.ascontiguousarray(x), buckets.bid, mask, out)
        return out[:got]
    ext = np.append(mask, False)  # bid -1 (missing) reads the trailing False
    return np.asarray(x[ext[buckets.bid]], dtype=np.float64)
