"""Split conformal prediction: sets of classes and intervals with a coverage guarantee.

On ``n`` held-out calibration rows a nonconformity score ``s_i`` is computed for the true
label; ``q_hat`` is the ``ceil((n + 1) * coverage)``-th smallest score
(:func:`~mlrails.detectors.threshold.conformal_quantile` with ``alpha = 1 - coverage``). For a
fresh row exchangeable with the calibration rows, the set of labels whose score is at most
``q_hat`` contains the true label with probability at least ``coverage`` (and, for scores
without ties, at most ``coverage + 1/(n + 1)``) — Vovk et al. 2005; Angelopoulos & Bates 2021.

Scores for classification (``P`` is the, ideally calibrated, probability matrix):

* ``"lac"`` (least ambiguous set-valued classifier, Sadinle et al. 2019): ``1 - p_y``;
* ``"aps"`` (adaptive prediction sets, Romano et al. 2020, non-randomised): the total
  probability of the classes ranked at or above ``y`` (sorted by decreasing probability, ties
  by class index), so a set is always a top-``m`` list of classes.

Sets may be empty when no class reaches the quantile: no label is plausible at the stated
coverage (the guard answers such a row 203, never 200). Regression uses the normalised
residual ``|y - ŷ| / sigma(x)`` with a difficulty model ``sigma`` fitted on other rows
(:mod:`mlrails.reliability.difficulty`), giving intervals ``ŷ ± q_hat · sigma(x)``; without
one, ``sigma = 1`` and the intervals are ``ŷ ± q_hat``.
When there are too few calibration rows for the coverage (``n < 1/(1 - coverage) - 1``),
``q_hat`` is infinite: every set holds every class and every interval is unbounded.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, ClassVar, Literal, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mlrails._state import State
from mlrails.detectors.threshold import Threshold, calibrate_threshold, conformal_quantile
from mlrails.errors import ArtifactError, NotFittedError
from mlrails.reliability.difficulty import KNNDifficulty

ClassificationScore = Literal["lac", "aps"]


def _check_coverage(coverage: float) -> None:
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must be in (0, 1), got {coverage}")


def _quantile(scores: NDArray[np.float64], coverage: float) -> float:
    q = conformal_quantile(scores, 1.0 - coverage)
    if math.isinf(q):
        warnings.warn(
            f"{scores.size} calibration rows are too few for {coverage:.1%} coverage "
            f"(need >= {math.ceil(1 / (1 - coverage)) - 1}); sets and intervals are unbounded",
            RuntimeWarning,
            stacklevel=3,
        )
    return q


class _Conformal:
    kind: ClassVar[str] = "base"
    q_hat_: float
    n_calibration_: int

    def _check_fitted(self) -> None:
        if not hasattr(self, "q_hat_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")

    @classmethod
    def _check_kind(cls, state: State) -> None:
        if state.meta.get("kind") != cls.kind:
            raise ArtifactError(
                f"state of conformal {state.meta.get('kind')!r} cannot load as {cls.kind!r}"
            )


class ConformalClassifier(_Conformal):
    """Split-conformal prediction sets over classes (see the module docstring)."""

    kind = "classifier"

    def __init__(self, coverage: float = 0.9, score: ClassificationScore = "lac") -> None:
        _check_coverage(coverage)
        if score not in ("lac", "aps"):
            raise ValueError(f"unknown conformal score {score!r}; choose 'lac' or 'aps'")
        self.coverage = coverage
        self.score = score

    def label_scores(self, P: ArrayLike) -> NDArray[np.float64]:
        """Nonconformity score of every candidate label, shape ``(n, n_classes)``."""
        arr = np.asarray(P, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] == 0:
            raise ValueError(f"expected a probability matrix (n, n_classes), got {arr.shape}")
        if self.score == "lac":
            return 1.0 - arr
        order = np.argsort(-arr, axis=1, kind="stable")
        cum = np.cumsum(np.take_along_axis(arr, order, axis=1), axis=1)
        out = np.empty_like(arr)
        np.put_along_axis(out, order, cum, axis=1)
        return out

    def fit(self, P_calib: ArrayLike, y_idx: ArrayLike) -> Self:
        """Set ``q_hat_`` from calibration probabilities and true label indices."""
        all_scores = self.label_scores(P_calib)
        y = np.asarray(y_idx)
        n, k = all_scores.shape
        if y.shape != (n,):
            raise ValueError(f"y_idx must have one label index per row ({n}), got {y.shape}")
        if n == 0:
            raise ValueError("cannot calibrate on zero rows")
        if y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= k:
            raise ValueError(f"y_idx must hold integer class indices in [0, {k})")
        scores = all_scores[np.arange(n), y.astype(np.intp)]
        self.q_hat_ = _quantile(scores, self.coverage)
        self.n_calibration_ = int(n)
        self.n_classes_ = int(k)
        return self

    def predict_sets(self, P: ArrayLike) -> NDArray[np.bool_]:
        """Boolean membership matrix ``(n, n_classes)``: ``True`` where the class is in the set."""
        self._check_fitted()
        return np.asarray(self.label_scores(P) <= self.q_hat_)

    def get_state(self) -> State:
        self._check_fitted()
        meta: dict[str, Any] = {
            "kind": self.kind,
            "coverage": self.coverage,
            "score": self.score,
            "n_calibration": self.n_calibration_,
            "n_classes": self.n_classes_,
        }
        return State(meta=meta, arrays={"q_hat": np.array([self.q_hat_], dtype=np.float64)})

    @classmethod
    def from_state(cls, state: State) -> Self:
        cls._check_kind(state)
        obj = cls(coverage=float(state.meta["coverage"]), score=state.meta["score"])
        obj.q_hat_ = float(state.array("q_hat")[0])
        obj.n_calibration_ = int(state.meta["n_calibration"])
        obj.n_classes_ = int(state.meta["n_classes"])
        return obj


class ConformalRegressor(_Conformal):
    """Split-conformal intervals ``ŷ ± q_hat · sigma(x)``, locally adaptive when fitted so.

    With a difficulty model (:meth:`fit_difficulty`, fitted on rows that are *not* the
    calibration rows) the score is the normalised residual ``|y - ŷ| / sigma(x)`` and widths
    follow ``sigma``; without one, ``sigma = 1`` and every interval has the same width (the
    plain method, and artifacts saved before the adaptive one). Either way the coverage
    guarantee of the module docstring holds.

    ``target_fpr``: when set, :meth:`fit` also sets ``width_threshold_``, the split-conformal
    quantile of the calibration rows' widths (:func:`calibrate_threshold`): a fresh row's
    interval is wider with probability at most ``target_fpr`` — the guard answers those 203.
    """

    kind = "regressor"
    difficulty_: KNNDifficulty | None = None
    width_threshold_: Threshold | None = None

    def __init__(self, coverage: float = 0.9, target_fpr: float | None = None) -> None:
        _check_coverage(coverage)
        if target_fpr is not None and not 0.0 < target_fpr < 1.0:
            raise ValueError(f"target_fpr must be in (0, 1), got {target_fpr}")
        self.coverage = coverage
        self.target_fpr = target_fpr

    @property
    def method(self) -> str:
        return "absolute" if self.difficulty_ is None else "normalized"

    def fit_difficulty(
        self, X_fit: Any, y_pred_fit: ArrayLike, y_true_fit: ArrayLike, **params: Any
    ) -> Self:
        """Fit ``sigma(x)`` (:class:`KNNDifficulty`) on the model's residuals on ``X_fit``.

        ``X_fit`` must not hold the calibration rows passed to :meth:`fit` later.
        """
        pred = np.asarray(y_pred_fit, dtype=np.float64).ravel()
        true = np.asarray(y_true_fit, dtype=np.float64).ravel()
        if pred.shape != true.shape:
            raise ValueError(f"y_pred and y_true differ in length ({pred.size} vs {true.size})")
        self.difficulty_ = KNNDifficulty(**params).fit(X_fit, np.abs(true - pred))
        return self

    def sigma(self, X: Any = None, n: int | None = None) -> NDArray[np.float64]:
        """Difficulty of each row (ones without a difficulty model; then ``n`` rows)."""
        if self.difficulty_ is None:
            return np.ones(len(X) if n is None else n)
        if X is None:
            raise ValueError("this conformal regressor is adaptive: pass the rows X")
        return self.difficulty_.predict(X)

    def fit(self, y_pred: ArrayLike, y_true: ArrayLike, X: Any = None) -> Self:
        """Set ``q_hat_`` (and ``width_threshold_``) from calibration rows ``X``."""
        pred = np.asarray(y_pred, dtype=np.float64).ravel()
        true = np.asarray(y_true, dtype=np.float64).ravel()
        if pred.shape != true.shape:
            raise ValueError(f"y_pred and y_true differ in length ({pred.size} vs {true.size})")
        if pred.size == 0:
            raise ValueError("cannot calibrate on zero rows")
        sig = self.sigma(X, pred.size)
        self.q_hat_ = _quantile(np.abs(true - pred) / sig, self.coverage)
        self.n_calibration_ = int(pred.size)
        self.width_threshold_ = None
        if self.target_fpr is not None and math.isfinite(self.q_hat_):
            widths = 2.0 * self.q_hat_ * sig
            self.width_threshold_ = calibrate_threshold(widths, self.target_fpr)
        return self

    def predict_intervals(
        self, y_pred: ArrayLike, X: Any = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Lower and upper interval bounds around each prediction (``X``: the rows)."""
        self._check_fitted()
        pred = np.asarray(y_pred, dtype=np.float64).ravel()
        half = self.q_hat_ * self.sigma(X, pred.size)
        return pred - half, pred + half

    def get_state(self) -> State:
        self._check_fitted()
        wt = self.width_threshold_
        meta: dict[str, Any] = {
            "kind": self.kind,
            "coverage": self.coverage,
            "n_calibration": self.n_calibration_,
            "method": self.method,
            "target_fpr": self.target_fpr,
            "width_threshold": None if wt is None else wt.to_dict(),
        }
        arrays = {"q_hat": np.array([self.q_hat_], dtype=np.float64)}
        if self.difficulty_ is not None:
            diff = self.difficulty_.get_state()
            meta["difficulty"] = diff.meta
            arrays.update({f"difficulty.{k}": v for k, v in diff.arrays.items()})
        return State(meta=meta, arrays=arrays)

    @classmethod
    def from_state(cls, state: State) -> Self:
        """Rebuild; states saved before adaptive intervals load as the plain method."""
        cls._check_kind(state)
        m = state.meta
        target = m.get("target_fpr")
        obj = cls(coverage=float(m["coverage"]), target_fpr=None if target is None else target)
        obj.q_hat_ = float(state.array("q_hat")[0])
        obj.n_calibration_ = int(m["n_calibration"])
        wt = m.get("width_threshold")
        obj.width_threshold_ = None if wt is None else Threshold.from_dict(wt)
        if m.get("method", "absolute") == "normalized":
            arrays = {
                k.removeprefix("difficulty."): v
                for k, v in state.arrays.items()
                if k.startswith("difficulty.")
            }
            obj.difficulty_ = KNNDifficulty.from_state(State(meta=m["difficulty"], arrays=arrays))
        return obj


def conformal_from_state(state: State) -> ConformalClassifier | ConformalRegressor:
    """Rebuild a fitted conformal predictor (dispatch on ``meta['kind']``)."""
    kind = state.meta.get("kind")
    if kind == ConformalClassifier.kind:
        return ConformalClassifier.from_state(state)
    if kind == ConformalRegressor.kind:
        return ConformalRegressor.from_state(state)
    raise ArtifactError(f"saved conformal predictor has an unknown kind {kind!r}")
