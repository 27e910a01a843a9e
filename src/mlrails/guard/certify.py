"""Fit the error score and certify the silent-failure budget on calibration rows.

The calibration rows (out-of-fold, held out, or given) are split once, seeded: a third
trains and chooses the error score (:class:`~mlrails.reliability.error_score.ErrorScorer`),
the rest certify it (:func:`~mlrails.reliability.risk.certify_selective_risk`), so the rows
that certify the budget never shaped the score or the threshold grid. A certifying row counts
as answered only when no other safeguard refuses it, exactly as the guard will decide later.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

from mlrails.detectors.threshold import Threshold
from mlrails.errors import DataError
from mlrails.guard.budget import BudgetSummary, JointThresholds
from mlrails.guard.crossfit import CalibrationRows
from mlrails.guard.policy import Policy
from mlrails.models.base import ModelAdapter
from mlrails.reliability.error_score import ErrorFeatures, ErrorScorer
from mlrails.reliability.risk import RiskCertificate, certify_selective_risk, grid

#: share of the calibration rows that trains the error score (the rest certify)
ERROR_SCORE_SHARE = 1 / 3
#: the rate the trade-off table is computed at when the user sets none
REPORT_ALPHA = 0.05


def error_features(
    outputs: NDArray[np.float64],
    distribution: NDArray[np.float64],
    task: str,
    difficulty: NDArray[np.float64] | None = None,
) -> ErrorFeatures:
    """What the error score looks at: raw model outputs, the distribution safeguards' scores
    (columns in ``Rails.error_inputs`` order) and, for regression, the row's difficulty."""
    if task == "classification":
        return ErrorFeatures(proba=outputs, distribution=distribution)
    return ErrorFeatures(prediction=outputs, difficulty=difficulty, distribution=distribution)


def label_index(adapter: ModelAdapter, y: NDArray[Any]) -> NDArray[np.intp]:
    """Column of each label in the model's probability matrix; DataError for a foreign label."""
    classes = np.asarray(adapter.classes_)
    lookup = {c.item() if hasattr(c, "item") else c: i for i, c in enumerate(classes)}
    try:
        return np.array([lookup[v.item() if hasattr(v, "item") else v] for v in y], dtype=np.intp)
    except KeyError as exc:
        raise DataError(
            f"calibration label {exc.args[0]!r} is not one of the model's classes "
            f"{classes.tolist()}"
        ) from None


