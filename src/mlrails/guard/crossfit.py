"""Calibration rows that neither the model nor the detectors learnt from.

A threshold set on rows the model was trained on is optimistic: the model is confident there
and its detectors find those rows familiar, so on new data the safeguards alarm more often than
targeted. When no calibration data is given, ``fit`` therefore *cross-fits*:

* ``crossfit``: K folds; for each, the detectors (and, for a model that can be refitted — a
  scikit-learn estimator or pipeline — a clone of the model) are fitted on the other folds and
  score the held-out fold. Every training row then calibrates, on out-of-fold scores; the
  served detectors are fitted on all rows.
* ``holdout``: one seeded split (``calibration_fraction``), one refit; used when the data is
  large enough that holding rows out costs nothing.
* ``training``: the old behaviour — a share of the training rows scored by the served model
  (optimistic; kept for experts and for models that cannot be refitted).
* ``given``: calibration rows passed by the user (split conformal).

What holds: with ``given`` rows, split-conformal thresholds keep their false-alarm rate for
exchangeable data. Cross-fitted thresholds are cross-conformal (Vovk 2015; CV+, Barber et al.
2021): the served detectors and model are fitted on all rows, not on the folds that scored, so
the bound is slightly weaker — at worst ``2 alpha`` in theory (CV+), in practice close to
``alpha`` because a model fitted on more rows is, if anything, less surprised by new ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from mlrails.detectors.base import BaseDetector
from mlrails.guard.policy import Policy
from mlrails.models import SklearnAdapter
from mlrails.models.base import ModelAdapter

#: builds the (key, detector) pairs to fit around one model: "ood", "adversarial:<name>"
DetectorFactory = Callable[[ModelAdapter], list[tuple[str, BaseDetector]]]
StepCallback = Callable[[str], None]

NO_REFIT_NOTE = (
    "the model cannot be refitted ({why}): its outputs on the calibration rows come from "
    "training rows it has seen, so the model-based safeguards (reliability, adversarial) are "
    "optimistic and no silent-failure rate can be certified; pass held-out calibration data "
    "(X_calib/y_calib, or --calib)"
)


@dataclass
class CalibrationRows:
    """The calibration rows and what the model and detectors said of them, unseen."""

    method: str
    X: Any
    y: NDArray[Any]
    #: model outputs on ``X``: probabilities ``(n, K)`` or values ``(n,)``
    outputs: NDArray[np.float64]
    #: the outputs come from a model that did not train on ``X``
    model_unseen: bool
    #: detector key -> scores on ``X`` from detectors not fitted on ``X``
    scores: dict[str, NDArray[np.float64]]
    #: the served detectors (thresholds not set yet), fitted on ``X_fit``
    detectors: list[tuple[str, BaseDetector]]
    X_fit: Any
    y_fit: NDArray[Any]
    folds: int = 1
    notes: list[str] = field(default_factory=list)


def refit_problem(adapter: ModelAdapter) -> str | None:
    """Why ``adapter``'s model cannot be cloned and refitted, or None when it can."""
    if not isinstance(adapter, SklearnAdapter):
        kind = type(adapter).__name__.removesuffix("Adapter")
        return f"a {kind} model is not a scikit-learn estimator"
    est = adapter.estimator
    if not hasattr(est, "fit"):
        return f"{type(est).__name__} has no fit method"
    try:
        clone(est)
    except Exception as exc:
        return f"{type(est).__name__} cannot be cloned ({type(exc).__name__})"
    return None


def choose_method(pol: Policy, n_rows: int, given: bool) -> str:
    """The calibration method ``fit`` uses (see the module docstring)."""
    if given:
        return "given"
    method = pol.cross_fit.method
    if method == "auto":
        return "holdout" if n_rows >= pol.cross_fit.holdout_min_rows else "crossfit"
    return method


