from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax

from mlrails._state import State
from mlrails.errors import ArtifactError, NotFittedError
from mlrails.reliability import ConformalClassifier, ConformalRegressor, conformal_from_state


def _classification_data(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated probabilities and labels drawn from them (exchangeable rows)."""
    P = softmax(rng.normal(scale=1.5, size=(n, k)), axis=1)
    y = (P.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return P, y


def _tolerance(coverage: float, n_cal: int, n_test: int, n_seeds: int) -> float:
    """Three standard deviations of the seed-averaged empirical coverage."""
    var = coverage * (1 - coverage) * (1 / (n_cal + 2) + 1 / n_test)
    return float(3 * np.sqrt(var / n_seeds))


def test_lac_hand_computed_quantile_and_sets() -> None:
    p_true = np.array([0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3])
    P = np.column_stack([p_true, 1 - p_true])
    y = np.zeros(9, dtype=int)
    # n = 9, coverage 0.8 -> k = ceil(10 * 0.8) = 8: the 8th smallest of 1 - p_true = 0.6
    cc = ConformalClassifier(coverage=0.8).fit(P, y)
    assert cc.q_hat_ == pytest.approx(0.6)
    sets = cc.predict_sets(np.array([[0.45, 0.55], [0.3, 0.7], [0.1, 0.9]]))
    np.testing.assert_array_equal(sets, [[True, True], [False, True], [False, True]])
    assert sets.dtype == bool


def test_aps_scores_and_hand_computed_quantile() -> None:
    cc = ConformalClassifier(coverage=0.5, score="aps")
    scores = cc.label_scores(np.array([[0.5, 0.3, 0.2], [0.25, 0.25, 0.5]]))
    np.testing.assert_allclose(scores, [[0.5, 0.8, 1.0], [0.75, 1.0, 0.5]])
    # scores of the true labels: 0.5, 0.8, 1.0 ; n = 3, k = ceil(4 * 0.5) = 2 -> 0.8
    P = np.tile([0.5, 0.3, 0.2], (3, 1))
    cc.fit(P, np.array([0, 1, 2]))
    assert cc.q_hat_ == pytest.approx(0.8)
    np.testing.assert_array_equal(cc.predict_sets(P[:1]), [[True, True, False]])


def test_too_few_rows_gives_full_sets() -> None:
    P = np.array([[0.6, 0.4], [0.2, 0.8]])
    with pytest.warns(RuntimeWarning, match="too few"):
        cc = ConformalClassifier(coverage=0.9).fit(P, np.array([0, 1]))
    assert np.isinf(cc.q_hat_)
    assert cc.predict_sets(P).all()
    with pytest.warns(RuntimeWarning, match="too few"):
        cr = ConformalRegressor(coverage=0.9).fit([1.0, 2.0], [1.5, 2.5])
    lo, hi = cr.predict_intervals([0.0])
    assert lo[0] == -np.inf and hi[0] == np.inf


@pytest.mark.parametrize("score", ["lac", "aps"])
def test_classifier_coverage_on_fresh_data(score: str) -> None:
    coverage, n_cal, n_test, seeds = 0.9, 500, 2000, 20
    covered, sizes = [], []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        P_cal, y_cal = _classification_data(rng, n_cal, 5)
        P_new, y_new = _classification_data(rng, n_test, 5)
        cc = ConformalClassifier(coverage=coverage, score=score).fit(P_cal, y_cal)  # type: ignore[arg-type]
        sets = cc.predict_sets(P_new)
        covered.append(sets[np.arange(n_test), y_new].mean())
        sizes.append(sets.sum(axis=1).mean())
    tol = _tolerance(coverage, n_cal, n_test, seeds)
    assert coverage - tol <= np.mean(covered) <= coverage + 1 / (n_cal + 1) + tol
    assert np.mean(sizes) < 5  # informative sets, not all classes


def test_regressor_hand_computed_and_intervals() -> None:
    y_pred = np.zeros(9)
    y_true = np.array([0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8, 0.9])
    cr = ConformalRegressor(coverage=0.8).fit(y_pred, y_true)
    assert cr.q_hat_ == pytest.approx(0.8)  # 8th smallest |residual|
    lo, hi = cr.predict_intervals(np.array([1.0, 2.0]))
    np.testing.assert_allclose(lo, [0.2, 1.2])
    np.testing.assert_allclose(hi, [1.8, 2.8])


def test_regressor_coverage_on_fresh_data() -> None:
    coverage, n_cal, n_test, seeds = 0.9, 400, 2000, 20
    covered = []
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        x_cal, x_new = rng.normal(size=n_cal), rng.normal(size=n_test)
        y_cal = 2 * x_cal + rng.standard_t(df=3, size=n_cal)
        y_new = 2 * x_new + rng.standard_t(df=3, size=n_test)
        cr = ConformalRegressor(coverage=coverage).fit(2 * x_cal, y_cal)
        lo, hi = cr.predict_intervals(2 * x_new)
        covered.append(np.mean((lo <= y_new) & (y_new <= hi)))
    tol = _tolerance(coverage, n_cal, n_test, seeds)
    assert coverage - tol <= np.mean(covered) <= coverage + 1 / (n_cal + 1) + tol


def test_state_round_trips_and_dispatch() -> None:
    rng = np.random.default_rng(3)
    P, y = _classification_data(rng, 300, 4)
    for score in ("lac", "aps"):
        cc = ConformalClassifier(coverage=0.85, score=score).fit(P, y)  # type: ignore[arg-type]
        loaded = conformal_from_state(cc.get_state())
        assert isinstance(loaded, ConformalClassifier)
        assert loaded.score == score and loaded.q_hat_ == cc.q_hat_
        np.testing.assert_array_equal(loaded.predict_sets(P), cc.predict_sets(P))
    cr = ConformalRegressor(coverage=0.8).fit(rng.normal(size=50), rng.normal(size=50))
    loaded_r = conformal_from_state(cr.get_state())
    assert isinstance(loaded_r, ConformalRegressor) and loaded_r.q_hat_ == cr.q_hat_
    with pytest.raises(ArtifactError):
        conformal_from_state(State(meta={"kind": "quantile"}))
    with pytest.raises(ArtifactError):
        ConformalRegressor.from_state(ConformalClassifier().fit(P, y).get_state())


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="coverage"):
        ConformalClassifier(coverage=1.0)
    with pytest.raises(ValueError, match="unknown conformal score"):
        ConformalClassifier(score="raps")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="class indices"):
        ConformalClassifier().fit(np.array([[0.5, 0.5]] * 20), np.full(20, 3))
    with pytest.raises(NotFittedError):
        ConformalClassifier().predict_sets(np.array([[0.5, 0.5]]))
    with pytest.raises(NotFittedError):
        ConformalRegressor().predict_intervals([1.0])
