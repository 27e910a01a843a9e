"""Probability calibration: measure it (ECE, NLL) and fix it (temperature, isotonic).

Every calibrator is fitted on held-out calibration probabilities ``P`` (shape
``(n, n_classes)``) and label indices ``y_idx`` (column of the true class in ``P``) and maps
probabilities to calibrated probabilities with ``transform``. Fitted calibrators save
themselves as JSON metadata plus plain arrays (:class:`~mlrails._state.State`), never pickle:

* :class:`TemperatureScaler` — one temperature ``T > 0`` applied as ``softmax(log(P) / T)``
  (Guo et al. 2017), fitted by minimising the negative log-likelihood over ``log T``;
* :class:`IsotonicCalibrator` — one-vs-rest isotonic regression per class, rows renormalised
  (Zadrozny & Elkan 2002); the fitted step curves are saved as arrays and applied with
  :func:`numpy.interp`;
* :class:`IdentityCalibrator` — ``"none"``: probabilities pass through unchanged.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

from mlrails._state import State
from mlrails.errors import ArtifactError, NotFittedError
from mlrails.registry import Registry

#: probabilities are clipped to at least this before taking logs
EPS = 1e-12


# -- metrics ----------------------------------------------------------------------------------


def _check_inputs(P: ArrayLike, y_idx: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    arr = np.asarray(P, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"expected a probability matrix of shape (n, n_classes), got {arr.shape}")
    y = np.asarray(y_idx)
    if y.ndim != 1 or y.shape[0] != arr.shape[0]:
        raise ValueError(f"y_idx must have one label index per row of P ({arr.shape[0]})")
    if y.size and (y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= arr.shape[1]):
        raise ValueError(f"y_idx must hold integer class indices in [0, {arr.shape[1]})")
    if arr.shape[0] == 0:
        raise ValueError("cannot calibrate on zero rows")
    return arr, y.astype(np.intp)


def expected_calibration_error(P: ArrayLike, y_idx: ArrayLike, n_bins: int = 15) -> float:
    """Top-label expected calibration error with ``n_bins`` equal-width confidence bins.

    Bin ``b`` holds the rows whose top-1 probability lies in ``(b/n_bins, (b+1)/n_bins]``
    (the first bin also holds 0). ECE is the row-weighted mean over bins of
    ``|accuracy(bin) - mean confidence(bin)|`` (Naeini et al. 2015; Guo et al. 2017).
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    arr, y = _check_inputs(P, y_idx)
    conf = arr.max(axis=1)
    correct = (arr.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges[1:-1], conf, side="left"), 0, n_bins - 1)
    conf_sum = np.bincount(bins, weights=conf, minlength=n_bins)
    acc_sum = np.bincount(bins, weights=correct, minlength=n_bins)
    return float(np.sum(np.abs(acc_sum - conf_sum)) / arr.shape[0])


def negative_log_likelihood(P: ArrayLike, y_idx: ArrayLike) -> float:
    """Mean negative log-probability of the true class (probabilities clipped at ``EPS``)."""
    arr, y = _check_inputs(P, y_idx)
    p_true = np.clip(arr[np.arange(arr.shape[0]), y], EPS, 1.0)
    return float(-np.mean(np.log(p_true)))


# -- calibrators ------------------------------------------------------------------------------


class Calibrator(ABC):
    """Common interface: ``fit(P, y_idx)``, ``transform(P)``, ``get_state`` / ``from_state``."""

    #: name used in policies (``reliability.calibration``) and saved states
    method: ClassVar[str] = "base"

    @abstractmethod
    def fit(self, P: ArrayLike, y_idx: ArrayLike) -> Self:
        """Learn the calibration map on held-out probabilities and true label indices."""

    @abstractmethod
    def transform(self, P: ArrayLike) -> NDArray[np.float64]:
        """Calibrated probabilities, same shape as ``P``, rows summing to one."""

    @abstractmethod
    def get_state(self) -> State:
        """The fitted calibrator as JSON metadata plus arrays."""

    @classmethod
    @abstractmethod
    def from_state(cls, state: State) -> Self:
        """Rebuild a fitted calibrator saved with :meth:`get_state`."""

    def fit_transform(self, P: ArrayLike, y_idx: ArrayLike) -> NDArray[np.float64]:
        return self.fit(P, y_idx).transform(P)

    @classmethod
    def _check_method(cls, state: State) -> None:
        method = state.meta.get("method")
        if method != cls.method:
            raise ArtifactError(f"state of calibrator {method!r} cannot load as {cls.method!r}")


