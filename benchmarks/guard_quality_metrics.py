"""Measurements of the guard-quality benchmark: what the verdicts say, the oracle, the baselines.

* :func:`read_verdicts` turns a batch of verdicts into arrays (status, alarms, scores);
* :func:`oracle_coverage`: the most rows a threshold on a confidence score could answer at a
  given error, chosen on the judged rows *with their labels* (an upper bound no guard reaches);
* :class:`ClassicDetectors`: kNN k-th distance, Ledoit-Wolf Mahalanobis and Isolation Forest,
  fitted on the training rows and thresholded on a held-out in-distribution split;
* :func:`mapie_selective`: MAPIE's Learn-Then-Test risk control of the error among answered
  rows (abstain below a threshold on the max probability), at the same alpha and delta.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.covariance import LedoitWolf
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ALARM_SAFEGUARDS = ("ood", "adversarial:label_instability", "adversarial:neighbour_disagreement")
CATCH_STATUSES = (400, 403, 422)  # the row path: invalid, adversarial, out of distribution


@dataclass
class Batch:
    """The verdicts of one batch as arrays."""

    status: NDArray[np.int_]
    alarm: NDArray[np.bool_]  # an OOD or adversarial safeguard triggered
    prediction: list[Any]
    max_probability: NDArray[np.float64]  # NaN where the verdict has none
    error_score: NDArray[np.float64]  # higher = more likely wrong; NaN where absent
    error_score_name: str


def read_verdicts(verdicts: list[Any], regression: bool) -> Batch:
    """Arrays of a batch; the error score is the ``error_budget`` safeguard's when present."""
    n = len(verdicts)
    status = np.array([v.status for v in verdicts], dtype=int)
    alarm = np.zeros(n, dtype=bool)
    mp = np.full(n, np.nan)
    es = np.full(n, np.nan)
    name = "error_budget"
    has_budget = any(v.safeguard("error_budget") is not None for v in verdicts)
    if not has_budget:
        name = "interval width" if regression else "1 - max probability"
    for i, v in enumerate(verdicts):
        for sg in v.safeguards:
            if sg.name in ALARM_SAFEGUARDS and sg.triggered:
                alarm[i] = True
        conf = v.confidence
        if conf is not None:
            mp[i] = conf.max_probability
        if has_budget:
            sg = v.safeguard("error_budget")
            if sg is not None and sg.score is not None:
                es[i] = sg.score
        elif regression and v.interval is not None:
            es[i] = v.interval[1] - v.interval[0]
        elif conf is not None:
            es[i] = 1.0 - conf.max_probability
    return Batch(status, alarm, [v.prediction for v in verdicts], mp, es, name)


def binom_upper(n: int, p: float, level: float = 0.95) -> float:
    """The ``level`` upper quantile of a Binomial(n, p) share: the sampling slack of a rate."""
    if n <= 0:
        return 1.0
    return float(stats.binom.ppf(level, n, p)) / n


def oracle_coverage(
    score: NDArray[np.float64], wrong: NDArray[np.bool_], max_error: float
) -> float:
    """Largest share of rows answered by "answer when score <= t" with error <= ``max_error``.

    ``score``: higher = less trustworthy (1 - max probability, interval width); NaN rows are
    never answered. ``t`` is chosen on these very rows with their labels; tied scores are
    answered together, as a threshold must.
    """
    n = len(score)
    ok = ~np.isnan(score)
    s, w = score[ok], wrong[ok]
    if s.size == 0:
        return 0.0
    order = np.argsort(s, kind="stable")
    s, w = s[order], w[order].astype(np.float64)
    last = np.r_[s[1:] != s[:-1], True]  # the end of each group of ties
    k = np.arange(1, s.size + 1)[last]
    err = np.cumsum(w)[last] / k
    good = err <= max_error + 1e-12
    return float(k[good].max()) / n if good.any() else 0.0


def auroc(wrong: NDArray[np.bool_], score: NDArray[np.float64]) -> float:
    """AUROC of ``score`` for "the prediction is wrong" (NaN rows dropped; NaN if one class)."""
    ok = ~np.isnan(score)
    if ok.sum() < 2 or wrong[ok].all() or not wrong[ok].any():
        return float("nan")
    return float(roc_auc_score(wrong[ok], score[ok]))


