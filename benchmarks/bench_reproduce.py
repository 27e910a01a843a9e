"""Reproducibility: a recorded benchmark re-run gives bit-identical metrics.

Two (model, artifact) pairs on the bundled breast-cancer data — a random forest and a
logistic regression, each with its rails saved to a temporary directory — under three
perturbations × 5 severities × 2 seeds × 2 repeats and a black-box HopSkipJump attack at
severities 1, 3, 5. The run is recorded (``run_benchmark``), written as JSON, read back and
re-run (``verify_record``, which first checks the data, artifact and model hashes) on a
different executor (a local process pool). Every cell's metrics, intervals, status mix,
confusion matrix, ROC points and per-row correctness bits must be equal bit for bit. The
run's pair comparisons are printed too (McNemar / Fisher, Holm).

    .venv/bin/python -m benchmarks.bench_reproduce [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlrails
from benchmarks.common import breast_cancer, fmt_table
from mlrails.bench.compare import compare_pairs
from mlrails.bench.executors import LocalExecutor
from mlrails.bench.grid import GridConfig
from mlrails.bench.record import RunRecord
from mlrails.bench.runner import run_benchmark, verify_record


def _config(root: Path, quick: bool) -> GridConfig:
    perts = ["gaussian_noise", "scaling", "covariate_shift"]
    return GridConfig.model_validate(
        {
            "models": [
                {"name": "forest", "artifact": root / "forest"},
                {"name": "logreg", "artifact": root / "logreg"},
            ],
            "data": {"bundled": "breast_cancer"},
            "perturbations": [
                {"name": p, "severities": [1, 5] if quick else [1, 2, 3, 4, 5]} for p in perts
            ],
            "attacks": [] if quick else [{"name": "hopskipjump", "severities": [1, 3, 5]}],
            "seeds": [0, 1],
            "repeats": 1 if quick else 2,
            "n_resamples": 200 if quick else 1000,
        }
    )


def main(quick: bool = False) -> str:
    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    X_tr, _, y_tr, _ = breast_cancer()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        forest = RandomForestClassifier(n_estimators=100, random_state=0).fit(X_tr, y_tr)
        logreg = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        logreg.fit(X_tr, y_tr)
        mlrails.fit(forest, X_tr, y_tr).save(root / "forest")
        mlrails.fit(logreg, X_tr, y_tr).save(root / "logreg")
        cfg = _config(root, quick)
        t0 = time.perf_counter()
        record = run_benchmark(cfg, executor=LocalExecutor(1))
        t_run = time.perf_counter() - t0
        path = record.write(root / "record.json")
        again = RunRecord.read(path)
        t0 = time.perf_counter()
        result = verify_record(again, executor=LocalExecutor(2))
        t_verify = time.perf_counter() - t0
        comps, notes = compare_pairs(record)
    n_values = sum(len(c.metrics) + 2 * len(c.intervals) for c in record.cells)
    sig = [c for c in comps if c.significant]
    lines = [
        f"### Reproducibility: {len(record.cells)} cells, 2 pairs, record re-run on another "
        "executor",
        "",
        fmt_table(
            ["step", "executor", "seconds", "cells", "identical"],
            [
                ["run + record", "local, sequential", f"{t_run:.1f}", str(len(record.cells)), ""],
                [
                    "verify (re-run)",
                    "local pool, 2 workers",
                    f"{t_verify:.1f}",
                    str(result.n_cells),
                    "yes" if result.identical else f"NO ({len(result.mismatches)} differ)",
                ],
            ],
        ),
        "",
        f"Compared exactly: {n_values} metric values and interval ends, plus status mixes, "
        "confusion matrices, ROC points and per-row correctness bits; "
        f"failed cells: {sum(c.error is not None for c in record.cells)}.",
        f"Pair comparisons (forest vs logreg): {len(comps)}, {len(sig)} significant after Holm; "
        f"power notes: {len(notes)}.",
    ]
    if not result.identical:
        lines += [f"- {m.key} {m.field}: {m.recorded!r} ≠ {m.now!r}" for m in result.mismatches]
        raise SystemExit("\n".join([*lines, "", "the re-run differs"]))
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a smaller grid, no attack")
    print(main(quick=ap.parse_args().quick))
