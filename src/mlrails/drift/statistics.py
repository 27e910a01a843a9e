"""Two-sample statistics of a production window against a stored reference sample.

Numeric fields: the two-sample Kolmogorov–Smirnov statistic and p-value, bit-for-bit the
numbers of ``scipy.stats.ks_2samp(ref, cur)`` (two-sided, ``method="auto"``); the
Wasserstein-1 distance of the two empirical CDFs (``scipy.stats.wasserstein_distance``); the
population stability index on reference-quantile bins (the bin edges are the reference order
statistics of ranks floor(j n / bins), so both sides' bin counts are exact).

Categorical fields: the chi-square test of homogeneity of the 2 × k table (reference and
production counts per category), the numbers of ``scipy.stats.chi2_contingency(table)`` with
its defaults (so Yates' continuity correction when k = 2); Cramér's V as with equal sample
sizes, plain and debiased; PSI over the categories.

Benjamini–Hochberg adjusted p-values as ``scipy.stats.false_discovery_control(p)``.

How the exact numeric statistics avoid sorting a million-row window: the reference (sorted
once, at fit) gets up to ~16k *edges* (order statistics, distinct); one pass places every
production value between two edges (:mod:`._kernels`). The ECDF difference ``F1 - F2`` at the
edges is then exact, and inside a bucket it is bounded by the counts at its two ends, so only
the few buckets whose bound could beat the best edge value (KS), or whose ``F1 - F2`` could
change sign (Wasserstein), have their values gathered and sorted. Elsewhere the integral of
``|F1 - F2|`` over a bucket is ``|∫F1 - ∫F2|``, linear in the bucket's count and sum.
The maximum of ``F1 - F2`` lies at a reference point and that of ``F2 - F1`` at a production
point; every candidate is evaluated as SciPy does, ``count1 / n1 - count2 / n2``, so the
statistic is the same float.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats

from mlrails.drift.kernels import Buckets, EdgeGrid, bucketize, gather, numba_available, refine

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

#: SciPy's ``ks_2samp(method="auto")`` is exact when both samples have at most this many values.
KS_EXACT_MAX_N = 10_000
#: Most edges a numeric reference gets (finer: fewer values to sort, bigger tables).
MAX_EDGES = 16_384
#: Windows from this many values on use the numba kernels (if numba is installed).
COMPILED_MIN_VALUES = 20_000


# --------------------------------------------------------------------------------------------
# numeric reference and comparison


@dataclass
class NumericIndex:
    """What the comparison needs of one sorted numeric reference sample (built once)."""

    values: F64  # sorted, finite
    edges: F64  # distinct reference values at evenly spaced ranks (+ the PSI ranks)
    r_le: I64  # #ref <= edge
    r_lt: I64  # #ref < edge
    s1: F64  # per bucket k in 1..E-1: sum of (edges[k] - y) over ref y in the bucket
    psi_pos: I64  # positions in edges of the PSI bin edges
    psi_ref: I64  # reference counts per PSI bin
    std: float
    bridge: float  # J = integral of sqrt(F(1 - F)) dx over the reference ECDF F
    _grid: EdgeGrid | None = field(default=None, repr=False)

    def grid(self) -> EdgeGrid:
        """The numba kernel's grid over the edges (built on first use)."""
        if self._grid is None:
            self._grid = EdgeGrid.build(self.edges, self.values)
        return self._grid

    @classmethod
    def build(cls, values: F64, psi_bins: int, max_edges: int = MAX_EDGES) -> NumericIndex:
        """Edges at evenly spaced ranks plus the PSI decile ranks, all reference values."""
        if len(values) == 0:
            raise ValueError("empty reference sample")
        r = values
        n = len(r)
        psi_ranks = (np.arange(1, psi_bins, dtype=np.int64) * n) // psi_bins
        ranks = np.unique(
            np.concatenate(
                [np.rint(np.linspace(0, n - 1, min(n, max_edges))).astype(np.int64), psi_ranks]
            )
        )
        edges = np.unique(r[ranks])
        r_le = np.searchsorted(r, edges, side="right").astype(np.int64)
        r_lt = np.searchsorted(r, edges, side="left").astype(np.int64)
        s1 = np.zeros(len(edges) + 1)
        if len(edges) > 1:
            # reference values in bucket k (1..E-1): r[r_lt[k-1]:r_lt[k]]
            lo, hi = int(r_lt[0]), int(r_lt[-1])
            k_of = np.repeat(np.arange(1, len(edges)), np.diff(r_lt))
            gaps = edges[k_of] - r[lo:hi]
            s1[1 : len(edges)] = np.bincount(k_of - 1, weights=gaps, minlength=len(edges) - 1)
        psi_q = np.unique(r[psi_ranks])
        psi_pos = np.searchsorted(edges, psi_q).astype(np.int64)
        psi_ref = np.diff(np.concatenate([[0], r_lt[psi_pos], [n]])).astype(np.int64)
        f = np.arange(1, n) / n
        return cls(
            values=r,
            edges=edges,
            r_le=r_le,
            r_lt=r_lt,
            s1=s1,
            psi_pos=psi_pos,
            psi_ref=psi_ref,
            std=float(np.std(r)),
            bridge=float(np.sum(np.sqrt(f * (1.0 - f)) * np.diff(r))) if n > 1 else 0.0,
        )


