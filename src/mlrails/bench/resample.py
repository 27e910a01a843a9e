"""Bootstrap intervals for every metric of a cell, computed for all resamples at once.

A resample of ``n`` rows is a vector of multinomial counts ``w`` (how often each row was
drawn), so every metric that is a sum over rows becomes a matrix product ``W @ values`` for
all ``B`` resamples together: accuracy, Brier, NLL, RMSE/MAE, macro F1 (from per-class
counts), ECE (from per-bin sums), rates, and AUROC (from the Mann–Whitney form over tied
score groups). Percentile intervals; the same seed gives the same intervals.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


def resample_counts(n: int, n_resamples: int, seed: int) -> F64:
    """``(n_resamples, n)`` bootstrap counts; each row sums to ``n``."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(np.float64)


def percentile(values: F64, level: float = 0.95) -> tuple[float, float]:
    """The ``level`` percentile interval of bootstrap values (NaN resamples dropped)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(v, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))


def _ratio(num: F64, den: F64) -> F64:
    with np.errstate(invalid="ignore", divide="ignore"):
        out: F64 = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


def classification_replicates(
    W: F64,
    y_idx: NDArray[np.intp],
    P: F64,
    n_bins: int = 15,
) -> dict[str, F64]:
    """Bootstrap replicates of accuracy, macro F1, ECE (``ece_model``), Brier and NLL of the
    model's probabilities ``P``."""
    n, k = P.shape
    pred = np.argmax(P, axis=1)
    correct = (pred == y_idx).astype(np.float64)
    out: dict[str, F64] = {"accuracy": W @ correct / n}
    f1 = np.zeros(W.shape[0])
    for c in range(k):
        tp = W @ ((y_idx == c) & (pred == c)).astype(np.float64)
        fp = W @ ((y_idx != c) & (pred == c)).astype(np.float64)
        fn = W @ ((y_idx == c) & (pred != c)).astype(np.float64)
        den = 2 * tp + fp + fn
        f1 += np.where(den > 0, 2 * tp / np.where(den > 0, den, 1.0), 0.0)
    out["f1_macro"] = f1 / k
    out["ece_model"] = ece_replicates(W, y_idx, P, n_bins)
    onehot = np.zeros_like(P)
    onehot[np.arange(n), y_idx] = 1.0
    out["brier"] = W @ np.sum((P - onehot) ** 2, axis=1) / n
    eps = np.finfo(P.dtype).eps
    p_true = np.clip(P[np.arange(n), y_idx], eps, 1 - eps)
    out["nll"] = W @ -np.log(p_true) / n
    return out


def ece_replicates(W: F64, y_idx: NDArray[np.intp], P: F64, n_bins: int = 15) -> F64:
    """Bootstrap replicates of the ECE of ``P`` (``n_bins`` as
    :func:`~mlrails.reliability.calibration.expected_calibration_error`, from per-bin sums)."""
    n = P.shape[0]
    correct = (np.argmax(P, axis=1) == y_idx).astype(np.float64)
    conf = P.max(axis=1)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges[1:-1], conf, side="left"), 0, n_bins - 1)
    onehot_bins = np.zeros((n, n_bins))
    onehot_bins[np.arange(n), bins] = conf - correct
    out: F64 = np.abs(W @ onehot_bins).sum(axis=1) / n
    return out


def regression_replicates(W: F64, y: F64, pred: F64) -> dict[str, F64]:
    """Bootstrap replicates of RMSE, MAE and R²."""
    n = len(y)
    err = pred - y
    sse = W @ err**2
    mean_y = W @ y / n
    sst = W @ y**2 - n * mean_y**2
    return {
        "rmse": np.sqrt(sse / n),
        "mae": W @ np.abs(err) / n,
        "r2": 1.0 - _ratio(sse, sst),
    }


def rails_replicates(
    W: F64,
    wrong: NDArray[np.bool_],
    passed: NDArray[np.bool_],
    scores: Mapping[str, F64],
) -> dict[str, F64]:
    """Bootstrap replicates of the silent-failure, false-alarm and refusal rates and of each
    safeguard's AUROC for "wrong" (rows without a score are left out of that AUROC)."""
    n = W.shape[1]
    w = wrong.astype(np.float64)
    p = passed.astype(np.float64)
    out = {
        "silent_failure_rate": _ratio(W @ (w * p), W @ w),
        "false_alarm_rate": _ratio(W @ ((1 - w) * (1 - p)), W @ (1 - w)),
        "refusal_rate": W @ (1 - p) / n,
    }
    for name, s in scores.items():
        out[f"auroc.{name}"] = weighted_auroc(W, s, wrong)
    return out


def weighted_auroc(W: F64, scores: F64, positive: NDArray[np.bool_]) -> F64:
    """AUROC of ``scores`` for ``positive`` under each row of weights ``W`` (ties count
    one half): ``Σ_pos w·(neg weight below + ½ neg weight tied) / (W_pos·W_neg)``."""
    have = np.isfinite(scores)
    s, pos, Wh = scores[have], positive[have], W[:, have]
    groups, inverse = np.unique(s, return_inverse=True)
    G = np.zeros((len(s), len(groups)))
    G[np.arange(len(s)), inverse] = 1.0
    pos_w = (Wh * pos) @ G
    neg_w = (Wh * ~pos) @ G
    below = np.cumsum(neg_w, axis=1) - neg_w
    num = np.sum(pos_w * (below + 0.5 * neg_w), axis=1)
    return _ratio(num, pos_w.sum(axis=1) * neg_w.sum(axis=1))


def intervals(replicates: Mapping[str, F64], level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile interval of each metric's replicates (metrics with none finite left out)."""
    out: dict[str, tuple[float, float]] = {}
    for name, values in replicates.items():
        lo, hi = percentile(values, level)
        if np.isfinite(lo) and np.isfinite(hi):
            out[name] = (lo, hi)
    return out
