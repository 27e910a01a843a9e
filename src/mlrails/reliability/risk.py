"""Certify a silent-failure rate: the share of wrong answers among the rows a guard answers.

A row is *answered* when its error score is at most a threshold ``lambda`` (and nothing else
refused it). :func:`certify_selective_risk` picks the most permissive ``lambda`` for which

    P( error rate among answered rows <= alpha ) >= 1 - delta

over the draw of the calibration rows, by Learn-then-Test (Angelopoulos, Bates, Candès,
Jordan & Lei 2021): one null hypothesis ``H_lambda: risk(lambda) > alpha`` per threshold of a
grid, each tested with the binomial tail p-value of the errors among the answered
calibration rows, ``p = BinomCDF(k; n, alpha)``, in fixed sequences from strict thresholds
to lax ones, each stopping at its first hypothesis not rejected. Four sequences with
different starting points run at ``delta / 4`` each (Bonferroni); fixed-sequence testing has
no multiplicity penalty within a sequence, so the family-wise error is at most ``delta`` and
the certified threshold keeps the promise with probability ``1 - delta``.

Assumptions, stated where the certificate is reported: the calibration rows and the rows
served later are exchangeable (i.i.d. from one distribution); the error score and the
threshold grid do not depend on the certifying rows (the grid comes from other rows, see
``grid``). Given a fixed threshold, the errors among answered rows are binomial; grid points
that answer too few rows to start a sequence on are skipped, a choice made from counts
only, which keeps the binomial tail conservative (Hoeffding 1956).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import binom

#: the silent-failure rates ``fit`` reports the trade-off at
TRADEOFF_ALPHAS: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1, 0.2)
#: how many thresholds the default grid has
GRID_SIZE = 200
#: fixed sequences run from different starting points (each at ``delta / SEQUENCES``)
SEQUENCES = 4
#: the threshold that answers every row (JSON has no infinity)
ANSWER_ALL = float(np.finfo(np.float64).max)
#: the threshold that answers no row: nothing could be certified
ANSWER_NONE = -ANSWER_ALL


@dataclass(frozen=True)
class TradeoffPoint:
    """Coverage at one silent-failure rate ``alpha`` on the certifying rows.

    ``coverage``: the largest share of rows a grid threshold answers with an empirical error
    at most ``alpha`` (what the data shows, no guarantee); ``certified_coverage``: the share
    answered at the threshold Learn-then-Test certifies at ``1 - delta`` (0 when none is).
    """

    alpha: float
    coverage: float
    certified_coverage: float


@dataclass(frozen=True)
class RiskCertificate:
    """A certified threshold on an error score (answer when ``score <= threshold``).

    ``threshold`` is ``-inf`` when no threshold could be certified: then no row is answered
    200 by this rule. ``coverage`` and ``error_rate`` are measured on the ``n_calibration``
    certifying rows at that threshold; ``upper_bound`` is the one-sided ``1 - delta``
    Clopper–Pearson bound of the error rate there.
    """

    alpha: float
    delta: float
    threshold: float
    coverage: float
    error_rate: float
    upper_bound: float
    n_calibration: int
    n_answered: int
    method: str = "learn-then-test (fixed sequence, binomial tail)"
    tradeoff: list[TradeoffPoint] = field(default_factory=list)

    @property
    def certified(self) -> bool:
        """Whether some rows are answered under the certificate."""
        return self.n_answered > 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RiskCertificate:
        return cls(
            alpha=float(d["alpha"]),
            delta=float(d["delta"]),
            threshold=float(d["threshold"]),
            coverage=float(d["coverage"]),
            error_rate=float(d["error_rate"]),
            upper_bound=float(d["upper_bound"]),
            n_calibration=int(d["n_calibration"]),
            n_answered=int(d["n_answered"]),
            method=str(d.get("method", cls.method)),
            tradeoff=[TradeoffPoint(**p) for p in d.get("tradeoff", [])],
        )


def min_rows_to_certify(alpha: float, delta: float) -> int:
    """The fewest answered rows with which zero errors reject ``risk > alpha`` at ``delta``:
    the smallest ``n`` with ``(1 - alpha) ** n <= delta``."""
    _check_levels(alpha, delta)
    return max(1, math.ceil(math.log(delta) / math.log1p(-alpha) - 1e-12))


def binomial_p_value(errors: int, n: int, alpha: float) -> float:
    """``P(Binom(n, alpha) <= errors)``: small when ``errors`` is too few for a risk ``alpha``."""
    if n <= 0:
        return 1.0
    return float(binom.cdf(errors, n, alpha))


def clopper_pearson_upper(errors: int, n: int, delta: float) -> float:
    """One-sided ``1 - delta`` upper confidence bound of a binomial proportion."""
    if n <= 0:
        return 1.0
    if errors >= n:
        return 1.0
    from scipy.stats import beta

    return float(beta.ppf(1.0 - delta, errors + 1, n - errors))


def grid(scores: ArrayLike, size: int = GRID_SIZE) -> NDArray[np.float64]:
    """Candidate thresholds: ``size`` quantiles of ``scores`` (rows *other* than the certifying
    ones, so the grid is fixed with respect to them), ending with ``+inf`` (answer all)."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    s = s[np.isfinite(s)]
    if s.size == 0:
        return np.array([ANSWER_ALL])
    q = np.unique(np.quantile(s, np.linspace(0.0, 1.0, size + 1)[1:]))
    return np.append(q[:-1], ANSWER_ALL)