@dataclass(frozen=True)
class NumericStats:
    """KS statistic (before the exact-branch rounding), Wasserstein-1, PSI of one field."""

    d: float
    wasserstein: float
    psi: float
    n_ref: int
    n_cur: int
    n_missing: int
    n_infinite: int
    refined_values: int = 0  # production values that had to be sorted (diagnostics)


def wasserstein_null_mean(bridge: float, n1: int, n2: int) -> float:
    """Expected Wasserstein-1 distance between two samples of sizes n1, n2 from one law.

    ``F1 - F2`` at x is about normal with variance F(1 - F)(1/n1 + 1/n2) (Donsker), so
    E|F1 - F2| = sqrt(2/pi) sqrt(F(1 - F)(1/n1 + 1/n2)), integrated over x:
    sqrt(2/pi) sqrt(1/n1 + 1/n2) J with J = ∫ sqrt(F(1 - F)) dx (del Barrio, Giné & Matrán
    1999 for the one-sample limit). This is the sampling noise a window shows without drift:
    0.09 reference standard deviations for 200 rows, 0.04 for 1,000, 0.017 for 10,000.
    """
    return math.sqrt(2.0 / math.pi) * math.sqrt(1.0 / n1 + 1.0 / n2) * bridge


def _ranges(starts: I64, stops: I64) -> I64:
    """Concatenation of ``arange(a, b)`` for each pair (vectorised)."""
    lens = stops - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    return np.asarray(np.arange(total, dtype=np.int64) + offs, dtype=np.int64)


