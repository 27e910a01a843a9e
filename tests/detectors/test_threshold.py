"""Alarm thresholds: the conformal formula, and realised false-alarm rates per detector."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlrails.detectors import (
    EnsembleDetector,
    IsolationForestDetector,
    KNNDetector,
    MahalanobisDetector,
    Threshold,
    calibrate_threshold,
)
from mlrails.detectors.base import BaseDetector
from mlrails.detectors.threshold import conformal_quantile

ALL = [KNNDetector, MahalanobisDetector, IsolationForestDetector, EnsembleDetector]


def test_calibrate_threshold_hand_case() -> None:
    # n = 10, alpha = 0.2: k = ceil(11 * 0.8) = ceil(8.8) = 9 -> 9th smallest score
    scores = np.array([7.0, 3.0, 10.0, 1.0, 9.0, 2.0, 8.0, 5.0, 6.0, 4.0])
    t = calibrate_threshold(scores, 0.2)
    assert t == Threshold(value=9.0, target_fpr=0.2, realised_fpr=0.1, n_calibration=10)


def test_calibrate_threshold_matches_formula() -> None:
    rng = np.random.default_rng(3)
    for n, alpha in [(19, 0.1), (200, 0.05), (1000, 0.01), (1001, 0.01)]:
        s = rng.normal(size=n)
        k = math.ceil((n + 1) * (1 - alpha))
        expected = np.sort(s)[k - 1]
        t = calibrate_threshold(s, alpha)
        assert t.value == expected
        assert t.realised_fpr == pytest.approx((n - k) / n)
        assert t.realised_fpr <= alpha
        assert t.n_calibration == n


def test_too_few_scores_warns_and_uses_max() -> None:
    s = np.array([0.3, 0.1, 0.2, 0.5, 0.4])  # k = ceil(6 * 0.9) = 6 > 5
    assert math.isinf(conformal_quantile(s, 0.1))
    with pytest.warns(RuntimeWarning, match="too few"):
        t = calibrate_threshold(s, 0.1)
    assert t.value == 0.5
    assert t.realised_fpr == 0.0


def test_threshold_dict_round_trip() -> None:
    t = Threshold(value=1.5, target_fpr=0.01, realised_fpr=0.008, n_calibration=1000)
    assert Threshold.from_dict(t.to_dict()) == t


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.name)
def test_realised_false_alarm_rate(cls: type[BaseDetector], gaussian: dict) -> None:
    """On 20k fresh in-distribution rows the alarm rate is 1% within binomial tolerance."""
    target = 0.01
    det = cls().fit(gaussian["train"]).calibrate(gaussian["calib"], target)
    n_cal, n_test = len(gaussian["calib"]), len(gaussian["test"])
    assert det.threshold_.n_calibration == n_cal
    assert det.threshold_.realised_fpr <= target
    alarms = det.predict(gaussian["test"]) == -1
    rate = float(alarms.mean())
    # the conformal rate given the calibration set varies with sd ~ sqrt(a(1-a)/n_cal),
    # the test count adds binomial sd sqrt(a(1-a)/n_test): allow 4 joint sd
    sd = math.sqrt(target * (1 - target) * (1 / n_cal + 1 / n_test))
    assert abs(rate - target) < 4 * sd, f"{cls.name}: realised false-alarm rate {rate:.4f}"


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.name)
def test_outlier_detector_api(cls: type[BaseDetector]) -> None:
    """The assertions of sklearn's check_outliers_train that do not depend on the sign."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    det = cls().fit(X.tolist())
    pred = det.predict(X)
    assert pred.shape == (300,) and pred.dtype.kind == "i"
    assert set(np.unique(pred)) == {-1, 1}
    scores, decision = det.score_samples(X), det.decision_function(X)
    assert scores.dtype == np.float64 and decision.dtype == np.float64
    np.testing.assert_allclose(decision, det.threshold_.value - scores)
    np.testing.assert_array_equal(pred == -1, decision < 0)
    np.testing.assert_array_equal(pred == -1, scores > det.threshold_.value)
    for method in (det.predict, det.decision_function, det.score_samples):
        with pytest.raises(ValueError):
            method(X.T)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.name)
def test_fit_sets_provisional_threshold_and_calibrate_replaces_it(
    cls: type[BaseDetector], gaussian: dict
) -> None:
    det = cls().fit(gaussian["train"])
    provisional = det.threshold_
    assert provisional.n_calibration == len(gaussian["train"])
    assert provisional.target_fpr == 0.01
    det.calibrate(gaussian["calib"][:2000], 0.05)
    assert det.threshold_.n_calibration == 2000
    assert det.threshold_.target_fpr == 0.05
    assert det.threshold_ != provisional
    # a refit drops a calibrated threshold and sets a fresh provisional one
    det.fit(gaussian["train"][:500])
    assert det.threshold_.n_calibration == 500


def test_unfitted_detector_raises_both_not_fitted_errors() -> None:
    from sklearn.exceptions import NotFittedError as SkNotFitted

    from mlrails.errors import NotFittedError

    det = KNNDetector()
    for exc in (NotFittedError, SkNotFitted):
        with pytest.raises(exc, match="not fitted"):
            det.score_samples(np.zeros((2, 2)))