def calibration_rows(
    adapter: ModelAdapter,
    X_train: Any,
    y_train: NDArray[Any],
    X_calib: Any,
    y_calib: NDArray[Any] | None,
    pol: Policy,
    make: DetectorFactory,
    step: StepCallback,
) -> CalibrationRows:
    """Fit the served detectors and score calibration rows none of them learnt from."""
    method = choose_method(pol, len(X_train), X_calib is not None)
    if method == "given":
        assert y_calib is not None
        step("detectors")
        dets = _fitted(make(adapter), X_train, y_train)
        out = model_output(adapter, X_calib)
        return CalibrationRows(
            method,
            X_calib,
            y_calib,
            out,
            True,
            _scores(dets, X_calib, out, adapter),
            dets,
            X_train,
            y_train,
        )
    why = refit_problem(adapter) if pol.cross_fit.refit_model else "cross_fit.refit_model is off"
    if method == "training":
        X_fit, X_cal, y_fit, y_cal = split_for_calibration(X_train, y_train, adapter, pol)
        step("detectors")
        dets = _fitted(make(adapter), X_fit, y_fit)
        out = model_output(adapter, X_cal)
        rows = CalibrationRows(
            method, X_cal, y_cal, out, False, _scores(dets, X_cal, out, adapter), dets, X_fit, y_fit
        )
        rows.notes.append(
            "calibration rows were taken from the training data: if the model was trained on "
            "them, its confidence there is optimistic and the model-based thresholds "
            "(reliability, adversarial) alarm more often than targeted on new data; pass held-out "
            "calibration data (X_calib/y_calib, or --calib) the model was not trained on"
        )
        return rows
    if method == "holdout":
        return _holdout(adapter, X_train, y_train, pol, make, step, why)
    return _crossfit(adapter, X_train, y_train, pol, make, step, why)


def _holdout(
    adapter: ModelAdapter,
    X: Any,
    y: NDArray[Any],
    pol: Policy,
    make: DetectorFactory,
    step: StepCallback,
    why: str | None,
) -> CalibrationRows:
    X_fit, X_cal, y_fit, y_cal = split_for_calibration(X, y, adapter, pol)
    fold_model = adapter
    if why is None:
        step("refitting the model on the fit split")
        fold_model, why = _refit(adapter, X_fit, y_fit)
    step("detectors")
    fold_dets = _fitted(make(fold_model), X_fit, y_fit)
    out = model_output(fold_model, X_cal)
    scores = _scores(fold_dets, X_cal, out, fold_model)
    if fold_model is adapter:
        dets = fold_dets
    else:  # model-free detectors serve as fitted; model-based ones around the served model
        dets = [
            (k, d) if not d.needs_model else (k, _fit_one(fresh, X_fit, y_fit))
            for (k, d), (_, fresh) in zip(fold_dets, make(adapter), strict=True)
        ]
    rows = CalibrationRows("holdout", X_cal, y_cal, out, why is None, scores, dets, X_fit, y_fit)
    if why is not None:
        rows.notes.append(NO_REFIT_NOTE.format(why=why))
    return rows


def _crossfit(
    adapter: ModelAdapter,
    X: Any,
    y: NDArray[Any],
    pol: Policy,
    make: DetectorFactory,
    step: StepCallback,
    why: str | None,
) -> CalibrationRows:
    n = len(X)
    k = pol.cross_fit.fold_count(n)
    splitter = _splitter(adapter, y, k, pol.seed)
    out: NDArray[np.float64] | None = None
    scores: dict[str, NDArray[np.float64]] = {}
    for f, (tr, te) in enumerate(splitter):
        step(f"cross-fitting fold {f + 1}/{k}")
        X_tr, X_te = _rows(X, tr), _rows(X, te)
        fold_model = adapter
        if why is None:
            fold_model, why = _refit(adapter, X_tr, y[tr])
        o = model_output(fold_model, X_te)
        if out is None:
            out = np.full((n, *o.shape[1:]), np.nan)
        out[te] = o
        for key, s in _scores(_fitted(make(fold_model), X_tr, y[tr]), X_te, o, fold_model).items():
            scores.setdefault(key, np.full(n, np.nan))[te] = s
    assert out is not None
    step("detectors")
    dets = _fitted(make(adapter), X, y)
    rows = CalibrationRows("crossfit", X, y, out, why is None, scores, dets, X, y, folds=k)
    if why is not None:
        # a fold may have refitted before a later one failed: the outputs mix; use the served
        # model's outputs throughout, as documented
        rows.outputs = model_output(adapter, X)
        rows.notes.append(NO_REFIT_NOTE.format(why=why))
    return rows