def compare_numeric(
    ix: NumericIndex, x: F64, *, psi_epsilon: float = 1e-4, use_numba: bool | None = None
) -> NumericStats:
    """Exact KS statistic, Wasserstein-1 and PSI of ``x`` (NaN omitted) against ``ix``.

    ``use_numba``: None picks the compiled kernels for windows of at least
    ``COMPILED_MIN_VALUES`` values when numba is installed; True / False force a path (both
    give the same numbers).
    """
    compiled = (
        len(x) >= COMPILED_MIN_VALUES and numba_available()
        if use_numba is None
        else use_numba and numba_available()
    )
    b: Buckets = bucketize(x, ix.edges, ix.grid() if compiled else None)
    n1 = len(ix.values)
    n2 = len(x) - b.n_missing - b.n_infinite
    if n2 == 0 or b.n_infinite:
        return NumericStats(
            math.nan, math.nan, math.nan, n1, n2, b.n_missing, b.n_infinite, refined_values=0
        )
    e = ix.edges
    ne = len(e)
    cnt = b.count
    c_lt = np.cumsum(cnt)[:ne]  # #cur < edges[i]
    c_le = c_lt + b.at_edge[1:]  # #cur <= edges[i]
    r_le, r_lt = ix.r_le, ix.r_lt

    # --- KS at the edges (reference points), exactly as SciPy evaluates them
    cd = r_le / n1 - c_le / n2
    best_plus = max(float(cd.max()), 0.0)  # the largest data point always gives 0
    best_minus = max(float((-cd).max()), float(c_lt[0] / n2), 0.0)  # + cur points < min(ref)
    d_lo = max(best_plus, best_minus)

    # --- buckets 1..E-1 (between two edges): bounds, and which need their values
    ub_plus = r_lt[1:] / n1 - c_le[:-1] / n2
    ub_minus = c_lt[1:] / n2 - r_le[:-1] / n1
    inner_cur = cnt[1:ne] - b.at_edge[1:ne]
    inner_ref = r_lt[1:] - r_le[:-1]
    ks_cand = ((inner_cur > 0) | (inner_ref > 0)) & (np.maximum(ub_plus, ub_minus) > d_lo)
    low = r_le[:-1] * n2 - c_lt[1:] * n1  # n1 n2 (F1 - F2) is within [low, high] there
    high = r_lt[1:] * n2 - c_le[:-1] * n1
    w_cand = (low < 0) & (high > 0)

    # --- Wasserstein-1: closed form where F1 - F2 keeps its sign over a bucket
    span = e[1:] - e[:-1]
    s2 = cnt[1:ne] * span - b.offset[1:ne]  # sum of (edges[k] - x) over cur x in bucket k
    integral = span * (r_lt[:-1] / n1 - c_lt[:-1] / n2) + ix.s1[1:ne] / n1 - s2 / n2
    w = float(np.abs(integral[~w_cand]).sum())
    w += float(-b.offset[0] / n2) + float(b.offset[ne] / n2)  # below min(ref), above max(ref)

    need = ks_cand | w_cand
    refined = 0
    if need.any():
        mask = np.zeros(ne + 1, dtype=np.bool_)
        mask[1:ne] = need
        sub = np.sort(gather(x, b, mask, compiled=compiled))
        refined = len(sub)
        kk = np.flatnonzero(need) + 1
        walked = None
        if compiled:
            walked = refine(
                sub, e, ix.values, r_le, r_lt, c_lt, kk, ks_cand[kk - 1], w_cand[kk - 1], n1, n2
            )
        if walked is not None:
            best_plus = max(best_plus, walked[0])
            best_minus = max(best_minus, walked[1])
            w += walked[2]
        else:
            bp, bm, wr = _refine_numpy(ix, sub, c_lt, ks_cand, w_cand, n1, n2)
            best_plus, best_minus, w = max(best_plus, bp), max(best_minus, bm), w + wr
    d = best_minus if best_minus > best_plus else best_plus

    # --- PSI on the reference-quantile bins
    cur_bins = np.diff(np.concatenate([[0], c_lt[ix.psi_pos], [n2]]))
    psi = population_stability_index(ix.psi_ref / n1, cur_bins / n2, psi_epsilon)
    return NumericStats(d, w, psi, n1, n2, b.n_missing, 0, refined_values=refined)


