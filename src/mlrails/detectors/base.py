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
A subclass that can cheaply score its own training rows also implements
``_training_scores``; ``fit`` then sets a *provisional* ``threshold_`` from those in-sample
scores at :data:`PROVISIONAL_FPR`, so ``predict`` and ``fit_predict`` work straight after
``fit`` as scikit-learn expects. In-sample scores are optimistic (a training row is close to
itself), so the provisional threshold is too low for fresh data: ``calibrate`` on held-out
rows replaces it and should always be used.

Numeric (and numeric-object) 2-D arrays are validated with scikit-learn's ``validate_data``
(``ValueError`` for 1-D, empty, complex or wrongly-sized input); DataFrames, string/object
tables and image-like arrays go to the encoder as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils import Tags
from sklearn.utils.validation import validate_data

from mlrails._state import State
from mlrails.detectors.encoding import TabularEncoder
from mlrails.detectors.threshold import Threshold, calibrate_threshold, conformal_quantile
from mlrails.errors import ArtifactError, NotFittedError

#: false-alarm rate of the provisional threshold ``fit`` sets from training scores
PROVISIONAL_FPR = 0.01
#: at most this many training rows are scored for the provisional threshold
MAX_TRAINING_SCORES = 10_000


@dataclass(frozen=True)
class ScoreContributions:
    """Each input feature's part of each row's anomaly score.

    ``values[i, j]``: feature ``features[j]``'s contribution to row ``i``'s score (the
    encoded columns of one input column, e.g. its one-hot columns, summed); ``offset[i]``:
    the part of the score not attributed to any feature, so that
    ``offset + values.sum(axis=1)`` equals ``score_samples``. ``exact``: the offset is a
    constant of the detector (else it also holds a feature-dependent part that has no
    per-feature decomposition, e.g. an isolation forest inside an ensemble).
    """

    features: list[str]
    values: NDArray[np.float64]
    offset: NDArray[np.float64]
    exact: bool = True

    @property
    def total(self) -> NDArray[np.float64]:
        """``offset + values.sum(axis=1)``: the score the contributions add up to."""
        return np.asarray(self.offset + self.values.sum(axis=1), dtype=np.float64)


class DetectorNotFittedError(NotFittedError, SklearnNotFittedError):  # type: ignore[misc]
    """Raised by an unfitted detector: both mlrails' and scikit-learn's ``NotFittedError``."""


