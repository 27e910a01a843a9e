"""Out-of-distribution (and adversarial-input) detectors with calibrated alarm thresholds.

>>> from mlrails.detectors import make_detector
>>> det = make_detector("ensemble").fit(X_train).calibrate(X_calib, 0.01)  # doctest: +SKIP
>>> alarms = det.predict(X) == -1                                          # doctest: +SKIP
"""

from mlrails.detectors.base import BaseDetector, ScoreContributions
from mlrails.detectors.encoding import TabularEncoder
from mlrails.detectors.ensemble import EnsembleDetector
from mlrails.detectors.iforest import IsolationForestDetector
from mlrails.detectors.knn import KNNDetector
from mlrails.detectors.mahalanobis import MahalanobisDetector
from mlrails.detectors.registry import (
    DETECTORS,
    OOD_DETECTORS,
    detector_from_state,
    make_detector,
    make_seeded_detector,
    register_detector,
)
from mlrails.detectors.threshold import Threshold, calibrate_threshold

__all__ = [
    "DETECTORS",
    "OOD_DETECTORS",
    "BaseDetector",
    "EnsembleDetector",
    "IsolationForestDetector",
    "KNNDetector",
    "MahalanobisDetector",
    "ScoreContributions",
    "TabularEncoder",
    "Threshold",
    "calibrate_threshold",
    "detector_from_state",
    "make_detector",
    "make_seeded_detector",
    "register_detector",
]
