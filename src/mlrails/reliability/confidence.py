"""Per-prediction confidence measures and the calibrated low-confidence threshold.

All functions take a probability matrix ``P`` of shape ``(n, n_classes)`` (rows summing to one)
and return one value per row, computed without Python loops:

* :func:`max_probability` — the top-1 probability;
* :func:`margin` — top-1 minus top-2 probability (the top-1 probability for one class);
* :func:`entropy` — Shannon entropy in nats, with ``0 · log 0 = 0``.

:func:`fit_min_confidence` sets the minimum-confidence threshold below which a prediction is
answered as low-confidence, so that a chosen share of *correct* predictions is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mlrails._state import State
from mlrails.detectors.threshold import Threshold, calibrate_threshold
from mlrails.errors import NotFittedError


def _as_proba(P: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(P, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"expected a probability matrix of shape (n, n_classes), got {arr.shape}")
    return arr


def max_probability(P: ArrayLike) -> NDArray[np.float64]:
    """Top-1 probability of each row."""
    arr = _as_proba(P)
    return np.asarray(arr.max(axis=1), dtype=np.float64)


def margin(P: ArrayLike) -> NDArray[np.float64]:
    """Top-1 minus top-2 probability of each row (the top-1 probability if there is one class)."""
    arr = _as_proba(P)
    if arr.shape[1] == 1:
        return np.asarray(arr[:, 0], dtype=np.float64)
    top2 = np.partition(arr, arr.shape[1] - 2, axis=1)[:, -2:]
    return np.asarray(top2[:, 1] - top2[:, 0], dtype=np.float64)


def entropy(P: ArrayLike) -> NDArray[np.float64]:
    """Shannon entropy of each row in nats (natural log), with ``0 · log 0 = 0``."""
    arr = _as_proba(P)
    positive = arr > 0
    logs = np.log(np.where(positive, arr, 1.0))
    return np.asarray(-np.sum(np.where(positive, arr * logs, 0.0), axis=1), dtype=np.float64)


@dataclass
class ConfidenceMetrics:
    """Confidence measures of a batch of predictions, one array entry per row."""

    max_probability: NDArray[np.float64]
    margin: NDArray[np.float64]
    entropy: NDArray[np.float64]


def confidence_metrics(P: ArrayLike) -> ConfidenceMetrics:
    """All confidence measures of ``P`` at once."""
    arr = _as_proba(P)
    return ConfidenceMetrics(
        max_probability=max_probability(arr), margin=margin(arr), entropy=entropy(arr)
    )


# -- low-confidence threshold -----------------------------------------------------------------


def fit_min_confidence(
    max_prob_calib: ArrayLike, correct_calib: ArrayLike, target_fpr: float
) -> Threshold:
    """Minimum confidence ``t``: flag a prediction as low-confidence when ``max_prob < t``.

    A false alarm is a *correct* prediction that gets flagged. ``t`` is set on held-out
    calibration predictions as the split-conformal quantile of ``-max_prob`` over the correct
    ones, so that on a fresh correct prediction (exchangeable with them) the probability of
    being flagged is at most ``target_fpr``.

    The returned :class:`~mlrails.detectors.threshold.Threshold` is in max-probability units:
    ``value`` is ``t`` and the alarm condition is ``max_prob < value`` (the opposite direction
    of a detector threshold); ``realised_fpr`` is the share of correct calibration predictions
    below ``t`` and ``n_calibration`` the number of correct calibration predictions. With too
    few correct predictions for the target, ``t`` is their smallest max-probability (nothing
    in the calibration split is flagged) and a :class:`RuntimeWarning` is issued.
    """
    m = np.asarray(max_prob_calib, dtype=np.float64).ravel()
    correct = np.asarray(correct_calib, dtype=bool).ravel()
    if m.shape != correct.shape:
        raise ValueError(
            f"max_prob_calib and correct_calib differ in length ({m.size} vs {correct.size})"
        )
    if not correct.any():
        raise ValueError("no correct calibration predictions: cannot set a minimum confidence")
    neg = calibrate_threshold(-m[correct], target_fpr)
    return Threshold(
        value=-neg.value,
        target_fpr=neg.target_fpr,
        realised_fpr=neg.realised_fpr,
        n_calibration=neg.n_calibration,
    )


class ConfidenceThreshold:
    """A fitted (or fixed) minimum confidence; :meth:`flag` marks rows with ``max_prob < t``."""

    threshold_: Threshold

    def __init__(self, target_fpr: float = 0.01) -> None:
        self.target_fpr = target_fpr

    fit_min_confidence = staticmethod(fit_min_confidence)

    def fit(self, max_prob_calib: ArrayLike, correct_calib: ArrayLike) -> Self:
        """Set ``threshold_`` with :func:`fit_min_confidence` at ``target_fpr``."""
        self.threshold_ = fit_min_confidence(max_prob_calib, correct_calib, self.target_fpr)
        return self

    @classmethod
    def fixed(cls, value: float) -> ConfidenceThreshold:
        """A user-chosen minimum confidence (no calibration: rates are reported as NaN)."""
        obj = cls(target_fpr=float("nan"))
        obj.threshold_ = Threshold(
            value=float(value), target_fpr=float("nan"), realised_fpr=float("nan"), n_calibration=0
        )
        return obj

    @property
    def value(self) -> float:
        self._check_fitted()
        return self.threshold_.value

    def flag(self, max_prob: ArrayLike) -> NDArray[np.bool_]:
        """``True`` for rows whose top-1 probability is below the minimum confidence."""
        self._check_fitted()
        return np.asarray(np.asarray(max_prob, dtype=np.float64) < self.threshold_.value)

    def get_state(self) -> State:
        self._check_fitted()
        meta: dict[str, Any] = {"kind": "min_confidence", "threshold": self.threshold_.to_dict()}
        return State(meta=meta, arrays={})

    @classmethod
    def from_state(cls, state: State) -> ConfidenceThreshold:
        threshold = Threshold.from_dict(state.meta["threshold"])
        obj = cls(target_fpr=threshold.target_fpr)
        obj.threshold_ = threshold
        return obj

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError("ConfidenceThreshold is not fitted; call fit() first")