class BaseDetector(OutlierMixin, BaseEstimator):  # type: ignore[misc]
    """Base class of out-of-distribution and adversarial-input detectors."""

    #: registry name used in policies and artifacts, e.g. ``"knn"``
    name: ClassVar[str] = "base"
    #: "ood" or "adversarial"
    family: ClassVar[str] = "ood"
    #: whether the detector needs the model (adversarial detectors do)
    needs_model: ClassVar[bool] = False
    #: whether ``score_samples(X)`` depends on ``X`` only through ``encoder_.transform(X)``;
    #: the guard then passes the float matrix it already has instead of the table (see
    #: :meth:`~mlrails.detectors.encoding.TabularEncoder.encodes_matrix_like_table`)
    encoded_input_only: ClassVar[bool] = False

    encoder_: TabularEncoder
    threshold_: Threshold

    # -- learning ------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> Self:
        X = self._validate_input(X, reset=True)
        if "threshold_" in self.__dict__:  # a refit invalidates the old threshold
            del self.threshold_
        self.encoder_ = TabularEncoder().fit(X)
        Z = self.encoder_.transform(X)
        self.n_features_in_ = Z.shape[1]
        self._fit_encoded(Z, None if y is None else np.asarray(y), X)
        scores = self._training_scores(Z, training_rows(Z.shape[0]))
        if scores is not None:
            self.threshold_ = provisional_threshold(scores)
        return self

    def score_samples(self, X: Any) -> NDArray[np.float64]:
        """Anomaly score per row; higher = more anomalous."""
        self._check_fitted()
        X = self._validate_input(X, reset=False)
        return self._score_encoded(self.encoder_.transform(X), X)

    def feature_contributions(self, X: Any) -> ScoreContributions:
        """Each input feature's part of each row's score (see :class:`ScoreContributions`).

        Raises ``NotImplementedError`` for detectors whose score has no such decomposition.
        """
        self._check_fitted()
        X = self._validate_input(X, reset=False)
        values, offset, exact = self._contributions_encoded(self.encoder_.transform(X))
        names = self.encoder_.encoded_features()
        features = list(self.encoder_.columns_)  # the input's column order
        if not set(names) <= set(features):
            features = list(dict.fromkeys(names))
        position = {name: j for j, name in enumerate(features)}
        onehot = np.zeros((len(names), len(features)))
        onehot[np.arange(len(names)), [position[n] for n in names]] = 1.0
        return ScoreContributions(features, values @ onehot, offset, exact)

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

    def _contributions_encoded(
        self, Z: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
        """Per-encoded-column contributions ``(n, n_encoded)``, offset ``(n,)`` and whether
        the offset is a constant; see :meth:`feature_contributions`."""
        raise NotImplementedError(f"{type(self).__name__} does not decompose its score by feature")

    def _get_fitted_state(self) -> State:
        raise NotImplementedError

    def _set_fitted_state(self, state: State) -> None:
        raise NotImplementedError

    def _training_scores(
        self, Z: NDArray[np.float64], rows: NDArray[np.intp]
    ) -> NDArray[np.float64] | None:
        """In-sample scores of the training rows ``Z[rows]``, for the provisional threshold.

        Called by ``fit`` right after ``_fit_encoded``. ``None`` (the default) means "not
        available": ``fit`` then sets no threshold.
        """
        return None

    # -- persistence ---------------------------------------------------------------------
    def get_state(self) -> State:
        """Parameters, encoder, fitted arrays and threshold as JSON metadata + arrays."""
        self._check_fitted()
        own = self._get_fitted_state()
        enc = self.encoder_.get_state()
        meta: dict[str, Any] = {
            "detector": self.name,
            "params": saved_params(self.get_params(deep=False)),
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
            raise DetectorNotFittedError(f"{type(self).__name__} is not fitted; call fit() first")

    def _threshold_value(self) -> float:
        if not hasattr(self, "threshold_"):
            raise DetectorNotFittedError(
                f"{type(self).__name__} has no threshold; call calibrate()"
            )
        return self.threshold_.value

    def _validate_input(self, X: Any, *, reset: bool) -> Any:
        """Validate numeric 2-D arrays the scikit-learn way; pass other inputs through.

        DataFrames, tables of strings/objects and image-like arrays (``ndim > 2``) are the
        encoder's business. Everything else goes through ``validate_data`` (which raises
        ``ValueError`` on 1-D, empty, complex or wrongly-sized input and ``TypeError`` on
        sparse input) and comes back as float64.
        """
        if isinstance(X, pd.DataFrame):
            return X
        if (
            not reset
            and type(X) is np.ndarray
            and X.dtype == np.float64
            and X.ndim == 2
            and X.shape[0] > 0
            and X.shape[1] > 0
            and X.shape[1] == getattr(self, "n_features_in_", -1)
            and not hasattr(self, "feature_names_in_")
        ):
            # what validate_data would return unchanged, without its per-call overhead
            # (tens of microseconds, most of a single row's scoring time)
            return X
        if sp.issparse(X):
            return validate_data(self, X, reset=reset)  # raises: dense data is required
        arr = np.asarray(X)
        if arr.dtype.kind in "OUS" and arr.ndim == 2:
            try:  # numbers stored as objects/strings are numbers; None counts as missing
                filled = np.where(pd.isna(arr), np.nan, arr) if arr.dtype.kind == "O" else arr
                arr = filled.astype(np.float64)
            except (TypeError, ValueError):
                return arr  # a table with text columns: categorical, for the encoder
        if arr.ndim > 2:
            if arr.dtype.kind == "c":
                raise ValueError("Complex data not supported")
            if arr.shape[0] == 0:
                raise ValueError(f"Found array with 0 sample(s) (shape={arr.shape})")
            return arr
        return validate_data(self, arr, reset=reset, dtype=np.float64, ensure_all_finite=False)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "encoder_")

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # the encoder imputes missing values
        tags.input_tags.string = True  # text columns are one-hot encoded
        return tags


def training_rows(n: int, max_rows: int = MAX_TRAINING_SCORES) -> NDArray[np.intp]:
    """Sorted indices of at most ``max_rows`` of ``n`` training rows (a fixed-seed sample)."""
    if n <= max_rows:
        return np.arange(n, dtype=np.intp)
    rng = np.random.default_rng(0)
    return np.sort(rng.choice(n, size=max_rows, replace=False)).astype(np.intp)


def provisional_threshold(
    scores: NDArray[np.float64], target_fpr: float = PROVISIONAL_FPR
) -> Threshold:
    """Threshold from training scores, without the small-sample warning of calibration.

    Like :func:`~mlrails.detectors.threshold.calibrate_threshold` (conformal quantile, or the
    maximum score when there are too few scores); meant to be replaced by ``calibrate``.
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    value = conformal_quantile(s, target_fpr)
    if math.isinf(value):
        value = float(np.max(s))
    return Threshold(
        value=value,
        target_fpr=float(target_fpr),
        realised_fpr=float(np.mean(s > value)),
        n_calibration=int(s.size),
    )


def saved_params(params: dict[str, Any]) -> dict[str, Any]:
    """The constructor parameters a detector's state saves: JSON scalars and lists of them.

    A filter, not :func:`mlrails._json.jsonable`: any other parameter (the model, supplied at
    load time) is left out rather than turned into text, and the kept values are not changed
    (a tuple becomes a list), so that they rebuild the same detector.
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or isinstance(value, (bool, int, float, str)):
            out[key] = value
        elif isinstance(value, (list, tuple)) and all(
            isinstance(v, (bool, int, float, str)) for v in value
        ):
            out[key] = list(value)
    return out
