from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.isotonic import IsotonicRegression

from mlrails._state import State
from mlrails.errors import ArtifactError, NotFittedError
from mlrails.reliability import (
    CalibrationReport,
    IdentityCalibrator,
    IsotonicCalibrator,
    TemperatureScaler,
    calibration_report,
    calibrator_from_state,
    expected_calibration_error,
    make_calibrator,
    negative_log_likelihood,
)


def _npz_round_trip(state: State) -> State:
    """Save arrays as the artifact does and load them without pickle."""
    buf = io.BytesIO()
    np.savez(buf, **state.arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return State(meta=dict(state.meta), arrays=arrays)


def _tempered_data(
    seed: int, n: int, k: int, temperature: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True logits Z; labels drawn from softmax(Z); a model that reports softmax(Z * T0)."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(scale=2.0, size=(n, k))
    p_true = softmax(Z, axis=1)
    y = (p_true.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    P_model = softmax(Z * temperature, axis=1)
    return P_model, y, p_true


# -- ECE --------------------------------------------------------------------------------------


def test_ece_hand_computed() -> None:
    # 5 bins of width 0.2. Bin (0.6, 0.8]: confidences 0.7, 0.7, one correct -> |0.5 - 0.7|.
    # Bin (0.8, 1.0]: confidences 0.85, 0.95, both correct -> |1 - 0.9|.
    P = np.array([[0.7, 0.3], [0.3, 0.7], [0.85, 0.15], [0.95, 0.05]])
    y = np.array([1, 1, 0, 0])
    expected = 0.5 * 0.2 + 0.5 * 0.1
    assert expected_calibration_error(P, y, n_bins=5) == pytest.approx(expected)


def test_ece_bins_are_right_closed() -> None:
    # 0.6 falls in (0.4, 0.6], 0.61 in (0.6, 0.8]: two singleton bins
    P = np.array([[0.6, 0.4], [0.61, 0.39]])
    y = np.array([0, 1])
    assert expected_calibration_error(P, y, n_bins=5) == pytest.approx(0.5 * 0.4 + 0.5 * 0.61)


def test_ece_matches_loop_reference() -> None:
    P, y, _ = _tempered_data(0, 1000, 4, 2.0)
    conf, pred = P.max(axis=1), P.argmax(axis=1)
    edges = np.linspace(0, 1, 16)
    ref = 0.0
    for lo, hi in itertools.pairwise(edges):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ref += m.mean() * abs(np.mean(pred[m] == y[m]) - conf[m].mean())
    assert expected_calibration_error(P, y) == pytest.approx(ref)


def test_perfectly_calibrated_has_small_ece() -> None:
    _, y, p_true = _tempered_data(1, 20000, 3, 1.0)
    assert expected_calibration_error(p_true, y) < 0.02


def test_input_checks() -> None:
    with pytest.raises(ValueError, match="class indices"):
        expected_calibration_error(np.array([[0.5, 0.5]]), np.array([2]))
    with pytest.raises(ValueError, match="one label index per row"):
        expected_calibration_error(np.array([[0.5, 0.5]]), np.array([0, 1]))


# -- temperature scaling ---------------------------------------------------------------------


@pytest.mark.parametrize("t0", [2.5, 0.5])
def test_temperature_recovers_known_temperature(t0: float) -> None:
    P, y, _ = _tempered_data(2, 8000, 4, t0)
    scaler = TemperatureScaler().fit(P, y)
    assert scaler.temperature_ == pytest.approx(t0, rel=0.08)
    after = scaler.transform(P)
    np.testing.assert_allclose(after.sum(axis=1), 1.0)
    np.testing.assert_array_equal(after.argmax(axis=1), P.argmax(axis=1))
    assert negative_log_likelihood(after, y) <= negative_log_likelihood(P, y)
    assert expected_calibration_error(after, y) < expected_calibration_error(P, y)


def test_temperature_state_round_trip() -> None:
    P, y, _ = _tempered_data(3, 500, 3, 2.0)
    scaler = TemperatureScaler().fit(P, y)
    state = _npz_round_trip(scaler.get_state())
    loaded = TemperatureScaler.from_state(state)
    assert loaded.temperature_ == scaler.temperature_
    np.testing.assert_array_equal(loaded.transform(P), scaler.transform(P))


def test_temperature_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        TemperatureScaler().transform(np.array([[0.5, 0.5]]))


# -- isotonic --------------------------------------------------------------------------------


def test_isotonic_equals_sklearn_predict() -> None:
    P, y, _ = _tempered_data(4, 3000, 3, 2.0)
    cal = IsotonicCalibrator().fit(P[:2000], y[:2000])
    # fresh rows, plus values outside the fitted range to exercise clipping
    P_new = np.vstack([P[2000:], [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]]])
    got = cal.transform_unnormalised(P_new)
    for k in range(3):
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(P[:2000, k], (y[:2000] == k).astype(float))
        np.testing.assert_allclose(got[:, k], iso.predict(P_new[:, k]), atol=1e-12)
    out = cal.transform(P_new)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    assert negative_log_likelihood(cal.transform(P[2000:]), y[2000:]) < negative_log_likelihood(
        P[2000:], y[2000:]
    )


def test_isotonic_all_zero_row_falls_back() -> None:
    P = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    cal = IsotonicCalibrator().fit(P, np.array([0, 0, 0]))
    # class 1 never seen -> constant 0; class 0 -> constant 1: rows become [1, 0]
    np.testing.assert_allclose(cal.transform(P), [[1, 0]] * 3)
    cal2 = IsotonicCalibrator().fit(P, np.array([0, 0, 0]))
    cal2.y_thresholds_ = [np.zeros_like(v) for v in cal2.y_thresholds_]
    np.testing.assert_allclose(cal2.transform(P), P)


def test_isotonic_state_round_trip_without_pickle() -> None:
    P, y, _ = _tempered_data(5, 1000, 4, 2.0)
    cal = IsotonicCalibrator().fit(P, y)
    state = _npz_round_trip(cal.get_state())
    assert all(a.dtype != object for a in state.arrays.values())
    loaded = IsotonicCalibrator.from_state(state)
    np.testing.assert_array_equal(loaded.transform(P), cal.transform(P))


# -- factory, dispatch, report ---------------------------------------------------------------


def test_make_calibrator_and_dispatch() -> None:
    P, y, _ = _tempered_data(6, 600, 3, 2.0)
    for method, cls in [
        ("temperature", TemperatureScaler),
        ("isotonic", IsotonicCalibrator),
        ("none", IdentityCalibrator),
    ]:
        cal = make_calibrator(method)
        assert isinstance(cal, cls)
        assert cal.method == method
        cal.fit(P, y)
        loaded = calibrator_from_state(_npz_round_trip(cal.get_state()))
        assert isinstance(loaded, cls)
        np.testing.assert_array_equal(loaded.transform(P), cal.transform(P))
    np.testing.assert_array_equal(make_calibrator("none").fit(P, y).transform(P), P)
    with pytest.raises(ValueError, match="unknown calibration method"):
        make_calibrator("platt")
    with pytest.raises(ArtifactError):
        calibrator_from_state(State(meta={"method": "platt"}))
    with pytest.raises(ArtifactError):
        IsotonicCalibrator.from_state(make_calibrator("temperature").fit(P, y).get_state())


def test_calibration_report() -> None:
    P, y, _ = _tempered_data(7, 3000, 3, 3.0)
    cal = make_calibrator("temperature").fit(P, y)
    rep = calibration_report(cal, P, y)
    assert isinstance(rep, CalibrationReport)
    assert rep.method == "temperature"
    assert rep.nll_after <= rep.nll_before
    assert rep.ece_after < rep.ece_before
    assert set(rep.to_dict()) == {"method", "ece_before", "ece_after", "nll_before", "nll_after"}
