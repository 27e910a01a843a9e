"""``mlrails.fit``: learn every safeguard from a trained model and its training data."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

from mlrails.contract import infer_contract
from mlrails.detectors import make_seeded_detector
from mlrails.detectors.base import BaseDetector
from mlrails.drift.monitor import TrafficReference, answers_frame
from mlrails.errors import DataError
from mlrails.guard.policy import Policy
from mlrails.guard.rails import (
    CalibrationSummary,
    FitSummary,
    Rails,
    SafeguardSummary,
)
from mlrails.models import as_adapter
from mlrails.models.base import ModelAdapter
from mlrails.reliability import (
    ConformalClassifier,
    ConformalRegressor,
    expected_calibration_error,
    fit_min_confidence,
    make_calibrator,
)

StepCallback = Callable[[str], None]
"""Called with the name of each fitting step as it starts (the CLI shows it as progress)."""


def fit(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_calib: Any = None,
    y_calib: Any = None,
    policy: Policy | dict[str, Any] | str | Path | None = None,
    *,
    task: str | None = None,
    progress: StepCallback | None = None,
) -> Rails:
    """Fit rails around a trained ``model``.

    ``X_train``/``y_train``: the model's training data (DataFrame or array). Detectors learn
    from it; thresholds, calibration and conformal quantiles are set on a held-out
    calibration split — ``X_calib``/``y_calib`` when given, else a seeded share
    (``policy.calibration_fraction``) of the training data.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        rails = _fit(model, X_train, y_train, X_calib, y_calib, policy, task, progress)
    for w in caught:
        note = str(w.message)
        if note not in rails.summary.notes:
            rails.summary.notes.append(note)
    return rails


def _fit(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_calib: Any,
    y_calib: Any,
    policy: Policy | dict[str, Any] | str | Path | None,
    task: str | None,
    progress: StepCallback | None,
) -> Rails:
    step = progress or (lambda _msg: None)
    pol = Policy.coerce(policy)
    adapter = as_adapter(model, task=task)
    X_train, y_train = _as_table(X_train, "X_train"), _as_labels(y_train, "y_train")
    if len(X_train) != len(y_train):
        raise DataError(f"X_train has {len(X_train)} rows but y_train has {len(y_train)}")
    split_from_training = X_calib is None
    if split_from_training:
        X_fit, X_cal, y_fit, y_cal = split_for_calibration(X_train, y_train, adapter, pol)
    else:
        X_cal, y_cal = _as_table(X_calib, "X_calib"), _as_labels(y_calib, "y_calib")
        if len(X_cal) != len(y_cal):
            raise DataError(f"X_calib has {len(X_cal)} rows but y_calib has {len(y_cal)}")
        X_fit, y_fit = X_train, y_train

    step("contract")
    full = (
        pd.concat([X_fit, X_cal])
        if isinstance(X_fit, pd.DataFrame)
        else np.concatenate([X_fit, X_cal])
    )
    contract = infer_contract(
        full,
        tolerance=pol.validation.tolerance,
        strict_constant=pol.validation.constant_features == "strict",
    )
    contract.allow_extra_columns = pol.validation.allow_extra_columns
    summary = FitSummary(task=adapter.task, n_train=len(X_fit), n_calibration=len(X_cal))
    if split_from_training:
        summary.notes.append(
            "calibration rows were taken from the training data: if the model was trained on "
            "them, its confidence there is optimistic and the model-based thresholds "
            "(reliability, adversarial) alarm more often than targeted on new data; pass held-out "
            "calibration data (X_calib/y_calib, or --calib) the model was not trained on"
        )

    if adapter.task == "classification" and adapter.classes_ is None:
        # a framework model (torch, a callable) with no class list: column j is class j
        width = adapter.predict_proba(_take_rows(X_cal, 1, pol.seed)).shape[1]
        adapter.classes_ = np.arange(width)
        summary.notes.append(
            f"the model names no classes: its {width} probability columns are taken as "
            "classes 0..K-1 (pass classes= to the adapter to name them)"
        )

    ood: BaseDetector | None = None
    if pol.ood.mode != "off":
        step(f"out-of-distribution detector ({pol.ood.detector})")
        ood = make_seeded_detector(pol.ood.detector, pol.seed)
        ood.fit(X_fit).calibrate(X_cal, pol.ood.target_fpr)
        summary.safeguards.append(_summ("ood", pol.ood.mode, ood))

    adversarial: list[BaseDetector] = []
    if pol.adversarial.mode != "off":
        names = list(pol.adversarial.detectors)
        if contract.layout == "image" and "feature_squeezing" not in names:
            names.append("feature_squeezing")
        for name in names:
            if name == "neighbour_disagreement" and adapter.task != "classification":
                summary.notes.append("neighbour_disagreement skipped: classification only")
                continue
            if name == "feature_squeezing" and contract.layout != "image":
                summary.notes.append("feature_squeezing skipped: image-like inputs only")
                continue
            step(f"adversarial detector ({name})")
            params: dict[str, Any] = {"model": adapter}
            if name == "label_instability":
                params.update(
                    n_copies=pol.adversarial.n_copies, noise_scale=pol.adversarial.noise_scale
                )
            det = make_seeded_detector(name, pol.seed, **params)
            det.fit(X_fit, y_fit)
            det.calibrate(X_cal, pol.adversarial.target_fpr)
            adversarial.append(det)
            summary.safeguards.append(_summ(f"adversarial:{name}", pol.adversarial.mode, det))

    step("reliability")
    calibrator: Any = None
    conformal: ConformalClassifier | ConformalRegressor | None = None
    min_conf = None
    if adapter.task == "classification":
        P_raw = adapter.predict_proba(X_cal)
        y_idx = _label_index(adapter, y_cal)
        calibrator = make_calibrator(pol.reliability.calibration)
        calibrator.fit(P_raw, y_idx)
        P = calibrator.transform(P_raw)
        summary.calibration = CalibrationSummary(
            method=pol.reliability.calibration,
            ece_before=float(expected_calibration_error(P_raw, y_idx)),
            ece_after=float(expected_calibration_error(P, y_idx)),
            nll_before=_nll(P_raw, y_idx),
            nll_after=_nll(P, y_idx),
        )
        conformal = ConformalClassifier(coverage=pol.reliability.coverage).fit(P, y_idx)
        correct = P.argmax(axis=1) == y_idx
        summary.calibration_accuracy = float(correct.mean())
        if correct.any():
            min_conf = fit_min_confidence(P.max(axis=1), correct, pol.reliability.target_fpr)
            summary.safeguards.append(
                SafeguardSummary(
                    "reliability",
                    pol.reliability.mode,
                    min_conf.value,
                    min_conf.target_fpr,
                    min_conf.realised_fpr,
                    min_conf.n_calibration,
                )
            )
    else:
        # locally adaptive intervals: the difficulty model learns from the model's residuals
        # on the fit split, never from the calibration rows that set the quantile
        regressor = ConformalRegressor(
            coverage=pol.reliability.coverage, target_fpr=pol.reliability.target_fpr
        )
        regressor.fit_difficulty(
            X_fit,
            adapter.predict_values(X_fit),
            np.asarray(y_fit, dtype=np.float64),
            random_state=pol.seed,
        )
        pred = adapter.predict_values(X_cal)
        conformal = regressor.fit(pred, np.asarray(y_cal, dtype=np.float64), X_cal)
        wt = regressor.width_threshold_
        if wt is not None:
            summary.safeguards.append(
                SafeguardSummary(
                    "interval_width",
                    pol.reliability.mode,
                    wt.value,
                    wt.target_fpr,
                    wt.realised_fpr,
                    wt.n_calibration,
                )
            )
    summary.conformal_coverage = pol.reliability.coverage

    background = _take_rows(X_fit, pol.explanation.background_size, pol.seed)
    rails = Rails(
        adapter=adapter,
        contract=contract,
        policy=pol,
        ood=ood,
        adversarial=adversarial,
        calibrator=calibrator,
        conformal=conformal,
        min_confidence=min_conf,
        background=background,
        summary=summary,
    )
    if pol.drift.reference:
        step("drift reference")
        # the guard's own answers on the calibration split: the log keeps verdicts, so the
        # reference goes through the same rule (refused rows have no prediction)
        answers = answers_frame(
            (v.to_dict() for v in rails.check(X_cal, explain=False)), task=adapter.task
        )
        rails.reference = TrafficReference.build(
            full,
            contract,
            answers,
            task=adapter.task,
            reference_size=pol.drift.reference_size,
            seed=pol.seed,
        )
    from mlrails.artifact.io import content_hash

    rails.artifact_hash = content_hash(rails)  # verdicts carry it before any save
    return rails


