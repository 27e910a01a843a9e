"""Guard overhead: single-row latency vs the bare model, and batch throughput.

30-feature tabular model (breast cancer, standardised logistic regression), explanations off,
every other safeguard on (contract, OOD ensemble, label instability, neighbour disagreement,
temperature scaling, conformal sets). Baseline measured in the same run: the bare
``predict_proba`` on the same row / batch.

    .venv/bin/python benchmarks/bench_overhead.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlrails
from benchmarks.common import breast_cancer, fmt_table, timed


def main(rows: int = 100_000, repeats: int = 2000) -> str:
    X_tr, X_te, y_tr, _ = breast_cancer()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_tr, y_tr)
    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    rails = mlrails.fit(model, X_tr, y_tr)
    # the same rails without label instability, whose k noisy copies cost one more model call
    lean = mlrails.fit(
        model, X_tr, y_tr, policy={"adversarial": {"detectors": ["neighbour_disagreement"]}}
    )
    Xa = X_te.to_numpy()
    row_np = Xa[:1]
    row_df = X_te.iloc[:1]

    bare = timed(lambda: model.predict_proba(row_df), repeats)
    guarded = timed(lambda: rails.check(row_df), repeats)
    guarded_np = timed(lambda: rails.check(row_np), repeats)
    lean_t = timed(lambda: lean.check(row_df), repeats)
    lines = ["### Single-row latency (ms), explanations off", ""]
    stats = [
        [name, f"{np.percentile(t, 50):.3f}", f"{np.percentile(t, 99):.3f}"]
        for name, t in (
            ("bare predict_proba (DataFrame row)", bare),
            ("rails.check (DataFrame row)", guarded),
            ("rails.check (NumPy row)", guarded_np),
            ("rails.check without label instability (DataFrame row)", lean_t),
        )
    ]
    for name, t in (
        ("overhead (check − bare), DataFrame", guarded),
        ("overhead (check − bare), NumPy", guarded_np),
        ("overhead without label instability, DataFrame", lean_t),
    ):
        stats.append(
            [
                name,
                f"{np.percentile(t, 50) - np.percentile(bare, 50):.3f}",
                f"{np.percentile(t, 99) - np.percentile(bare, 99):.3f}",
            ]
        )
    lines.append(fmt_table(["path", "p50", "p99"], stats))

    rng = np.random.default_rng(0)
    big = Xa[rng.integers(0, len(Xa), rows)] * (1 + rng.normal(0, 0.01, (rows, Xa.shape[1])))
    t0 = time.perf_counter()
    model.predict_proba(big)
    t_bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    verdicts = rails.check(big)
    t_guard = time.perf_counter() - t0
    n200 = sum(v.status == 200 for v in verdicts)
    lines += [
        "",
        f"### Batch of {rows:,} rows (NumPy), all safeguards but explanations, "
        f"{os.cpu_count()} cores",
        "",
        fmt_table(
            ["path", "seconds", "rows/s", "ratio to bare"],
            [
                ["bare predict_proba", f"{t_bare:.3f}", f"{rows / t_bare:,.0f}", "1.0"],
                [
                    "rails.check",
                    f"{t_guard:.3f}",
                    f"{rows / t_guard:,.0f}",
                    f"{t_guard / t_bare:.1f}x",
                ],
            ],
        ),
        "",
        f"({n200:,} of {rows:,} verdicts were 200)",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=2000)
    a = ap.parse_args()
    print(main(a.rows, a.repeats))
