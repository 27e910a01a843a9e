"""Reliability of individual predictions: confidence, calibration, conformal sets/intervals."""

from mlrails.reliability.calibration import (
    CalibrationReport,
    Calibrator,
    IdentityCalibrator,
    IsotonicCalibrator,
    TemperatureScaler,
    calibration_report,
    calibrator_from_state,
    expected_calibration_error,
    make_calibrator,
    negative_log_likelihood,
)
from mlrails.reliability.confidence import (
    ConfidenceMetrics,
    ConfidenceThreshold,
    confidence_metrics,
    entropy,
    fit_min_confidence,
    margin,
    max_probability,
)
from mlrails.reliability.conformal import (
    ConformalClassifier,
    ConformalRegressor,
    conformal_from_state,
)
from mlrails.reliability.difficulty import KNNDifficulty

__all__ = [
    "CalibrationReport",
    "Calibrator",
    "ConfidenceMetrics",
    "ConfidenceThreshold",
    "ConformalClassifier",
    "ConformalRegressor",
    "IdentityCalibrator",
    "IsotonicCalibrator",
    "KNNDifficulty",
    "TemperatureScaler",
    "calibration_report",
    "calibrator_from_state",
    "confidence_metrics",
    "conformal_from_state",
    "entropy",
    "expected_calibration_error",
    "fit_min_confidence",
    "make_calibrator",
    "margin",
    "max_probability",
    "negative_log_likelihood",
]
