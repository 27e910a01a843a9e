"""The **bench** source: ``mlrails bench`` record files and the ``bench verify`` kept beside.

Perturbations and attacks covered, pairs compared, seeds × repeats, failed cells, the worst
silent-failure rate, regression tolerance, and a hash of the measured numbers.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from mlrails.score.facts import BenchRecordFact
from mlrails.score.readers.common import Unusable, optional_float, optional_time


def read_verification(path: Path, run_id: str) -> Any:
    """The ``bench verify`` outcome kept beside the record (None: never verified)."""
    from mlrails.bench.record import RecordError
    from mlrails.bench.verification import read_verification

    try:
        return read_verification(path, run_id)
    except RecordError as exc:
        raise Unusable(str(exc)) from None


def read_bench_record(path: Path) -> BenchRecordFact:
    """The facts of one ``mlrails bench`` record file."""
    from mlrails.bench.record import RecordError, RunRecord

    try:
        rec = RunRecord.read(path)
    except RecordError as exc:
        raise Unusable(str(exc)) from None
    silent = [
        float(v)
        for c in rec.cells
        if c.error is None and (v := c.metrics.get("silent_failure_rate")) is not None
    ]
    tolerance = rec.config.get("regression_tolerance")
    return BenchRecordFact(
        path=str(path),
        run_id=rec.run_id,
        config_hash=rec.config_hash,
        finished_at=optional_time(rec.finished_at),
        pairs=tuple(p.name for p in rec.pairs),
        model_classes=tuple(p.model_class for p in rec.pairs),
        perturbations=tuple(
            sorted({c.name for c in rec.cells if c.kind == "perturbation" and c.name != "none"})
        ),
        attacks=tuple(sorted({c.name for c in rec.cells if c.kind == "attack"})),
        seeds=len(rec.seeds),
        repeats=rec.repeats,
        n_cells=len(rec.cells),
        n_failed=sum(1 for c in rec.cells if c.error is not None),
        worst_silent_failure=max(silent) if silent else None,
        per_class=any(c.confusion is not None for c in rec.cells),
        regression_tolerance=optional_float(tolerance),
        peak_mb=max((c.peak_mb for c in rec.cells), default=0.0),
        git_commit=rec.git_commit,
        results_hash=_results_hash(rec),
    )


def _results_hash(rec: Any) -> str:
    """SHA-256 of the cells' measured numbers (wall time and peak memory left out)."""
    cells = [c.model_dump(mode="json", exclude={"wall_s", "peak_mb"}) for c in rec.cells]
    text = json.dumps(cells, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