def _refine_numpy(
    ix: NumericIndex,
    sub: F64,
    c_lt: I64,
    ks_cand: NDArray[np.bool_],
    w_cand: NDArray[np.bool_],
    n1: int,
    n2: int,
) -> tuple[float, float, float]:
    """Vectorised twin of ``_kernels._refine_loop`` (used without numba)."""
    e, r_le, r_lt = ix.edges, ix.r_le, ix.r_lt
    best_plus = best_minus = w = 0.0
    sub_k = np.searchsorted(e, sub, side="right")  # bucket of each gathered value
    sub_start = np.searchsorted(sub, e, side="left")  # #sub < edges[i]

    def cur_le(z: F64, kz: I64) -> I64:
        """#cur <= z for points z inside gathered buckets kz."""
        le = np.searchsorted(sub, z, side="right")
        return np.asarray(c_lt[kz - 1] + le - sub_start[kz - 1], dtype=np.int64)

    if ks_cand.any():
        kk = np.flatnonzero(ks_cand) + 1
        zr = ix.values[_ranges(r_le[kk - 1], r_lt[kk])]
        zc_mask = ks_cand[sub_k - 1]
        z = np.concatenate([zr, sub[zc_mask]])
        kz = np.searchsorted(e, z, side="right")
        cdz = np.searchsorted(ix.values, z, side="right") / n1 - cur_le(z, kz) / n2
        if len(cdz):
            best_plus = float(cdz.max())
            best_minus = float((-cdz).max())
    if w_cand.any():
        kk = np.flatnonzero(w_cand) + 1
        zr = ix.values[_ranges(r_le[kk - 1], r_lt[kk])]
        z = np.sort(np.concatenate([e[kk - 1], zr, sub[w_cand[sub_k - 1]]]))
        kz = np.searchsorted(e, z, side="right")
        nxt = np.empty_like(z)
        nxt[:-1] = z[1:]
        last = np.ones(len(z), dtype=np.bool_)
        last[:-1] = kz[1:] != kz[:-1]
        nxt[last] = e[kz[last]]
        c1 = np.searchsorted(ix.values, z, side="right")
        w = float(np.sum(np.abs(c1 / n1 - cur_le(z, kz) / n2) * (nxt - z)))
    return best_plus, best_minus, w


# --------------------------------------------------------------------------------------------
# KS p-values


def _exact_2samp() -> Callable[..., tuple[bool, float, float]] | None:
    try:
        from scipy.stats._stats_py import _attempt_exact_2kssamp
    except ImportError:  # pragma: no cover - a SciPy that moved its private helper
        return None
    return _attempt_exact_2kssamp  # type: ignore[no-any-return]


def ks_pvalues(
    d: F64,
    n1: I64,
    n2: I64,
    exact_fallback: Callable[[int], tuple[float, float]] | None = None,
) -> tuple[F64, F64]:
    """(statistic, p-value) per field, as ``scipy.stats.ks_2samp(method="auto")`` computes.

    SciPy is exact (Hodges 1958) when both samples have at most 10,000 values (the statistic
    is then rounded to a multiple of 1/lcm(n1, n2)); otherwise, or if the exact computation
    fails, it uses Smirnov's limit through ``kstwo.sf(d, round(n1 n2 / (n1 + n2)))``.
    ``exact_fallback(i)`` recomputes field i with SciPy if its private helper is missing.
    """
    d = np.asarray(d, dtype=np.float64).copy()
    n1 = np.asarray(n1, dtype=np.int64)
    n2 = np.asarray(n2, dtype=np.int64)
    p = np.full(len(d), np.nan)
    asymp = np.ones(len(d), dtype=np.bool_)
    exact = _exact_2samp()
    for i in np.flatnonzero((np.maximum(n1, n2) <= KS_EXACT_MAX_N) & np.isfinite(d)):
        a, b = int(n1[i]), int(n2[i])
        if exact is None:
            if exact_fallback is None:
                raise RuntimeError("SciPy's exact two-sample KS helper is not available")
            d[i], p[i] = exact_fallback(int(i))
            asymp[i] = False
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ok, di, pi = exact(a, b, math.gcd(a, b), float(d[i]), "two-sided")
        d[i] = di
        if ok:
            p[i] = float(np.clip(pi, 0.0, 1.0))
            asymp[i] = False
    sel = asymp & np.isfinite(d)
    if sel.any():
        m = np.maximum(n1[sel], n2[sel]).astype(np.float64)
        n = np.minimum(n1[sel], n2[sel]).astype(np.float64)
        en = m * n / (m + n)
        p[sel] = np.clip(stats.kstwo.sf(d[sel], np.round(en)), 0.0, 1.0)
    return d, p


# --------------------------------------------------------------------------------------------
# categorical


@dataclass(frozen=True)
class ChiSquare:
    """Chi-square test of homogeneity of a 2 × k table and its effect sizes."""

    statistic: float
    p_value: float
    dof: int
    cramers_v: float  # Cramér's V of the table with both rows scaled to the same total
    cramers_v_debiased: float  # the same, less its expected value without drift
    psi: float
    yates: bool = field(default=False)


