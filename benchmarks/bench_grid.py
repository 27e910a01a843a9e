"""Benchmark-grid throughput: cells per second on each executor, and the same numbers on all.

A breast-cancer-sized grid: the bundled breast-cancer data (30 features, 171 test rows), a
random forest and its rails (``mlrails.fit``, default policy) saved to a temporary directory;
perturbations gaussian_noise, scaling, missing_values, covariate_shift and outliers × 5
severities × seeds 0, 1, 2, plus the clean cell (76 cells), 1,000 bootstrap resamples a cell.
Baseline measured in the same run: the cells one after another in this process. Then a local
process pool and Ray (a local instance started for the run), both with ``--workers`` workers;
Ray's total includes starting and stopping the instance, whose start is also shown alone.
Every executor must give the same records apart from wall time and peak memory; every
cell runs with one BLAS/OpenMP thread whatever the executor (on a cell's small matrices more
threads only add overhead, and a fixed count keeps sums in the same order).

    .venv/bin/python -m benchmarks.bench_grid [--quick] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from sklearn.ensemble import RandomForestClassifier

import mlrails
from benchmarks.common import breast_cancer, fmt_table
from mlrails.bench.executors import Executor, LocalExecutor
from mlrails.bench.grid import GridConfig, run_grid
from mlrails.bench.record import CellRecord

PERTURBATIONS = ("gaussian_noise", "scaling", "missing_values", "covariate_shift", "outliers")
TIMES = {"wall_s", "peak_mb"}


def _grid(artifact: Path, quick: bool) -> GridConfig:
    if quick:  # 2 perturbations × 2 severities × 1 seed + the clean cell, fewer resamples
        perts = [{"name": p, "severities": [1, 5]} for p in PERTURBATIONS[:2]]
        return GridConfig(
            artifact=artifact,
            data={"bundled": "breast_cancer"},
            perturbations=perts,
            seeds=[0],
            n_resamples=200,
        )
    return GridConfig(
        artifact=artifact,
        data={"bundled": "breast_cancer"},
        perturbations=[{"name": p} for p in PERTURBATIONS],
        seeds=[0, 1, 2],
    )


def _threads() -> int:
    from threadpoolctl import threadpool_info

    return max((int(i["num_threads"]) for i in threadpool_info()), default=1)


def _run(
    cfg: GridConfig, data: tuple[Any, Any, Any], executor: Executor
) -> tuple[list[CellRecord], float]:
    t0 = time.perf_counter()
    records = run_grid(cfg, *data, executor=executor)
    return records, time.perf_counter() - t0


def main(quick: bool = False, workers: int = 2) -> str:
    from mlrails.bench.ray_executor import RayExecutor

    X_tr, X_te, y_tr, y_te = breast_cancer()
    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    model = RandomForestClassifier(n_estimators=100, random_state=0).fit(X_tr, y_tr)
    rails = mlrails.fit(model, X_tr, y_tr)
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "rails"
        rails.save(artifact)
        cfg = _grid(artifact, quick)
        n = len(cfg.cells())
        data = (X_te, y_te, X_tr)

        base, t_base = _run(cfg, data, LocalExecutor(1))
        pooled, t_pool = _run(cfg, data, LocalExecutor(workers))
        ray_ex = RayExecutor(workers)
        t0 = time.perf_counter()
        ray_ex.start()
        t_start = time.perf_counter() - t0
        remote, t_ray = _run(cfg, data, ray_ex)
        t0 = time.perf_counter()
        ray_ex.stop()
        t_stop = time.perf_counter() - t0

    t_ray_total = t_start + t_ray + t_stop
    same = {
        name: len(recs) == n
        and all(
            a.model_dump(exclude=TIMES) == b.model_dump(exclude=TIMES)
            for a, b in zip(base, recs, strict=True)
        )
        for name, recs in (("process pool", pooled), ("ray", remote))
    }
    failed = sum(r.error is not None for r in base)

    def row(label: str, seconds: float) -> list[str]:
        return [label, f"{seconds:.2f}", f"{n / seconds:.2f}", f"{t_base / seconds:.2f}x"]

    lines = [
        f"### Benchmark grid: {n} cells, {cfg.n_resamples:,} resamples a cell, "
        f"{os.cpu_count()} cores",
        "",
        fmt_table(
            ["executor", "seconds", "cells/s", "speed-up vs sequential"],
            [
                row("local, sequential (baseline)", t_base),
                row(f"local process pool, {workers} workers", t_pool),
                row(f"ray, {workers} workers (start + grid + stop)", t_ray_total),
                row(f"ray, {workers} workers (grid only, instance running)", t_ray),
            ],
        ),
        "",
        f"Ray instance start: {t_start:.2f} s, stop: {t_stop:.2f} s; mean cell wall time "
        f"(sequential): {sum(r.wall_s for r in base) / n:.3f} s; failed cells: {failed}.",
        f"BLAS/OpenMP threads: every cell runs with 1 (threadpoolctl, in every executor; "
        f"{_threads()} outside cells in this process).",
        "Records identical to the sequential run (apart from wall time and peak memory): "
        + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in same.items()),
    ]
    if not all(same.values()):
        raise SystemExit("\n".join([*lines, "", "executors disagree"]))
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a 5-cell grid (a smoke test)")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    print(main(a.quick, a.workers))
