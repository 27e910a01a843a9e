"""Isolation-forest detector: array-based scoring equals scikit-learn's, before and after load."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import IsolationForest

import mlrails.detectors.iforest as iforest_module
from mlrails._state import State
from mlrails.detectors import IsolationForestDetector, detector_from_state
from mlrails.detectors.iforest import average_path_length


def _reference_forest(det: IsolationForestDetector, Z: np.ndarray) -> IsolationForest:
    """The same forest, grown by scikit-learn with the same seed and checked to be equal."""
    forest = IsolationForest(
        n_estimators=det.n_estimators, max_samples=det.max_samples, random_state=det.random_state
    ).fit(Z)
    offsets = det.tree_offsets_
    assert len(forest.estimators_) == offsets.size - 1
    for i, est in enumerate(forest.estimators_):
        sl = slice(offsets[i], offsets[i + 1])
        np.testing.assert_array_equal(det.trees_["children_left"][sl], est.tree_.children_left)
        np.testing.assert_array_equal(det.trees_["threshold"][sl], est.tree_.threshold)
        np.testing.assert_array_equal(det.trees_["n_node_samples"][sl], est.tree_.n_node_samples)
    return forest


@pytest.mark.parametrize(
    ("n", "params"),
    [
        (1000, {}),
        (150, {"n_estimators": 30}),  # auto max_samples = n < 256
        (2000, {"n_estimators": 50, "max_samples": 0.3}),
        (500, {"n_estimators": 40, "max_samples": 64, "random_state": 7}),
    ],
)
def test_matches_sklearn_before_and_after_load(
    n: int, params: dict[str, Any], roundtrip: Callable[[State], State]
) -> None:
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 6)) * rng.uniform(0.1, 5.0, 6)
    Xq = np.vstack([rng.normal(size=(300, 6)), rng.normal(size=(100, 6)) * 6.0])
    det = IsolationForestDetector(**params).fit(X)
    forest = _reference_forest(det, det.encoder_.transform(X))
    expected = -forest.score_samples(det.encoder_.transform(Xq))
    np.testing.assert_allclose(det.score_samples(Xq), expected, rtol=0, atol=1e-10)
    back = detector_from_state(roundtrip(det.get_state()))
    assert isinstance(back, IsolationForestDetector)
    np.testing.assert_allclose(back.score_samples(Xq), expected, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(back.score_samples(Xq), det.score_samples(Xq))


def test_matches_sklearn_on_mixed_frame(mixed_frame: pd.DataFrame) -> None:
    det = IsolationForestDetector(n_estimators=60).fit(mixed_frame)
    Z = det.encoder_.transform(mixed_frame)
    forest = _reference_forest(det, Z)
    np.testing.assert_allclose(
        det.score_samples(mixed_frame), -forest.score_samples(Z), rtol=0, atol=1e-10
    )


def test_loading_needs_no_sklearn_forest(
    monkeypatch: pytest.MonkeyPatch, roundtrip: Callable[[State], State]
) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 3))
    det = IsolationForestDetector(n_estimators=20).fit(X)
    state = roundtrip(det.get_state())
    assert all(isinstance(a, np.ndarray) and a.dtype != object for a in state.arrays.values())
    assert {"fitted.children_left", "fitted.feature", "fitted.threshold"} <= set(state.arrays)

    def _forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("IsolationForest must not be used when loading")

    monkeypatch.setattr(iforest_module, "IsolationForest", _forbidden)
    back = detector_from_state(state)
    np.testing.assert_array_equal(back.score_samples(X), det.score_samples(X))


def test_average_path_length() -> None:
    n = np.array([0, 1, 2, 3, 256])
    expected = [0.0, 0.0, 1.0, 2 * (np.log(2) + np.euler_gamma) - 4 / 3]
    c256 = 2 * (np.log(255) + np.euler_gamma) - 2 * 255 / 256
    np.testing.assert_allclose(average_path_length(n), [*expected, c256])


def test_shifted_rows_score_higher() -> None:
    rng = np.random.default_rng(6)
    det = IsolationForestDetector().fit(rng.normal(size=(1000, 4)))
    normal = det.score_samples(rng.normal(size=(200, 4)))
    far = det.score_samples(rng.normal(size=(200, 4)) + 6.0)
    assert far.min() > np.median(normal)
    assert normal.min() > 0.0 and far.max() <= 1.0


def test_single_training_row_scores_one_half_like_sklearn() -> None:
    det = IsolationForestDetector(n_estimators=5).fit(np.ones((1, 2)))
    np.testing.assert_array_equal(det.score_samples(np.zeros((3, 2))), 0.5)
    forest = IsolationForest(n_estimators=5, random_state=0).fit(np.zeros((1, 2)))
    np.testing.assert_array_equal(-forest.score_samples(np.zeros((3, 2))), 0.5)