def certify_budget(
    rows: CalibrationRows,
    pol: Policy,
    adapter: ModelAdapter,
    *,
    calibrator: Any,
    conformal: Any,
    min_conf: Threshold | None,
    joint: JointThresholds | None,
    y_scale: float | None,
    parts: tuple[NDArray[np.intp], NDArray[np.intp]],
) -> tuple[ErrorScorer | None, RiskCertificate | None, BudgetSummary]:
    """The fitted error score, its certificate and the budget summary of one fit."""
    b = pol.budget
    summary = BudgetSummary(
        calibration_method=rows.method,
        false_alarm_rate=b.false_alarm_rate,
        realised_false_alarm=None if joint is None else joint.realised,
        silent_failure_rate=b.silent_failure_rate,
        confidence=b.confidence,
        action=b.action,
    )
    a, cert_rows = parts
    if a.size < 2 or cert_rows.size < 2:
        return None, None, summary
    keys = [k for k, _ in rows.detectors]
    D = (
        np.column_stack([rows.scores[k] for k in keys])
        if keys
        else np.zeros((len(rows.y), 0), dtype=np.float64)
    )
    refused = np.zeros(len(rows.y), dtype=bool)
    for key, det in rows.detectors:
        refused |= rows.scores[key] > det.threshold_.value
    if adapter.task == "classification":
        y_idx = label_index(adapter, rows.y)
        P = calibrator.transform(rows.outputs) if calibrator is not None else rows.outputs
        wrong = P.argmax(axis=1) != y_idx
        baseline = 1.0 - P.max(axis=1)
        if pol.reliability.mode != "off":
            mc = pol.reliability.min_confidence
            floor = (
                float(mc)
                if not isinstance(mc, str)
                else (None if min_conf is None else min_conf.value)
            )
            if floor is not None:
                refused |= P.max(axis=1) < floor
            if conformal is not None:
                refused |= ~conformal.predict_sets(P).any(axis=1)
        feats = error_features(rows.outputs, D, "classification")
    else:
        tol = b.tolerance if b.tolerance is not None else 0.5 * float(y_scale or 1.0)
        summary.tolerance = tol
        pred = rows.outputs
        wrong = np.abs(np.asarray(rows.y, dtype=np.float64) - pred) > tol
        sigma = conformal.sigma(rows.X, len(pred)) if conformal is not None else np.ones(len(pred))
        baseline = sigma
        if pol.reliability.mode != "off" and conformal is not None:
            wt = conformal.width_threshold_
            if wt is not None:
                refused |= 2.0 * conformal.q_hat_ * sigma > wt.value
        feats = error_features(pred, D, "regression", difficulty=sigma)
    scorer = ErrorScorer(random_state=pol.seed).fit(_rows(feats, a), wrong[a])
    e = scorer.score(feats)
    alpha = b.silent_failure_rate if b.silent_failure_rate is not None else REPORT_ALPHA
    cert = certify_selective_risk(
        e[cert_rows],
        wrong[cert_rows],
        alpha,
        1.0 - b.confidence,
        thresholds=grid(e[a]),
        eligible=~refused[cert_rows],
    )
    summary.error_score = scorer.chosen_
    summary.tradeoff = list(cert.tradeoff)
    summary.n_certifying = cert.n_calibration
    w_b = wrong[cert_rows]
    if 0 < w_b.sum() < w_b.size:
        summary.error_auroc = float(roc_auc_score(w_b, e[cert_rows]))
        summary.baseline_auroc = float(roc_auc_score(w_b, baseline[cert_rows]))
    if b.silent_failure_rate is not None:
        summary.threshold = cert.threshold
        summary.certified_coverage = cert.coverage
        summary.certified_error = cert.error_rate
        summary.upper_bound = cert.upper_bound
        summary.guarantee = guarantee_text(cert, rows)
    return scorer, cert, summary


def guarantee_text(cert: RiskCertificate, rows: CalibrationRows) -> str:
    """The certificate in one sentence, with its assumptions."""
    how = {
        "given": "the given calibration rows",
        "holdout": "held-out rows scored by a refit of the model",
        "crossfit": f"out-of-fold predictions of {rows.folds} refits of the model",
    }.get(rows.method, "calibration rows")
    return (
        f"with probability >= {1 - cert.delta:.0%} over the calibration draw, at most "
        f"{cert.alpha:.2%} of the rows answered 200 are wrong, for rows exchangeable with the "
        f"{cert.n_calibration} certifying rows ({how}; Learn-then-Test, binomial tail)"
    )


def budget_notes(summary: BudgetSummary, rows: CalibrationRows) -> list[str]:
    """One-line notes for what the user asked and the data could not give."""
    notes = []
    if summary.silent_failure_rate is not None and not summary.n_certifying:
        notes.append("too few calibration rows to certify a silent-failure rate")
    elif summary.silent_failure_rate is not None and not summary.certified_coverage:
        notes.append(
            f"no threshold certifies a {summary.silent_failure_rate:.2%} silent-failure rate at "
            f"{summary.confidence:.0%} confidence on {summary.n_certifying} rows: every row "
            "answers 203 (raise the rate, or give more calibration data)" + _affordable(summary)
        )
    return notes


def _affordable(summary: BudgetSummary) -> str:
    """The note's ending naming the smallest trade-off rate these rows certify, if any."""
    for point in sorted(summary.tradeoff, key=lambda p: p.alpha):
        if point.certified_coverage > 0:
            return (
                f"; the smallest rate these rows certify is {point.alpha:.0%}"
                f" ({point.certified_coverage:.0%} answered)"
            )
    return ""


def _rows(f: ErrorFeatures, idx: NDArray[np.intp]) -> ErrorFeatures:
    def take(x: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
        return None if x is None else x[idx]

    return ErrorFeatures(
        proba=take(f.proba),
        prediction=take(f.prediction),
        difficulty=take(f.difficulty),
        distribution=take(f.distribution),
        encoded=take(f.encoded),
    )
