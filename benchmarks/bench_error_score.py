"""Error-detection AUROC of the chosen error score vs max probability, on real models (issue 14).

For each setting and seed: the data are split train / test (70 / 30, stratified); the model's
out-of-fold outputs on the train rows come from ``cross_val_predict`` (5 folds); half of the
train rows (part A) fit the :class:`~mlrails.reliability.ErrorScorer` (the other half, part B,
is what the guard keeps to certify its budget: unused here). The model is then refitted on all
train rows and the score is judged on the test rows, which neither the model nor the scorer saw.

Meta-features given to the scorer, as the guard has them: the raw probabilities (or the
prediction and a cross-fitted ``|residual|`` model, for regression), two distribution scores
(mean distance to the 10 nearest train rows in the standardised inputs, and the share of those
neighbours whose label disagrees with the prediction; train rows leave themselves out) and the
standardised inputs. Regression "wrong" is ``|error| >`` the 80th percentile of the out-of-fold
train ``|residual|``.

    .venv/bin/python -m benchmarks.bench_error_score [--seeds 5]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np
from lightgbm import LGBMClassifier
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_wine,
    make_classification,
    make_friedman1,
)
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict, train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmarks.common import fmt_table
from mlrails.reliability import ErrorFeatures, ErrorScorer, error_auroc

K_NEIGHBOURS = 10


@dataclass
class Setting:
    name: str
    X: NDArray[Any]
    y: NDArray[Any]
    model: BaseEstimator
    task: str = "classification"


def settings() -> list[Setting]:
    """The data sets and models measured (bundled or generated data only)."""
    bc, wine, digits = load_breast_cancer(), load_wine(), load_digits()
    Xn, yn = make_classification(
        n_samples=6000, n_features=20, n_informative=6, flip_y=0.1, random_state=0
    )
    Xl, yl = make_classification(
        n_samples=6000,
        n_features=20,
        n_informative=8,
        n_classes=3,
        n_clusters_per_class=2,
        class_sep=0.8,
        random_state=1,
    )
    rng = np.random.default_rng(2)
    Xr, yr = make_friedman1(n_samples=4000, n_features=10, noise=0.0, random_state=2)
    yr = yr + rng.normal(size=yr.size) * (0.2 + 3.0 * Xr[:, 0] ** 2)  # heteroscedastic noise

    def lr() -> BaseEstimator:
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))

    return [
        Setting("breast_cancer, random forest", bc.data, bc.target, RandomForestClassifier(100)),
        Setting("wine, logistic regression", wine.data, wine.target, lr()),
        Setting("digits, logistic regression", digits.data, digits.target, lr()),
        Setting("make_classification, 10% label noise, logistic", Xn, yn, lr()),
        Setting(
            "make_classification 3 classes, LightGBM",
            Xl,
            yl,
            LGBMClassifier(n_estimators=100, n_jobs=1, verbose=-1),
        ),
        Setting(
            "friedman1 heteroscedastic, HistGB regressor",
            Xr,
            yr,
            HistGradientBoostingRegressor(max_iter=100),
            task="regression",
        ),
    ]


def _neighbour_scores(
    Z_ref: NDArray[Any], y_ref: NDArray[Any], Z: NDArray[Any], pred: NDArray[Any], self_in: bool
) -> NDArray[np.float64]:
    """(mean kNN distance, share of neighbours whose label differs from ``pred``)."""
    nn = NearestNeighbors(n_neighbors=K_NEIGHBOURS + int(self_in)).fit(Z_ref)
    dist, ind = nn.kneighbors(Z)
    if self_in:
        dist, ind = dist[:, 1:], ind[:, 1:]
    lab = y_ref[ind]
    if np.issubdtype(np.asarray(pred).dtype, np.floating) and lab.dtype.kind == "f":
        disagree = np.abs(lab - pred[:, None]).mean(axis=1)  # regression: mean |y_nb - pred|
    else:
        disagree = (lab != pred[:, None]).mean(axis=1)
    return np.column_stack([dist.mean(axis=1), disagree])


def run_one(s: Setting, seed: int) -> dict[str, Any]:
    strat = s.y if s.task == "classification" else None
    X_tr, X_te, y_tr, y_te = train_test_split(
        s.X, s.y, test_size=0.3, random_state=seed, stratify=strat
    )
    model = clone(s.model)
    if "random_state" in model.get_params():
        model.set_params(random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    Z_tr, Z_te = scaler.transform(X_tr), scaler.transform(X_te)
    fitted = clone(model).fit(X_tr, y_tr)
    if s.task == "classification":
        P_tr = cross_val_predict(model, X_tr, y_tr, cv=5, method="predict_proba")
        classes = np.unique(y_tr)
        pred_tr = classes[P_tr.argmax(axis=1)]
        P_te = fitted.predict_proba(X_te)
        pred_te = fitted.classes_[P_te.argmax(axis=1)]
        wrong_tr, wrong_te = pred_tr != y_tr, pred_te != y_te
        feat_tr = dict(proba=P_tr)
        feat_te = dict(proba=P_te)
    else:
        pred_tr = cross_val_predict(model, X_tr, y_tr, cv=5)
        pred_te = fitted.predict(X_te)
        res_tr = np.abs(y_tr - pred_tr)
        diff_model = HistGradientBoostingRegressor(max_iter=100, random_state=seed)
        diff_tr = cross_val_predict(diff_model, X_tr, res_tr, cv=5)
        diff_te = clone(diff_model).fit(X_tr, res_tr).predict(X_te)
        tol = float(np.quantile(res_tr, 0.8))
        wrong_tr, wrong_te = res_tr > tol, np.abs(y_te - pred_te) > tol
        feat_tr = dict(prediction=pred_tr, difficulty=np.clip(diff_tr, 0, None))
        feat_te = dict(prediction=pred_te, difficulty=np.clip(diff_te, 0, None))
    D_tr = _neighbour_scores(Z_tr, y_tr, Z_tr, pred_tr, self_in=True)
    D_te = _neighbour_scores(Z_tr, y_tr, Z_te, pred_te, self_in=False)
    rng = np.random.default_rng(seed)
    part_a = rng.random(len(y_tr)) < 0.5
    fa_arrays = {k: v[part_a] for k, v in feat_tr.items()}
    fa = ErrorFeatures(**fa_arrays, distribution=D_tr[part_a], encoded=Z_tr[part_a])
    ft = ErrorFeatures(**feat_te, distribution=D_te, encoded=Z_te)
    scorer = ErrorScorer(random_state=seed).fit(fa, wrong_tr[part_a])
    forced = ErrorScorer(candidates=["failure_predictor"], min_gain=-1.0, margin_sd=0.0)
    forced.fit(fa, wrong_tr[part_a])
    return {
        "n_a": int(part_a.sum()),
        "wrong_a": int(wrong_tr[part_a].sum()),
        "n_test": len(y_te),
        "wrong_test": int(wrong_te.sum()),
        "chosen": scorer.chosen_,
        "baseline": error_auroc(scorer.score(ft, scorer.baseline_), wrong_te),
        "chosen_auc": error_auroc(scorer.score(ft), wrong_te),
        "forced_auc": (
            error_auroc(forced.score(ft), wrong_te)
            if forced.chosen_ == "failure_predictor"
            else float("nan")
        ),
        "inner": scorer.auroc_,
    }


def _mean(values: list[float]) -> str:
    arr = np.array(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return "-"
    return f"{arr.mean():.3f} ± {arr.std():.3f}" if arr.size > 1 else f"{arr[0]:.3f}"


def _pair(runs: list[dict[str, Any]], a: str, b: str) -> str:
    return f"{np.mean([r[a] for r in runs]):.0f} / {np.mean([r[b] for r in runs]):.0f}"


def main(seeds: int = 5) -> str:
    rows = []
    for s in settings():
        runs = [run_one(s, seed) for seed in range(seeds)]
        chosen = sorted({r["chosen"] for r in runs})
        counts = ", ".join(f"{c} ×{sum(r['chosen'] == c for r in runs)}" for c in chosen)
        gain = [r["chosen_auc"] - r["baseline"] for r in runs]
        rows.append(
            [
                s.name,
                _pair(runs, "n_a", "wrong_a"),
                _pair(runs, "n_test", "wrong_test"),
                counts,
                _mean([r["baseline"] for r in runs]),
                _mean([r["chosen_auc"] for r in runs]),
                _mean(gain),
                _mean([r["forced_auc"] for r in runs]),
            ]
        )
    header = [
        "setting",
        "part A rows / wrong",
        "test rows / wrong",
        "chosen (of seeds)",
        "test AUROC, baseline",
        "test AUROC, chosen",
        "chosen − baseline",
        "test AUROC, failure predictor forced",
    ]
    return "\n".join(
        [
            f"### Error-detection AUROC on held-out test rows, mean ± sd over {seeds} seeds",
            "",
            "Baseline: 1 − max probability (classification), predicted |residual| (regression).",
            "",
            fmt_table(header, rows),
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    print(main(parser.parse_args().seeds))