class ClassicDetectors:
    """Three classic OOD detectors on scaled (one-hot for text) features, fitted on train."""

    NAMES = ("kNN k-th distance", "Mahalanobis (Ledoit-Wolf)", "Isolation Forest")

    def __init__(self, k: int = 5, max_fit_rows: int = 20_000, seed: int = 0) -> None:
        self.k = k
        self.max_fit_rows = max_fit_rows
        self.seed = seed

    def fit(self, X: pd.DataFrame) -> ClassicDetectors:
        cats = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        nums = [c for c in X.columns if c not in cats]
        parts: list[tuple[str, Any, list[str]]] = [("num", StandardScaler(), nums)]
        if cats:
            parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cats))
        rng = np.random.default_rng(self.seed)
        if len(X) > self.max_fit_rows:
            X = X.iloc[rng.choice(len(X), self.max_fit_rows, replace=False)]
        self.enc_ = Pipeline([("ct", ColumnTransformer(parts))]).fit(X)
        Z = self._z(X)
        self.nn_ = NearestNeighbors(n_neighbors=self.k).fit(Z)
        self.lw_ = LedoitWolf().fit(Z)
        self.if_ = IsolationForest(n_estimators=200, random_state=self.seed).fit(Z)
        return self

    def _z(self, X: pd.DataFrame) -> NDArray[np.float64]:
        return np.asarray(self.enc_.transform(X), dtype=np.float64)

    def scores(self, X: pd.DataFrame) -> dict[str, NDArray[np.float64]]:
        """Higher = more anomalous, per detector."""
        Z = self._z(X)
        dist, _ = self.nn_.kneighbors(Z)
        return {
            self.NAMES[0]: dist[:, -1],
            self.NAMES[1]: self.lw_.mahalanobis(Z),
            self.NAMES[2]: -self.if_.score_samples(Z),
        }

    def calibrate(self, X_held: pd.DataFrame) -> ClassicDetectors:
        """Keep the held-out in-distribution scores (thresholds follow the asked alarm rate)."""
        self.held_ = self.scores(X_held)
        return self

    def catch_rates(self, X_shift: pd.DataFrame, alarm_rate: float) -> dict[str, float]:
        """Share of shifted rows above each detector's held-out (1 - alarm_rate) quantile."""
        out = {}
        for name, s in self.scores(X_shift).items():
            held = self.held_[name]
            thr = np.quantile(held, 1.0 - alarm_rate) if alarm_rate > 0 else held.max()
            out[name] = float(np.mean(s > thr))
        return out


def mapie_selective(
    model: Any,
    X_cal: Any,
    y_cal: NDArray[Any],
    X_test: Any,
    y_test: NDArray[Any],
    alpha: float,
    confidence: float,
    fwer: str = "bonferroni_holm",
) -> tuple[float, float] | None:
    """MAPIE's LTT control of the error among answered rows: (coverage, error) on test rows.

    The controller predicts the top class when its probability is at least lambda and abstains
    (NaN) otherwise; it controls the error among answered rows at ``alpha`` with probability
    ``confidence`` and picks, among valid lambdas, the one with the fewest abstentions. The
    grid: 60 thresholds from 0.5 to 0.999; ``fwer`` "bonferroni_holm" (MAPIE's default) or
    "fixed_sequence" (tested from the strictest threshold down, the usual LTT choice for a
    risk that falls as the threshold rises). ``None`` when mapie is not installed; coverage 0
    when no lambda is valid.
    """
    try:
        from mapie.risk_control import (
            BinaryRisk,
            MultiClassificationLTTController,
            abstention_rate,
        )
    except ImportError:
        return None
    classes = np.asarray(model.classes_)
    codes = {c: i for i, c in enumerate(classes.tolist())}
    y_cal_i = np.array([codes[c] for c in np.asarray(y_cal).tolist()])
    y_te_i = np.array([codes[c] for c in np.asarray(y_test).tolist()])
    selective_error = BinaryRisk(
        risk_occurrence=lambda yt, yp: yp != yt,
        risk_condition=lambda yt, yp: yp == yp,  # answered (not NaN)
        higher_is_better=False,
    )
    grid = np.linspace(0.5, 0.999, 60)
    ctrl = MultiClassificationLTTController(
        predict_function=model.predict_proba,
        risks=[selective_error],
        target_level=[alpha],
        confidence_level=confidence,
        best_predict_param_choice=abstention_rate,
        list_predict_params=grid[::-1] if fwer == "fixed_sequence" else grid,
        classes=np.arange(len(classes)),
        fwer_method=fwer,  # type: ignore[arg-type]
    )
    ctrl.calibrate(X_cal, y_cal_i)
    if ctrl.best_predict_param is None:
        return 0.0, float("nan")
    pred = np.asarray(ctrl.predict(X_test), dtype=np.float64)
    answered = ~np.isnan(pred)
    if not answered.any():
        return 0.0, float("nan")
    return float(answered.mean()), float(np.mean(pred[answered] != y_te_i[answered]))