class IdentityCalibrator(Calibrator):
    """``"none"``: leave probabilities as the model gives them."""

    method = "none"

    def __init__(self) -> None:
        self.n_classes_: int | None = None

    def fit(self, P: ArrayLike, y_idx: ArrayLike) -> Self:
        arr, _ = _check_inputs(P, y_idx)
        self.n_classes_ = int(arr.shape[1])
        return self

    def transform(self, P: ArrayLike) -> NDArray[np.float64]:
        return np.array(P, dtype=np.float64)

    def get_state(self) -> State:
        return State(meta={"method": self.method, "n_classes": self.n_classes_}, arrays={})

    @classmethod
    def from_state(cls, state: State) -> Self:
        cls._check_method(state)
        obj = cls()
        n = state.meta.get("n_classes")
        obj.n_classes_ = None if n is None else int(n)
        return obj


class TemperatureScaler(Calibrator):
    """Temperature scaling: ``softmax(log(P) / T)`` with ``T`` minimising the NLL.

    ``T > 1`` softens over-confident probabilities, ``T < 1`` sharpens under-confident ones;
    the predicted class never changes. ``T`` is searched over ``log T`` in
    ``[log(t_min), log(t_max)]`` with :func:`scipy.optimize.minimize_scalar` (bounded).
    ``t_min`` defaults to 0.2: when every calibration prediction is correct the likelihood
    keeps growing as T → 0, and an unbounded fit would push every probability to 1.
    """

    method = "temperature"

    temperature_: float

    def __init__(self, t_min: float = 0.2, t_max: float = 1e2) -> None:
        if not 0.0 < t_min < t_max:
            raise ValueError(f"need 0 < t_min < t_max, got {t_min}, {t_max}")
        self.t_min = t_min
        self.t_max = t_max

    def fit(self, P: ArrayLike, y_idx: ArrayLike) -> Self:
        arr, y = _check_inputs(P, y_idx)
        logits = np.log(np.clip(arr, EPS, None))
        rows = np.arange(arr.shape[0])

        def nll(log_t: float) -> float:
            logp = log_softmax(logits / math.exp(log_t), axis=1)
            return float(-np.mean(logp[rows, y]))

        result = minimize_scalar(
            nll,
            bounds=(math.log(self.t_min), math.log(self.t_max)),
            method="bounded",
            options={"xatol": 1e-6},
        )
        self.temperature_ = float(math.exp(float(result.x)))
        return self

    def transform(self, P: ArrayLike) -> NDArray[np.float64]:
        self._check_fitted()
        arr = np.asarray(P, dtype=np.float64)
        logits = np.log(np.clip(arr, EPS, None))
        return np.asarray(softmax(logits / self.temperature_, axis=-1), dtype=np.float64)

    def get_state(self) -> State:
        self._check_fitted()
        meta: dict[str, Any] = {
            "method": self.method,
            "t_min": self.t_min,
            "t_max": self.t_max,
            "temperature": self.temperature_,
        }
        return State(meta=meta, arrays={})

    @classmethod
    def from_state(cls, state: State) -> Self:
        cls._check_method(state)
        obj = cls(t_min=float(state.meta["t_min"]), t_max=float(state.meta["t_max"]))
        obj.temperature_ = float(state.meta["temperature"])
        return obj

    def _check_fitted(self) -> None:
        if not hasattr(self, "temperature_"):
            raise NotFittedError("TemperatureScaler is not fitted; call fit() first")


