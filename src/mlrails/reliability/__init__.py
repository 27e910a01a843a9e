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
from mlrails.reliability.error_score import (
    CLASSIFICATION_SCORES,
    ERROR_SCORES,
    REGRESSION_SCORES,
    ErrorFeatures,
    ErrorScorer,
    auroc_difference_se,
    clean_proba,
    doctor_score,
    error_auroc,
)

__all__ = [
    "CLASSIFICATION_SCORES",
    "ERROR_SCORES",
    "REGRESSION_SCORES",
    "CalibrationReport",
    "Calibrator",
    "ConfidenceMetrics",
    "ConfidenceThreshold",
    "ConformalClassifier",
    "ConformalRegressor",
    "ErrorFeatures",
    "ErrorScorer",
    "IdentityCalibrator",
    "IsotonicCalibrator",
    "KNNDifficulty",
    "TemperatureScaler",
    "auroc_difference_se",
    "calibration_report",
    "calibrator_from_state",
    "clean_proba",
    "confidence_metrics",
    "conformal_from_state",
    "doctor_score",
    "entropy",
    "error_auroc",
    "expected_calibration_error",
    "fit_min_confidence",
    "make_calibrator",
    "margin",
    "max_probability",
    "negative_log_likelihood",
]