def _splitter(adapter: ModelAdapter, y: NDArray[Any], k: int, seed: int) -> Any:
    if adapter.task == "classification":
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2 and counts.max() >= k:
            # a class with fewer rows than folds is missing from some held-out folds, never
            # from a training fold (two of its rows are never held out together)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "The least populated class", UserWarning)
                splits = list(
                    StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
                )
            return iter(splits)
    return KFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)))


def _refit(adapter: ModelAdapter, X: Any, y: NDArray[Any]) -> tuple[ModelAdapter, str | None]:
    """A clone of the model fitted on ``(X, y)``, or the model itself and why not."""
    assert isinstance(adapter, SklearnAdapter)
    try:
        est = clone(adapter.estimator).fit(X, y)
        fold = SklearnAdapter(est, task=adapter.task)
    except Exception as exc:
        return (
            adapter,
            f"refitting {type(adapter.estimator).__name__} failed ({type(exc).__name__})",
        )
    if adapter.task == "classification":
        got = None if fold.classes_ is None else np.asarray(fold.classes_).tolist()
        want = None if adapter.classes_ is None else np.asarray(adapter.classes_).tolist()
        if got != want:  # a fold without some class: its probability columns differ
            return adapter, "a refit on a fold does not learn every class"
    return fold, None


def _fitted(
    dets: list[tuple[str, BaseDetector]], X: Any, y: NDArray[Any]
) -> list[tuple[str, BaseDetector]]:
    return [(k, _fit_one(d, X, y)) for k, d in dets]


def _fit_one(det: BaseDetector, X: Any, y: NDArray[Any]) -> BaseDetector:
    return det.fit(X, y) if det.needs_model else det.fit(X)


def _scores(
    dets: list[tuple[str, BaseDetector]],
    X: Any,
    outputs: NDArray[np.float64],
    adapter: ModelAdapter,
) -> dict[str, NDArray[np.float64]]:
    return {k: detector_scores(d, X, outputs, adapter) for k, d in dets}


def detector_scores(
    det: BaseDetector, X: Any, outputs: NDArray[np.float64], adapter: ModelAdapter
) -> NDArray[np.float64]:
    """``det``'s scores of ``X``, given the model's ``outputs`` there (as the guard does)."""
    kwargs: dict[str, Any] = {}
    if adapter.task == "classification" and outputs.ndim == 2:
        if det.name == "label_instability":
            kwargs["proba"] = outputs
        elif det.name == "neighbour_disagreement":
            kwargs["predicted"] = np.asarray(adapter.classes_)[outputs.argmax(axis=1)]
    return np.asarray(det.score_samples(X, **kwargs), dtype=np.float64)


def model_output(adapter: ModelAdapter, X: Any) -> NDArray[np.float64]:
    """Probabilities (classification) or values (regression) of ``X``."""
    if adapter.task == "classification":
        return np.asarray(adapter.predict_proba(X), dtype=np.float64)
    return np.asarray(adapter.predict_values(X), dtype=np.float64)


def split_for_calibration(
    X: Any, y: NDArray[Any], adapter: ModelAdapter, pol: Policy
) -> tuple[Any, Any, NDArray[Any], NDArray[Any]]:
    """``(X_fit, X_cal, y_fit, y_cal)``: the seeded share ``pol.calibration_fraction`` held out
    (stratified for classes when every class has two rows); the same data, the same split."""
    stratify = None
    if adapter.task == "classification":
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2:
            stratify = y
    X_fit, X_cal, y_fit, y_cal = train_test_split(
        X, y, test_size=pol.calibration_fraction, random_state=pol.seed, stratify=stratify
    )
    if isinstance(X_fit, pd.DataFrame):
        X_fit, X_cal = X_fit.reset_index(drop=True), X_cal.reset_index(drop=True)
    return X_fit, X_cal, y_fit, y_cal


def _rows(X: Any, idx: NDArray[np.intp]) -> Any:
    if isinstance(X, pd.DataFrame):
        return X.iloc[idx].reset_index(drop=True)
    return np.asarray(X)[idx]
