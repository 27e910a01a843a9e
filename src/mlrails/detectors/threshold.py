"""Alarm thresholds with a known false-alarm rate, set from held-out in-distribution data.

The threshold is the split-conformal quantile of calibration scores: with ``n`` exchangeable
calibration scores, alarming on ``score > s_(k)`` with ``k = ceil((n + 1)(1 - alpha))`` keeps
the false-alarm probability on a fresh in-distribution input at or below ``alpha``
(Vovk et al. 2005; Angelopoulos & Bates 2021, eq. 1). The realised rate on the calibration
split is stored beside it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class Threshold:
    """An alarm threshold: alarm when ``score > value``."""

    value: float
    target_fpr: float
    realised_fpr: float
    n_calibration: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Threshold:
        return cls(
            value=float(data["value"]),
            target_fpr=float(data["target_fpr"]),
            realised_fpr=float(data["realised_fpr"]),
            n_calibration=int(data["n_calibration"]),
        )


def conformal_quantile(scores: ArrayLike, alpha: float) -> float:
    """The ``ceil((n+1)(1-alpha))``-th smallest score (``inf`` when ``n`` is too small)."""
    s = np.sort(np.asarray(scores, dtype=float).ravel())
    s = s[np.isfinite(s)] if np.isfinite(s).any() else s
    n = s.size
    if n == 0:
        raise ValueError("cannot set a threshold from zero calibration scores")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"target false-alarm rate must be in (0, 1), got {alpha}")
    k = math.ceil((n + 1) * (1.0 - alpha))
    if k > n:
        return math.inf
    return float(s[k - 1])


def calibrate_threshold(scores: ArrayLike, target_fpr: float) -> Threshold:
    """Set the alarm threshold on in-distribution calibration ``scores`` at ``target_fpr``.

    When there are fewer than ``1/target_fpr - 1`` scores the conformal quantile is infinite;
    the maximum calibration score is used instead and a warning says the guarantee is lost.
    """
    s = np.asarray(scores, dtype=float).ravel()
    value = conformal_quantile(s, target_fpr)
    if math.isinf(value):
        warnings.warn(
            f"{s.size} calibration scores are too few for a {target_fpr:.2%} false-alarm "
            f"target (need >= {math.ceil(1 / target_fpr) - 1}); using the maximum score",
            RuntimeWarning,
            stacklevel=2,
        )
        value = float(np.max(s))
    realised = float(np.mean(s > value))
    return Threshold(
        value=value, target_fpr=float(target_fpr), realised_fpr=realised, n_calibration=s.size
    )
