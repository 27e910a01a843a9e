"""The two budgets ``fit`` sets and certifies: one false-alarm rate, one silent-failure rate.

**False alarms.** Per-safeguard targets add up: three detectors at 1% each flag up to 3% of
normal rows. :func:`joint_thresholds` calibrates the distribution safeguards (OOD and
adversarial) *together*, by a weighted min-p combination of conformal p-values: a row's
p-value in detector ``j`` is its tail count (how many calibration scores lie at or above it)
over ``n + 1``, divided by the detector's share ``w_j`` of the budget; the row's statistic is
its smallest weighted p-value, and the split-conformal quantile of that statistic at the
budget gives one common level; each detector alarms above its own score at that level. A row
is flagged by some detector exactly when its statistic is below the level. The calibration
rows' tail counts are those among the calibration rows alone, a lower bound on their counts
among the n + 1 rows with the new one: for exchangeable data the share of normal rows flagged
by any detector is at most the budget, exactly, at every n and for any shares. The shares
say where the budget goes (by default the OOD detector half, the adversarial detectors the
rest), not how much there is.

With too few rows for that (fewer than about ``1 / (budget * min_j w_j)``: the rule cannot
alarm at all), the thresholds extrapolate each detector's score tail: an exponential tail
fitted to the top fifth of its calibration scores, read at ``budget * w_j`` (a weighted
Bonferroni over detectors), never below the largest calibration score. That is an
approximation (it assumes a tail no heavier than exponential), said in the fit's notes, and
keeps detection on where the rank rule would switch it off.

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
    #: "rank" (distribution-free) or "tail" (too few rows: extrapolated score tails)
    method: str = "rank"


#: the share of a detector's top calibration scores its extrapolated tail is fitted to
TAIL_SHARE = 0.2
#: fewest scores a tail is fitted to
TAIL_MIN_POINTS = 5


def joint_thresholds(
    scores: dict[str, NDArray[np.float64]],
    budget: float,
    shares: dict[str, float] | None = None,
) -> JointThresholds:
    """Thresholds for the detectors in ``scores`` (name -> in-distribution calibration scores,
    rows aligned) so that together they flag at most ``budget`` of in-distribution rows.

    ``shares``: each detector's share of the budget (normalised to sum to 1; default equal).
    """
    if not scores:
        return JointThresholds({}, budget, 0.0, 0)
    names = list(scores)
    w = np.array([1.0 if shares is None else float(shares[k]) for k in names])
    if not (w > 0).all():
        raise ValueError(f"budget shares must be positive, got {shares}")
    w = w / w.sum()
    S = np.column_stack([np.asarray(scores[k], dtype=np.float64) for k in names])
    S = S[np.isfinite(S).all(axis=1)]
    n = S.shape[0]
    if n == 0:
        raise ValueError("cannot set thresholds from zero calibration scores")
    ordered = np.sort(S, axis=0)
    # tail counts among the calibration rows: how many scores lie at or above (a tie group
    # shares its largest count, so a detector whose top scores tie is never forced to alarm
    # on the whole group); weighted: divided by the detector's share
    tail = np.column_stack(
        [n - np.searchsorted(ordered[:, j], S[:, j], side="left") for j in range(len(names))]
    )
    low = np.sort((tail / w).min(axis=1))  # ascending: most extreme first
    # a new row alarms when its statistic min_j (count_j + 1) / w_j is below the level c:
    # (#{low <= stat} + 1) <= budget (n + 1) holds exactly when stat < low[allowed]
    allowed = math.floor(budget * (n + 1) + 1e-9) - 1
    method = "rank"
    values = np.empty(len(names))
    if allowed >= n:
        values = ordered[0] - 1.0  # a budget of (nearly) everything: every row alarms
    else:
        level = float(low[allowed]) if allowed >= 0 else 0.0
        # count_j + 1 < level * w_j  <=>  count_j <= ceil(level * w_j) - 2 =: m_j
        m = np.ceil(level * w - 1e-9).astype(int) - 2
        if (m >= 0).any():
            for j in range(len(names)):
                # at most m_j calibration scores at or above: above the (m_j + 1)-th largest
                values[j] = ordered[n - 1 - m[j], j] if m[j] >= 0 else np.inf
        else:
            method = "tail"
            need = math.ceil(1 / (budget * w.min())) - 1
            warnings.warn(
                f"{n} calibration rows are too few for a distribution-free {budget:.2%} "
                f"false-alarm budget over {len(names)} detector(s) (need about {need}): "
                "their thresholds extrapolate each score's tail (approximate)",
                RuntimeWarning,
                stacklevel=2,
            )
            values = np.array(
                [tail_threshold(ordered[:, j], budget * w[j]) for j in range(len(names))]
            )
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
    return JointThresholds(thresholds, budget, float(hits.any(axis=1).mean()), n, method)


def tail_threshold(ordered: NDArray[np.float64], level: float) -> float:
    """The score exceeded with probability ``level`` under an exponential tail fitted to the
    top :data:`TAIL_SHARE` of the sorted scores ``ordered`` (peaks over a threshold, the mean
    excess as the tail's scale), and at least their maximum."""
    n = len(ordered)
    top = ordered[-1]
    k = min(n - 1, max(TAIL_MIN_POINTS, math.ceil(TAIL_SHARE * n)))
    if k < 1 or not level > 0:
        return float(top)
    u = ordered[n - k - 1]
    scale = float(np.mean(ordered[n - k :] - u))
    if not scale > 0:
        return float(top)
    return float(max(top, u + scale * math.log((k / n) / level)))


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