def certify_selective_risk(
    scores: ArrayLike,
    wrong: ArrayLike,
    alpha: float,
    delta: float,
    *,
    thresholds: ArrayLike | None = None,
    eligible: ArrayLike | None = None,
    tradeoff_alphas: tuple[float, ...] = TRADEOFF_ALPHAS,
) -> RiskCertificate:
    """Certify the laxest threshold on ``scores`` (higher = more likely wrong) that keeps the
    error rate among answered rows at most ``alpha`` with probability ``1 - delta``.

    ``wrong``: per certifying row, whether the model's answer is wrong. ``thresholds``: the
    grid, increasing (default: quantiles of ``scores`` themselves — pass a grid built from other
    rows for the exact guarantee). ``eligible``: rows another safeguard already refuses are
    ``False``; they are never answered, whatever the threshold.
    """
    _check_levels(alpha, delta)
    s = np.asarray(scores, dtype=np.float64).ravel()
    w = np.asarray(wrong, dtype=bool).ravel()
    if s.shape != w.shape:
        raise ValueError(f"{s.size} scores but {w.size} wrong/right labels")
    if s.size == 0:
        raise ValueError("cannot certify a silent-failure rate on zero calibration rows")
    ok = np.ones(s.size, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    if ok.shape != s.shape:
        raise ValueError(f"{s.size} scores but {ok.size} eligibility flags")
    lam = grid(s) if thresholds is None else np.sort(np.asarray(thresholds, dtype=np.float64))
    n_answered, n_wrong = _counts(s, w, ok, lam)
    best = _fixed_sequence(n_answered, n_wrong, alpha, delta)
    n = s.size
    points = [
        TradeoffPoint(
            alpha=a,
            coverage=_empirical_coverage(n_answered, n_wrong, a) / n,
            certified_coverage=_answered_at(
                n_answered, _fixed_sequence(n_answered, n_wrong, a, delta)
            )
            / n,
        )
        for a in tradeoff_alphas
    ]
    if best is None:
        return RiskCertificate(
            alpha=alpha,
            delta=delta,
            threshold=ANSWER_NONE,
            coverage=0.0,
            error_rate=0.0,
            upper_bound=0.0,
            n_calibration=n,
            n_answered=0,
            tradeoff=points,
        )
    k, m = int(n_wrong[best]), int(n_answered[best])
    return RiskCertificate(
        alpha=alpha,
        delta=delta,
        threshold=float(lam[best]),
        coverage=m / n,
        error_rate=k / m if m else 0.0,
        upper_bound=clopper_pearson_upper(k, m, delta),
        n_calibration=n,
        n_answered=m,
        tradeoff=points,
    )


def _counts(
    s: NDArray[np.float64], w: NDArray[np.bool_], ok: NDArray[np.bool_], lam: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Answered rows and wrong answers at each threshold (``score <= lambda`` and eligible)."""
    order = np.argsort(s, kind="stable")
    s_sorted, w_sorted, ok_sorted = s[order], w[order], ok[order]
    cum_n = np.concatenate([[0], np.cumsum(ok_sorted)])
    cum_k = np.concatenate([[0], np.cumsum(ok_sorted & w_sorted)])
    pos = np.searchsorted(s_sorted, lam, side="right")
    return cum_n[pos].astype(np.int64), cum_k[pos].astype(np.int64)


def _fixed_sequence(
    n_answered: NDArray[np.int64], n_wrong: NDArray[np.int64], alpha: float, delta: float
) -> int | None:
    """Index of the laxest threshold certified, or None.

    :data:`SEQUENCES` fixed sequences, each at level ``delta / SEQUENCES`` (Bonferroni), start
    where at least ``s0, 2 s0, 4 s0, ...`` rows are answered (``s0``: the fewest rows with
    which zero errors reject, :func:`min_rows_to_certify`) and run towards laxer thresholds
    until their first non-rejection; the union of their rejections keeps the family-wise error
    at ``delta``. Several starts keep one unlucky wrong answer among the most confident rows
    from stopping the whole search; the starts look at counts only, never at the errors.
    """
    level = delta / SEQUENCES
    s0 = min_rows_to_certify(alpha, level)
    total = int(n_answered[-1]) if n_answered.size else 0
    best: int | None = None
    for j in range(SEQUENCES):
        need = min(s0 * 2**j, max(s0, total))
        for i in range(n_answered.size):
            m = int(n_answered[i])
            if m < need:  # too few rows to start on: not tested (counts only)
                continue
            if binomial_p_value(int(n_wrong[i]), m, alpha) > level:
                break
            best = i if best is None else max(best, i)
    return best


def _answered_at(n_answered: NDArray[np.int64], j: int | None) -> int:
    return 0 if j is None else int(n_answered[j])


def _empirical_coverage(
    n_answered: NDArray[np.int64], n_wrong: NDArray[np.int64], alpha: float
) -> int:
    """Most rows a grid threshold answers with empirical error at most ``alpha``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n_answered > 0, n_wrong / np.maximum(n_answered, 1), 0.0)
    good = rate <= alpha + 1e-12
    return int(n_answered[good].max()) if good.any() else 0


def _check_levels(alpha: float, delta: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"silent-failure rate must be in (0, 1), got {alpha}")
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta (1 - confidence) must be in (0, 1), got {delta}")
