"""Batch-level shift (``mlrails.drift.batch.BatchShiftTest``): false downgrades, planted
shifts, latency.

Four tables: the bundled breast-cancer (binary, 30 numeric fields) and wine (3 classes, 13
fields) data, a ``make_classification`` table with two string categorical fields, and the
bundled diabetes regression table. Each gets an ``unused`` column (standard normal) that the
model drops. The model (scaler / one-hot + logistic or ridge regression) is trained on half
of the table. "In distribution" means drawn with replacement from the whole table, for the
reference rows (5,000), the reference outputs (2,000) and the batches alike: all i.i.d. from
one law (the table's empirical distribution), which is the null hypothesis of the test, even
for 5,000-row batches of a 178-row table.

False downgrades: 5 references (seeds) × 40 batches per batch size, defaults (alpha = 0.01,
FDR 0.05, effect >= 0.1, classifier on). Reported: share of batches downgraded (`shifted`),
the largest share over the 5 references (the rate for one fixed reference varies around the
unconditional guarantee), and the share with any significant field (`drifted`, BH at 5%).

Planted shifts, 40 batches per size, one reference: ``unit`` (the model's most important
numeric field / 1000), ``noise`` (Gaussian noise of 0.5 sd on every numeric field the model
uses), ``prior`` (the rarest class's share doubled; regression: rows above the median target
drawn 3:1), ``unused`` (the unused column moved by 2 sd and spread 3×: should be drifted,
*not* shifted).

    .venv/bin/python -m benchmarks.bench_batch_shift [--quick]
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine, make_classification
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from benchmarks.common import fmt_table, timed
from mlrails.drift.batch import BatchShiftTest

SIZES = [100, 500, 5000]
SHIFT_SIZES = [100, 200, 500, 5000]
SHIFTS = ["unit", "noise", "prior", "unused"]


@dataclass
class Case:
    name: str
    X: pd.DataFrame  # the whole table, with the unused column
    y: NDArray[Any]
    outputs: Callable[[pd.DataFrame], NDArray[np.float64]]
    classification: bool
    numeric_used: list[str]


def _with_unused(X: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return X.reset_index(drop=True).assign(unused=rng.normal(0.0, 1.0, len(X)))


def _fit_model(X: pd.DataFrame, y: NDArray[Any], classification: bool, seed: int) -> Any:
    cats = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    nums = [c for c in X.columns if c not in cats and c != "unused"]
    parts: list[tuple[str, Any, list[str]]] = [("num", StandardScaler(), nums)]
    if cats:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore"), cats))
    est = LogisticRegression(max_iter=2000) if classification else Ridge(alpha=1.0)
    rng = np.random.default_rng(seed)
    half = rng.permutation(len(X))[: len(X) // 2]
    return make_pipeline(ColumnTransformer(parts), est).fit(X.iloc[half], y[half])


def cases(seed: int = 0) -> list[Case]:
    rng = np.random.default_rng(seed)
    out: list[Case] = []
    tables: list[tuple[str, pd.DataFrame, NDArray[Any], bool]] = []
    bc = load_breast_cancer(as_frame=True)
    tables.append(("breast_cancer", bc.data, bc.target.to_numpy(), True))
    wine = load_wine(as_frame=True)
    tables.append(("wine", wine.data, wine.target.to_numpy(), True))
    Xs, ys = make_classification(
        n_samples=20000, n_features=8, n_informative=5, n_redundant=1, random_state=seed
    )
    syn = pd.DataFrame(Xs[:, :6], columns=[f"f{i}" for i in range(6)])
    syn["segment"] = np.array(["s0", "s1", "s2", "s3", "s4"])[
        np.digitize(Xs[:, 6], np.quantile(Xs[:, 6], [0.3, 0.55, 0.75, 0.9]))
    ]
    syn["channel"] = np.where(Xs[:, 7] + rng.normal(0, 1, len(Xs)) > 0.5, "web", "shop")
    tables.append(("make_classification+strings", syn, ys, True))
    dia = load_diabetes(as_frame=True)
    tables.append(("diabetes (regression)", dia.data, dia.target.to_numpy(), False))
    for name, X, y, clf in tables:
        X = _with_unused(X, rng)
        model = _fit_model(X, y, clf, seed)
        fn = model.predict_proba if clf else model.predict
        nums = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]) and c != "unused"]
        out.append(
            Case(name, X, y, lambda f, fn=fn: np.asarray(fn(f), dtype=np.float64), clf, nums)
        )
    return out


def _draw(case: Case, rng: np.random.Generator, n: int, p: NDArray[Any] | None = None) -> Any:
    rows = rng.choice(len(case.X), n, replace=True, p=p)
    return case.X.iloc[rows].reset_index(drop=True)


def _reference(case: Case, seed: int) -> BatchShiftTest:
    rng = np.random.default_rng([seed, 7])
    X_ref, X_out = _draw(case, rng, 5000), _draw(case, rng, 2000)
    return BatchShiftTest(random_state=seed).fit(X_ref, case.outputs(X_out), predict=case.outputs)


def _planted(case: Case, test: BatchShiftTest, kind: str, rng: np.random.Generator, n: int) -> Any:
    if kind == "prior":
        if case.classification:
            classes, counts = np.unique(case.y, return_counts=True)
            rare = classes[np.argmin(counts)]
            share = counts.min() / counts.sum()
            w = np.where(
                case.y == rare,
                2 * share / counts.min(),
                (1 - 2 * share) / (len(case.y) - counts.min()),
            )
        else:
            w = np.where(case.y > np.median(case.y), 3.0, 1.0)
        return _draw(case, rng, n, w / w.sum())
    X = _draw(case, rng, n)
    if kind == "unit":
        imp = {c: test.importance_[test.columns_.index(c)] for c in case.numeric_used}
        top = max(imp, key=lambda c: imp[c])
        X[top] = X[top] / 1000
    elif kind == "noise":
        for c in case.numeric_used:
            X[c] = X[c] + rng.normal(0.0, 0.5 * float(case.X[c].std()), n)
    elif kind == "unused":
        X["unused"] = X["unused"] * 3 + 2
    return X


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer batches (a smoke run)")
    args = ap.parse_args()
    n_refs, per_ref, per_shift = (2, 10, 10) if args.quick else (5, 40, 100)
    all_cases = cases()

    print("#### False downgrades of in-distribution batches (defaults: alpha = 0.01)\n")
    rows: list[list[Any]] = []
    pooled = dict.fromkeys(SIZES, 0)
    for case in all_cases:
        cells: list[str] = []
        for size in SIZES:
            shifted = np.zeros(n_refs)
            drifted = 0
            for r in range(n_refs):
                test = _reference(case, r)
                rng = np.random.default_rng([r, size, 11])
                for _ in range(per_ref):
                    X = _draw(case, rng, size)
                    f = test.test(X, case.outputs(X))
                    assert f is not None
                    shifted[r] += f.shifted
                    drifted += f.n_significant > 0
            total = n_refs * per_ref
            pooled[size] += int(shifted.sum())
            cells.append(
                f"{shifted.sum() / total:.1%} (max {shifted.max() / per_ref:.1%}; "
                f"drifted {drifted / total:.1%})"
            )
        rows.append([case.name, *cells])
    n_all = len(all_cases) * n_refs * per_ref
    rows.append(
        [
            f"**all {len(all_cases)} tables**",
            *[
                f"**{pooled[s] / n_all:.2%}** ({pooled[s]}/{n_all}; 95% upper bound "
                f"{stats.beta.ppf(0.95, pooled[s] + 1, n_all - pooled[s]):.2%})"
                for s in SIZES
            ],
        ]
    )
    print(fmt_table(["table", *[f"{s:,} rows" for s in SIZES]], rows))
    print(
        f"\n{n_refs} references × {per_ref} batches per cell: share downgraded "
        "(largest share for one reference; share with any BH-significant field).\n"
    )

    print("#### Planted shifts: share of batches shifted (drifted)\n")
    rows = []
    for case in all_cases:
        test = _reference(case, 0)
        for kind in SHIFTS:
            cells = []
            for size in SHIFT_SIZES:
                rng = np.random.default_rng([size, SHIFTS.index(kind), 13])
                sh = dr = 0
                for _ in range(per_shift):
                    X = _planted(case, test, kind, rng, size)
                    f = test.test(X, case.outputs(X))
                    assert f is not None
                    sh += f.shifted
                    dr += f.drifted
                cells.append(f"{sh / per_shift:.0%} ({dr / per_shift:.0%})")
            rows.append([case.name, kind, *cells])
    print(fmt_table(["table", "shift", *[f"{s:,} rows" for s in SHIFT_SIZES]], rows))
    print(f"\n{per_shift} batches per cell. `unused` should be drifted, not shifted.\n")

    print("#### Latency of `test()` (ms, median of 20 after 20 warm-up calls)\n")
    rows = []
    for case in all_cases[::2]:
        t0 = time.perf_counter()
        test = _reference(case, 0)
        fit_s = time.perf_counter() - t0
        cells = []
        for size in SIZES:
            X = _draw(case, np.random.default_rng(size), size)
            P = case.outputs(X)
            ms = timed(lambda test=test, X=X, P=P: test.test(X, P), 20)
            cells.append(f"{np.median(ms):.0f}")
        rows.append([case.name, len(test.columns_), f"{fit_s:.2f} s", *cells])
    print(fmt_table(["table", "fields", "fit", *[f"{s:,} rows" for s in SIZES]], rows))
    print(
        f"\n{platform.machine()}, Python {platform.python_version()}; "
        "test() only (the model's own predictions excluded)."
    )


if __name__ == "__main__":
    main()