def chi_square_homogeneity(ref: I64, cur: I64, psi_epsilon: float = 1e-4) -> ChiSquare:
    """``scipy.stats.chi2_contingency([ref, cur])`` (defaults: Yates' correction when k = 2).

    Pearson's statistic sum((O - E)^2 / E) with E = row total × column total / N, k - 1
    degrees of freedom. The effect size is Cramér's V (Cramér 1946) of the *share* table:
    V^2 = 1/2 sum_j (p_ref,j - p_cur,j)^2 / (p_ref,j + p_cur,j), which is what V would be with
    equal sample sizes. Plain V shrinks with the ratio of the two sample sizes (with a
    100,000-row reference and a 1,000-row window, by a factor of ~10), so it could not carry a
    fixed threshold. Without drift E[V^2] = (k - 1)(1/n1 + 1/n2) / 4 (each squared share
    difference has expectation p(1 - p)(1/n1 + 1/n2)); the debiased V subtracts it, in the
    spirit of Bergsma's (2013) bias-corrected Cramér's V, so that many categories in a small
    window do not pass for an effect (50 categories, 200 rows: V ≈ 0.25 from noise alone).
    """
    obs = np.array([ref, cur], dtype=np.float64)
    keep = obs.sum(axis=0) > 0
    obs = obs[:, keep]
    k = obs.shape[1]
    n1, n2 = obs[0].sum(), obs[1].sum()
    p_ref, p_cur = obs[0] / n1, obs[1] / n2
    psi = population_stability_index(p_ref, p_cur, psi_epsilon)
    if k <= 1:
        return ChiSquare(0.0, 1.0, 0, 0.0, 0.0, psi)
    v2 = float(0.5 * np.sum((p_ref - p_cur) ** 2 / (p_ref + p_cur)))
    v2_null = (k - 1) * (1.0 / n1 + 1.0 / n2) / 4.0
    row = obs.sum(axis=1, keepdims=True)
    col = obs.sum(axis=0, keepdims=True)
    expected = row * col / obs.sum()
    dof = k - 1
    yates = dof == 1
    if yates:
        diff = expected - obs
        obs = obs + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    stat = float(np.sum((obs - expected) ** 2 / expected))
    p = float(special.chdtrc(dof, stat))
    v, v_d = math.sqrt(min(v2, 1.0)), math.sqrt(min(max(v2 - v2_null, 0.0), 1.0))
    return ChiSquare(stat, p, dof, v, v_d, psi, yates)


# --------------------------------------------------------------------------------------------
# PSI and multiple testing


def cohens_h(p1: float, p2: float) -> float:
    """Cohen's *h* from proportion ``p1`` to ``p2``: ``2·asin√p2 − 2·asin√p1``."""
    return 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1))


def population_stability_index(p_ref: F64, p_cur: F64, epsilon: float = 1e-4) -> float:
    """PSI = sum (p_cur - p_ref) ln(p_cur / p_ref) over bins (Siddiqi 2006, *Credit Risk
    Scorecards*), each share floored at ``epsilon`` so that an empty bin gives a large finite
    term instead of infinity (the convention of most monitoring tools, Evidently's included).
    Rules of thumb: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 major shift."""
    a = np.maximum(np.asarray(p_ref, dtype=np.float64), epsilon)
    b = np.maximum(np.asarray(p_cur, dtype=np.float64), epsilon)
    return float(np.sum((b - a) * np.log(b / a)))


def benjamini_hochberg(p: F64) -> F64:
    """Benjamini–Hochberg (1995) adjusted p-values, as ``scipy.stats.false_discovery_control``:
    p_(i) m / i made monotone from the largest p down, clipped to 1. NaN stays NaN and does not
    count in m."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m == 0:
        return out
    if m == 1:
        out[ok] = p[ok]
        return out
    order = np.argsort(p[ok])
    ps = p[ok][order]
    ps *= m / np.arange(1, m + 1, dtype=np.float64)
    np.minimum.accumulate(ps[::-1], out=ps[::-1])
    adj = np.empty(m)
    adj[order] = ps
    out[ok] = np.clip(adj, 0.0, 1.0)
    return out
