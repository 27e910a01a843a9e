"""An error score: how likely the model's answer on a row is wrong, chosen by cross-validation.

The guard refuses a prediction when its error score is too high; a silent-failure budget is
then certified by thresholding that score on rows the score never saw (Learn-then-Test). This
module *learns and chooses* the score; it never sees the certifying rows.

Candidates (higher = more likely wrong):

* ``max_probability`` — ``1 - max_k p_k`` (the classification baseline);
* ``doctor`` — DOCTOR's ``D_alpha = (1 - g) / g`` with ``g = sum_k p_k^2`` (Granese et al.,
  NeurIPS 2021);
* ``margin`` — ``1 - (p_(1) - p_(2))``; ``entropy`` — Shannon entropy of the row;
* ``difficulty`` — the regression baseline: the predicted ``|residual|`` or interval width;
* ``failure_predictor`` — a standardised logistic regression trained to predict "the model was
  wrong" from meta-features: the confidence measures above (classification) or the difficulty
  and prediction (regression), plus the distribution-safeguard scores (NaN: training median
  plus a missing indicator);
* ``failure_predictor_inputs`` — the same with up to ``max_encoded`` encoded input columns.

On a binary table the first four are monotone in one another (one ranking); only the
failure predictor can rank errors differently. :meth:`ErrorScorer.fit` measures every
candidate's out-of-fold error-detection AUROC on the rows it is given (the failure predictors
are cross-fitted: each row is scored by a model that did not see it) and keeps the baseline
unless another candidate beats it by more than ``min_gain`` and ``margin_sd`` DeLong standard
errors of the paired AUROC difference, so that a small or noisy fit set falls back to the
baseline instead of an overfitted choice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from mlrails._state import State
from mlrails.errors import NotFittedError
from mlrails.reliability.confidence import entropy, margin

#: candidates of a classification model (the first is the baseline)
CLASSIFICATION_SCORES: tuple[str, ...] = (
    "max_probability",
    "doctor",
    "margin",
    "entropy",
    "failure_predictor",
    "failure_predictor_inputs",
)
#: candidates of a regression model (the first is the baseline)
REGRESSION_SCORES: tuple[str, ...] = ("difficulty", "failure_predictor", "failure_predictor_inputs")
#: every candidate name
ERROR_SCORES: tuple[str, ...] = (*CLASSIFICATION_SCORES, "difficulty")
_LEARNED = ("failure_predictor", "failure_predictor_inputs")
_EPS = 1e-6


@dataclass(frozen=True)
class ErrorFeatures:
    """What an error score may look at, one row per input.

    ``proba`` (classification, the model's raw probabilities) or ``prediction`` / ``difficulty``
    (regression); ``distribution`` holds distribution-safeguard scores (``(n, d)``, ``d`` may be
    0, NaN where a safeguard did not run); ``encoded`` the encoded inputs (optional).
    """

    proba: NDArray[np.float64] | None = None
    prediction: NDArray[np.float64] | None = None
    difficulty: NDArray[np.float64] | None = None
    distribution: NDArray[np.float64] | None = None
    encoded: NDArray[np.float64] | None = None

    @property
    def task(self) -> str:
        """``"classification"`` when ``proba`` is given, else ``"regression"``."""
        return "classification" if self.proba is not None else "regression"

    def n_rows(self) -> int:
        """The number of rows, checked to agree across the given arrays (``ValueError``)."""
        sizes: dict[str, int] = {}
        for name in ("proba", "prediction", "difficulty", "distribution", "encoded"):
            value = getattr(self, name)
            if value is not None:
                sizes[name] = int(np.shape(value)[0]) if np.ndim(value) else 0
        if not sizes:
            raise ValueError("ErrorFeatures holds no arrays: give proba or difficulty")
        if len(set(sizes.values())) > 1:
            raise ValueError(f"ErrorFeatures arrays differ in rows: {sizes}")
        return next(iter(sizes.values()))


# -- scores and measures ----------------------------------------------------------------------


def clean_proba(proba: ArrayLike) -> NDArray[np.float64]:
    """``proba`` as rows of a probability matrix: negatives clipped to 0, rows renormalised;
    a row with a non-finite entry or no mass becomes uniform (the most uncertain answer)."""
    P = np.asarray(proba, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] == 0:
        raise ValueError(f"proba must have shape (n, n_classes), got {P.shape}")
    P = np.clip(np.where(np.isfinite(P), P, 0.0), 0.0, None)
    total = P.sum(axis=1, keepdims=True)
    bad = (~np.isfinite(np.asarray(proba, dtype=np.float64)).all(axis=1)) | (total[:, 0] <= 0)
    P = np.where(total > 0, P / np.where(total > 0, total, 1.0), 1.0 / P.shape[1])
    P[bad] = 1.0 / P.shape[1]
    return np.asarray(P, dtype=np.float64)


def doctor_score(proba: ArrayLike) -> NDArray[np.float64]:
    """DOCTOR's ``D_alpha(x) = (1 - g(x)) / g(x)``, ``g(x) = sum_k p_k(x)^2`` (higher = more
    likely wrong; Granese et al. 2021, eq. 4). ``proba`` rows should sum to one."""
    P = np.asarray(proba, dtype=np.float64)
    g = np.sum(P * P, axis=1)
    return np.asarray((1.0 - g) / g, dtype=np.float64)


def error_auroc(score: ArrayLike, wrong: ArrayLike) -> float:
    """Error-detection AUROC: the chance a wrong row scores above a right one (ties count a
    half); NaN when all rows are right or all wrong. Equals ``roc_auc_score(wrong, score)``."""
    s = np.asarray(score, dtype=np.float64).ravel()
    w = np.asarray(wrong, dtype=bool).ravel()
    if s.shape != w.shape:
        raise ValueError(f"score and wrong differ in length ({s.size} vs {w.size})")
    m, n = int(w.sum()), int((~w).sum())
    if m == 0 or n == 0:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[w].sum() - m * (m + 1) / 2.0) / (m * n))


def _placements(s: NDArray[np.float64], w: NDArray[np.bool_]) -> tuple[Any, Any]:
    """DeLong's structural components (Sun & Xu 2014's rank form) of one score."""
    pos, neg = s[w], s[~w]
    m, n = pos.size, neg.size
    r_all = rankdata(s)
    v10 = (r_all[w] - rankdata(pos)) / n  # share of right rows below each wrong row
    v01 = 1.0 - (r_all[~w] - rankdata(neg)) / m  # share of wrong rows above each right row
    return v10, v01


def auroc_difference_se(a: ArrayLike, b: ArrayLike, wrong: ArrayLike) -> float:
    """DeLong's standard error of ``AUROC(a) - AUROC(b)`` on the same rows (DeLong et al. 1988);
    NaN without both classes."""
    w = np.asarray(wrong, dtype=bool).ravel()
    m, n = int(w.sum()), int((~w).sum())
    if m < 2 or n < 2:
        return float("nan")
    a10, a01 = _placements(np.asarray(a, dtype=np.float64).ravel(), w)
    b10, b01 = _placements(np.asarray(b, dtype=np.float64).ravel(), w)
    var = np.var(a10 - b10, ddof=1) / m + np.var(a01 - b01, ddof=1) / n
    return float(math.sqrt(max(float(var), 0.0)))


# -- the failure predictor ---------------------------------------------------------------------


@dataclass
class _Predictor:
    """A standardised logistic regression on imputed, clipped meta-features (plain arrays)."""

    median: NDArray[np.float64]
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    indicate: NDArray[np.bool_]  # columns that get a missing indicator
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    coef: NDArray[np.float64]
    intercept: float

    @classmethod
    def fit(cls, M: NDArray[np.float64], wrong: NDArray[np.bool_], C: float) -> _Predictor:
        finite = np.isfinite(M)
        med = np.array(
            [
                float(np.median(M[finite[:, j], j])) if finite[:, j].any() else 0.0
                for j in range(M.shape[1])
            ]
        )
        filled = np.where(finite, M, med)
        lo = np.quantile(filled, 0.005, axis=0) if M.shape[0] else np.zeros(M.shape[1])
        hi = np.quantile(filled, 0.995, axis=0) if M.shape[0] else np.zeros(M.shape[1])
        indicate = np.asarray(~finite.all(axis=0), dtype=bool)
        obj = cls(med, lo, hi, indicate, np.zeros(0), np.zeros(0), np.zeros(0), 0.0)
        Z = obj._design(M)
        obj.mean = Z.mean(axis=0)
        sd = Z.std(axis=0)
        obj.scale = np.where(sd > 1e-12, sd, 1.0)
        X = (Z - obj.mean) / obj.scale
        lr = LogisticRegression(C=C, max_iter=2000).fit(X, wrong)
        obj.coef = np.asarray(lr.coef_[0], dtype=np.float64)
        obj.intercept = float(lr.intercept_[0])
        return obj

    def _design(self, M: NDArray[np.float64]) -> NDArray[np.float64]:
        finite = np.isfinite(M)
        Z = np.clip(np.where(finite, M, self.median), self.lo, self.hi)
        miss = (~finite[:, self.indicate]).astype(np.float64)
        return np.asarray(np.hstack([Z, miss]), dtype=np.float64)

    def predict(self, M: NDArray[np.float64]) -> NDArray[np.float64]:
        X = (self._design(M) - self.mean) / self.scale
        return np.asarray(expit(X @ self.coef + self.intercept), dtype=np.float64)

    def arrays(self, prefix: str) -> dict[str, NDArray[Any]]:
        names = ("median", "lo", "hi", "indicate", "mean", "scale", "coef")
        out: dict[str, NDArray[Any]] = {f"{prefix}.{k}": getattr(self, k) for k in names}
        out[f"{prefix}.intercept"] = np.array([self.intercept])
        return out

    @classmethod
    def from_arrays(cls, state: State, prefix: str) -> _Predictor:
        def get(name: str) -> NDArray[Any]:
            return state.array(f"{prefix}.{name}")

        return cls(
            median=np.asarray(get("median"), dtype=np.float64),
            lo=np.asarray(get("lo"), dtype=np.float64),
            hi=np.asarray(get("hi"), dtype=np.float64),
            indicate=np.asarray(get("indicate"), dtype=bool),
            mean=np.asarray(get("mean"), dtype=np.float64),
            scale=np.asarray(get("scale"), dtype=np.float64),
            coef=np.asarray(get("coef"), dtype=np.float64),
            intercept=float(np.asarray(get("intercept")).ravel()[0]),
        )


def _select_inputs(E: NDArray[np.float64], wrong: NDArray[np.bool_], k: int) -> NDArray[np.int64]:
    """The ``k`` encoded columns most correlated (in absolute value) with ``wrong``."""
    if E.shape[1] <= k:
        return np.arange(E.shape[1], dtype=np.int64)
    Ef = np.where(np.isfinite(E), E, 0.0)
    y = wrong.astype(np.float64) - wrong.mean()
    Xc = Ef - Ef.mean(axis=0)
    denom = np.sqrt((Xc * Xc).sum(axis=0) * (y * y).sum())
    corr = np.abs(Xc.T @ y) / np.where(denom > 0, denom, np.inf)
    return np.sort(np.argsort(-corr, kind="stable")[:k]).astype(np.int64)


# -- the scorer --------------------------------------------------------------------------------


class ErrorScorer:
    """Learn and choose an error score (higher = more likely wrong) on the rows it is fitted on.

    Parameters
    ----------
    candidates:
        names from :data:`ERROR_SCORES` to compare (default: all of the task's); the baseline
        (``max_probability`` or ``difficulty``) is always among them; names of the other task
        are ignored.
    cv:
        folds of the inner cross-validation (clipped to the smaller class's count).
    random_state:
        seed of the folds.
    min_rows:
        below this many fit rows, or fewer than ``min_errors`` wrong (or right) rows, the
        failure predictors are not tried.
    min_errors:
        see ``min_rows``.
    min_gain, margin_sd:
        a candidate replaces the baseline only when its out-of-fold AUROC exceeds the
        baseline's by more than ``min_gain`` and by more than ``margin_sd`` DeLong standard
        errors of the paired difference.
    max_encoded:
        at most this many encoded columns enter ``failure_predictor_inputs`` (chosen by
        correlation with ``wrong`` on the training rows of each fold).
    C:
        inverse L2 strength of the logistic regressions (on standardised features).
    """

    chosen_: str
    auroc_: dict[str, float]
    baseline_: str
    task_: str
    n_classes_: int
    n_distribution_: int
    n_encoded_: int
    difficulty_fill_: float
    n_fit_: int
    n_wrong_: int
    predictor_: _Predictor | None
    inputs_: NDArray[np.int64]

    def __init__(
        self,
        candidates: Sequence[str] | None = None,
        cv: int = 3,
        random_state: int = 0,
        min_rows: int = 100,
        *,
        min_errors: int = 10,
        min_gain: float = 0.01,
        margin_sd: float = 1.0,
        max_encoded: int = 16,
        C: float = 1.0,
    ) -> None:
        if candidates is not None:
            unknown = [c for c in candidates if c not in ERROR_SCORES]
            if unknown:
                raise ValueError(f"unknown error scores {unknown}; known: {list(ERROR_SCORES)}")
        if cv < 2:
            raise ValueError(f"cv must be >= 2, got {cv}")
        self.candidates = candidates
        self.cv = cv
        self.random_state = random_state
        self.min_rows = min_rows
        self.min_errors = min_errors
        self.min_gain = min_gain
        self.margin_sd = margin_sd
        self.max_encoded = max_encoded
        self.C = C

    # -- fitting ------------------------------------------------------------------------------

    def fit(self, features: ErrorFeatures, wrong: ArrayLike) -> Self:
        """Measure each candidate's out-of-fold error-detection AUROC on these rows, keep the
        best one (the baseline unless clearly beaten) and refit it on all rows."""
        n = features.n_rows()
        w = np.asarray(wrong).ravel()
        if w.size != n:
            raise ValueError(f"{n} rows of features but {w.size} values of wrong")
        if w.dtype != bool and not np.isin(w, (0, 1)).all():
            raise ValueError("wrong must be boolean (or 0/1) per row")
        w = w.astype(bool)
        self._learn_shapes(features)
        names = self._task_candidates(features)
        self.baseline_ = names[0]
        fixed = {c: self._fixed_score(c, features) for c in names if c not in _LEARNED}
        n_wrong = int(w.sum())
        self.n_fit_, self.n_wrong_ = n, n_wrong
        learn = [c for c in names if c in _LEARNED]
        can_learn = n >= self.min_rows and min(n_wrong, n - n_wrong) >= max(self.min_errors, 2)
        M = self._meta(features)
        oof: dict[str, NDArray[np.float64]] = dict(fixed)
        if can_learn:
            folds = min(self.cv, n_wrong, n - n_wrong)
            splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            for c in learn:
                out = np.empty(n)
                for train, test in splitter.split(np.zeros(n), w):
                    pred, cols = self._fit_predictor(c, M, features, w, train)
                    out[test] = pred.predict(self._with_inputs(M, features, cols)[test])
                oof[c] = out
        self.auroc_ = {c: error_auroc(oof[c], w) if c in oof else float("nan") for c in names}
        self.chosen_ = self._choose(oof, w)
        self.predictor_ = None
        self.inputs_ = np.zeros(0, dtype=np.int64)
        if self.chosen_ in _LEARNED:
            self.predictor_, self.inputs_ = self._fit_predictor(
                self.chosen_, M, features, w, np.arange(n)
            )
        return self

    def _choose(self, oof: dict[str, NDArray[np.float64]], w: NDArray[np.bool_]) -> str:
        base = self.baseline_
        base_auc = self.auroc_[base]
        if not math.isfinite(base_auc):
            return base  # no errors, or only errors: nothing to rank
        best, best_gain = base, -math.inf
        for c, s in oof.items():
            auc = self.auroc_[c]
            if c == base or not math.isfinite(auc):
                continue
            gain = auc - base_auc
            se = auroc_difference_se(s, oof[base], w)
            need = max(self.min_gain, self.margin_sd * (se if math.isfinite(se) else math.inf))
            if gain > need and gain > best_gain:
                best, best_gain = c, gain
        return best

    def _fit_predictor(
        self,
        name: str,
        M: NDArray[np.float64],
        features: ErrorFeatures,
        w: NDArray[np.bool_],
        rows: NDArray[np.intp],
    ) -> tuple[_Predictor, NDArray[np.int64]]:
        cols = np.zeros(0, dtype=np.int64)
        if name == "failure_predictor_inputs" and features.encoded is not None:
            E = self._encoded(features)
            cols = _select_inputs(E[rows], w[rows], self.max_encoded)
        X = self._with_inputs(M, features, cols)
        return _Predictor.fit(X[rows], w[rows], self.C), cols

    # -- features -----------------------------------------------------------------------------

    def _task_candidates(self, features: ErrorFeatures) -> list[str]:
        allowed = CLASSIFICATION_SCORES if self.task_ == "classification" else REGRESSION_SCORES
        asked = allowed if self.candidates is None else tuple(self.candidates)
        names = [allowed[0]] + [c for c in allowed[1:] if c in asked]
        if features.encoded is None or self.n_encoded_ == 0:
            names = [c for c in names if c != "failure_predictor_inputs"]
        return names

    def _learn_shapes(self, features: ErrorFeatures) -> None:
        self.task_ = features.task
        if self.task_ == "classification":
            if features.difficulty is not None:
                raise ValueError("give proba (classification) or difficulty (regression), not both")
            self.n_classes_ = int(clean_proba(self._as(features.proba)).shape[1])
        else:
            if features.difficulty is None:
                raise ValueError("regression error scores need features.difficulty")
            self.n_classes_ = 0
            d = self._vector(features.difficulty, "difficulty")
            fin = d[np.isfinite(d)]
            self.difficulty_fill_ = float(fin.max()) if fin.size else 1.0
        self.n_distribution_ = self._matrix(features.distribution, "distribution").shape[1]
        self.n_encoded_ = self._matrix(features.encoded, "encoded").shape[1]

    def _check_shapes(self, features: ErrorFeatures) -> None:
        if features.task != self.task_:
            raise ValueError(f"fitted for {self.task_}, given {features.task} features")
        if self.task_ == "classification":
            k = clean_proba(self._as(features.proba)).shape[1]
            if k != self.n_classes_:
                raise ValueError(f"proba has {k} classes, fitted with {self.n_classes_}")
        d = self._matrix(features.distribution, "distribution").shape[1]
        if d != self.n_distribution_:
            raise ValueError(f"distribution has {d} columns, fitted with {self.n_distribution_}")
        if self.inputs_.size:
            p = self._matrix(features.encoded, "encoded").shape[1]
            if p != self.n_encoded_:
                raise ValueError(f"encoded has {p} columns, fitted with {self.n_encoded_}")

    @staticmethod
    def _as(value: NDArray[np.float64] | None) -> NDArray[np.float64]:
        assert value is not None
        return np.asarray(value, dtype=np.float64)

    @staticmethod
    def _vector(value: ArrayLike, name: str) -> NDArray[np.float64]:
        v = np.asarray(value, dtype=np.float64)
        if v.ndim != 1:
            raise ValueError(f"{name} must have shape (n,), got {v.shape}")
        return v

    @staticmethod
    def _matrix(value: ArrayLike | None, name: str) -> NDArray[np.float64]:
        if value is None:
            return np.zeros((0, 0))
        v = np.asarray(value, dtype=np.float64)
        if v.ndim == 1 and v.size == 0:
            return np.zeros((0, 0))
        if v.ndim != 2:
            raise ValueError(f"{name} must have shape (n, d), got {v.shape}")
        return v

    def _encoded(self, features: ErrorFeatures) -> NDArray[np.float64]:
        return self._matrix(features.encoded, "encoded")

    def _meta(self, features: ErrorFeatures) -> NDArray[np.float64]:
        """The failure predictor's meta-features (before inputs), one column each."""
        n = features.n_rows()
        cols: list[NDArray[np.float64]] = []
        if self.task_ == "classification":
            P = clean_proba(self._as(features.proba))
            top = np.clip(P.max(axis=1), _EPS, 1 - _EPS)
            cols += [np.log(top / (1 - top)), margin(P), entropy(P)]
            cols.append(np.log(doctor_score(P) + _EPS))
        else:
            d = self._vector(self._as(features.difficulty), "difficulty")
            cols.append(np.log(np.abs(d) + _EPS))
            if features.prediction is not None:
                cols.append(self._vector(features.prediction, "prediction"))
            else:
                cols.append(np.zeros(n))
        D = self._matrix(features.distribution, "distribution")
        M = np.column_stack(cols) if cols else np.zeros((n, 0))
        if D.shape[1]:
            M = np.hstack([M, D])
        return np.asarray(M, dtype=np.float64)

    def _with_inputs(
        self, M: NDArray[np.float64], features: ErrorFeatures, cols: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        if cols.size == 0:
            return M
        return np.asarray(np.hstack([M, self._encoded(features)[:, cols]]), dtype=np.float64)

    def _fixed_score(self, name: str, features: ErrorFeatures) -> NDArray[np.float64]:
        if name == "difficulty":
            d = self._vector(self._as(features.difficulty), "difficulty")
            return np.asarray(np.where(np.isfinite(d), d, self.difficulty_fill_), dtype=np.float64)
        P = clean_proba(self._as(features.proba))
        if name == "max_probability":
            return np.asarray(1.0 - P.max(axis=1), dtype=np.float64)
        if name == "doctor":
            return doctor_score(P)
        if name == "margin":
            return np.asarray(1.0 - margin(P), dtype=np.float64)
        if name == "entropy":
            return entropy(P)
        raise ValueError(f"{name!r} is not a fixed error score")

    # -- scoring ------------------------------------------------------------------------------

    def score(self, features: ErrorFeatures, name: str | None = None) -> NDArray[np.float64]:
        """The chosen error score of each row (higher = more likely wrong); ``name`` asks for
        another fixed candidate instead (e.g. the baseline, to compare)."""
        if not hasattr(self, "chosen_"):
            raise NotFittedError("ErrorScorer is not fitted; call fit() first")
        features.n_rows()
        self._check_shapes(features)
        which = self.chosen_ if name is None else name
        if which in _LEARNED:
            if which != self.chosen_ or self.predictor_ is None:
                raise ValueError(f"{which!r} was not chosen, so it is not fitted")
            M = self._with_inputs(self._meta(features), features, self.inputs_)
            return self.predictor_.predict(M)
        allowed = CLASSIFICATION_SCORES if self.task_ == "classification" else REGRESSION_SCORES
        if which not in allowed:
            raise ValueError(f"{which!r} is not an error score of a {self.task_} model")
        return self._fixed_score(which, features)

    # -- state --------------------------------------------------------------------------------

    def get_state(self) -> State:
        """JSON metadata plus the failure predictor's arrays (no pickle)."""
        if not hasattr(self, "chosen_"):
            raise NotFittedError("ErrorScorer is not fitted; call fit() first")
        meta: dict[str, Any] = {
            "kind": "error_score",
            "params": {
                "candidates": None if self.candidates is None else list(self.candidates),
                "cv": self.cv,
                "random_state": self.random_state,
                "min_rows": self.min_rows,
                "min_errors": self.min_errors,
                "min_gain": self.min_gain,
                "margin_sd": self.margin_sd,
                "max_encoded": self.max_encoded,
                "C": self.C,
            },
            "task": self.task_,
            "chosen": self.chosen_,
            "baseline": self.baseline_,
            # a list keeps the order; NaN (not measured) is stored as null
            "auroc": [[k, v if math.isfinite(v) else None] for k, v in self.auroc_.items()],
            "n_classes": self.n_classes_,
            "n_distribution": self.n_distribution_,
            "n_encoded": self.n_encoded_,
            "n_fit": self.n_fit_,
            "n_wrong": self.n_wrong_,
            "difficulty_fill": getattr(self, "difficulty_fill_", None),
        }
        arrays: dict[str, NDArray[Any]] = {"inputs": self.inputs_}
        if self.predictor_ is not None:
            arrays.update(self.predictor_.arrays("predictor"))
        return State(meta=meta, arrays=arrays)

    @classmethod
    def from_state(cls, state: State) -> ErrorScorer:
        """Rebuild a fitted scorer from :meth:`get_state`'s output."""
        m = state.meta
        p = m["params"]
        obj = cls(
            candidates=p["candidates"],
            cv=int(p["cv"]),
            random_state=int(p["random_state"]),
            min_rows=int(p["min_rows"]),
            min_errors=int(p["min_errors"]),
            min_gain=float(p["min_gain"]),
            margin_sd=float(p["margin_sd"]),
            max_encoded=int(p["max_encoded"]),
            C=float(p["C"]),
        )
        obj.task_ = str(m["task"])
        obj.chosen_ = str(m["chosen"])
        obj.baseline_ = str(m["baseline"])
        obj.auroc_ = {str(k): float("nan") if v is None else float(v) for k, v in m["auroc"]}
        obj.n_classes_ = int(m["n_classes"])
        obj.n_distribution_ = int(m["n_distribution"])
        obj.n_encoded_ = int(m["n_encoded"])
        obj.n_fit_ = int(m["n_fit"])
        obj.n_wrong_ = int(m["n_wrong"])
        if m.get("difficulty_fill") is not None:
            obj.difficulty_fill_ = float(m["difficulty_fill"])
        obj.inputs_ = np.asarray(state.array("inputs"), dtype=np.int64)
        obj.predictor_ = (
            _Predictor.from_arrays(state, "predictor") if obj.chosen_ in _LEARNED else None
        )
        return obj
