"""Mahalanobis detector against SciPy and scikit-learn's covariance estimators."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import mahalanobis
from sklearn.covariance import OAS, LedoitWolf

from mlrails._state import State
from mlrails.detectors import MahalanobisDetector, detector_from_state


def test_hand_case_empirical_covariance() -> None:
    # square of side 2 centred at (1, 1): mean (1, 1), covariance (1/n) = identity
    X = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    det = MahalanobisDetector(shrinkage="none").fit(X)
    Xq = np.array([[3.0, 1.0], [1.0, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(det.score_samples(Xq), [4.0, 0.0, 5.0], atol=1e-12)
    VI = np.linalg.inv(np.cov(X.T, bias=True))
    for q, s in zip(Xq, det.score_samples(Xq), strict=True):
        assert s == pytest.approx(mahalanobis(q, X.mean(axis=0), VI) ** 2, abs=1e-12)


def test_empirical_is_affine_invariant_and_matches_scipy() -> None:
    """With the empirical covariance the encoder's scaling cannot change the distance."""
    rng = np.random.default_rng(0)
    A = np.array([[2.0, 0.3, 0.0], [0.0, 0.5, 0.1], [0.4, 0.0, 3.0]])
    X = rng.normal(size=(200, 3)) @ A.T + [10.0, -5.0, 0.0]
    Xq = rng.normal(size=(20, 3)) * 2.0 @ A.T
    det = MahalanobisDetector(shrinkage="none").fit(X)
    VI = np.linalg.inv(np.cov(X.T, bias=True))
    mu = X.mean(axis=0)
    expected = [mahalanobis(q, mu, VI) ** 2 for q in Xq]
    np.testing.assert_allclose(det.score_samples(Xq), expected, rtol=1e-9)


@pytest.mark.parametrize(("shrinkage", "estimator"), [("ledoit_wolf", LedoitWolf), ("oas", OAS)])
def test_shrunk_covariance_matches_sklearn_and_scipy(shrinkage: str, estimator: type) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 8)) @ rng.normal(size=(8, 8))  # few rows: shrinkage matters
    Xq = rng.normal(size=(15, 8)) @ rng.normal(size=(8, 8))
    det = MahalanobisDetector(shrinkage=shrinkage).fit(X)
    Z, Zq = det.encoder_.transform(X), det.encoder_.transform(Xq)
    ref = estimator().fit(Z)
    np.testing.assert_allclose(det.score_samples(Xq), ref.mahalanobis(Zq), rtol=1e-9)
    VI = np.linalg.inv(ref.covariance_)
    expected = [mahalanobis(q, Z.mean(axis=0), VI) ** 2 for q in Zq]
    np.testing.assert_allclose(det.score_samples(Xq), expected, rtol=1e-7)
    assert ref.shrinkage_ > 0.0


def test_collinear_one_hot_columns_stay_finite(mixed_frame: pd.DataFrame) -> None:
    det = MahalanobisDetector().fit(mixed_frame)
    scores = det.score_samples(mixed_frame)
    assert np.isfinite(scores).all() and (scores >= 0).all()
    # empirical covariance of one-hot blocks is singular: a pseudo-inverse keeps it finite
    det_none = MahalanobisDetector(shrinkage="none").fit(mixed_frame)
    assert np.isfinite(det_none.score_samples(mixed_frame)).all()


def test_round_trip_gives_identical_scores(roundtrip: Callable[[State], State]) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 4))
    det = MahalanobisDetector(shrinkage="oas").fit(X).calibrate(rng.normal(size=(300, 4)))
    back = detector_from_state(roundtrip(det.get_state()))
    assert isinstance(back, MahalanobisDetector) and back.shrinkage == "oas"
    Xq = rng.normal(size=(50, 4)) * 3
    np.testing.assert_array_equal(back.score_samples(Xq), det.score_samples(Xq))
    assert back.threshold_ == det.threshold_


def test_errors() -> None:
    with pytest.raises(ValueError, match="n_samples=1"):
        MahalanobisDetector().fit(np.ones((1, 3)))
    with pytest.raises(ValueError, match="shrinkage"):
        MahalanobisDetector(shrinkage="graphical").fit(np.zeros((5, 2)))
