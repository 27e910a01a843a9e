"""What drift monitoring costs: the reference kept in the artifact, and the service's check.

Generated data as in ``bench_drift`` (20 numeric + 5 categorical fields; the categorical ones
one-hot encoded for a logistic regression). Measured in one run:

* ``mlrails.fit`` with ``policy.drift.reference`` off (baseline) and on: fit time, artifact
  size on disk, ``mlrails.load`` time;
* one drift check as the service runs it (``check_traffic``: logged JSON records → typed
  window → inputs and outputs compared), against ``compare`` on the same window already as a
  DataFrame (baseline: the statistics alone), for windows of 10k and 100k logged rows.

    .venv/bin/python -m benchmarks.bench_monitor [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlrails
from benchmarks.bench_drift import CATS, make_frame
from benchmarks.common import fmt_table
from mlrails.drift import compare
from mlrails.drift.monitor import check_traffic
from mlrails.serve.decisions import RequestContext, verdict_records
from mlrails.store import DecisionRecord


def _model(X: pd.DataFrame, y: np.ndarray) -> Any:
    cats = list(CATS)
    nums = [c for c in X.columns if c not in cats]
    pre = make_column_transformer(
        (StandardScaler(), nums), (OneHotEncoder(handle_unknown="ignore"), cats)
    )
    return make_pipeline(pre, LogisticRegression(max_iter=300)).fit(X, y)


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir())


def _records(rails: Any, W: pd.DataFrame) -> list[DecisionRecord]:
    """The records the service would log for ``W`` (its own record builder)."""
    ctx = RequestContext(trace_id="bench", key_id=None, artifact_hash="", time=datetime.now(UTC))
    return verdict_records(ctx, rails.check(W), W.to_dict(orient="records"))


def _best(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(quick: bool = False) -> str:
    n_train = 20_000 if quick else 100_000
    windows = [1_000, 10_000] if quick else [10_000, 100_000]
    rng = np.random.default_rng(0)
    X = make_frame(rng, n_train)
    y = (X["n00"] + X["n01"] > X["n00"].median() + X["n01"].median()).to_numpy().astype(int)
    model = _model(X, y)
    policy: dict[str, Any] = {"adversarial": {"mode": "off"}, "ood": {"detector": "mahalanobis"}}
    out = [f"## Drift monitoring cost ({n_train} training rows × 25 fields)", ""]
    tmp = Path(tempfile.mkdtemp())
    rows = []
    fitted: dict[bool, Any] = {}
    try:
        for keep in (False, True):
            pol = {**policy, "drift": {"reference": keep}}
            fit_s = _best(lambda pol=pol: mlrails.fit(model, X, y, policy=pol), 2)
            rails = mlrails.fit(model, X, y, policy=pol)
            path = tmp / f"a{int(keep)}"
            rails.save(path)
            load_s = _best(lambda p=path: mlrails.load(p), 3)
            fitted[keep] = (fit_s, _size(path), load_s)
            if keep:
                kept = mlrails.load(path)
        base = fitted[False]
        for keep in (False, True):
            fit_s, size, load_s = fitted[keep]
            rows.append(
                [
                    "on" if keep else "off (baseline)",
                    f"{fit_s:.2f} s",
                    f"{fit_s / base[0]:.2f}×",
                    f"{size / 1e6:.2f} MB",
                    f"{load_s * 1000:.0f} ms",
                    f"{load_s / base[2]:.2f}×",
                ]
            )
        out.append(
            fmt_table(
                ["drift reference", "fit", "fit ratio", "artifact", "load", "load ratio"], rows
            )
        )
        out.append("")
        rows = []
        ref = kept.reference
        since = datetime.now(UTC)

        def service_check(records: list[DecisionRecord]) -> Any:
            return check_traffic(ref, records, kept.contract, task=kept.task, since=since)

        for n in windows:
            W = make_frame(np.random.default_rng(n), n, num_shift={0: 0.2})
            records = _records(kept, W)
            check = service_check(records)
            frame_s = _best(lambda W=W: compare(ref.inputs, W), 3)
            check_s = _best(lambda r=records: service_check(r), 3)
            rows.append(
                [
                    n,
                    f"{frame_s * 1000:.0f} ms",
                    f"{check_s * 1000:.0f} ms",
                    f"{check_s / frame_s:.1f}×",
                    ", ".join(check.alarming) or "none",
                ]
            )
        out.append(
            fmt_table(
                [
                    "logged rows",
                    "compare(DataFrame) (baseline)",
                    "service check (records)",
                    "ratio",
                    "alarming",
                ],
                rows,
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return "\n".join(out)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="20k training rows, small windows")
    print(main(ap.parse_args().quick))
