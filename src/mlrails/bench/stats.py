"""Statistics of benchmark results: bootstrap intervals and Holm-corrected comparisons."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats


@dataclass(frozen=True)
class Interval:
    """A point estimate and its bootstrap confidence interval."""

    estimate: float
    low: float
    high: float
    level: float


def bootstrap_ci(
    data: Sequence[ArrayLike] | ArrayLike,
    statistic: Callable[..., Any],
    *,
    level: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    paired: bool = True,
) -> Interval:
    """BCa bootstrap interval of ``statistic`` over rows (``scipy.stats.bootstrap``); several
    arrays (e.g. labels and predictions) are resampled together when ``paired``."""
    arrays = (
        tuple(np.asarray(a) for a in data)
        if isinstance(data, tuple | list)
        else (np.asarray(data),)
    )
    point = float(statistic(*arrays))
    if len(arrays[0]) < 2 or (np.all(arrays[0] == arrays[0][0]) and len(arrays) == 1):
        return Interval(point, point, point, level)
    res = stats.bootstrap(
        arrays,
        statistic,
        confidence_level=level,
        n_resamples=n_resamples,
        paired=paired,
        vectorized=False,
        method="BCa",
        rng=np.random.default_rng(seed),
    )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (np.isfinite(low) and np.isfinite(high)):  # degenerate resamples: percentile
        q = np.quantile(res.bootstrap_distribution, [(1 - level) / 2, (1 + level) / 2])
        low, high = float(q[0]), float(q[1])
    return Interval(point, low, high, level)


def holm(pvalues: ArrayLike) -> NDArray[np.float64]:
    """Holm–Bonferroni adjusted p-values (family-wise error control), in input order."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = len(p)
    order = np.argsort(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out
