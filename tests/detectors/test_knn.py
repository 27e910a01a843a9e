"""k-NN distance detector against a brute-force NumPy computation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from mlrails._state import State
from mlrails.detectors import KNNDetector, detector_from_state
from mlrails.detectors.base import training_rows


def _standardise(X: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return (X - np.median(ref, axis=0)) / ref.std(axis=0)


def _brute(Q: np.ndarray, R: np.ndarray) -> np.ndarray:
    """All query-to-reference Euclidean distances, sorted per row."""
    D = np.sqrt(((Q[:, None, :] - R[None, :, :]) ** 2).sum(axis=-1))
    return np.sort(D, axis=1)


@pytest.mark.parametrize("n_features", [3, 20])  # kd-tree and brute-force paths
@pytest.mark.parametrize("aggregate", ["mean", "kth"])
def test_scores_match_brute_force(n_features: int, aggregate: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, n_features)) * rng.uniform(0.5, 3, n_features)
    Xq = rng.normal(size=(60, n_features)) * 2.0
    det = KNNDetector(n_neighbors=7, aggregate=aggregate).fit(X)
    D = _brute(_standardise(Xq, X), _standardise(X, X))[:, :7]
    expected = D.mean(axis=1) if aggregate == "mean" else D[:, -1]
    np.testing.assert_allclose(det.score_samples(Xq), expected, rtol=1e-7, atol=1e-9)


def test_reference_subsample_is_seeded_subset() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1000, 4))
    a = KNNDetector(max_reference=200, random_state=5).fit(X)
    b = KNNDetector(max_reference=200, random_state=5).fit(X)
    c = KNNDetector(max_reference=200, random_state=6).fit(X)
    Z = a.encoder_.transform(X)
    assert a.reference_.shape == (200, 4)
    np.testing.assert_array_equal(a.reference_, b.reference_)
    assert not np.array_equal(a.reference_, c.reference_)
    # every reference row is a training row (no duplicates drawn)
    matches = (a.reference_[:, None, :] == Z[None, :, :]).all(axis=-1)
    assert (matches.sum(axis=1) == 1).all()
    assert len(np.unique(matches.argmax(axis=1))) == 200
    # scores use the subsample only
    Xq = rng.normal(size=(20, 4))
    D = _brute(a.encoder_.transform(Xq), a.reference_)[:, :5]
    np.testing.assert_allclose(a.score_samples(Xq), D.mean(axis=1), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("max_reference", [120, 300])  # some rows / all rows in the reference
def test_leave_one_out_training_scores_match_brute_force(max_reference: int) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 3))
    X[10] = X[11]  # an exact duplicate: its twin stays a neighbour at distance 0
    det = KNNDetector(n_neighbors=4, max_reference=max_reference).fit(X)
    Z = det.encoder_.transform(X)
    rows = training_rows(len(X))
    loo = det._leave_one_out_scores(Z, rows)
    ref_rows = det._reference_rows
    D = np.sqrt(((Z[:, None, :] - Z[None, ref_rows, :]) ** 2).sum(axis=-1))
    D[ref_rows, np.arange(len(ref_rows))] = np.inf  # a reference row never counts itself
    expected = np.sort(D, axis=1)[:, :4].mean(axis=1)
    np.testing.assert_allclose(loo, expected, rtol=1e-7, atol=1e-9)
    # leave-one-out scores are never below in-sample scores, and above for reference rows
    in_sample = det.score_samples(X)
    assert (loo >= in_sample - 1e-12).all()
    assert (loo[ref_rows] > in_sample[ref_rows]).mean() > 0.95


def test_k_is_clipped_to_reference_size() -> None:
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    det = KNNDetector(n_neighbors=10).fit(X)
    assert det.n_neighbors_ == 3
    assert det.score_samples(X).shape == (3,)
    one = KNNDetector().fit(X[:1])
    assert one.score_samples(X).shape == (3,)


def test_round_trip_gives_identical_scores(roundtrip: Callable[[State], State]) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 6))
    det = KNNDetector(n_neighbors=3, max_reference=300, aggregate="kth", random_state=9)
    det.fit(X).calibrate(rng.normal(size=(200, 6)), 0.05)
    state = det.get_state()
    assert state.meta["detector"] == "knn"
    assert state.arrays["fitted.reference"].shape == (300, 6)
    back = detector_from_state(roundtrip(state))
    assert isinstance(back, KNNDetector)
    assert back.get_params() == det.get_params()
    assert back.threshold_ == det.threshold_
    Xq = rng.normal(size=(100, 6)) * 1.5
    np.testing.assert_array_equal(back.score_samples(Xq), det.score_samples(Xq))
    np.testing.assert_array_equal(back.predict(Xq), det.predict(Xq))


def test_mixed_frame(mixed_frame: pd.DataFrame) -> None:
    det = KNNDetector().fit(mixed_frame)
    new = mixed_frame.iloc[:5].copy()
    new["city"] = "atlantis"
    new.loc[new.index[0], "income"] = np.nan
    scores = det.score_samples(new)
    assert np.isfinite(scores).all() and scores.shape == (5,)


@pytest.mark.parametrize(
    "params",
    [{"n_neighbors": 0}, {"n_neighbors": 2.5}, {"max_reference": 0}, {"aggregate": "median"}],
)
def test_bad_parameters(params: dict) -> None:
    with pytest.raises(ValueError):
        KNNDetector(**params).fit(np.zeros((5, 2)))
