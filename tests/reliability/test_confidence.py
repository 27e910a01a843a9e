from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import entropy as scipy_entropy

from mlrails.detectors.threshold import Threshold
from mlrails.reliability import (
    ConfidenceMetrics,
    ConfidenceThreshold,
    confidence_metrics,
    entropy,
    fit_min_confidence,
    margin,
    max_probability,
)


def _random_proba(rng: np.random.Generator, n: int, k: int, scale: float = 1.5) -> np.ndarray:
    z = rng.normal(scale=scale, size=(n, k))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_max_probability_and_margin() -> None:
    P = np.array([[0.7, 0.2, 0.1], [0.2, 0.4, 0.4], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(max_probability(P), [0.7, 0.4, 1.0])
    np.testing.assert_allclose(margin(P), [0.5, 0.0, 1.0])


def test_margin_matches_sort_on_random_rows() -> None:
    P = _random_proba(np.random.default_rng(0), 200, 6)
    s = np.sort(P, axis=1)
    np.testing.assert_allclose(margin(P), s[:, -1] - s[:, -2])


def test_margin_single_class() -> None:
    np.testing.assert_allclose(margin(np.ones((3, 1))), [1.0, 1.0, 1.0])


def test_entropy_matches_scipy_including_zeros() -> None:
    P = _random_proba(np.random.default_rng(1), 100, 5)
    P[:10, 0] = 0.0
    P /= P.sum(axis=1, keepdims=True)
    P = np.vstack([P, [[1.0, 0.0, 0.0, 0.0, 0.0]], [[0.2] * 5]])
    expected = scipy_entropy(P, axis=1)
    got = entropy(P)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert got[-2] == 0.0
    assert got[-1] == pytest.approx(np.log(5))


def test_confidence_metrics_bundle() -> None:
    P = _random_proba(np.random.default_rng(2), 50, 3)
    m = confidence_metrics(P)
    assert isinstance(m, ConfidenceMetrics)
    np.testing.assert_array_equal(m.max_probability, max_probability(P))
    np.testing.assert_array_equal(m.margin, margin(P))
    np.testing.assert_array_equal(m.entropy, entropy(P))


def test_rejects_non_matrix() -> None:
    with pytest.raises(ValueError, match="probability matrix"):
        max_probability(np.array([0.5, 0.5]))


# -- minimum confidence --------------------------------------------------------------------


def _calibrated_predictions(
    rng: np.random.Generator, n: int, k: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    P = _random_proba(rng, n, k)
    y = (P.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return P.max(axis=1), P.argmax(axis=1) == y


def test_fit_min_confidence_hand_case() -> None:
    # correct predictions' max-probs; 19 of them, alpha = 0.1 -> k = ceil(20 * 0.9) = 18th
    # smallest of -max_prob = 2nd largest -> 2nd smallest max_prob
    m = np.linspace(0.5, 0.95, 19)
    t = fit_min_confidence(np.r_[m, 0.3], np.r_[np.ones(19, bool), False], 0.1)
    assert isinstance(t, Threshold)
    assert t.value == pytest.approx(m[1])
    assert t.n_calibration == 19
    assert t.realised_fpr == pytest.approx(1 / 19)
    assert t.target_fpr == 0.1


def test_fit_min_confidence_rate_on_fresh_data() -> None:
    target = 0.05
    rates = []
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        m_cal, c_cal = _calibrated_predictions(rng, 3000)
        m_new, c_new = _calibrated_predictions(rng, 20000)
        t = fit_min_confidence(m_cal, c_cal, target)
        assert 0.0 < t.value < 1.0
        assert t.realised_fpr <= target
        rates.append(np.mean(m_new[c_new] < t.value))
    n_correct = 3000 * 0.6
    tol = 3 * np.sqrt(target * (1 - target) / n_correct / len(rates))
    assert target - tol <= np.mean(rates) <= target + 1 / n_correct + tol


def test_fit_min_confidence_too_few_warns() -> None:
    with pytest.warns(RuntimeWarning, match="too few"):
        t = fit_min_confidence([0.9, 0.8, 0.7], [True, True, True], 0.01)
    assert t.value == pytest.approx(0.7)
    assert t.realised_fpr == 0.0


def test_fit_min_confidence_errors() -> None:
    with pytest.raises(ValueError, match="no correct"):
        fit_min_confidence([0.9, 0.8], [False, False], 0.1)
    with pytest.raises(ValueError, match="differ in length"):
        fit_min_confidence([0.9, 0.8], [True], 0.1)


def test_confidence_threshold_object_round_trip() -> None:
    m, c = _calibrated_predictions(np.random.default_rng(5), 2000)
    ct = ConfidenceThreshold(target_fpr=0.05).fit(m, c)
    assert ct.threshold_ == ConfidenceThreshold.fit_min_confidence(m, c, 0.05)
    flags = ct.flag(m)
    assert flags.dtype == bool
    np.testing.assert_array_equal(flags, m < ct.value)
    loaded = ConfidenceThreshold.from_state(ct.get_state())
    assert loaded.threshold_ == ct.threshold_
    fixed = ConfidenceThreshold.fixed(0.7)
    np.testing.assert_array_equal(fixed.flag([0.5, 0.7, 0.9]), [True, False, False])
