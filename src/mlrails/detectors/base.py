"""The scikit-learn-style contract every detector follows.

* parameters are set in ``__init__`` and stored unchanged;
* ``fit(X, y=None)`` learns; fitted attributes end in ``_``;
* ``score_samples(X)`` returns one score per row, **higher = more anomalous**;
* ``calibrate(X_calib, target_fpr)`` sets ``threshold_`` on held-out in-distribution rows
  (see :mod:`mlrails.detectors.threshold`); ``predict`` then returns ``-1`` for alarms and
  ``+1`` otherwise, as scikit-learn's outlier detectors do;
* ``get_state()`` / ``from_state()`` save and restore the fitted detector without pickle.

Subclasses implement ``_fit_encoded`` / ``_score_encoded`` on the encoded matrix (see
:mod:`mlrails.detectors.encoding`) and ``_get_fitted_state`` / ``_set_fitted_state``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator

from mlrails._state import State
from mlrails.detectors.encoding import TabularEncoder
from mlrails.detectors.threshold import Threshold, calibrate_threshold
from mlrails.errors import ArtifactError, NotFittedError


class BaseDetector(BaseEstimator):  # type: ignore[misc]
    """Base class of out-of-distribution and adversarial-input detectors."""

    #: registry name used in policies and artifacts, e.g. ``"knn"``
    name: ClassVar[str] = "base"
    #: "ood" or "adversarial"
    family: ClassVar[str] = "ood"
    #: whether the detector needs the model (adversarial detectors do)
    needs_model: ClassVar[bool] = False

    encoder_: TabularEncoder
    threshold_: Threshold

    # -- learning ------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> Self:
        self.encoder_ = TabularEncoder().fit(X)
        Z = self.encoder_.transform(X)
        self.n_features_in_ = Z.shape[1]
        self._fit_encoded(Z, None if y is None else np.asarray(y), X)
        return self

    def score_samples(self, X: Any) -> NDArray[np.float64]:
        """Anomaly score per row; higher = more anomalous."""
        self._check_fitted()
        return self._score_encoded(self.encoder_.transform(X), X)

    def calibrate(self, X_calib: Any, target_fpr: float = 0.01) -> Self:
        """Set ``threshold_`` so that ``target_fpr`` of in-distribution rows raise an alarm."""
        self.threshold_ = calibrate_threshold(self.score_samples(X_calib), target_fpr)
        return self

    def decision_function(self, X: Any) -> NDArray[np.float64]:
        """Threshold minus score: negative for alarms (scikit-learn's sign convention)."""
        return self._threshold_value() - self.score_samples(X)

    def predict(self, X: Any) -> NDArray[np.int64]:
        """``-1`` for an alarm (score above the threshold), ``+1`` otherwise."""
        return np.where(self.score_samples(X) > self._threshold_value(), -1, 1).astype(np.int64)

    # -- subclass hooks ------------------------------------------------------------------
    def _fit_encoded(self, Z: NDArray[np.float64], y: NDArray[Any] | None, X: Any) -> None:
        raise NotImplementedError

    def _score_encoded(self, Z: NDArray[np.float64], X: Any) -> NDArray[np.float64]:
        raise NotImplementedError

    def _get_fitted_state(self) -> State:
        raise NotImplementedError

    def _set_fitted_state(self, state: State) -> None:
        raise NotImplementedError

    # -- persistence ---------------------------------------------------------------------
    def get_state(self) -> State:
        """Parameters, encoder, fitted arrays and threshold as JSON metadata + arrays."""
        self._check_fitted()
        own = self._get_fitted_state()
        enc = self.encoder_.get_state()
        meta: dict[str, Any] = {
            "detector": self.name,
            "params": _jsonable_params(self.get_params(deep=False)),
            "n_features_in": int(self.n_features_in_),
            "encoder": enc.meta,
            "fitted": own.meta,
        }
        if hasattr(self, "threshold_"):
            meta["threshold"] = self.threshold_.to_dict()
        arrays = {f"encoder.{k}": v for k, v in enc.arrays.items()}
        arrays.update({f"fitted.{k}": v for k, v in own.arrays.items()})
        return State(meta=meta, arrays=arrays)

    @classmethod
    def from_state(cls, state: State, **runtime: Any) -> Self:
        """Rebuild a fitted detector; ``runtime`` supplies objects not saved (the model)."""
        if state.meta.get("detector") != cls.name:
            raise ArtifactError(
                f"state of detector {state.meta.get('detector')!r} cannot load as {cls.name!r}"
            )
        det = cls(**state.meta["params"], **runtime)
        det.encoder_ = TabularEncoder.from_state(
            State(
                meta=state.meta["encoder"],
                arrays={
                    k.removeprefix("encoder."): v
                    for k, v in state.arrays.items()
                    if k.startswith("encoder.")
                },
            )
        )
        det.n_features_in_ = int(state.meta["n_features_in"])
        det._set_fitted_state(
            State(
                meta=state.meta["fitted"],
                arrays={
                    k.removeprefix("fitted."): v
                    for k, v in state.arrays.items()
                    if k.startswith("fitted.")
                },
            )
        )
        if "threshold" in state.meta:
            det.threshold_ = Threshold.from_dict(state.meta["threshold"])
        return det

    # -- helpers -------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")

    def _threshold_value(self) -> float:
        if not hasattr(self, "threshold_"):
            raise NotFittedError(f"{type(self).__name__} has no threshold; call calibrate()")
        return self.threshold_.value


def _jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    """Keep only JSON-able constructor parameters (the model is supplied at load time)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or isinstance(value, (bool, int, float, str)):
            out[key] = value
        elif isinstance(value, (list, tuple)) and all(
            isinstance(v, (bool, int, float, str)) for v in value
        ):
            out[key] = list(value)
    return out
