"""Vectorised bootstrap replicates equal the metrics computed on explicitly resampled rows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import (
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

from mlrails.bench import resample
from mlrails.reliability.calibration import expected_calibration_error


@pytest.fixture(scope="module")
def case() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    n, k = 120, 3
    logits = rng.normal(size=(n, k)) * 2
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, k, size=n)
    return y, P


def _reference(y: np.ndarray, P: np.ndarray) -> dict[str, float]:
    pred = P.argmax(axis=1)
    onehot = np.eye(P.shape[1])[y]
    return {
        "accuracy": float(np.mean(pred == y)),
        "f1_macro": float(f1_score(y, pred, average="macro", labels=range(P.shape[1]))),
        "ece_model": expected_calibration_error(P, y),
        "brier": float(np.mean(np.sum((P - onehot) ** 2, axis=1))),
        "nll": float(log_loss(y, P, labels=range(P.shape[1]))),
    }


def test_classification_replicates_match_scikit_learn_on_resampled_rows(case: tuple) -> None:
    y, P = case
    W = resample.resample_counts(len(y), 5, seed=1)
    assert (W.sum(axis=1) == len(y)).all()
    W = np.vstack([np.ones(len(y)), W])  # first "resample": the data itself
    reps = resample.classification_replicates(W, y, P)
    for b in range(W.shape[0]):
        idx = np.repeat(np.arange(len(y)), W[b].astype(int))
        ref = _reference(y[idx], P[idx])
        for name, value in ref.items():
            assert reps[name][b] == pytest.approx(value, abs=1e-12), (name, b)
    # the ECE of any probabilities (the rails' calibrated ones) by the same per-bin sums
    Q = np.sqrt(P) / np.sqrt(P).sum(axis=1, keepdims=True)
    ece = resample.ece_replicates(W, y, Q)
    for b in range(W.shape[0]):
        idx = np.repeat(np.arange(len(y)), W[b].astype(int))
        assert ece[b] == pytest.approx(expected_calibration_error(Q[idx], y[idx]), abs=1e-12)


def test_regression_replicates_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=80)
    pred = y + rng.normal(scale=0.5, size=80)
    W = np.vstack([np.ones(80), resample.resample_counts(80, 4, seed=2)])
    reps = resample.regression_replicates(W, y, pred)
    for b in range(W.shape[0]):
        idx = np.repeat(np.arange(80), W[b].astype(int))
        assert reps["rmse"][b] == pytest.approx(np.sqrt(mean_squared_error(y[idx], pred[idx])))
        assert reps["mae"][b] == pytest.approx(mean_absolute_error(y[idx], pred[idx]))
        assert reps["r2"][b] == pytest.approx(r2_score(y[idx], pred[idx]))


def test_weighted_auroc_matches_roc_auc_score_with_ties() -> None:
    rng = np.random.default_rng(5)
    positive = rng.random(90) < 0.3
    scores = np.round(rng.normal(size=90) + positive, 1)  # many ties
    scores[::17] = np.nan  # rows without a score are left out
    W = np.vstack([np.ones(90), resample.resample_counts(90, 6, seed=3)])
    auc = resample.weighted_auroc(W, scores, positive)
    have = np.isfinite(scores)
    for b in range(W.shape[0]):
        idx = np.repeat(np.arange(90)[have], W[b][have].astype(int))
        assert auc[b] == pytest.approx(roc_auc_score(positive[idx], scores[idx]), abs=1e-12)


def test_rates_and_intervals_against_scipy_bootstrap() -> None:
    rng = np.random.default_rng(9)
    wrong = rng.random(200) < 0.2
    passed = np.where(wrong, rng.random(200) < 0.4, rng.random(200) < 0.9)
    reps = resample.rails_replicates(np.ones((1, 200)), wrong, passed, {})
    assert reps["silent_failure_rate"][0] == pytest.approx((wrong & passed).sum() / wrong.sum())
    assert reps["false_alarm_rate"][0] == pytest.approx((~wrong & ~passed).sum() / (~wrong).sum())
    assert reps["refusal_rate"][0] == pytest.approx(np.mean(~passed))
    # the percentile interval of accuracy agrees with SciPy's percentile bootstrap
    correct = (~wrong).astype(float)
    W = resample.resample_counts(200, 4000, seed=0)
    lo, hi = resample.percentile(W @ correct / 200)
    ref = stats.bootstrap(
        (correct,), np.mean, method="percentile", n_resamples=4000, rng=np.random.default_rng(1)
    ).confidence_interval
    assert lo == pytest.approx(ref.low, abs=0.01) and hi == pytest.approx(ref.high, abs=0.01)
    assert lo < correct.mean() < hi
    # undefined replicates (no wrong rows drawn) are dropped, an all-NaN metric has no interval
    assert resample.intervals({"x": np.array([np.nan, np.nan])}) == {}
