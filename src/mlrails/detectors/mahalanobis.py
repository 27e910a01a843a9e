"""Mahalanobis-distance detector.

The score of a row is its squared Mahalanobis distance ``(z - mu)^T P (z - mu)`` in the
encoded space, with ``mu`` the training mean and ``P`` the inverse of a shrunk covariance
(Ledoit-Wolf by default, or OAS; ``"none"`` uses the empirical covariance and its
pseudo-inverse). Shrinkage keeps the precision well conditioned when one-hot columns are
collinear or rows are few. Only ``mu`` and ``P`` are saved. The score splits exactly into
per-column terms ``d_j (P d)_j`` with ``d = z - mu`` (:meth:`feature_contributions`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from sklearn.covariance import OAS, EmpiricalCovariance, LedoitWolf

from mlrails._state import State
from mlrails.detectors.base import BaseDetector

SHRINKAGES = ("ledoit_wolf", "oas", "none")


class MahalanobisDetector(BaseDetector):
    """Squared Mahalanobis distance to the training mean; higher = more anomalous.

    Parameters
    ----------
    shrinkage:
        covariance estimator: ``"ledoit_wolf"``, ``"oas"`` or ``"none"`` (empirical).
    """

    name: ClassVar[str] = "mahalanobis"
    family: ClassVar[str] = "ood"
    encoded_input_only: ClassVar[bool] = True

    location_: NDArray[np.float64]
    precision_: NDArray[np.float64]

    def __init__(self, shrinkage: str = "ledoit_wolf") -> None:
        self.shrinkage = shrinkage

    def _fit_encoded(self, Z: NDArray[np.float64], y: NDArray[Any] | None, X: Any) -> None:
        self._check_params()
        if Z.shape[0] < 2:
            raise ValueError(
                "MahalanobisDetector needs at least 2 training rows to estimate a covariance, "
                f"got n_samples={Z.shape[0]}"
            )
        est: EmpiricalCovariance
        if self.shrinkage == "ledoit_wolf":
            est = LedoitWolf(store_precision=True)
        elif self.shrinkage == "oas":
            est = OAS(store_precision=True)
        else:
            est = EmpiricalCovariance(store_precision=True)
        est.fit(Z)
        self.location_ = np.asarray(est.location_, dtype=np.float64)
        precision = np.asarray(est.get_precision(), dtype=np.float64)
        self.precision_ = (precision + precision.T) / 2.0

    def _score_encoded(self, Z: NDArray[np.float64], X: Any) -> NDArray[np.float64]:
        d = Z - self.location_
        sq = np.einsum("ij,ij->i", d @ self.precision_, d)
        return np.maximum(np.asarray(sq, dtype=np.float64), 0.0)

    def _contributions_encoded(
        self, Z: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
        """Exact: the squared distance ``d^T P d`` is the sum over columns of
        ``d_j * (P d)_j`` (``d = z - mu``)."""
        d = Z - self.location_
        values = np.asarray(d * (d @ self.precision_), dtype=np.float64)
        return values, np.zeros(len(Z)), True

    def _training_scores(
        self, Z: NDArray[np.float64], rows: NDArray[np.intp]
    ) -> NDArray[np.float64]:
        return self._score_encoded(Z[rows], None)

    def _get_fitted_state(self) -> State:
        return State(
            meta={},
            arrays={"location": self.location_, "precision": self.precision_},
        )

    def _set_fitted_state(self, state: State) -> None:
        self.location_ = np.asarray(state.array("location"), dtype=np.float64)
        self.precision_ = np.asarray(state.array("precision"), dtype=np.float64)

    def _check_params(self) -> None:
        if self.shrinkage not in SHRINKAGES:
            raise ValueError(f"shrinkage must be one of {SHRINKAGES}, got {self.shrinkage!r}")