class IsotonicCalibrator(Calibrator):
    """One-vs-rest isotonic regression per class, then rows renormalised to sum to one.

    Each class ``k`` gets an increasing step curve from ``P[:, k]`` to the observed frequency
    of ``y == k`` (scikit-learn's ``IsotonicRegression(out_of_bounds="clip")``). Only the
    curve's knots (``X_thresholds_``, ``y_thresholds_``) are kept; :func:`numpy.interp`
    evaluates them exactly as scikit-learn does, so a saved calibrator loads without pickle.
    A row whose calibrated values are all zero keeps its original (renormalised) probabilities.
    """

    method = "isotonic"

    x_thresholds_: list[NDArray[np.float64]]
    y_thresholds_: list[NDArray[np.float64]]

    def fit(self, P: ArrayLike, y_idx: ArrayLike) -> Self:
        from sklearn.isotonic import IsotonicRegression

        arr, y = _check_inputs(P, y_idx)
        self.x_thresholds_ = []
        self.y_thresholds_ = []
        for k in range(arr.shape[1]):
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            iso.fit(arr[:, k], (y == k).astype(np.float64))
            self.x_thresholds_.append(np.asarray(iso.X_thresholds_, dtype=np.float64))
            self.y_thresholds_.append(np.asarray(iso.y_thresholds_, dtype=np.float64))
        return self

    @property
    def n_classes_(self) -> int:
        self._check_fitted()
        return len(self.x_thresholds_)

    def transform_unnormalised(self, P: ArrayLike) -> NDArray[np.float64]:
        """Per-class isotonic values before renormalisation (equals scikit-learn's predict)."""
        self._check_fitted()
        arr = np.asarray(P, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != self.n_classes_:
            raise ValueError(f"expected shape (n, {self.n_classes_}), got {arr.shape}")
        out = np.empty_like(arr)
        for k, (xs, ys) in enumerate(zip(self.x_thresholds_, self.y_thresholds_, strict=True)):
            out[:, k] = np.interp(arr[:, k], xs, ys)
        return out

    def transform(self, P: ArrayLike) -> NDArray[np.float64]:
        arr = np.asarray(P, dtype=np.float64)
        out = self.transform_unnormalised(arr)
        total = out.sum(axis=1, keepdims=True)
        fallback = arr / np.clip(arr.sum(axis=1, keepdims=True), EPS, None)
        safe = np.where(total > 0, total, 1.0)
        return np.asarray(np.where(total > 0, out / safe, fallback), dtype=np.float64)

    def get_state(self) -> State:
        self._check_fitted()
        lengths = [x.size for x in self.x_thresholds_]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return State(
            meta={"method": self.method, "n_classes": len(lengths)},
            arrays={
                "x_thresholds": np.concatenate(self.x_thresholds_),
                "y_thresholds": np.concatenate(self.y_thresholds_),
                "offsets": offsets,
            },
        )

    @classmethod
    def from_state(cls, state: State) -> Self:
        cls._check_method(state)
        xs = np.asarray(state.array("x_thresholds"), dtype=np.float64)
        ys = np.asarray(state.array("y_thresholds"), dtype=np.float64)
        offsets = np.asarray(state.array("offsets"), dtype=np.int64)
        obj = cls()
        obj.x_thresholds_ = [xs[a:b] for a, b in itertools.pairwise(offsets.tolist())]
        obj.y_thresholds_ = [ys[a:b] for a, b in itertools.pairwise(offsets.tolist())]
        return obj

    def _check_fitted(self) -> None:
        if not hasattr(self, "x_thresholds_"):
            raise NotFittedError("IsotonicCalibrator is not fitted; call fit() first")


#: the calibration methods by name
CALIBRATORS: Registry[type[Calibrator]] = Registry("calibration method")
CALIBRATORS.add("temperature", TemperatureScaler)
CALIBRATORS.add("isotonic", IsotonicCalibrator)
CALIBRATORS.add("none", IdentityCalibrator)


def make_calibrator(method: str) -> Calibrator:
    """A new, unfitted calibrator: ``"temperature"``, ``"isotonic"`` or ``"none"``."""
    return CALIBRATORS.get(method)()


def calibrator_from_state(state: State) -> Calibrator:
    """Rebuild any fitted calibrator from its saved state (dispatch on ``meta['method']``)."""
    method = str(state.meta.get("method"))
    if method not in CALIBRATORS:
        raise ArtifactError(f"saved calibrator has an unknown method {method!r}")
    cls = CALIBRATORS[method]
    return cls.from_state(state)


# -- report -----------------------------------------------------------------------------------


@dataclass
class CalibrationReport:
    """Calibration quality before and after a calibrator, on the same labelled rows."""

    method: str
    ece_before: float
    ece_after: float
    nll_before: float
    nll_after: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def calibration_report(
    calibrator: Calibrator, P: ArrayLike, y_idx: ArrayLike, n_bins: int = 15
) -> CalibrationReport:
    """ECE and NLL of ``P`` and of ``calibrator.transform(P)`` (the calibrator must be fitted)."""
    arr, y = _check_inputs(P, y_idx)
    after = calibrator.transform(arr)
    return CalibrationReport(
        method=calibrator.method,
        ece_before=expected_calibration_error(arr, y, n_bins),
        ece_after=expected_calibration_error(after, y, n_bins),
        nll_before=negative_log_likelihood(arr, y),
        nll_after=negative_log_likelihood(after, y),
    )
