"""Explaining a ColumnTransformer + HistGradientBoosting pipeline: new path vs the old one.

Pipeline: ``ColumnTransformer(OneHotEncoder on 3 text columns, StandardScaler on 6 numeric
ones)`` + ``HistGradientBoostingClassifier`` (100 iterations), 5,000 training rows, the
explainer's background of 100 rows. Measured in one run, on the same 200 rows:

* new path (``method="auto"``): SHAP's TreeExplainer on the final estimator over the
  transformed features, one-hot groups summed back onto their column (exact);
* old path (baseline): what ``auto`` chose for a Pipeline before, the model-agnostic
  permutation explainer (500 model evaluations per row over the background).

Build time (what the service now pays at start-up) and explain time are reported apart;
``--baseline-rows`` explains fewer rows on the old path (its time is then also scaled to
200 rows, labelled so).

    .venv/bin/python -m benchmarks.bench_explain [--baseline-rows 200]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from benchmarks.common import fmt_table
from mlrails.explain import Explainer, Explanation
from mlrails.models import SklearnAdapter

TEXT = ["zone", "tier", "plan"]
NUMERIC = [f"n{j}" for j in range(6)]
ROWS = 200


def make_data(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: rng.choice(["a", "b", "c", "d", "e"], n) for c in TEXT})
    for c in NUMERIC:
        frame[c] = rng.normal(size=n)
    logit = frame["n0"] - 0.5 * frame["n1"] + 1.5 * (frame["zone"] == "a") - (frame["plan"] == "e")
    y = (rng.random(n) < expit(logit.to_numpy())).astype(int)
    return frame[[*TEXT, *NUMERIC]], y


def pipeline() -> Pipeline:
    return Pipeline(
        [
            (
                "pre",
                ColumnTransformer(
                    [
                        ("cat", OneHotEncoder(handle_unknown="ignore"), TEXT),
                        ("num", StandardScaler(), NUMERIC),
                    ]
                ),
            ),
            ("model", HistGradientBoostingClassifier(max_iter=100, random_state=0)),
        ]
    )


def _run(
    method: str, adapter: SklearnAdapter, bg: pd.DataFrame, rows: pd.DataFrame
) -> tuple[Explainer, float, float, list[Explanation]]:
    """Build an explainer with ``method`` and explain ``rows``: (explainer, build s, explain s,
    explanations)."""
    t0 = time.perf_counter()
    explainer = Explainer(adapter, bg, method=method)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = explainer.explain(rows, predicted_idx=1, top_k=None)  # the positive class
    return explainer, built, time.perf_counter() - t0, out


def main(baseline_rows: int = ROWS) -> str:
    warnings.filterwarnings("ignore", category=UserWarning)
    X, y = make_data(5000)
    model = pipeline().fit(X, y)
    adapter = SklearnAdapter(model)
    bg = X.iloc[:100]
    rows = X.iloc[1000 : 1000 + ROWS].reset_index(drop=True)
    import shap  # imported once up front, so neither path pays for the import

    del shap
    new, new_build, new_s, new_out = _run("auto", adapter, bg, rows)
    old_rows = rows.iloc[:baseline_rows]
    old, old_build, old_s, _ = _run("permutation", adapter, bg, old_rows)
    margin = model.decision_function(rows)
    err = max(
        abs(e.base_value + sum(c.contribution for c in e.contributions) - m)
        for e, m in zip(new_out, margin, strict=True)
    )
    scaled = old_s * ROWS / baseline_rows
    table = fmt_table(
        ["path", "method", "build", f"explain {ROWS} rows", "per row", "speed-up"],
        [
            [
                "new: tree on the final estimator, one-hot groups summed",
                new.method,
                f"{new_build:.2f} s",
                f"{new_s:.2f} s",
                f"{new_s / ROWS * 1000:.1f} ms",
                f"{scaled / new_s:.0f}×",
            ],
            [
                "old (baseline): model-agnostic permutation"
                + ("" if baseline_rows == ROWS else f" ({baseline_rows} rows, scaled)"),
                old.method,
                f"{old_build:.2f} s",
                f"{scaled:.2f} s",
                f"{old_s / baseline_rows * 1000:.1f} ms",
                "1×",
            ],
        ],
    )
    return (
        f"{table}\n\nnew path: largest |base + sum(contributions) − decision_function| over "
        f"the {ROWS} rows = {err:.2e} (log-odds); features explained: "
        f"{new_out[0].n_features} input columns (the model sees "
        f"{model[:-1].transform(rows.iloc[:1]).shape[1]} transformed ones)"
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--baseline-rows", type=int, default=ROWS, help="rows on the old path")
    print(main(ap.parse_args().baseline_rows))