def _summ(name: str, mode: str, det: BaseDetector) -> SafeguardSummary:
    t = det.threshold_
    return SafeguardSummary(name, mode, t.value, t.target_fpr, t.realised_fpr, t.n_calibration)


def _as_table(X: Any, what: str) -> Any:
    if isinstance(X, pd.DataFrame):
        if X.empty:
            raise DataError(f"{what} is empty")
        return X.reset_index(drop=True)
    try:
        arr = np.asarray(X)
    except Exception as exc:
        raise DataError(f"{what} is not a table or array ({exc})") from None
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise DataError(f"{what} must be a non-empty 2-D table or image batch, got {arr.shape}")
    return arr


def _as_labels(y: Any, what: str) -> NDArray[Any]:
    if y is None:
        raise DataError(f"{what} is required")
    arr = np.asarray(y)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    return arr


def split_for_calibration(
    X: Any, y: NDArray[Any], adapter: ModelAdapter, pol: Policy
) -> tuple[Any, ...]:
    """``(X_fit, X_cal, y_fit, y_cal)``: the seeded share ``pol.calibration_fraction`` held out
    for calibration when no calibration set is given (stratified for classes when every class
    has two rows); the same training data always gives the same split."""
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


def _label_index(adapter: ModelAdapter, y: NDArray[Any]) -> NDArray[np.intp]:
    classes = np.asarray(adapter.classes_)
    lookup = {c.item() if hasattr(c, "item") else c: i for i, c in enumerate(classes)}
    try:
        return np.array([lookup[v.item() if hasattr(v, "item") else v] for v in y], dtype=np.intp)
    except KeyError as exc:
        raise DataError(
            f"calibration label {exc.args[0]!r} is not one of the model's classes "
            f"{classes.tolist()}"
        ) from None


def _nll(P: NDArray[np.float64], y_idx: NDArray[np.intp]) -> float:
    p = np.clip(P[np.arange(len(y_idx)), y_idx], 1e-15, 1.0)
    return float(-np.mean(np.log(p)))


def _take_rows(X: Any, k: int, seed: int) -> Any:
    n = len(X)
    idx = np.sort(np.random.default_rng(seed).choice(n, size=min(k, n), replace=False))
    if isinstance(X, pd.DataFrame):
        return X.iloc[idx].reset_index(drop=True)
    return np.asarray(X)[idx]
