"""Silent failures under Gaussian-noise shift of increasing severity, with and without rails.

Breast cancer, random forest; each test row is perturbed with Gaussian noise of ``severity``
training standard deviations per feature (5 draws per row). Without rails every prediction
comes back as a 200, so every wrong prediction is a silent failure. With rails (default
policy) a wrong prediction is silent only if its verdict is still 200.

    .venv/bin/python benchmarks/bench_silent.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

import mlrails
from benchmarks.common import breast_cancer, fmt_table

SEVERITIES = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)


POLICIES: dict[str, dict[str, object]] = {
    "1% targets (default)": {},
    "5% targets": {
        "ood": {"target_fpr": 0.05},
        "adversarial": {"target_fpr": 0.05},
        "reliability": {"target_fpr": 0.05},
    },
}


def main(draws: int = 5, seed: int = 0) -> str:
    X_tr, X_te, y_tr, y_te = breast_cancer(seed)
    # calibration rows held out from model training, so thresholds hold on new data
    X_fit, X_cal, y_fit, y_cal = train_test_split(
        X_tr, y_tr, test_size=0.3, random_state=seed, stratify=y_tr
    )
    model = RandomForestClassifier(n_estimators=100, random_state=seed).fit(X_fit, y_fit)
    rails = {
        name: mlrails.fit(model, X_fit, y_fit, X_cal, y_cal, policy=pol)
        for name, pol in POLICIES.items()
    }
    sd = X_tr.std().to_numpy()
    rng = np.random.default_rng(seed)
    base = np.repeat(X_te.to_numpy(), draws, axis=0)
    truth = np.repeat(y_te, draws)
    rows = []
    for sev in SEVERITIES:
        X = pd.DataFrame(base + rng.normal(0, sev, base.shape) * sd, columns=X_te.columns)
        pred = model.predict(X)
        wrong = pred != truth
        n_wrong = int(wrong.sum())
        row: list[object] = [
            f"{sev:g}",
            len(X),
            f"{1 - wrong.mean():.3f}",
            n_wrong,
            f"{wrong.mean():.1%}",
        ]
        for guarded in rails.values():
            status = np.array([v.status for v in guarded.check(X)])
            silent = wrong & (status == 200)
            refused_correct = ~wrong & (status != 200)
            row += [
                f"{silent.sum() / n_wrong:.0%}" if n_wrong else "-",
                f"{silent.mean():.1%}",
                f"{refused_correct.sum() / max(1, (~wrong).sum()):.1%}",
            ]
        rows.append(row)
    header = ["noise (sd)", "rows", "accuracy", "wrong", "silent share of rows, no rails"]
    for name in rails:
        header += [
            f"wrong still 200 — {name}",
            f"silent share of rows — {name}",
            f"correct not 200 — {name}",
        ]
    return "\n".join(
        [
            "### Silent failures under Gaussian noise (breast cancer, random forest)",
            "",
            "Without rails every wrong prediction is returned as 200 (a silent failure).",
            "",
            fmt_table(header, rows),
        ]
    )


if __name__ == "__main__":
    print(main())
