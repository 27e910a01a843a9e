"""The two budgets ``fit`` sets and certifies: one false-alarm rate, one silent-failure rate.

**False alarms.** Per-safeguard targets add up: three detectors at 1% each flag up to 3% of
normal rows. :func:`joint_thresholds` calibrates the distribution safeguards (OOD and
adversarial) *together*: each calibration row's score is turned into its rank among that
detector's calibration scores (how many lie below it), the row's statistic is its most
extreme rank over detectors (the min-p combination of conformal p-values), and the
split-conformal quantile of that statistic at the budget gives one common rank level; each
detector alarms above its own score at that level. A row is flagged by some detector exactly
when its combined statistic exceeds the level, so for exchangeable data the share of normal
rows flagged by any of them is at most the budget (up to the ``O(1/n)`` of ranks computed
among the calibration rows).

**Silent failures.** :class:`BudgetSummary` reports the certificate of
:func:`mlrails.reliability.risk.certify_selective_risk` and the trade-off it was chosen from.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlrails.detectors.threshold import Threshold
from mlrails.reliability.risk import TradeoffPoint


@dataclass(frozen=True)
class JointThresholds:
    """Per-detector thresholds that share one false-alarm budget."""

    thresholds: dict[str, Threshold]
    budget: float
    #: share of calibration rows flagged by at least one detector
    realised: float
    n_calibration: int


def joint_thresholds(scores: dict[str, NDArray[np.float64]], budget: float) -> JointThresholds:
    """Thresholds for the detectors in ``scores`` (name -> in-distribution calibration scores,
    rows aligned) so that together they flag at most ``budget`` of in-distribution rows."""
    if not scores:
        return JointThresholds({}, budget, 0.0, 0)
    names = list(scores)
    S = np.column_stack([np.asarray(scores[k], dtype=np.float64) for k in names])
    S = S[np.isfinite(S).all(axis=1)]
    n = S.shape[0]
    if n == 0:
        raise ValueError("cannot set thresholds from zero calibration scores")
    ordered = np.sort(S, axis=0)
    # strict ranks: how many calibration scores lie below; a tie group shares its lowest rank,
    # so a detector whose top scores tie is never forced to alarm on the whole group
    below = np.column_stack(
        [np.searchsorted(ordered[:, j], S[:, j], side="left") for j in range(len(names))]
    )
    stat = np.sort(below.max(axis=1))[::-1]  # descending
    # alarm when the statistic reaches r: the smallest r with (#{stat >= r} + 1) <= budget (n+1)
    allowed = math.floor(budget * (n + 1) + 1e-9) - 1
    if allowed < 0:
        need = math.ceil(1 / budget) - 1
        warnings.warn(
            f"{n} calibration rows are too few for a {budget:.2%} false-alarm budget "
            f"(need >= {need}); alarming only above the largest scores",
            RuntimeWarning,
            stacklevel=2,
        )
        values = ordered[-1]
    else:
        # r = one above the statistic of the first row that must not alarm
        r = int(stat[allowed]) + 1 if allowed < n else 0
        values = ordered[r - 1] if r >= 1 else ordered[0] - 1.0
    hits = values < S
    thresholds = {
        k: Threshold(
            value=float(values[j]),
            target_fpr=float(budget),
            realised_fpr=float(hits[:, j].mean()),
            n_calibration=n,
        )
        for j, k in enumerate(names)
    }
    return JointThresholds(thresholds, budget, float(hits.any(axis=1).mean()), n)


@dataclass
class BudgetSummary:
    """The budgets of one fit and what they bought, measured on calibration rows."""

    calibration_method: str
    #: the combined false-alarm budget of OOD + adversarial (None: per-safeguard targets)
    false_alarm_rate: float | None
    #: share of calibration rows flagged by any distribution safeguard
    realised_false_alarm: float | None
    silent_failure_rate: float | None
    confidence: float
    #: regression: an absolute error above this is a wrong answer
    tolerance: float | None = None
    action: str = "low_confidence"
    #: the certified threshold on the error score (answer when score <= threshold)
    threshold: float | None = None
    certified_coverage: float | None = None
    certified_error: float | None = None
    upper_bound: float | None = None
    n_certifying: int = 0
    error_score: str = ""
    #: error-detection AUROC on the certifying rows: the error score and max probability
    error_auroc: float | None = None
    baseline_auroc: float | None = None
    tradeoff: list[TradeoffPoint] = field(default_factory=list)
    guarantee: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BudgetSummary:
        """Rebuild from the manifest form (``dataclasses.asdict`` of one)."""
        data = dict(d)
        data["tradeoff"] = [TradeoffPoint(**p) for p in data.get("tradeoff", [])]
        return cls(**data)
