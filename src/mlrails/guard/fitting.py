"""``mlrails.fit``: learn every safeguard from a trained model and its training data."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails.contract import infer_contract
from mlrails.contract.validate import contract_columns
from mlrails.detectors import make_seeded_detector
from mlrails.detectors.base import BaseDetector
from mlrails.detectors.threshold import calibrate_threshold
from mlrails.drift.batch import BatchShiftTest
from mlrails.drift.monitor import TrafficReference, answers_frame
from mlrails.errors import DataError
from mlrails.guard.budget import JointThresholds, joint_thresholds
from mlrails.guard.certify import ERROR_SCORE_SHARE, budget_notes, certify_budget, label_index
from mlrails.guard.crossfit import (
    CalibrationRows,
    calibration_rows,
    choose_method,
    model_output,
    refit_problem,
    split_for_calibration,
)
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

__all__ = ["StepCallback", "fit", "split_for_calibration"]

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
    X_cal = y_cal = None
    if X_calib is not None:
        X_cal, y_cal = _as_table(X_calib, "X_calib"), _as_labels(y_calib, "y_calib")
        if len(X_cal) != len(y_cal):
            raise DataError(f"X_calib has {len(X_cal)} rows but y_calib has {len(y_cal)}")

    step("contract")
    full = X_train if X_cal is None else _concat(X_train, X_cal)
    contract = infer_contract(
        full,
        tolerance=pol.validation.tolerance,
        strict_constant=pol.validation.constant_features == "strict",
    )
    contract.allow_extra_columns = pol.validation.allow_extra_columns
    notes: list[str] = []
    if adapter.task == "classification" and adapter.classes_ is None:
        # a framework model (torch, a callable) with no class list: column j is class j
        width = adapter.predict_proba(_take_rows(X_train, 1, pol.seed)).shape[1]
        adapter.classes_ = np.arange(width)
        notes.append(
            f"the model names no classes: its {width} probability columns are taken as "
            "classes 0..K-1 (pass classes= to the adapter to name them)"
        )
    if pol.budget.silent_failure_rate is not None and X_cal is None:
        why = refit_problem(adapter) if pol.cross_fit.refit_model else "refit_model is off"
        if why is not None or choose_method(pol, len(X_train), False) == "training":
            raise DataError(
                "a silent-failure rate needs predictions the model did not train on: "
                f"{why or 'cross_fit.method is training'}; pass calibration data "
                "(X_calib/y_calib, or --calib)"
            )

    rows = calibration_rows(
        adapter,
        X_train,
        y_train,
        X_cal,
        y_cal,
        pol,
        lambda a: _make_detectors(a, contract, pol, notes),
        step,
    )
    summary = FitSummary(
        task=adapter.task, n_train=len(rows.X_fit), n_calibration=len(rows.X), notes=notes
    )
    for note in rows.notes:
        if note not in summary.notes:
            summary.notes.append(note)

    joint = _set_thresholds(rows, pol, summary)
    ood = next((d for k, d in rows.detectors if k == "ood"), None)
    adversarial = [d for k, d in rows.detectors if k != "ood"]

    step("reliability")
    calibrator: Any = None
    conformal: ConformalClassifier | ConformalRegressor | None = None
    min_conf = None
    part_a, part_b = _halves(len(rows.X), rows.method, pol.seed)
    if adapter.task == "classification":
        P_raw = rows.outputs
        y_idx = label_index(adapter, rows.y)
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
        regressor = ConformalRegressor(
            coverage=pol.reliability.coverage, target_fpr=pol.reliability.target_fpr
        )
        y_true = np.asarray(rows.y, dtype=np.float64)
        if rows.method == "crossfit":
            # the difficulty model learns from out-of-fold residuals of one part, the
            # quantile is set on the other: sigma is never fitted on the rows it calibrates
            Xa, Xb = _take_idx(rows.X, part_a), _take_idx(rows.X, part_b)
            regressor.fit_difficulty(
                Xa, rows.outputs[part_a], y_true[part_a], random_state=pol.seed
            )
            conformal = regressor.fit(rows.outputs[part_b], y_true[part_b], Xb)
        else:
            # locally adaptive intervals: the difficulty model learns from the model's
            # residuals on the fit split, never from the calibration rows
            regressor.fit_difficulty(
                rows.X_fit,
                adapter.predict_values(rows.X_fit),
                np.asarray(rows.y_fit, dtype=np.float64),
                random_state=pol.seed,
            )
            conformal = regressor.fit(rows.outputs, y_true, rows.X)
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

    step("error budget")
    scorer, certificate, budget = certify_budget(
        rows,
        pol,
        adapter,
        calibrator=calibrator,
        conformal=conformal,
        min_conf=min_conf,
        joint=joint,
        y_scale=_scale(y_train) if adapter.task == "regression" else None,
        parts=(part_a, part_b),
    )
    summary.budget = budget
    for note in budget_notes(budget, rows):
        summary.notes.append(note)

    background = _take_rows(rows.X_fit, pol.explanation.background_size, pol.seed)
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
        error_scorer=scorer,
        certificate=certificate if pol.budget.silent_failure_rate is not None else None,
        error_inputs=[k for k, _ in rows.detectors],
    )
    if pol.drift.reference:
        step("drift reference")
        answers = answers_frame(_reference_answers(rails, rows, pol, calibrator), task=adapter.task)
        rails.reference = TrafficReference.build(
            full,
            contract,
            answers,
            task=adapter.task,
            reference_size=pol.drift.reference_size,
            seed=pol.seed,
        )
    if pol.batch_shift.mode != "off" and contract.layout != "image":
        step("batch shift reference")
        rails.batch_shift = _batch_shift(rails, rows, pol, calibrator)
    from mlrails.artifact.io import content_hash

    rails.artifact_hash = content_hash(rails)  # verdicts carry it before any save
    return rails


def _reference_answers(
    rails: Rails, rows: CalibrationRows, pol: Policy, calibrator: Any
) -> list[dict[str, Any]]:
    """The guard's answers on calibration rows, as the log keeps verdicts (refused rows have
    no prediction), for the drift reference. Where the model's outputs on those rows are
    out-of-fold, the answers carry them: the served model's own answers on its training
    rows are more confident than on any new traffic, and the drift monitor would alarm."""
    n = len(rows.X)
    k = min(n, max(1000, int(pol.calibration_fraction * n)))
    idx = np.sort(np.random.default_rng(pol.seed).choice(n, size=k, replace=False))
    answers = [v.to_dict() for v in rails.check(_take_idx(rows.X, idx), explain=False)]
    if not rows.model_unseen or rows.method == "given":
        return answers
    out = rows.outputs[idx]
    # refused as the out-of-fold detectors would refuse them (blocking safeguards)
    refused = np.zeros(k, dtype=bool)
    for key, det in rows.detectors:
        fam = pol.ood if key == "ood" else pol.adversarial
        if fam.mode == "block":
            refused |= rows.scores[key][idx] > det.threshold_.value
    answered = [a.get("outcome") not in ("invalid_input", "model_error") for a in answers]
    if rails.task == "classification":
        P = calibrator.transform(out) if calibrator is not None else out
        classes = np.asarray(rails.adapter.classes_).tolist()  # plain Python values
        for i, (a, p) in enumerate(zip(answers, P, strict=True)):
            if not answered[i]:
                continue
            if (a.get("confidence") or {}).get("max_probability") is not None:
                a["confidence"] = {**a["confidence"], "max_probability": float(p.max())}
            a["prediction"] = None if refused[i] else classes[int(p.argmax())]
    else:
        for i, (a, value) in enumerate(zip(answers, out, strict=True)):
            if answered[i]:
                a["prediction"] = None if refused[i] else float(value)
    return answers


def _batch_shift(
    rails: Rails, rows: CalibrationRows, pol: Policy, calibrator: Any
) -> BatchShiftTest | None:
    """The batch-level shift test, referenced on the calibration rows and the model's
    outputs there (only outputs of a model that did not train on them: a model's confidence on
    its own training rows would make every production batch look shifted)."""
    adapter = rails.adapter

    def served(X: Any) -> NDArray[np.float64]:
        out = model_output(adapter, X)
        if adapter.task == "classification" and calibrator is not None:
            return np.asarray(calibrator.transform(out), dtype=np.float64)
        return out

    outputs = None
    if rows.model_unseen:
        outputs = rows.outputs
        if adapter.task == "classification" and calibrator is not None:
            outputs = calibrator.transform(outputs)
    bs = pol.batch_shift
    try:
        return BatchShiftTest(
            min_rows=bs.min_rows,
            alpha=bs.alpha,
            fdr=bs.fdr,
            effect=bs.effect,
            classifier=bs.classifier,
            random_state=pol.seed,
        ).fit(rows.X, outputs, predict=served, columns=contract_columns(rails.contract))
    except DataError as exc:
        rails.summary.notes.append(f"batch shift test off: {exc}")
        return None


def _make_detectors(
    adapter: ModelAdapter, contract: Any, pol: Policy, notes: list[str]
) -> list[tuple[str, BaseDetector]]:
    """The distribution safeguards the policy asks for, unfitted, around ``adapter``."""
    dets: list[tuple[str, BaseDetector]] = []
    if pol.ood.mode != "off":
        dets.append(("ood", make_seeded_detector(pol.ood.detector, pol.seed)))
    if pol.adversarial.mode == "off":
        return dets
    names = list(pol.adversarial.detectors)
    if contract.layout == "image" and "feature_squeezing" not in names:
        names.append("feature_squeezing")
    for name in names:
        skip = None
        if name == "neighbour_disagreement" and adapter.task != "classification":
            skip = "neighbour_disagreement skipped: classification only"
        if name == "feature_squeezing" and contract.layout != "image":
            skip = "feature_squeezing skipped: image-like inputs only"
        if skip is not None:
            if skip not in notes:
                notes.append(skip)
            continue
        params: dict[str, Any] = {"model": adapter}
        if name == "label_instability":
            params.update(
                n_copies=pol.adversarial.n_copies, noise_scale=pol.adversarial.noise_scale
            )
        dets.append((f"adversarial:{name}", make_seeded_detector(name, pol.seed, **params)))
    return dets


def _set_thresholds(
    rows: CalibrationRows, pol: Policy, summary: FitSummary
) -> JointThresholds | None:
    """Calibrate the distribution safeguards: jointly to the budget, or each to its target."""
    keys = [k for k, _ in rows.detectors]
    budget = pol.budget.false_alarm_rate
    joint = None
    if budget is not None and keys:
        joint = joint_thresholds(
            {k: rows.scores[k] for k in keys}, budget, budget_shares(keys, pol.budget.ood_share)
        )
    for key, det in rows.detectors:
        fam = pol.ood if key == "ood" else pol.adversarial
        if joint is not None:
            det.threshold_ = joint.thresholds[key]
        else:
            det.threshold_ = calibrate_threshold(rows.scores[key], fam.target_fpr)
        summary.safeguards.append(_summ(key, fam.mode, det))
    return joint


def budget_shares(keys: list[str], ood_share: float | None) -> dict[str, float]:
    """Each distribution safeguard's share of the false-alarm budget: ``ood_share`` to OOD
    and the rest split among the adversarial detectors (equal shares when ``None`` or when
    only one kind is on). Equal is the default: giving OOD half (0.5) caught more noisy and
    shuffled rows in the benchmark but lost the unseen digits the adversarial detectors
    catch."""
    adversarial = [k for k in keys if k != "ood"]
    if ood_share is None or "ood" not in keys or not adversarial:
        return {k: 1.0 / len(keys) for k in keys}
    rest = (1.0 - ood_share) / len(adversarial)
    return {k: ood_share if k == "ood" else rest for k in keys}


def _halves(n: int, method: str, seed: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows that train the error score (A) and rows that certify (B): a seeded third / rest."""
    order = np.random.default_rng(seed + 7).permutation(n)
    k = max(1, round(n * ERROR_SCORE_SHARE)) if n >= 3 else 0
    return np.sort(order[:k]), np.sort(order[k:])


def _scale(y: NDArray[Any]) -> float:
    sd = float(np.std(np.asarray(y, dtype=np.float64)))
    return sd if np.isfinite(sd) and sd > 0 else 1.0


def _concat(a: Any, b: Any) -> Any:
    if isinstance(a, pd.DataFrame):
        return pd.concat([a, b], ignore_index=True)
    return np.concatenate([np.asarray(a), np.asarray(b)])


def _take_idx(X: Any, idx: NDArray[np.intp]) -> Any:
    if isinstance(X, pd.DataFrame):
        return X.iloc[idx].reset_index(drop=True)
    return np.asarray(X)[idx]


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


def _nll(P: NDArray[np.float64], y_idx: NDArray[np.intp]) -> float:
    p = np.clip(P[np.arange(len(y_idx)), y_idx], 1e-15, 1.0)
    return float(-np.mean(np.log(p)))


def _take_rows(X: Any, k: int, seed: int) -> Any:
    n = len(X)
    idx = np.sort(np.random.default_rng(seed).choice(n, size=min(k, n), replace=False))
    if isinstance(X, pd.DataFrame):
        return X.iloc[idx].reset_index(drop=True)
    return np.asarray(X)[idx]
