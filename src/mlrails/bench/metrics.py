"""What a benchmark cell measures: the model's quality and the grades of its rails.

Model: accuracy, macro F1, expected calibration error, Brier score and negative
log-likelihood of the bare model's probabilities on the (perturbed) rows. Rails: which of the
model's answers became wrong, how many wrong answers still came back as 200 (silent
failures), how many correct ones were flagged or refused (false alarms), the status-code mix,
and each safeguard's detection AUROC of "the prediction is wrong" from its score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    roc_auc_score,
)

from mlrails.guard.verdict import Verdict
from mlrails.reliability.calibration import expected_calibration_error


@dataclass(frozen=True)
class ModelMetrics:
    """Quality of a classifier's probabilities on one set of rows."""

    n: int
    accuracy: float
    f1_macro: float
    ece: float
    brier: float
    nll: float


@dataclass(frozen=True)
class RegressionMetrics:
    """Quality of a regressor's values on one set of rows."""

    n: int
    rmse: float
    mae: float
    r2: float | None


def regression_metrics(y_true: ArrayLike, pred: ArrayLike) -> RegressionMetrics:
    """RMSE, MAE and R² (``None`` when the labels are constant)."""
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(pred, dtype=np.float64)
    err = p - y
    sst = float(np.sum((y - y.mean()) ** 2)) if len(y) else 0.0
    return RegressionMetrics(
        n=len(y),
        rmse=float(np.sqrt(mean_squared_error(y, p))),
        mae=float(mean_absolute_error(y, p)),
        r2=1.0 - float(np.sum(err**2)) / sst if sst > 0 else None,
    )


@dataclass(frozen=True)
class RailsGrade:
    """How the rails treated the model's right and wrong answers on one set of rows.

    ``silent_failure_rate``: wrong answers returned as 200, over all wrong answers;
    ``false_alarm_rate``: correct answers not returned as 200, over all correct answers;
    ``detection_auroc``: per safeguard, AUROC of its score for "wrong" (None when every
    answer is right or every one wrong, or the safeguard gave no scores); a confidence
    score (:data:`CONFIDENCE_SCORES`) is negated first.
    """

    n: int
    n_wrong: int
    silent_failure_rate: float | None
    false_alarm_rate: float | None
    status_mix: dict[int, float]
    detection_auroc: dict[str, float | None]


def model_metrics(
    y_true: ArrayLike, proba: ArrayLike, classes: Sequence[Any] | NDArray[Any]
) -> ModelMetrics:
    """Metrics of probabilities ``proba`` (columns in ``classes`` order) against labels."""
    P = np.asarray(proba, dtype=np.float64)
    cls = np.asarray(classes)
    y = np.asarray(y_true)
    index = {c: i for i, c in enumerate(cls.tolist())}
    try:
        y_idx = np.array([index[v] for v in y.tolist()], dtype=np.intp)
    except KeyError as exc:
        raise ValueError(f"label {exc.args[0]!r} is not among the model's classes") from None
    pred = cls[np.argmax(P, axis=1)]
    onehot = np.zeros_like(P)
    onehot[np.arange(len(y_idx)), y_idx] = 1.0
    return ModelMetrics(
        n=len(y),
        accuracy=float(accuracy_score(y, pred)),
        f1_macro=float(f1_score(y, pred, average="macro", labels=cls, zero_division=0)),
        ece=float(expected_calibration_error(P, y_idx)),
        brier=float(np.mean(np.sum((P - onehot) ** 2, axis=1))),
        nll=float(log_loss(y_idx, P, labels=np.arange(len(cls)))),
    )


def grade_rails(
    y_true: ArrayLike,
    y_model: ArrayLike,
    verdicts: Sequence[Verdict],
    ok: int = 200,
    wrong: ArrayLike | None = None,
) -> RailsGrade:
    """Grade the verdicts against the truth; ``y_model`` are the bare model's predictions
    (refused rows carry none in their verdicts, yet whether they were wrong still counts).
    ``wrong`` overrides "prediction differs from the label" (e.g. a regressor's error above
    a tolerance)."""
    y = np.asarray(y_true)
    yhat = np.asarray(y_model)
    if not (len(y) == len(yhat) == len(verdicts)):
        raise ValueError("y_true, y_model and verdicts must have the same length")
    wrong = np.asarray(yhat != y if wrong is None else wrong, dtype=bool)
    status = np.array([v.status for v in verdicts])
    passed = status == ok
    n_wrong = int(wrong.sum())
    n_right = len(y) - n_wrong
    counts = Counter(status.tolist())
    names = sorted({s.name for v in verdicts for s in v.safeguards if s.score is not None})
    auroc: dict[str, float | None] = {}
    for name in names:
        scores = np.array(
            [_score(v, name) for v in verdicts],
            dtype=np.float64,
        )
        have = np.isfinite(scores)
        w = wrong[have]
        auroc[name] = float(roc_auc_score(w, scores[have])) if w.any() and not w.all() else None
    return RailsGrade(
        n=len(y),
        n_wrong=n_wrong,
        silent_failure_rate=float((wrong & passed).sum() / n_wrong) if n_wrong else None,
        false_alarm_rate=float((~wrong & ~passed).sum() / n_right) if n_right else None,
        status_mix={int(k): c / len(y) for k, c in sorted(counts.items())},
        detection_auroc=auroc,
    )


#: safeguards whose score is a confidence (they trigger *below* their threshold): detection
#: uses the negated score, so that an AUROC of 1 always means a perfect detector
CONFIDENCE_SCORES = frozenset({"reliability"})


def _score(v: Verdict, name: str) -> float:
    s = v.safeguard(name)
    if s is None or s.score is None:
        return float("nan")
    return -float(s.score) if name in CONFIDENCE_SCORES else float(s.score)
